"""The one image path of kcolor: decode and find images — for training and for serving.

Every place that turns a file into model pixels uses these functions: the `tf.data`
pipeline (folders, TFRecord shards, tensorflow-datasets), `kcolor make-records`,
`kcolor evaluate`, the export parity checks, `kcolor colorize`, and the in-graph
preprocessing of an exported SavedModel (`kcolor.pixels.resize`). So a model is served
exactly the pixels it was trained on.

Decoding (`decode`, `read_image`; Pillow):

- JPEG, PNG, GIF (first frame of an animation), BMP, TIFF, WebP, PPM/PGM.
- Every mode: gray (1, 8 and 16 bit, kept at full precision), RGB, RGBA, gray+alpha,
  palette (with or without transparency), CMYK, YCbCr.
- EXIF orientation is applied, so the image is upright as a viewer shows it.
- Transparency: the color is composited onto white (what the model sees), and the
  alpha channel is kept beside it (`LoadedImage.alpha`), so `colorize` can put it back.
- A file that cannot be decoded raises `ImageReadError` naming the file and the reason;
  its `reason` is one short label of `SKIP_REASONS`, which summaries group by.
- Decompression bombs: an image whose header claims more than `MAX_IMAGE_PIXELS`
  pixels is refused from its header alone, before a pixel is decoded, so a 100-byte
  PNG that claims 100000 x 100000 pixels costs milliseconds and no memory.
- A folder entry that is not a readable file is refused before anything opens it
  (`check_entry`): a dangling link, a link loop, a folder named like an image, a named
  pipe (reading it would block), an empty or an unreadable file.

Skipping: every command that reads many images skips the unreadable ones, prints one
line per skipped entry (`skipped PATH: why`) and ends with one summary line
(`skip_summary`): `skipped 9 of 21 images: 3 truncated, 2 not an image, ...`.

Resizing (`kcolor.pixels.resize`, one floor below): bilinear with antialiasing (`tf.image.resize(..., "bilinear",
antialias=True)`): a triangle filter widened by the scale factor when shrinking, plain
half-pixel-centre bilinear when enlarging. Training squashes images to `S x S` as the
papers do ("resized to 128x128"); serving resizes the photo to `S x S` with the same
function and upsamples the predicted chroma back with it.

Example:
    image = read_image("photo.jpg")                 # image.rgb: float32 (H, W, 3) in [0, 1]
    small = kcolor.pixels.to_uint8(kcolor.pixels.resize(image.rgb, 64))   # uint8 (64, 64, 3)
"""

import collections
import contextlib
import dataclasses
import errno
import io as _io
import os
import stat
from typing import Optional

import numpy as np
import tensorflow as tf

from kcolor.errors import ConfigError, KcolorError
from kcolor.pixels import to_uint8

# File extensions picked up when a folder is searched for images (case-insensitive).
IMAGE_EXTENSIONS = (
    ".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
)

# Pillow modes holding one gray channel of more than 8 bits, and their full-scale value.
_WIDE_GRAY_MODES = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0, "I": 65535.0}

_PNG_MAGIC = b"\x89PNG"

# The largest image kcolor decodes, in pixels (width x height, read from the header
# before decoding). The default is Pillow's own warning threshold, 89,478,485 pixels
# (about 9459 x 9459; 1.07 GB as the float32 RGB that `read_image` returns). The
# environment variable KCOLOR_MAX_IMAGE_PIXELS overrides it; a limit above Pillow's
# `Image.MAX_IMAGE_PIXELS` raises Pillow's to match, so Pillow neither warns about nor
# refuses an image that kcolor's limit allows.
MAX_IMAGE_PIXELS = 89_478_485
MAX_PIXELS_ENV = "KCOLOR_MAX_IMAGE_PIXELS"

# Why an entry is skipped (`ImageReadError.reason`); "too large" is followed by the limit.
SKIP_REASONS = (
    "missing", "dangling link", "link loop", "a folder", "not a regular file", "permission denied",
    "empty file", "not an image", "truncated", "bad checksum", "too large", "corrupt",
)

# Signatures whose Pillow plugin is asked why it refused a file (Pillow's `open` hides it).
_PLUGIN_OF_FORMAT = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "bmp": "BMP"}


class ImageReadError(KcolorError, ValueError):
    """A file that cannot be decoded as an image (corrupt, truncated or not an image).

    Attributes:
        reason: one label of `SKIP_REASONS`, what summaries group by ("too large" is
            followed by the limit in parentheses).
    """

    def __init__(self, message, reason="corrupt"):
        super().__init__(message)
        self.reason = reason


def max_image_pixels() -> int:
    """The pixel limit in force: `KCOLOR_MAX_IMAGE_PIXELS` when set, else `MAX_IMAGE_PIXELS`."""
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return int(MAX_IMAGE_PIXELS)
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(
            f"{MAX_PIXELS_ENV}={text!r} is not valid: expected a whole number of pixels >= 1 "
            f"(default {MAX_IMAGE_PIXELS:,})"
        )
    return value


def check_entry(path) -> None:
    """Raise `ImageReadError` unless `path` is a non-empty regular file this process can read.

    Nothing is opened, so a named pipe or a link loop is refused without blocking. A
    remote path (`gs://...`, `kcolor.fs`) is checked for existence, type and size.
    """
    from kcolor import fs

    path = fs.path_str(path)
    if fs.is_remote(path):
        if fs.isdir(path):
            raise ImageReadError(f"{path}: a folder where a file should be", "a folder")
        if not fs.exists(path):
            raise ImageReadError(f"{path}: no such file", "missing")
        if fs.size(path) == 0:
            raise ImageReadError(f"{path}: empty file (0 bytes)", "empty file")
        return
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise ImageReadError(
                f"{path}: dangling link (its target {os.readlink(path)} does not exist)", "dangling link"
            ) from None
        raise ImageReadError(f"{path}: no such file", "missing") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ImageReadError(f"{path}: link loop ({err.strerror})", "link loop") from None
        if err.errno == errno.EACCES:
            raise ImageReadError(f"{path}: permission denied", "permission denied") from None
        raise ImageReadError(f"{path}: cannot be read ({err.strerror})", "corrupt") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageReadError(f"{path}: a folder where a file should be", "a folder")
    if not stat.S_ISREG(info.st_mode):
        raise ImageReadError(
            f"{path}: not a regular file (a pipe, socket or device; reading it could block)", "not a regular file"
        )
    if info.st_size == 0:
        raise ImageReadError(f"{path}: empty file (0 bytes)", "empty file")
    if not os.access(path, os.R_OK):
        raise ImageReadError(f"{path}: permission denied", "permission denied")


def _plugin_open(data: _io.BytesIO):
    """The header of `data` read by the Pillow plugin its signature names, without
    Pillow's `open` (which hides the plugin's complaint and checks the size itself).

    Returns `(image or None, complaint or None)`; `(None, None)` for an unknown signature.
    """
    from PIL import Image

    plugin = _PLUGIN_OF_FORMAT.get(image_format(data.getvalue()[:4]))
    if plugin is None:
        return None, None
    Image.init()
    factory = Image.OPEN.get(plugin, (None, None))[0]
    if factory is None:
        return None, None
    try:
        data.seek(0)
        return factory(data, ""), None
    except Exception as err:  # noqa: BLE001 - any complaint is the answer
        return None, f"{type(err).__name__}: {err}"


def _too_large(label, width, height, limit) -> ImageReadError:
    return ImageReadError(
        f"{label}: too large: its header says {width} x {height} = {width * height:,} pixels, over the limit "
        f"of {limit:,} (set {MAX_PIXELS_ENV} to allow more)",
        f"too large (over {limit:,} pixels)",
    )


def _read_error(err, label, data: _io.BytesIO) -> ImageReadError:
    """A Pillow failure as an `ImageReadError` with its reason."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(err, Image.DecompressionBombError):  # over twice Pillow's own limit, refused in open
        header, _ = _plugin_open(data)
        if header is not None:
            return _too_large(label, *header.size, max_image_pixels())
        return ImageReadError(f"{label}: too large ({err})", f"too large (over {max_image_pixels():,} pixels)")
    text = f"{type(err).__name__}: {err}"
    if isinstance(err, UnidentifiedImageError):
        _, why = _plugin_open(data)
        if why is None:
            return ImageReadError(
                f"{label}: not an image: cannot decode image (no image format recognises its bytes)", "not an image"
            )
        text = why
    lowered = text.lower()
    if "checksum" in lowered or "crc" in lowered:
        reason = "bad checksum"
    elif isinstance(err, EOFError) or "truncated" in lowered or "premature end" in lowered:
        reason = "truncated"
    else:
        reason = "corrupt"
    return ImageReadError(f"{label}: {reason}: cannot decode image ({text})", reason)


@contextlib.contextmanager
def _opened(data: _io.BytesIO, label):
    """Pillow's image of `data`, its header size checked, decoder failures as `ImageReadError`."""
    from PIL import Image, UnidentifiedImageError

    limit = max_image_pixels()
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < limit:
        Image.MAX_IMAGE_PIXELS = limit  # raised on request: Pillow must not refuse what kcolor allows
    try:
        with Image.open(data) as img:
            width, height = img.size
            if width * height > limit:
                raise _too_large(label, width, height, limit)
            if width == 0 or height == 0:
                raise ImageReadError(f"{label}: empty image of size {img.size}")
            yield img
    except ImageReadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as err:
        raise _read_error(err, label, data) from err


def skip_summary(reasons, total, what="images") -> str:
    """The one line that ends a run: how many of `total` entries were skipped, by reason.

    Args:
        reasons: the reason of each skipped entry (`ImageReadError.reason`).
        total: how many entries the run looked at.
        what: what the entries are ("images", "videos", "pairs").

    Example:
        skip_summary(["truncated", "truncated", "a folder"], 21)
        # 'skipped 3 of 21 images: 2 truncated, 1 a folder'
    """
    counts = collections.Counter(reasons)
    line = f"skipped {sum(counts.values())} of {int(total)} {what}"
    if counts:
        by_count = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        line += ": " + ", ".join(f"{n} {reason}" for reason, n in by_count)
    return line


def report_skips(skipped, total, what="images", log=None) -> str:
    """Print one line per skipped entry, then the summary line; returns the summary.

    Args:
        skipped: `(reason, message)` per skipped entry; the message names the entry.
        total: how many entries the run looked at.
        what: what the entries are ("images", "videos").
        log: a `print`-like function (default: print to stderr).
    """
    import sys

    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    skipped = list(skipped)
    for _, message in skipped:
        log(f"skipped {message}")
    line = skip_summary([reason for reason, _ in skipped], total, what)
    log(line)
    return line


@dataclasses.dataclass
class LoadedImage:
    """A decoded image.

    Attributes:
        rgb: float32 array (H, W, 3) in [0, 1], composited onto white where the source
            is transparent. Gray sources have three equal channels.
        alpha: float32 array (H, W) in [0, 1], or None when the source has no transparency.
        mode: the Pillow mode the file was stored in (e.g. "L", "I;16", "P", "CMYK").
        path: where it was read from (or a label for in-memory bytes).
    """

    rgb: np.ndarray
    alpha: Optional[np.ndarray]
    mode: str
    path: str

    @property
    def size(self):
        """(height, width)."""
        return self.rgb.shape[:2]

    @property
    def is_gray(self) -> bool:
        r, g, b = self.rgb[..., 0], self.rgb[..., 1], self.rgb[..., 2]
        return bool(np.array_equal(r, g) and np.array_equal(g, b))


def image_format(data) -> str:
    """The container format of encoded image bytes: jpeg, png, gif, bmp or unknown."""
    head = bytes(data[:4])
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head == _PNG_MAGIC:
        return "png"
    if head[:3] == b"GIF":
        return "gif"
    if head[:2] == b"BM":
        return "bmp"
    return "unknown"


def _to_float_rgb(img):
    """A loaded Pillow image → (rgb float32 (H, W, 3), alpha float32 (H, W) or None)."""
    mode = img.mode
    if mode in _WIDE_GRAY_MODES:
        gray = np.asarray(img, dtype=np.float32)
        # 32-bit "I" images from 16-bit files hold 0..65535; 8-bit data promoted to "I"
        # (some TIFF/PGM writers) holds 0..255, which the maximum tells apart.
        scale = _WIDE_GRAY_MODES[mode] if mode != "I" or gray.max(initial=0) > 255 else 255.0
        gray = np.clip(gray / scale, 0.0, 1.0)
        return np.repeat(gray[..., None], 3, axis=-1), None
    if mode == "F":
        gray = np.asarray(img, dtype=np.float32)
        top = 1.0 if gray.max(initial=0) <= 1.0 else 255.0
        return np.repeat(np.clip(gray / top, 0.0, 1.0)[..., None], 3, axis=-1), None
    if mode == "P":
        # Palette images may carry transparency in the palette or in a tRNS chunk.
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("1", "L"):
        img = img.convert("L")
    elif mode in ("LA", "La", "PA"):
        img = img.convert("LA")
    elif mode in ("RGBA", "RGBa"):
        img = img.convert("RGBA")
    elif mode != "RGB":
        # CMYK, YCbCr, LAB, HSV, I;16 RGB variants...: Pillow's own conversion to RGB.
        img = img.convert("RGB")
    data = np.asarray(img, dtype=np.float32) / 255.0
    if img.mode == "L":
        return np.repeat(data[..., None], 3, axis=-1), None
    if img.mode == "LA":
        return np.repeat(data[..., :1], 3, axis=-1), data[..., 1]
    if img.mode == "RGBA":
        return np.ascontiguousarray(data[..., :3]), data[..., 3]
    if img.mode != "RGB":
        raise ImageReadError(f"unexpected Pillow mode after conversion: {img.mode}")
    return np.ascontiguousarray(data), None


def _open(data: _io.BytesIO, label) -> LoadedImage:
    from PIL import ImageOps

    with _opened(data, label) as img:
        img.load()  # decode now: truncated data fails here, not later
        mode = img.mode
        img = ImageOps.exif_transpose(img)
        rgb, alpha = _to_float_rgb(img)
    if rgb.ndim != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ImageReadError(f"{label}: empty image of shape {rgb.shape}")
    if alpha is not None:
        # The one alpha rule: transparent pixels are seen on white.
        rgb = rgb * alpha[..., None] + (1.0 - alpha[..., None])
    return LoadedImage(rgb=rgb.astype(np.float32), alpha=alpha, mode=mode, path=label)


def decode(data, *, label="<bytes>") -> LoadedImage:
    """Decode encoded image bytes (see the module docstring for the rules).

    Raises:
        ImageReadError: the bytes are not a decodable image; the message starts with `label`.
    """
    data = bytes(data)
    if not data:
        raise ImageReadError(f"{label}: empty file (0 bytes)", "empty file")
    return _open(_io.BytesIO(data), label)


def _read_file(path):
    """The bytes of an image file on any filesystem (`kcolor.fs`), as a file object."""
    from kcolor import fs

    check_entry(path)
    try:
        return _io.BytesIO(fs.read_bytes(path))
    except (OSError, tf.errors.OpError) as err:
        reason = "permission denied" if isinstance(err, PermissionError) else "corrupt"
        raise ImageReadError(f"{os.fspath(path)}: cannot be read ({type(err).__name__}: {err})", reason) from None


def read_image(path) -> LoadedImage:
    """Decode an image file into float32 RGB in [0, 1] at its own resolution.

    Raises:
        ImageReadError: the file is missing, truncated, corrupt, or not an image; the
            message names the file and the decoder's complaint.

    Example:
        image = read_image("old_photo.png")
        print(image.size, image.mode)
    """
    return _open(_read_file(path), os.fspath(path))


def check_image(path) -> None:
    """Raise `ImageReadError` unless `read_image(path)` would succeed (a fast check).

    The whole file is decoded, as `read_image` does, except that a JPEG is decoded at
    1/8 scale (libjpeg's DCT scaling still reads every byte of the stream).
    """
    data = _read_file(path)
    with _opened(data, os.fspath(path)) as img:
        if img.format == "JPEG":
            img.draft(img.mode, (1, 1))
        img.load()


def decode_tf(data):
    """`decode` inside a `tf.data` graph: scalar tf.string → float32 RGB [H, W, 3] in [0, 1].

    Decoding errors surface as a `tf.errors.InvalidArgumentError` naming the reason;
    sources check every file beforehand, so a pipeline never meets one.
    """

    def _decode(value):
        if isinstance(value, np.ndarray):  # a 0-d array holding the bytes
            value = value.item()
        return decode(value).rgb

    rgb = tf.numpy_function(_decode, [data], tf.float32, stateful=False)
    return tf.ensure_shape(rgb, [None, None, 3])


def write_png(path, rgb, alpha=None) -> str:
    """Write float RGB in [0, 1] (H, W, 3) as an 8-bit PNG, whole or not at all; with
    `alpha` (H, W), as RGBA."""
    from PIL import Image

    from kcolor.fs import atomic_write_bytes

    pixels = to_uint8(np.asarray(rgb))
    if alpha is not None:
        pixels = np.concatenate([pixels, to_uint8(np.asarray(alpha))[..., None]], axis=-1)
    picture = Image.fromarray(pixels, mode="RGBA" if alpha is not None else "RGB")
    buffer = _io.BytesIO()
    picture.save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return os.fspath(path)


def has_image_extension(name) -> bool:
    return os.path.splitext(os.fspath(name))[1].lower() in IMAGE_EXTENSIONS


def find_entries(root, extensions=IMAGE_EXTENSIONS) -> list:
    """`(path, relative_path)` of every entry under `root` named with one of `extensions`.

    The search is recursive, in walk order (sub-folders and names sorted), any letter
    case; hidden files and folders are ignored. A folder whose own name has such an
    extension (`photo.jpg/`) is listed rather than searched: it stands where a file
    should be, and reading it reports "a folder". `root` may be on any filesystem
    (`kcolor.fs`). Links are listed as they are (a dangling one is reported when read).

    Example:
        [rel for _, rel in find_entries("photos")]   # ['a.jpg', 'nested/b.png']
    """
    from kcolor import fs

    def wanted(name):
        return not name.startswith(".") and os.path.splitext(name)[1].lower() in extensions

    found = []
    prefix = len(fs.join(root, ""))
    for dirpath, dirnames, filenames in fs.walk(root):
        named_like_files = [d for d in dirnames if wanted(d)]
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not wanted(d))
        for name in sorted(filenames + named_like_files):
            if wanted(name):
                full = fs.join(dirpath, name)
                found.append((full, full[prefix:]))
    return found


def find_images(inputs) -> list:
    """Expand files and folders into a list of `(path, relative_output_stem)`.

    Folders are searched recursively for entries with an image extension
    (`find_entries`; hidden files and folders are ignored); their output keeps the
    sub-folder layout. A file named explicitly is always kept, whatever its extension,
    so a bad file is reported rather than silently dropped.
    """
    from kcolor import fs
    from kcolor.fs import expand_path

    found = []
    for item in inputs:
        item = expand_path(item)
        if fs.isdir(item):
            found.extend((full, os.path.splitext(rel)[0]) for full, rel in find_entries(item))
        else:
            found.append((item, os.path.splitext(fs.basename(item))[0]))
    return found
