"""Data anywhere: records, a run folder, checkpoints, exports and an evaluation on `ram://`.

TensorFlow's in-memory filesystem stands in for `gs://` and the other `tf.io.gfile`
filesystems: whatever works there goes through gfile, with no local path involved. The
test runs in an empty working folder, with Python's temporary folder pointed at another
empty one, and checks that both are still empty at the end (no `runs/`, no `ram:`
folder from a path that lost its `//`, no temporary file left behind; autograph's
generated sources excepted).
"""

import os
import tempfile
import uuid

import numpy as np
import pytest

from kcolor import fs
from kcolor.fs import atomic_write, atomic_write_json


@pytest.fixture
def ram_root():
    root = f"ram://kcolor-test-{uuid.uuid4().hex[:8]}"
    yield root
    fs.rmtree(root)


@pytest.fixture
def no_local_files(tmp_path, monkeypatch):
    """An empty working folder and an empty temporary folder; both must stay empty."""
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    yield
    assert sorted(os.listdir(cwd)) == [], "a local file was written in the working folder"
    # TensorFlow's autograph keeps the Python source it generates for tf.functions there.
    left = [n for n in os.listdir(tmp) if not n.startswith("__autograph_generated_file")]
    assert left == [], "a temporary local file was left behind"


TRAIN = [
    "--set", "model=pix2pix", "--set", "image_size=32", "--set", "batch_size=4", "--set", "base_filters=8",
    "--set", "sample_images=2", "--set", "val_steps=1", "--set", "steps_per_epoch=2",
]


def test_records_train_resume_export_evaluate_on_ram(ram_root, no_local_files, capsys):
    from kcolor.cli.main import main
    from kcolor.data.images import read_image, write_png
    from kcolor.export import export_run
    from kcolor.export.colorize import colorize_paths
    from kcolor.export.savedmodel import SavedModelColorizer
    from kcolor.export.tflite import TFLiteColorizer

    records, run = f"{ram_root}/records", f"{ram_root}/run"
    assert main(["make-records", "sample", "--name", "sample", "--out", records, "--image-size", "32"]) == 0
    manifest = fs.read_json(f"{records}/sample/manifest.json")
    assert manifest["counts"]["train"] > 0 and manifest["counts"]["test"] > 0
    assert all(fs.exists(f"{records}/sample/{name}") for names in manifest["shards"].values() for name in names)

    train = ["train", "--run-dir", run, "--set", f"data=records:{records}/sample", *TRAIN]
    assert main([*train, "--set", "epochs=1"]) == 0
    assert fs.listdir(f"{run}/checkpoints") == ["checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index"]
    capsys.readouterr()
    assert main([*train, "--set", "epochs=2"]) == 0  # resumes from the ram:// checkpoint
    assert f"Resuming {run} from ckpt-2: step 2, epoch 1" in capsys.readouterr().out
    history = fs.read_json(f"{run}/history.json")
    assert [(row["epoch"], row["step"]) for row in history] == [(1, 2), (2, 4)]
    assert {"config.json", "model.json", "colorizer.keras", "history.csv", "loss_curve.png", "samples.png", "tb"} <= set(
        fs.listdir(run)
    )
    assert fs.read_bytes(f"{run}/samples.png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [n for n in fs.listdir(run) if ".tmp-" in n]

    saved = export_run(run, out_dir=f"{ram_root}/export/savedmodel", max_images=2, repeats=1)
    assert saved["parity"]["bar_met"] and fs.exists(f"{ram_root}/export/savedmodel/saved_model.pb")
    assert fs.listdir(f"{ram_root}/export") == ["savedmodel"]  # no staging folder left
    photo = np.random.default_rng(0).random((20, 28, 3)).astype(np.float32)
    assert SavedModelColorizer(f"{ram_root}/export/savedmodel").colorize(photo).shape == (20, 28, 3)
    lite = export_run(run, format="tflite", out_dir=f"{ram_root}/export/tflite", max_images=2, repeats=1)
    assert lite["path"] == f"{ram_root}/export/tflite/pix2pix.tflite" and lite["parity"]["bar_met"]
    assert TFLiteColorizer(lite["path"]).colorize(photo).shape == (20, 28, 3)

    photos = f"{ram_root}/photos"
    write_png(f"{photos}/a.png", photo)
    write_png(f"{photos}/sub/b.png", photo[:16])
    colorized = colorize_paths(f"{ram_root}/export/savedmodel", [photos], out_dir=f"{ram_root}/colorized")
    assert colorized["written"] == 2 and fs.listdir(f"{ram_root}/colorized") == ["a.png", "sub"]
    assert read_image(f"{ram_root}/colorized/sub/b.png").rgb.shape == (16, 28, 3)

    assert main(["evaluate", run, "--out", f"{ram_root}/eval", "--max-images", "2"]) == 0
    evaluation = fs.read_json(f"{ram_root}/eval/evaluation.json")
    assert evaluation["test_set"]["count"] == 2 and evaluation["runs"] == {"run": run}
    assert {"evaluation.md", "table.png", "grid.png"} <= set(fs.listdir(f"{ram_root}/eval"))


def test_image_folder_on_ram_is_a_data_source(ram_root):
    from kcolor.data.images import write_png
    from kcolor.data.sources import load_raw

    rgb = np.random.default_rng(1).random((12, 10, 3)).astype(np.float32)
    for rel in ("a.png", "nested/b.png", ".hidden/c.png", "notes.txt"):
        if rel.endswith(".png"):
            write_png(f"{ram_root}/photos/{rel}", rgb)
        else:
            fs.write_bytes(f"{ram_root}/photos/{rel}", b"not an image")
    raw = load_raw(f"folder:{ram_root}/photos", split=(1.0, 0.0, 0.0))
    assert raw.counts["train"] == 2 and raw.info["folder"] == f"{ram_root}/photos"
    ids = sorted(e["id"].decode() for e in raw.splits["train"].as_numpy_iterator())
    assert ids == ["a.png", "nested/b.png"]


@pytest.mark.parametrize("where", ["local", "ram"])
def test_atomic_write_replaces_whole_or_not_at_all(where, ram_root, tmp_path):
    folder = fs.join(str(tmp_path) if where == "local" else ram_root, "a", "b")
    path = fs.join(folder, "data.json")
    atomic_write_json(path, {"n": 1})  # creates the folders
    atomic_write_json(path, {"n": 2})
    assert fs.read_json(path) == {"n": 2}

    def broken(tmp):
        with fs.open(tmp, "wb") as f:
            f.write(b'{"n": ')
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError, match="killed mid-write"):
        atomic_write(path, broken)
    assert fs.read_json(path) == {"n": 2}
    assert fs.listdir(folder) == ["data.json"]  # the temporary file is gone
    if where == "local":  # the usual mode of a new file, as open() gives it
        umask = os.umask(0)
        os.umask(umask)
        assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_move_folder_on_ram_moves_every_file_marker_last(ram_root, monkeypatch):
    src, dst = f"{ram_root}/staging", f"{ram_root}/export"
    for rel in ("parity.json", "saved_model.pb", "variables/variables.index", "variables/variables.data"):
        atomic_write_json(f"{src}/{rel}", {"file": rel})
    moved = []
    real_rename = fs.rename
    monkeypatch.setattr(fs, "rename", lambda a, b, **kw: (moved.append(fs.basename(b)), real_rename(a, b, **kw)))
    fs.move(src, dst, last=("parity.json",))
    assert moved[-1] == "parity.json" and len(moved) == 4
    assert fs.listdir(ram_root) == ["export"]
    assert fs.read_json(f"{dst}/variables/variables.index") == {"file": "variables/variables.index"}


def test_remote_paths_keep_their_scheme():
    from kcolor.config import expand_source

    assert expand_source("records:ram://bucket/r") == "records:ram://bucket/r"
    assert expand_source("pairs:folder:gs://b/refs, gs://b/targets") == "pairs:folder:gs://b/refs,gs://b/targets"
    assert fs.join("gs://b/runs", "x", "history.json") == "gs://b/runs/x/history.json"
    assert fs.basename("gs://b/runs/x/") == "x" and fs.dirname("gs://b/runs/x") == "gs://b/runs"
    assert fs.dirname("gs://b") == "gs://"  # never a local "gs:" folder
    assert fs.absolute("gs://b/runs/x") == "gs://b/runs/x"
    assert fs.absolute("runs/x") == os.path.abspath("runs/x")


def test_make_pairs_refuses_a_remote_folder_before_any_work(ram_root, tmp_path):
    from kcolor.data.videos import make_pairs

    with pytest.raises(ValueError, match=r"frames='ram://.*konvid_frames'.*local --videos and --out"):
        make_pairs(str(tmp_path), "konvid", out_dir=f"{ram_root}/records")
    assert not fs.exists(f"{ram_root}/records") and os.listdir(tmp_path) == []


def test_web_site_refuses_a_remote_model_or_folder_before_any_work(ram_root, tmp_path):
    from kcolor.web.site import build_site

    with pytest.raises(ValueError, match=r"model='ram://.*local run folder"):
        build_site(f"{ram_root}/run", tmp_path / "site")
    with pytest.raises(ValueError, match=r"out='ram://.*local --out"):
        build_site(tmp_path / "run", f"{ram_root}/site")
    assert os.listdir(tmp_path) == []
