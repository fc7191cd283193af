"""Pixels: the one resize and the conversions between uint8 and float images.

The lowest floor that touches TensorFlow tensors (ARCHITECTURE.md): data, models'
inference graph, metrics and exports all resize and convert through these, so a
photo is resized the same way when it is trained on, evaluated and colorized.

Example:
    small = resize(to_float(image), 256)
    png_ready = to_uint8(small.numpy())
"""

import numpy as np
import tensorflow as tf


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


__all__ = ["resize", "resize_shorter_side", "to_float", "to_uint8"]
