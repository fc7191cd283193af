"""The benchmark's baselines besides gray (which `kcolor.evaluate` scores itself).

"mean chroma": every pixel gets the training split's mean a, b (CIE Lab), laid on the
input's own lightness. A model that does not beat it on PSNR has learned less than one
constant color.

Example:
    ab = training_mean_chroma(cfg)             # [a, b] of the train split at cfg.image_size
    rows = {MEAN_CHROMA: mean_chroma_baseline(ab)}
"""

import numpy as np
import tensorflow as tf

from kcolor import color

MEAN_CHROMA = "mean chroma"


def mean_chroma(batches):
    """The mean a, b (CIE Lab) over every pixel of `batches` (`{"rgb": [B, S, S, 3]}` in [0, 1])."""
    total, pixels = np.zeros(2, np.float64), 0
    for batch in batches:
        ab = color.rgb_to_lab(tf.convert_to_tensor(batch["rgb"], tf.float32))[..., 1:]
        total += np.asarray(tf.reduce_sum(tf.cast(ab, tf.float64), axis=[0, 1, 2]))
        pixels += int(np.prod(ab.shape[:3]))
    if not pixels:
        raise ValueError("mean_chroma: no images in the training split")
    return total / pixels


def training_mean_chroma(cfg):
    """`mean_chroma` of `cfg`'s train split, decoded and resized as training reads it, unaugmented."""
    import dataclasses

    from kcolor.data import build_datasets

    plain = dataclasses.replace(cfg, augment=(), cache=False)
    return mean_chroma(build_datasets(plain).train)


def mean_chroma_baseline(ab):
    """`fn(batch) -> RGB`: the constant chroma `ab` on the lightness of each gray input image."""
    ab = tf.constant(np.asarray(ab, np.float32).reshape(1, 1, 1, 2))

    def colorize(batch):
        gray = color.rgb_to_gray(tf.convert_to_tensor(batch["rgb"], tf.float32), channels=3)
        lightness = color.rgb_to_lab(gray)[..., :1]
        chroma = tf.broadcast_to(ab, tf.concat([tf.shape(lightness)[:3], [2]], axis=0))
        return color.lab_to_rgb(tf.concat([lightness, chroma], axis=-1))

    return colorize
