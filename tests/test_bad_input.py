"""Bad input through every command that reads images, and the decoder's own rules.

The files come from `tests/badfiles.py` (made here, never downloaded). The command
matrix runs each of `make-records`, `train` from `folder:`, `evaluate --data folder:`,
`colorize` and `make-pairs` once, in-process through `kcolor.cli.main.main`, on one
folder that mixes every bad case with every odd valid image, and checks: the exit code,
that every good image is kept, that each bad entry is named with its reason, the one
summary line, and that no traceback is printed.
"""

import json
import os
import re
import signal
import time

import numpy as np
import pytest
from PIL import Image, ImageFile

from kcolor.data import images, tfds_source
from kcolor.data.images import ImageReadError, check_image, read_image
from kcolor.data.raw import DataSourceError
from kcolor.errors import ConfigError, KcolorError
from tests import badfiles

SUMMARY = re.compile(r"skipped (\d+) of (\d+) (images|pairs|videos)(: .*)?$", re.MULTILINE)


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("bad"))
    return folder, badfiles.write_bad_files(folder)


@pytest.fixture(scope="module")
def odd_dir(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("odd"))
    return folder, badfiles.write_odd_images(folder)


# --------------------------------------------------------------------------- the decoder


def test_each_bad_file_is_refused_with_its_reason(bad_dir):
    folder, bad = bad_dir
    for name, reason in bad.items():
        for read in (read_image, check_image):
            with pytest.raises(ImageReadError) as err:
                read(os.path.join(folder, name))
            assert err.value.reason.startswith(reason), (name, read.__name__, err.value.reason, str(err.value))
            assert name in str(err.value)
            assert err.value.reason.split(" (")[0] in images.SKIP_REASONS


def test_unreadable_permissions(tmp_path):
    """A chmod-000 file is refused as "permission denied". Root reads it anyway, so as
    root the check runs in a forked child that drops to the `nobody` user first (the
    child only stats the file: no TensorFlow, no threads needed)."""
    folder = tmp_path / "perm"
    folder.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(folder, 0o755)
    path = folder / "locked.png"
    Image.new("RGB", (4, 4)).save(path)
    os.chmod(path, 0)

    def reason():
        try:
            read_image(str(path))
        except ImageReadError as err:
            return err.reason
        return "read"

    if badfiles.unreadable_case_meaningful():
        assert reason() == "permission denied"
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become nobody, answer through the pipe, exit at once
        try:
            os.setgid(65534)
            os.setuid(65534)
            answer = reason()
        except BaseException as err:  # noqa: BLE001
            answer = f"child failed: {err!r}"
        os.write(write_end, answer.encode())
        os._exit(0)
    os.close(write_end)
    for _ in range(400):  # 20 s at most: a child stuck in a read must not hang the suite
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    with os.fdopen(read_end) as fh:
        assert fh.read() == "permission denied"


def test_a_bomb_is_refused_from_its_header_without_decoding(bad_dir, monkeypatch):
    folder, _ = bad_dir
    # With Pillow's own limit off, kcolor's must still refuse it, and before any pixel
    # is decoded (a decode would allocate 10 GB).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the bomb's pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for read in (read_image, check_image):
        with pytest.raises(ImageReadError, match="100000 x 100000 = 10,000,000,000 pixels") as err:
            read(os.path.join(folder, "bomb.png"))
        assert err.value.reason == f"too large (over {images.MAX_IMAGE_PIXELS:,} pixels)"
    with pytest.raises(ImageReadError, match="too large"):
        images.decode(badfiles.bomb_png(), label="bomb-bytes")


def test_the_pixel_limit_is_an_option(odd_dir, monkeypatch):
    folder, _ = odd_dir
    path = os.path.join(folder, "cmyk.jpg")  # 16 x 16
    monkeypatch.setenv(images.MAX_PIXELS_ENV, "255")
    with pytest.raises(ImageReadError, match="16 x 16 = 256 pixels, over the limit of 255") as err:
        read_image(path)
    assert err.value.reason == "too large (over 255 pixels)"
    monkeypatch.setenv(images.MAX_PIXELS_ENV, "256")
    assert read_image(path).size == (16, 16)
    monkeypatch.setenv(images.MAX_PIXELS_ENV, "lots")
    with pytest.raises(ConfigError, match="KCOLOR_MAX_IMAGE_PIXELS='lots'.*whole number"):
        read_image(path)
    # A limit above Pillow's raises Pillow's, so Pillow does not refuse what kcolor allows.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    monkeypatch.setenv(images.MAX_PIXELS_ENV, "1000")
    assert read_image(path).size == (16, 16) and Image.MAX_IMAGE_PIXELS == 1000


def test_odd_valid_images_decode_correctly(odd_dir):
    folder, odd = odd_dir
    for name, expected in odd.items():
        path = os.path.join(folder, name)
        check_image(path)
        image = read_image(path)
        assert image.size == expected.size, name
        assert image.rgb.dtype == np.float32 and 0.0 <= image.rgb.min() and image.rgb.max() <= 1.0, name
        expected.check(image.rgb, image.alpha)


def test_skip_summary_groups_by_reason():
    line = images.skip_summary(["truncated", "not an image", "truncated", "a folder"], 21)
    assert line == "skipped 4 of 21 images: 2 truncated, 1 a folder, 1 not an image"
    assert images.skip_summary([], 5, "videos") == "skipped 0 of 5 videos"


def test_read_errors_are_kcolor_errors():
    assert issubclass(ImageReadError, KcolorError) and issubclass(ImageReadError, ValueError)
    assert issubclass(DataSourceError, KcolorError) and issubclass(DataSourceError, RuntimeError)


# --------------------------------------------------------------------------- tfds downloads


def test_a_stalled_tfds_download_stops_and_says_what_to_do(tmp_path, monkeypatch):
    # A download host that answers but then sends nothing: the watched child makes no
    # progress and is stopped after the stall timeout (1 s here, 30 s by default).
    monkeypatch.setattr(tfds_source, "DOWNLOAD_TARGET", "tests.tfds_stalls:stall_forever")
    monkeypatch.setattr(tfds_source, "_download_is_real", lambda: True)
    monkeypatch.setattr(tfds_source, "unreachable_hosts", lambda hosts: {})
    monkeypatch.setattr(tfds_source, "STALL_TIMEOUT_S", 1.0)
    data_dir = str(tmp_path / "tfds")
    with pytest.raises(DataSourceError) as err:
        tfds_source.prepare_builder("oxford_flowers102", data_dir=data_dir)
    message = str(err.value)
    assert "oxford_flowers102" in message and "no progress for 1 s" in message and data_dir in message
    assert "try again later" in message and "--set data_dir=" in message and "make-records" in message


def test_a_slow_download_that_progresses_is_not_stopped(tmp_path):
    target = str(tmp_path / "download.part")
    tfds_source.run_watched("tests.tfds_stalls:trickle", [target, 2.0], watch_dir=str(tmp_path), stall_timeout=1.0)
    assert os.path.getsize(target) > 0
    with pytest.raises(RuntimeError, match="OSError: connection reset"):
        tfds_source.run_watched("tests.tfds_stalls:fail", ["connection reset"], watch_dir=str(tmp_path))
    with pytest.raises(ValueError, match="stall_timeout=0"):
        tfds_source.run_watched("tests.tfds_stalls:fail", ["x"], watch_dir=str(tmp_path), stall_timeout=0)


# --------------------------------------------------------------------------- every command

N_PLAIN = 6  # plain photos beside the odd ones, so every split has images


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """One folder: every bad case, every odd valid image and a few plain photos."""
    folder = str(tmp_path_factory.mktemp("mixed"))
    bad = badfiles.write_bad_files(folder)
    good = sorted(badfiles.write_odd_images(folder))
    rng = np.random.default_rng(1)
    for i in range(N_PLAIN):
        name = f"plain{i}.png"
        Image.fromarray(rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)).save(os.path.join(folder, name))
        good.append(name)
    return folder, bad, good


def _run(capsys, argv):
    from kcolor.cli.main import main

    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _assert_reported(output, bad, kept, what="images"):
    """Each bad entry named with its reason, one summary line with the right counts, no traceback."""
    assert "Traceback" not in output
    for name, reason in bad.items():
        assert re.search(rf"skipped \S*{re.escape(name)}: {re.escape(reason)}", output), (name, reason, output)
    summaries = SUMMARY.findall(output)
    assert len(summaries) == 1, summaries
    skipped, total, noun, by_reason = summaries[0]
    assert (int(skipped), int(total), noun) == (len(bad), len(bad) + kept, what)
    for reason in set(bad.values()):
        count = sum(r == reason for r in bad.values())
        assert re.search(rf"\b{count} {re.escape(reason)}", by_reason), (reason, by_reason)


def test_make_records_on_bad_files(mixed, tmp_path, capsys):
    folder, bad, good = mixed
    code, output = _run(capsys, ["make-records", f"folder:{folder}", "--name", "mix", "--out", str(tmp_path),
                                 "--image-size", "32"])
    assert code == 0, output
    _assert_reported(output, bad, len(good))
    manifest = json.loads((tmp_path / "mix" / "manifest.json").read_text())
    assert sum(manifest["counts"].values()) == len(good) and manifest["skipped"] == len(bad)
    assert sum(manifest["skipped_reasons"].values()) == len(bad)


@pytest.fixture(scope="module")
def trained_on_bad_files(mixed, tmp_path_factory):
    """`kcolor train` from the mixed folder: its exit code, output and run folder."""
    from kcolor.cli.main import main

    folder, _, _ = mixed
    run_dir = str(tmp_path_factory.mktemp("runs") / "mix")
    argv = ["train", "--config", "sample", "--run-dir", run_dir, "--max-steps", "1",
            "--set", f"data=folder:{folder}", "--set", "model=pix2pix", "--set", "base_filters=8",
            "--set", "image_size=32", "--set", "batch_size=2", "--set", "epochs=1", "--set", "steps_per_epoch=1",
            "--set", "val_steps=1", "--set", "sample_images=2"]
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue(), run_dir


def test_train_from_a_folder_of_bad_files(mixed, trained_on_bad_files):
    _, bad, good = mixed
    code, output, run_dir = trained_on_bad_files
    assert code == 0, output
    _assert_reported(output, bad, len(good))
    assert os.path.isfile(os.path.join(run_dir, "colorizer.keras"))


def test_evaluate_on_a_folder_of_bad_files(mixed, trained_on_bad_files, tmp_path, capsys):
    from kcolor.data.raw import split_ids

    folder, bad, good = mixed
    _, _, run_dir = trained_on_bad_files
    code, output = _run(capsys, ["evaluate", run_dir, "--data", f"folder:{folder}", "--split-fractions",
                                 "0.6,0.2,0.2", "--out", str(tmp_path / "eval")])
    assert code == 0, output
    _assert_reported(output, bad, len(good))
    test_set = json.loads((tmp_path / "eval" / "evaluation.json").read_text())["test_set"]
    ids = sorted(good)
    expected = sorted(ids[i] for i in split_ids(ids, (0.6, 0.2, 0.2))["test"])
    assert sorted(test_set["ids"]) == expected and test_set["skipped_unreadable"] == len(bad)


def test_colorize_a_folder_of_bad_files(mixed, trained_on_bad_files, tmp_path, capsys):
    folder, bad, good = mixed
    _, _, run_dir = trained_on_bad_files
    out = tmp_path / "colorized"
    code, output = _run(capsys, ["colorize", "--colorizer", run_dir, folder, "--out", str(out)])
    assert code == 0, output
    _assert_reported(output, bad, len(good))
    written = sorted(os.listdir(out))
    assert written == sorted(os.path.splitext(name)[0] + ".png" for name in good)
    for name in ("wide_4000x2", "tall_2x4000", "exif_rotated", "one_pixel"):  # each at its own (upright) size
        with Image.open(out / f"{name}.png") as img:
            source = read_image(os.path.join(folder, next(g for g in good if g.startswith(name))))
            assert img.size[::-1] == source.size, name


def test_make_pairs_on_bad_videos(tmp_path, capsys):
    imageio = pytest.importorskip("imageio")
    pytest.importorskip("imageio_ffmpeg")
    videos_dir = str(tmp_path / "videos")
    bad = badfiles.write_bad_videos(videos_dir)
    frames = [np.full((16, 16, 3), c, np.uint8) for c in ((200, 30, 30), (30, 30, 200), (30, 200, 30))]
    for name in ("clip_a.mp4", "clip_b.mp4"):
        imageio.mimwrite(os.path.join(videos_dir, name), frames, fps=5, codec="libx264", macro_block_size=16)
    whole = open(os.path.join(videos_dir, "clip_a.mp4"), "rb").read()
    with open(os.path.join(videos_dir, "cut.mp4"), "wb") as fh:
        fh.write(whole[: len(whole) // 2])
    bad["cut.mp4"] = "cannot decode"
    code, output = _run(capsys, ["make-pairs", "--videos", videos_dir, "--name", "clips", "--out",
                                 str(tmp_path / "records"), "--split", "1,0,0"])
    assert code == 0, output
    _assert_reported(output, bad, 2, what="videos")
    manifest = json.loads((tmp_path / "records" / "clips" / "manifest.json").read_text())
    assert manifest["counts"]["train"] == 2
