"""Drop images that are already gray, by their chroma in CIE Lab.

A colorization data set should not teach a model that gray is a right answer. KMHCNet
(Hossain, Section 3.1) discards "all the grayscale image already present" in the Kaggle
"Image Colorization" set before training; the author's notebook drops an image when its
three channels are equal everywhere. That test misses gray photos stored as JPEG color
files, whose channels differ by a few levels of compression noise, so here an image is
gray when almost none of it has visible color: its chroma `sqrt(a*^2 + b*^2)` (CIE Lab,
computed on a 64x64 thumbnail) stays below `threshold` on all but 1% of its pixels.
A threshold of 2.0 Lab units (a just-noticeable color difference is about 2.3) keeps
every photo with any visibly colored region of at least 1% of its area.

`drop_gray(raw, threshold)` filters every split of a `RawData` (kcolor.data.raw) and
reports how many images it dropped, in `raw.info["gray_dropped"]` and as a warning.
`cfg.drop_gray_chroma` (0 = off) turns it on in `build_datasets`.

Example:
    is_gray(rgb_batch, threshold=2.0)       # bool [B]
"""

import dataclasses
import warnings

import numpy as np
import tensorflow as tf

from kcolor import color
from kcolor import pixels
from kcolor.data import images

THUMBNAIL = 64
COLORED_FRACTION = 0.01  # an image with at least this share of colored pixels is kept


def chroma(rgb):
    """Lab chroma `sqrt(a^2 + b^2)` of RGB in [0, 1], per pixel: `[..., H, W]`."""
    lab = color.rgb_to_lab(rgb)
    return tf.sqrt(tf.reduce_sum(tf.square(lab[..., 1:]), axis=-1))


def is_gray(rgb, threshold=2.0):
    """True for each image `[B, H, W, 3]` whose chroma is below `threshold` on 99% of its pixels."""
    rgb = tf.convert_to_tensor(rgb, tf.float32)
    values = tf.reshape(chroma(rgb), [tf.shape(rgb)[0], -1])
    k = tf.maximum(1, tf.cast(tf.cast(tf.shape(values)[1], tf.float32) * COLORED_FRACTION, tf.int32))
    # The k-th largest chroma: at least a COLORED_FRACTION of the image reaches it.
    kth = tf.math.top_k(values, k=k).values[:, -1]
    return kth < threshold


def _gray_flags(split, threshold):
    def flag(element):
        value = element["image"]
        rgb = images.decode_tf(value) if value.dtype == tf.string else pixels.to_float(value)
        thumb = pixels.resize(rgb, THUMBNAIL)
        return is_gray(thumb[None], threshold)[0]

    flags = split.map(flag, num_parallel_calls=tf.data.AUTOTUNE).batch(256)
    return np.concatenate([f.numpy() for f in flags] or [np.zeros([0], bool)])


def drop_gray(raw, threshold):
    """`raw` with its gray images removed from every split (one decoding pass over them).

    Args:
        raw: a `kcolor.data.raw.RawData`.
        threshold: chroma in Lab units; 0 or None leaves `raw` unchanged.

    Returns:
        a new `RawData` with the kept images, their counts, and `info["gray_dropped"]`
        (`{split: count}`) plus `info["gray_chroma"]`.
    """
    if not threshold:
        return raw
    threshold = float(threshold)
    if threshold < 0:
        raise ValueError(f"drop_gray_chroma must be >= 0 (Lab units; 0 = off). Received: {threshold}")
    splits, counts, dropped = {}, {}, {}
    for name, split in raw.splits.items():
        keep = ~_gray_flags(split, threshold) if raw.counts.get(name) else np.zeros([0], bool)
        table = tf.constant(keep if keep.size else np.zeros([1], bool))
        splits[name] = split.enumerate().filter(lambda i, e, t=table: t[i]).map(lambda i, e: e)
        counts[name] = int(keep.sum())
        dropped[name] = int(keep.size - keep.sum())
    total = sum(dropped.values())
    if total:
        warnings.warn(
            f"kcolor.data: dropped {total} gray image(s) (chroma < {threshold:g} on 99% of the image): {dropped}",
            stacklevel=3,
        )
    info = {**raw.info, "gray_dropped": dropped, "gray_chroma": threshold}
    return dataclasses.replace(raw, splits=splits, counts=counts, info=info)


__all__ = ["chroma", "drop_gray", "is_gray"]
