"""Color-space conversions written as TensorFlow ops.

Every function takes a float tensor whose last axis is the channel axis, of any rank
(a single pixel, an image, or a batch), so it runs inside `tf.data.Dataset.map`, inside
a Keras model (wrap it in a layer from `kcolor.color.layers`) and under
`tf.GradientTape`. Conversions follow scikit-image's `rgb2lab` / `lab2rgb`: sRGB
companding, the sRGB→XYZ matrix, and CIE L*a*b* under illuminant D65 (2° observer).

Conventions: RGB is float32 in [0, 1]; L is in [0, 100] and a, b are about
[-128, 127]; gray is ITU-R 601 luma. A model's normalised Lab is `L / 50 - 1` and
`ab / 128`.

Example:
    lab = rgb_to_lab(rgb)          # (..., 3) in [0, 100] x [-128, 127]^2
    rgb_back = lab_to_rgb(lab)     # clipped to [0, 1]
"""

import numpy as np
import tensorflow as tf

# sRGB primaries → CIE XYZ (D65), as in scikit-image's `xyz_from_rgb`.
_XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
_RGB_FROM_XYZ = tuple(tuple(float(v) for v in row) for row in np.linalg.inv(_XYZ_FROM_RGB))
# D65 white point, 2° observer.
_D65 = (0.95047, 1.0, 1.08883)
_LUMA_601 = (0.299, 0.587, 0.114)

# Lab's f(t) switches from a cube root to a line below (6/29)^3; scikit-image rounds it.
_EPS = 0.008856
_KAPPA = 7.787


def _matrix(rows):
    return tf.constant(rows, dtype=tf.float32)


def _apply_matrix(x, rows):
    # x @ M^T on the last axis, for any leading shape.
    return tf.tensordot(x, tf.transpose(_matrix(rows)), axes=1)


def rgb_to_gray(rgb, channels=1):
    """ITU-R 601 luma of RGB in [0, 1]; `channels=3` replicates it to 3 channels."""
    rgb = tf.convert_to_tensor(rgb, tf.float32)
    gray = tf.reduce_sum(rgb * tf.constant(_LUMA_601), axis=-1, keepdims=True)
    if channels == 1:
        return gray
    if channels == 3:
        return tf.concat([gray, gray, gray], axis=-1)
    raise ValueError(f"rgb_to_gray: channels must be 1 or 3. Received: channels={channels}")


def srgb_to_linear(rgb):
    """Undo the sRGB transfer curve."""
    rgb = tf.convert_to_tensor(rgb, tf.float32)
    # The power's gradient is infinite at 0; the clamp keeps the unused branch finite.
    high = tf.pow((tf.maximum(rgb, 0.04045) + 0.055) / 1.055, 2.4)
    return tf.where(rgb > 0.04045, high, rgb / 12.92)


def linear_to_srgb(linear):
    """Apply the sRGB transfer curve."""
    linear = tf.convert_to_tensor(linear, tf.float32)
    high = 1.055 * tf.pow(tf.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055
    return tf.where(linear > 0.0031308, high, linear * 12.92)


def rgb_to_xyz(rgb):
    return _apply_matrix(srgb_to_linear(rgb), _XYZ_FROM_RGB)


def xyz_to_rgb(xyz):
    return linear_to_srgb(_apply_matrix(xyz, _RGB_FROM_XYZ))


def xyz_to_lab(xyz):
    xyz = tf.convert_to_tensor(xyz, tf.float32) / tf.constant(_D65)
    cube_root = tf.pow(tf.maximum(xyz, _EPS), 1.0 / 3.0)
    f = tf.where(xyz > _EPS, cube_root, _KAPPA * xyz + 16.0 / 116.0)
    fx, fy, fz = tf.unstack(f, axis=-1)
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_xyz(lab):
    lab = tf.convert_to_tensor(lab, tf.float32)
    L, a, b = tf.unstack(lab, axis=-1)
    fy = (L + 16.0) / 116.0
    fx = a / 500.0 + fy
    # scikit-image clips negative z before the inverse; so do we.
    fz = tf.maximum(fy - b / 200.0, 0.0)
    f = tf.stack([fx, fy, fz], axis=-1)
    threshold = 0.2068966  # the f value at _EPS
    xyz = tf.where(f > threshold, tf.pow(f, 3.0), (f - 16.0 / 116.0) / _KAPPA)
    return xyz * tf.constant(_D65)


def rgb_to_lab(rgb):
    """sRGB in [0, 1] → CIE Lab (D65): L in [0, 100], a/b about [-128, 127]."""
    return xyz_to_lab(rgb_to_xyz(rgb))


def lab_to_rgb(lab, clip=True):
    """CIE Lab (D65) → sRGB, clipped to [0, 1] unless `clip=False`."""
    rgb = xyz_to_rgb(lab_to_xyz(lab))
    return tf.clip_by_value(rgb, 0.0, 1.0) if clip else rgb


def normalize_lab(lab):
    """Lab → the models' scale: L/50 - 1 in [-1, 1], ab/128 in about [-1, 1]."""
    L, ab = lab[..., :1], lab[..., 1:]
    return L / 50.0 - 1.0, ab / 128.0


def denormalize_lab(L_norm, ab_norm):
    """Inverse of `normalize_lab`: returns a Lab tensor."""
    return tf.concat([(L_norm + 1.0) * 50.0, ab_norm * 128.0], axis=-1)


def rgb_to_lab_normalized(rgb):
    """RGB in [0, 1] → (L in [-1, 1] with 1 channel, ab/128 with 2 channels)."""
    return normalize_lab(rgb_to_lab(rgb))


def lab_normalized_to_rgb(L_norm, ab_norm, clip=True):
    """(L in [-1, 1], ab/128) → RGB in [0, 1]."""
    return lab_to_rgb(denormalize_lab(L_norm, ab_norm), clip=clip)


__all__ = [
    "rgb_to_gray",
    "srgb_to_linear",
    "linear_to_srgb",
    "rgb_to_xyz",
    "xyz_to_rgb",
    "xyz_to_lab",
    "lab_to_xyz",
    "rgb_to_lab",
    "lab_to_rgb",
    "normalize_lab",
    "denormalize_lab",
    "rgb_to_lab_normalized",
    "lab_normalized_to_rgb",
]
