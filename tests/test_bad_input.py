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

import numpy as np
import pytest
from PIL import Image, ImageFile

from kcolor.data import images, tfds_source
from kcolor.data.images import ImageReadError, check_image, read_image
from kcolor.data.sources import DataSourceError
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


def test_unreadable_permissions(bad_dir):
    if not badfiles.unreadable_case_meaningful():
        pytest.skip(badfiles.UNREADABLE_SKIP_REASON)
    folder, _ = bad_dir
    with pytest.raises(ImageReadError, match="locked.png: permission denied"):
        read_image(os.path.join(folder, "locked.png"))


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
