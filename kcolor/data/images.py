"""The one image path of kcolor: decode, resize, convert — for training and for serving.

Every place that turns a file into model pixels uses these functions: the `tf.data`
pipeline (folders, TFRecord shards, tensorflow-datasets), `kcolor make-records`,
`kcolor evaluate`, the export parity checks, `kcolor colorize`, and the in-graph
preprocessing of an exported SavedModel (`resize`). So a model is served exactly the
pixels it was trained on.

Decoding (`decode`, `read_image`; Pillow):

- JPEG, PNG, GIF (first frame of an animation), BMP, TIFF, WebP, PPM/PGM.
- Every mode: gray (1, 8 and 16 bit, kept at full precision), RGB, RGBA, gray+alpha,
  palette (with or without transparency), CMYK, YCbCr.
- EXIF orientation is applied, so the image is upright as a viewer shows it.
- Transparency: the color is composited onto white (what the model sees), and the
  alpha channel is kept beside it (`LoadedImage.alpha`), so `colorize` can put it back.
- A file that cannot be decoded raises `ImageReadError` naming the file and the reason.

Resizing (`resize`): bilinear with antialiasing (`tf.image.resize(..., "bilinear",
antialias=True)`): a triangle filter widened by the scale factor when shrinking, plain
half-pixel-centre bilinear when enlarging. Training squashes images to `S x S` as the
papers do ("resized to 128x128"); serving resizes the photo to `S x S` with the same
function and upsamples the predicted chroma back with it.

Example:
    image = read_image("photo.jpg")                 # image.rgb: float32 (H, W, 3) in [0, 1]
    small = to_uint8(resize(image.rgb, 64))         # uint8 (64, 64, 3)
"""

import dataclasses
import io as _io
import os
from typing import Optional

import numpy as np
import tensorflow as tf

# File extensions picked up when a folder is searched for images (case-insensitive).
IMAGE_EXTENSIONS = (
    ".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
)

# Pillow modes holding one gray channel of more than 8 bits, and their full-scale value.
_WIDE_GRAY_MODES = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0, "I": 65535.0}

_PNG_MAGIC = b"\x89PNG"


class ImageReadError(ValueError):
    """A file that cannot be decoded as an image (corrupt, truncated or not an image)."""


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


def _open(source, label) -> LoadedImage:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(source) as img:
            img.load()  # decode now: truncated data fails here, not later
            mode = img.mode
            img = ImageOps.exif_transpose(img)
            rgb, alpha = _to_float_rgb(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as err:
        raise ImageReadError(f"{label}: cannot decode image ({type(err).__name__}: {err})") from err
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
    return _open(_io.BytesIO(bytes(data)), label)


def _read_file(path):
    """The bytes of an image file on any filesystem (`kcolor.fs`), as a file object."""
    from kcolor import fs

    if not fs.isfile(path):
        raise ImageReadError(f"{os.fspath(path)}: no such file")
    return _io.BytesIO(fs.read_bytes(path))


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
    from PIL import Image, UnidentifiedImageError

    data = _read_file(path)
    path = os.fspath(path)
    try:
        with Image.open(data) as img:
            if img.format == "JPEG":
                img.draft(img.mode, (1, 1))
            img.load()
            if img.size[0] == 0 or img.size[1] == 0:
                raise ImageReadError(f"{path}: empty image of size {img.size}")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as err:
        if isinstance(err, ImageReadError):
            raise
        raise ImageReadError(f"{path}: cannot decode image ({type(err).__name__}: {err})") from err


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


def resize(images, size):
    """The one resize of kcolor: bilinear with antialiasing, (H, W, C) or (B, H, W, C).

    Args:
        images: float images.
        size: an int (a square `size x size`) or `[height, width]` (ints or a tensor).
    """
    if isinstance(size, (int, np.integer)):
        size = [int(size), int(size)]
    return tf.image.resize(tf.cast(images, tf.float32), size, method="bilinear", antialias=True)


def resize_shorter_side(rgb, size):
    """Shrink float RGB (H, W, 3) so its shorter side is `size`, keeping the aspect (never enlarges)."""
    shape = tf.shape(rgb)
    height, width = tf.cast(shape[0], tf.float64), tf.cast(shape[1], tf.float64)
    scale = tf.minimum(tf.constant(1.0, tf.float64), float(size) / tf.minimum(height, width))
    new_h = tf.maximum(1, tf.cast(tf.round(height * scale), tf.int32))
    new_w = tf.maximum(1, tf.cast(tf.round(width * scale), tf.int32))
    return tf.cond(scale < 1.0, lambda: resize(rgb, tf.stack([new_h, new_w])), lambda: tf.cast(rgb, tf.float32))


def to_uint8(rgb):
    """Float RGB in [0, 1] → uint8, rounded to the nearest level (NumPy in, NumPy out)."""
    if isinstance(rgb, np.ndarray) or np.isscalar(rgb):
        return np.clip(np.round(np.asarray(rgb, np.float32) * 255.0), 0, 255).astype(np.uint8)
    return tf.cast(tf.round(tf.clip_by_value(tf.cast(rgb, tf.float32), 0.0, 1.0) * 255.0), tf.uint8)


def to_float(image):
    """uint8 (or float) image → float32 in [0, 1]."""
    if image.dtype == tf.uint8:
        return tf.cast(image, tf.float32) / 255.0
    return tf.cast(image, tf.float32)


def write_png(path, rgb, alpha=None) -> str:
    """Write float RGB in [0, 1] (H, W, 3) as an 8-bit PNG, whole or not at all; with
    `alpha` (H, W), as RGBA."""
    from PIL import Image

    from kcolor.training.history import atomic_write_bytes

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


def find_images(inputs) -> list:
    """Expand files and folders into a list of `(path, relative_output_stem)`.

    Folders are searched recursively for files with an image extension
    (`IMAGE_EXTENSIONS`; hidden files and folders are ignored); their output keeps the
    sub-folder layout. A file named explicitly is always kept, whatever its extension,
    so a bad file is reported rather than silently dropped.
    """
    from kcolor import fs
    from kcolor.config import expand_path

    found = []
    for item in inputs:
        item = expand_path(item)
        if fs.isdir(item):
            for root, dirs, files in fs.walk(item):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if has_image_extension(name) and not name.startswith("."):
                        full = fs.join(root, name)
                        stem = os.path.splitext(full[len(fs.join(item, "")):])[0]
                        found.append((full, stem))
        else:
            found.append((item, os.path.splitext(fs.basename(item))[0]))
    return found
