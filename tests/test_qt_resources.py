"""`kcolor.data.qt_resources`: the files inside a Qt resource file, as GCompris ships its photos."""

import pytest

from kcolor.data.qt_resources import ResourceError, read_resources, split_resource_path
from tests.rcc_files import rcc_bytes

FILES = {"/game/photos/a.webp": b"A" * 3000, "/game/photos/b.png": b"B" * 50, "/game/README": b"credits",
         "/top.txt": b""}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_every_file_comes_back_whole_from_nested_folders_plain_or_zlib(version):
    blob = rcc_bytes(FILES, version=version, compressed={"/game/photos/a.webp"})
    assert len(blob) < sum(map(len, FILES.values()))  # a.webp is stored compressed
    assert read_resources(blob) == FILES


def test_a_resource_path_names_its_container_and_the_file_inside():
    assert split_resource_path("usr/share/g/rcc/erase.rcc:/g/a.webp") == ("usr/share/g/rcc/erase.rcc", "/g/a.webp")
    assert split_resource_path("usr/share/w/image.png") == ("usr/share/w/image.png", None)


@pytest.mark.parametrize("blob, match", [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not a Qt resource file"),
    (b"qres" + b"\0\0\0\x07" + b"\0" * 40, "version 7; valid: 1, 2, 3"),
    (rcc_bytes(FILES)[:40], "runs past the end"),
    (rcc_bytes(FILES, zstd={"/game/README"}), "README is zstd-compressed"),
])
def test_a_file_that_cannot_be_read_is_refused_with_the_reason(blob, match):
    with pytest.raises(ResourceError, match=match):
        read_resources(blob)
