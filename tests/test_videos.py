"""Reference pairs from videos (paper 000): first frame = reference, last frame = target."""

import json
import os

import numpy as np
import pytest

imageio = pytest.importorskip("imageio")
pytest.importorskip("imageio_ffmpeg")

from kcolor.data import videos  # noqa: E402

# Solid-color frames survive H.264/yuv420p within a few levels; 12 leaves room for codecs.
CODEC_TOLERANCE = 12

# name -> (first color, last color); the middle frames get other colors so that a wrong
# frame index would show.
CLIPS = {
    "red_to_blue.mp4": ((230, 20, 20), (20, 20, 230)),
    os.path.join("nested", "green_to_yellow.avi"): ((20, 200, 20), (240, 240, 10)),
    "gray_to_purple.MKV": ((128, 128, 128), (150, 30, 160)),
}
MIDDLE = ((0, 0, 0), (255, 255, 255), (0, 160, 160))


def _write_clip(path, first, last, size=32):
    colors = [first, *MIDDLE, last]
    frames = [np.full((size, size, 3), c, np.uint8) for c in colors]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    imageio.mimwrite(path, frames, fps=5, codec="libx264", macro_block_size=16)


@pytest.fixture
def video_dir(tmp_path):
    root = tmp_path / "videos"
    for rel, (first, last) in CLIPS.items():
        _write_clip(str(root / rel), first, last)
    (root / "corrupt.mp4").write_bytes(np.random.default_rng(0).bytes(4096))
    (root / "notes.txt").write_text("not a video")
    return root


def _key(rel):
    return os.path.splitext(rel)[0].replace(os.sep, "__")


def _assert_color(image, color):
    diff = np.abs(image.astype(int) - np.array(color)).max()
    assert diff <= CODEC_TOLERANCE, f"expected {color}, got mean {image.reshape(-1, 3).mean(0)}"


def test_find_videos_is_recursive_and_case_insensitive(video_dir):
    found = {os.path.relpath(p, video_dir) for p in videos.find_videos(video_dir)}
    assert found == set(CLIPS) | {"corrupt.mp4"}


def test_first_and_last_frames(video_dir):
    for rel, (first, last) in CLIPS.items():
        ref, tgt = videos.read_first_last_frames(str(video_dir / rel))
        assert ref.shape == tgt.shape == (32, 32, 3) and ref.dtype == np.uint8
        _assert_color(ref, first)
        _assert_color(tgt, last)


def test_corrupt_video_raises(video_dir):
    with pytest.raises(OSError):
        videos.read_first_last_frames(str(video_dir / "corrupt.mp4"))


def test_extract_pairs_writes_pngs_and_skips_corrupt(video_dir, tmp_path, capsys):
    frames_dir = tmp_path / "frames"
    stale = frames_dir / "target" / "gone.png"
    stale.parent.mkdir(parents=True)
    imageio.v3.imwrite(stale, np.zeros((8, 8, 3), np.uint8))
    report = videos.extract_pairs(video_dir, frames_dir, progress=False)
    err = capsys.readouterr().err
    assert "skipped " in err and "corrupt.mp4: cannot decode video" in err
    assert err.strip().splitlines()[-1] == "skipped 1 of 4 videos: 1 cannot decode" == report["summary"]

    assert report["videos"] == 4 and report["pairs"] == 3 and report["failed"] == 1
    assert report["failures"][0]["video"].endswith("corrupt.mp4")
    assert json.loads((frames_dir / "extraction.json").read_text())["failed"] == 1
    expected = {f"{_key(rel)}.png" for rel in CLIPS}
    assert set(os.listdir(frames_dir / "reference")) == expected
    assert set(os.listdir(frames_dir / "target")) == expected  # the stale PNG is gone
    for rel, (first, last) in CLIPS.items():
        _assert_color(imageio.v3.imread(frames_dir / "reference" / f"{_key(rel)}.png"), first)
        _assert_color(imageio.v3.imread(frames_dir / "target" / f"{_key(rel)}.png"), last)


def test_make_pairs_hands_the_frame_folders_to_write_records(video_dir, tmp_path, monkeypatch):
    calls = []

    def fake_write_records(source, name, *, out_dir, split, image_size, verbose):
        assert not verbose  # make-pairs prints the one summary line itself
        calls.append(dict(source=source, name=name, out_dir=out_dir, split=split, image_size=image_size))
        return {"counts": {"train": 2, "val": 1, "test": 0}, "source": source}

    monkeypatch.setattr(videos, "write_records", fake_write_records)
    out = tmp_path / "records"
    manifest = videos.make_pairs(video_dir, "clips", out_dir=str(out), image_size=32, progress=False)

    frames = os.path.join(str(out), "clips_frames")
    assert calls == [
        dict(
            source=f"pairs:folder:{frames}/reference,{frames}/target",
            name="clips",
            out_dir=str(out),
            split=(0.8, 0.2, 0.0),
            image_size=32,
        )
    ]
    assert manifest["counts"]["train"] == 2
    assert manifest["extraction"]["pairs"] == 3 and manifest["extraction"]["failed"] == 1


def test_make_pairs_with_no_decodable_video_fails(tmp_path):
    root = tmp_path / "videos"
    root.mkdir()
    (root / "bad.webm").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="could be decoded"):
        videos.make_pairs(root, "bad", out_dir=str(tmp_path / "out"), progress=False)


def test_missing_folder_and_empty_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        videos.find_videos(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="mp4"):
        videos.extract_pairs(tmp_path, tmp_path / "frames", progress=False)


def test_make_pairs_writes_pair_records_that_read_back(video_dir, tmp_path, capsys):
    """End to end: videos -> pair shards -> the training pipeline's (reference, rgb) batches."""
    from kcolor.config import TrainConfig
    from kcolor.data import build_datasets

    out = tmp_path / "records"
    manifest = videos.make_pairs(video_dir, "clips", out_dir=str(out), split=(1.0, 0.0, 0.0), progress=False)
    assert "corrupt.mp4: cannot decode video" in capsys.readouterr().err
    assert manifest["counts"]["train"] == 3 and manifest["extraction"]["failed"] == 1

    cfg = TrainConfig(model="ref_unet", data=f"pairs:records:{out / 'clips'}", image_size=32, batch_size=3,
                      fractions=(1.0, 0.0, 0.0), augment=(), cache=False, shuffle_buffer=1)
    batch = next(iter(build_datasets(cfg).train))
    got = sorted(
        (tuple(np.round(r.numpy().mean((0, 1)) * 255)), tuple(np.round(t.numpy().mean((0, 1)) * 255)))
        for r, t in zip(batch["reference"], batch["rgb"])
    )
    want = sorted(CLIPS.values())
    for (ref, tgt), (first, last) in zip(got, want):
        assert np.abs(np.array(ref) - first).max() <= CODEC_TOLERANCE
        assert np.abs(np.array(tgt) - last).max() <= CODEC_TOLERANCE


def test_videos_sharing_a_stem_get_distinct_pairs(tmp_path):
    root = tmp_path / "videos"
    _write_clip(str(root / "same.mp4"), (230, 20, 20), (20, 20, 230))
    _write_clip(str(root / "same.mkv"), (20, 200, 20), (240, 240, 10))
    report = videos.extract_pairs(root, tmp_path / "frames", progress=False)
    assert report["pairs"] == 2
    assert sorted(os.listdir(tmp_path / "frames" / "target")) == ["same_mkv.png", "same_mp4.png"]
    _assert_color(imageio.v3.imread(tmp_path / "frames" / "target" / "same_mkv.png"), (240, 240, 10))
