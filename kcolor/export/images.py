"""Reading and writing the photos a user colorizes, whatever their mode.

Real inputs are not the tidy 8-bit RGB of a training set: black-and-white scans are
8- or 16-bit gray, web images are palette GIFs/PNGs with transparency, print JPEGs are
CMYK, phone photos carry an EXIF rotation. `read_image` decodes all of them with Pillow
into one form, float32 RGB in [0, 1] at the file's own resolution (gray replicated to
three channels; 16-bit gray keeps its precision, while Pillow reads 16-bit color PNGs
at 8 bits), plus the alpha channel when there is one, so
the colorizer never has to care where a picture came from. `write_png` writes the
result, with the alpha channel put back.

Example:
    image = read_image("scan_1920.tif")      # image.rgb: (H, W, 3) float32, image.alpha: None
    write_png("out.png", colorized_rgb, alpha=image.alpha)
"""

import dataclasses
import os
from typing import Optional

import numpy as np

# File extensions picked up when a folder is given as input.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")

# Pillow modes holding one gray channel of more than 8 bits, and their full-scale value.
_WIDE_GRAY_MODES = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0, "I": 65535.0}


class ImageReadError(ValueError):
    """A file that cannot be decoded as an image (corrupt, truncated or not an image)."""


@dataclasses.dataclass
class LoadedImage:
    """A decoded image.

    Attributes:
        rgb: float32 array (H, W, 3) in [0, 1]. Gray sources have three equal channels.
        alpha: float32 array (H, W) in [0, 1], or None when the source has no transparency.
        mode: the Pillow mode the file was stored in (e.g. "L", "I;16", "P", "CMYK").
        path: where it was read from.
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


def _to_float_rgb(img):
    """A loaded Pillow image → (rgb float32 (H, W, 3), alpha float32 (H, W) or None)."""
    mode = img.mode
    alpha = None
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
        alpha = data[..., 3]
        data = data[..., :3]
    if img.mode not in ("RGB", "RGBA"):
        raise ImageReadError(f"unexpected Pillow mode after conversion: {img.mode}")
    return np.ascontiguousarray(data), alpha


def read_image(path) -> LoadedImage:
    """Decode an image file into float32 RGB in [0, 1] at its own resolution.

    Accepts every format and mode Pillow reads: gray (1/8/16-bit), RGB, RGBA, LA,
    palette (with or without transparency), CMYK, YCbCr. EXIF orientation is applied,
    so the result is upright as a viewer shows it. Animated files give their first frame.

    Args:
        path: the image file.

    Returns:
        A `LoadedImage` (rgb, alpha, mode, path).

    Raises:
        ImageReadError: the file is missing, truncated, corrupt, or not an image; the
            message names the file and the decoder's complaint.

    Example:
        image = read_image("old_photo.png")
        print(image.size, image.mode)
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImageReadError(f"{path}: no such file")
    try:
        with Image.open(path) as img:
            img.load()  # decode now: truncated data fails here, not later
            mode = img.mode
            img = ImageOps.exif_transpose(img)
            rgb, alpha = _to_float_rgb(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise ImageReadError(f"{path}: cannot decode image ({type(err).__name__}: {err})") from err
    if rgb.ndim != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ImageReadError(f"{path}: empty image of shape {rgb.shape}")
    return LoadedImage(rgb=rgb.astype(np.float32), alpha=alpha, mode=mode, path=path)


def to_uint8(rgb) -> np.ndarray:
    """float RGB in [0, 1] → uint8, rounded to the nearest level."""
    return np.clip(np.round(np.asarray(rgb, np.float32) * 255.0), 0, 255).astype(np.uint8)


def write_png(path, rgb, alpha=None) -> str:
    """Write float RGB in [0, 1] (H, W, 3) as an 8-bit PNG; with `alpha` (H, W), as RGBA."""
    from PIL import Image

    pixels = to_uint8(rgb)
    if alpha is not None:
        pixels = np.concatenate([pixels, to_uint8(alpha)[..., None]], axis=-1)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(pixels, mode="RGBA" if alpha is not None else "RGB").save(path, format="PNG")
    return path


def find_images(inputs) -> list:
    """Expand files and folders into a list of `(path, relative_output_stem)`.

    Folders are searched recursively for files with an image extension
    (`IMAGE_EXTENSIONS`); their output keeps the sub-folder layout. A file named
    explicitly is always kept, whatever its extension, so a bad file is reported
    rather than silently dropped.
    """
    found = []
    for item in inputs:
        item = os.fspath(item)
        if os.path.isdir(item):
            for root, dirs, files in os.walk(item):
                dirs.sort()
                for name in sorted(files):
                    if name.lower().endswith(IMAGE_EXTENSIONS):
                        full = os.path.join(root, name)
                        stem = os.path.splitext(os.path.relpath(full, item))[0]
                        found.append((full, stem))
        else:
            found.append((item, os.path.splitext(os.path.basename(item))[0]))
    return found
