"""Bad and odd image files, made on the spot (never downloaded) for the bad-input tests.

`write_bad_files(folder)` writes one entry per way a file can be bad, and returns
`{name: reason}` with the reason kcolor must give when it skips it (the labels of
`kcolor.data.images.ImageReadError.reason`). `write_odd_images(folder)` writes valid but
awkward images that every command must keep, and returns `{name: OddImage}` with what a
correct decode gives. `write_bad_videos(folder)` does the same for video files.

Everything is small (the largest file is a 4000 x 2 PNG), so a folder of them is written
in milliseconds.
"""

import dataclasses
import io
import os
import struct
import zlib
from typing import Callable

import numpy as np
from PIL import Image

# What a bomb's header claims: 100k x 100k pixels, 10^10 (30 GB as 8-bit RGB).
BOMB_SIDE = 100_000


def png_chunk(kind: bytes, data: bytes, crc=None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def png_bytes(width, height, bit_depth, color_type, raw_rows: bytes, *, ihdr_crc=None) -> bytes:
    """A PNG written chunk by chunk (so a test controls its header and checksums)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr, ihdr_crc)
        + png_chunk(b"IDAT", zlib.compress(raw_rows, 9))
        + png_chunk(b"IEND", b"")
    )


def bomb_png() -> bytes:
    """A ~100-byte PNG whose header claims 100000 x 100000 8-bit gray pixels.

    Its IDAT holds the first rows only; a decoder that trusted the header would allocate
    10 GB before noticing.
    """
    rows = b"".join(b"\x00" + bytes(BOMB_SIDE) for _ in range(2))  # filter byte + row
    return png_bytes(BOMB_SIDE, BOMB_SIDE, 8, 0, rows)


def rgb16_png(rgb16: np.ndarray) -> bytes:
    """16-bit-per-channel RGB PNG (Pillow cannot write one; the rows are packed by hand)."""
    height, width, _ = rgb16.shape
    rows = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(height))
    return png_bytes(width, height, 16, 2, rows)


def _encode(image: Image.Image, fmt, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def _noise(rng, height, width):
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _write_entries(folder, files, ext, *, loop_ext=None) -> dict:
    """Write `files` (`{name: (bytes, reason)}`) into `folder`, then the four entries that
    are not regular files, named with `ext`: a folder, a dangling link, a link loop (named
    with `loop_ext`, default `ext`) and a named pipe. Returns `{name: reason}`."""
    out = {}
    for name, (data, reason) in files.items():
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(data)
        out[name] = reason
    os.makedirs(os.path.join(folder, f"folder{ext}"), exist_ok=True)
    out[f"folder{ext}"] = "a folder"
    os.symlink(os.path.join(folder, f"no_such_target{ext}"), os.path.join(folder, f"dangling{ext}"))
    out[f"dangling{ext}"] = "dangling link"
    loop = f"loop{loop_ext or ext}"
    os.symlink(loop, os.path.join(folder, loop))
    out[loop] = "link loop"
    os.mkfifo(os.path.join(folder, f"pipe{ext}"))  # reading it would block forever
    out[f"pipe{ext}"] = "not a regular file"
    return out


def write_bad_files(folder, *, seed=0) -> dict:
    """Write one bad entry per case into `folder`; returns `{name: reason}`.

    Names carry image extensions, so a folder search picks every one of them up. The
    unreadable-permissions case is written only when it means something: a root
    process reads a chmod-000 file (`unreadable_case_meaningful()`; the test of that
    case drops to another user instead).
    """
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    photo = Image.fromarray(_noise(rng, 48, 64))
    jpeg = _encode(photo, "JPEG", quality=90)
    png = _encode(photo, "PNG")
    bad_crc = bytearray(png)
    bad_crc[29] ^= 0xFF  # the IHDR checksum (8-byte signature + 4 length + 4 type + 13 data)
    files = {
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "truncated"),
        "truncated.png": (png[: len(png) // 2], "truncated"),
        "empty.png": (b"", "empty file"),
        "random.jpg": (rng.bytes(3000), "not an image"),
        "notes.png": (b"A text file that calls itself a PNG.\n" * 20, "not an image"),
        "bad_crc.png": (bytes(bad_crc), "bad checksum"),
        "bomb.png": (bomb_png(), "too large"),
    }
    out = _write_entries(folder, files, ".png")
    if unreadable_case_meaningful():
        path = os.path.join(folder, "locked.png")
        with open(path, "wb") as fh:
            fh.write(png)
        os.chmod(path, 0)
        out["locked.png"] = "permission denied"
    return out


def unreadable_case_meaningful() -> bool:
    """False when this process reads files whatever their permissions (root)."""
    return os.geteuid() != 0



@dataclasses.dataclass
class OddImage:
    """A valid awkward image and what a correct decode of it gives."""

    size: tuple  # (height, width) after EXIF orientation
    check: Callable  # check(rgb float32 (H, W, 3), alpha or None) -> None, asserts


def _close(value, expected, atol):
    np.testing.assert_allclose(value, expected, atol=atol)


def write_odd_images(folder) -> dict:
    """Write valid but awkward images into `folder`; returns `{name: OddImage}`."""
    os.makedirs(folder, exist_ok=True)
    odd = {}

    def save(name, data, size, check):
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(data)
        odd[name] = OddImage(size, check)

    # 16-bit gray: 4660 is not a multiple of 257, so 8-bit decoding would show.
    gray16 = np.full((6, 9), 4660, np.uint16)
    gray16[:, 4:] = 60000
    save("gray16.png", _encode(Image.fromarray(gray16), "PNG"), (6, 9),
         lambda rgb, a: _close(rgb[:, [0, 8], 1], np.repeat([[4660 / 65535, 60000 / 65535]], 6, 0), 1e-6))
    rgb16 = np.zeros((5, 7, 3), np.uint16)
    rgb16[...] = (65535, 32896, 0)
    save("rgb16.png", rgb16_png(rgb16), (5, 7), lambda rgb, a: _close(rgb[2, 3], [1.0, 32896 / 65535, 0.0], 2.5e-3))
    # Palette with transparency: index 0 transparent (seen on white), index 1 red.
    pal = Image.new("P", (8, 4), 0)
    pal.putpalette([0, 0, 255, 255, 0, 0] + [0] * (3 * 254))
    for x in range(4, 8):
        for y in range(4):
            pal.putpixel((x, y), 1)

    def check_palette(rgb, alpha):
        _close(rgb[1, 1], [1.0, 1.0, 1.0], 1e-6)
        _close(rgb[1, 6], [1.0, 0.0, 0.0], 1e-6)
        assert alpha is not None and alpha[1, 1] == 0.0 and alpha[1, 6] == 1.0

    save("palette_transparent.png", _encode(pal, "PNG", transparency=0), (4, 8), check_palette)
    # CMYK JPEG of pure cyan: RGB (0, 1, 1).
    save("cmyk.jpg", _encode(Image.new("CMYK", (16, 16), (255, 0, 0, 0)), "JPEG", quality=95), (16, 16),
         lambda rgb, a: _close(rgb[8, 8], [0.0, 1.0, 1.0], 0.04))
    # Gray + alpha: left half opaque gray 100, right half transparent (white).
    la = np.zeros((4, 6, 2), np.uint8)
    la[..., 0] = 100
    la[:, :3, 1] = 255

    def check_la(rgb, alpha):
        _close(rgb[2, 1], [100 / 255] * 3, 1e-6)
        _close(rgb[2, 4], [1.0] * 3, 1e-6)
        assert alpha is not None and alpha[2, 1] == 1.0 and alpha[2, 4] == 0.0

    save("gray_alpha.png", _encode(Image.fromarray(la, "LA"), "PNG"), (4, 6), check_la)
    save("one_pixel.png", _encode(Image.new("RGB", (1, 1), (10, 200, 30)), "PNG"), (1, 1),
         lambda rgb, a: _close(rgb[0, 0], [10 / 255, 200 / 255, 30 / 255], 1e-6))
    wide = np.zeros((2, 4000, 3), np.uint8)
    wide[:, 2000:] = 255
    save("wide_4000x2.png", _encode(Image.fromarray(wide), "PNG"), (2, 4000),
         lambda rgb, a: _close(rgb[1, [0, 3999], 0], [0.0, 1.0], 1e-6))
    save("tall_2x4000.png", _encode(Image.fromarray(np.ascontiguousarray(wide.transpose(1, 0, 2))), "PNG"),
         (4000, 2), lambda rgb, a: _close(rgb[[0, 3999], 1, 0], [0.0, 1.0], 1e-6))
    # Animated GIF: the first frame (red) is the image, not the second (green).
    frames = [Image.new("RGB", (10, 6), (255, 0, 0)), Image.new("RGB", (10, 6), (0, 255, 0))]
    save("animated.gif", _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0),
         (6, 10), lambda rgb, a: _close(rgb[3, 5], [1.0, 0.0, 0.0], 1e-6))
    # EXIF orientation 6 (turn 90 degrees clockwise to view): stored 32 wide x 16 tall,
    # red on the left; upright it is 16 wide x 32 tall, red on top.
    stored = np.zeros((16, 32, 3), np.uint8)
    stored[:, :16] = (255, 0, 0)
    stored[:, 16:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6

    def check_exif(rgb, alpha):
        assert rgb[4, 8, 0] > 0.8 and rgb[4, 8, 2] < 0.2, rgb[4, 8]  # top: red
        assert rgb[28, 8, 2] > 0.8 and rgb[28, 8, 0] < 0.2, rgb[28, 8]  # bottom: blue

    save("exif_rotated.jpg", _encode(Image.fromarray(stored), "JPEG", quality=95, exif=exif), (32, 16), check_exif)
    return odd


def write_bad_videos(folder, *, seed=0) -> dict:
    """One bad entry per case with a video extension; returns `{name: reason}`."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    files = {
        "empty.mp4": (b"", "empty file"),
        "random.mp4": (rng.bytes(4096), "cannot decode"),
        "notes.avi": (b"A text file that calls itself a video.\n" * 20, "cannot decode"),
    }
    return _write_entries(folder, files, ".mp4", loop_ext=".mkv")
