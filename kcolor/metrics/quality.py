"""Per-image colorization metrics as batched TensorFlow functions.

Every metric takes RGB batches `[B, H, W, 3]` with values in [0, 1] and returns one value
per image, shape `[B]`. The set is Paper 001's (Bazzan and Pasin, "Image Colorization",
University of Padova; Section 4.9 and Table 1): MSE, MAE, PSNR, SSIM and Hasler–Süsstrunk colorfulness, plus MS-SSIM,
Paper 003's accuracy metric.

- `mse`, `mae`: mean over pixels and channels, on the [0, 1] scale. These and `ms_ssim`
  are also the training losses of the same names (`kcolor.training.losses`): one definition.
- `psnr`: 10 log10(1 / MSE) in dB (`max_val` 1), at most `PSNR_CAP_DB` (200 dB, what
  identical images score: a finite number that JSON and tables can hold).
- `ssim`: `tf.image.ssim` (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5,
  K1 0.01, K2 0.03, averaged over the valid window positions and the channels).
  Images need at least 11 px per side.
- `ms_ssim`: `tf.image.ssim_multiscale` with its scale count fitted to the image, see
  `ms_ssim_settings`.
- `colorfulness`: Hasler & Süsstrunk (2003) on 0–255 RGB of the prediction alone:
  rg = R − G, yb = (R + G) / 2 − B,
  C = sqrt(σrg² + σyb²) + 0.3 · sqrt(μrg² + μyb²), with population standard deviations.

Example:
    scores = score_batch(pred, target)          # {"mse": [B], "psnr": [B], ...}
    psnr(pred, target)                          # tf.Tensor [B]
"""

import math

import numpy as np
import tensorflow as tf

# Wang, Simoncelli & Bovik (2003): the five-scale MS-SSIM exponents, finest scale first.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
SSIM_FILTER_SIZE = 11
SSIM_FILTER_SIGMA = 1.5


def _pair(pred, target, what, rgb=True):
    pred = tf.convert_to_tensor(pred, tf.float32)
    target = tf.convert_to_tensor(target, tf.float32)
    for label, x in (("pred", pred), ("target", target)):
        if x.shape.rank is not None and (x.shape.rank != 4 or (rgb and x.shape[-1] != 3)):
            wanted = "an RGB batch [B, H, W, 3]" if rgb else "an image batch [B, H, W, C]"
            raise ValueError(f"{what}: {label} must be {wanted}. Received: shape {x.shape}")
    if pred.shape.is_fully_defined() and target.shape.is_fully_defined() and pred.shape != target.shape:
        raise ValueError(f"{what}: pred and target shapes differ. Received: {pred.shape} and {target.shape}")
    return pred, target


def mse(pred, target):
    """Mean squared error per image → [B] (any channel count; the training loss `mse` too)."""
    pred, target = _pair(pred, target, "mse", rgb=False)
    return tf.reduce_mean(tf.square(pred - target), axis=[1, 2, 3])


def mae(pred, target):
    """Mean absolute error per image → [B] (any channel count; the training loss `mae` too)."""
    pred, target = _pair(pred, target, "mae", rgb=False)
    return tf.reduce_mean(tf.abs(pred - target), axis=[1, 2, 3])


PSNR_CAP_DB = 200.0


def psnr_from_mse(mse):
    """The one PSNR of kcolor: 10 log10(1 / MSE) in dB for signals in [0, 1], at most `PSNR_CAP_DB`.

    A tensor gives a float32 tensor (identical images: MSE 0, 200 dB); a Python or NumPy
    number gives a float.
    """
    if tf.is_tensor(mse):
        mse = tf.cast(mse, tf.float32)
        return tf.minimum(10.0 * (tf.math.log(1.0 / mse) / tf.math.log(10.0)), PSNR_CAP_DB)
    mse = float(mse)
    if mse <= 10.0 ** (-PSNR_CAP_DB / 10.0):
        return PSNR_CAP_DB
    return float(10.0 * math.log10(1.0 / mse))


def psnr(pred, target):
    """Peak signal-to-noise ratio per image in dB, peak 1 → [B] (`psnr_from_mse`, capped)."""
    pred, target = _pair(pred, target, "psnr")
    return psnr_from_mse(tf.reduce_mean(tf.square(pred - target), axis=[1, 2, 3]))


def array_psnr(a, b) -> float:
    """PSNR in dB between two arrays in [0, 1] of any shape, as one signal (float64 MSE)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return psnr_from_mse(float(np.mean((a - b) ** 2)))


def ssim(pred, target):
    """Structural similarity per image (11x11 Gaussian window, sigma 1.5) → [B]."""
    pred, target = _pair(pred, target, "ssim")
    return tf.image.ssim(
        pred, target, max_val=1.0, filter_size=SSIM_FILTER_SIZE, filter_sigma=SSIM_FILTER_SIGMA
    )


def ms_ssim_settings(size):
    """`(power_factors, filter_size)` for MS-SSIM on images whose shorter side is `size` px.

    `tf.image.ssim_multiscale` halves the image (rounding up) between scales and needs
    every scale to be at least `filter_size` wide; with its five scales and 11-px window
    that is 161 px, so it fails at 128. Here the 11-px window is kept and the scale count
    is the largest n <= 5 whose coarsest scale, ceil(size / 2^(n-1)), is still >= 11 px:
    5 scales from 161 px up (exactly TF's default weights there), 4 from 81 (so 4 at 128),
    3 from 41 (64), 2 from 21 (32), and 1 below 21, where MS-SSIM equals SSIM. When
    scales are dropped, the remaining exponents of Wang et al. are rescaled to sum to 1,
    so identical images still score 1 and the values stay on SSIM's scale. Below 11 px
    the window shrinks to the image.
    """
    size = int(size)
    if size < 1:
        raise ValueError(f"ms_ssim: image size must be at least 1 px. Received: size={size}")
    scales = 1
    while scales < len(MS_SSIM_WEIGHTS) and -(-size // 2**scales) >= SSIM_FILTER_SIZE:
        scales += 1
    if scales == len(MS_SSIM_WEIGHTS):
        return MS_SSIM_WEIGHTS, SSIM_FILTER_SIZE
    weights = MS_SSIM_WEIGHTS[:scales]
    total = sum(weights)
    return tuple(w / total for w in weights), min(SSIM_FILTER_SIZE, size)


def ms_ssim(pred, target):
    """Multi-scale SSIM per image in [0, 1], scales fitted to the image size → [B].

    The one MS-SSIM of kcolor: the metric that `kcolor evaluate` reports and, as
    `1 - ms_ssim`, the training loss `ms_ssim` (`kcolor.training.losses`). Any channel
    count works (SSIM is averaged over channels); values must lie in [0, 1] (`max_val`
    1). See `ms_ssim_settings` for the scales used at each size.
    """
    pred, target = _pair(pred, target, "ms_ssim", rgb=False)
    height, width = pred.shape[1], pred.shape[2]
    if height is None or width is None:
        raise ValueError(
            f"ms_ssim needs a static image height and width to choose its scales. Received: shape {pred.shape}"
        )
    power_factors, filter_size = ms_ssim_settings(min(height, width))
    return _ssim_multiscale(pred, target, power_factors, filter_size)


def _safe_pow(x, p):
    """`relu(x) ** p` whose gradient is 0, not NaN, where x <= 0 (p < 1 makes 0 ** p's slope infinite)."""
    positive = x > 0.0
    return tf.where(positive, tf.pow(tf.where(positive, x, 1.0), p), 0.0)


def _ssim_multiscale(pred, target, power_factors, filter_size):
    """`tf.image.ssim_multiscale(pred, target, max_val=1, ...)`, value for value, with finite gradients.

    TensorFlow's version computes `relu(cs) ** p` per scale; where a scale's SSIM or
    contrast-structure term is <= 0 (an untrained colorizer's output is often
    uncorrelated with the target), its gradient is 0 * inf = NaN, and one such image
    turns every weight NaN. The same arithmetic is done here with `_safe_pow`: equal
    values, zero gradient through those terms. Per-scale SSIM and cs come from
    TensorFlow's own `_ssim_per_channel`; scales are halved as TensorFlow does
    (symmetric padding to an even size, 2x2 average pooling).
    """
    from tensorflow.python.ops import image_ops_impl  # the per-channel SSIM/cs that tf.image.ssim uses

    x, y = pred, target
    terms = []
    for scale in range(len(power_factors)):
        if scale > 0:
            pad_h, pad_w = x.shape[1] % 2, x.shape[2] % 2
            if pad_h or pad_w:
                paddings = [[0, 0], [0, pad_h], [0, pad_w], [0, 0]]
                x, y = tf.pad(x, paddings, mode="SYMMETRIC"), tf.pad(y, paddings, mode="SYMMETRIC")
            x = tf.nn.avg_pool2d(x, 2, 2, "VALID")
            y = tf.nn.avg_pool2d(y, 2, 2, "VALID")
        ssim_per_channel, cs = image_ops_impl._ssim_per_channel(
            x, y, max_val=1.0, filter_size=filter_size, filter_sigma=SSIM_FILTER_SIGMA
        )
        last = scale == len(power_factors) - 1
        terms.append(_safe_pow(ssim_per_channel if last else cs, power_factors[scale]))
    return tf.reduce_mean(tf.reduce_prod(tf.stack(terms, axis=-1), axis=-1), axis=-1)  # mean over channels


def colorfulness(rgb):
    """Hasler–Süsstrunk colorfulness of each RGB image in [0, 1], computed on 0–255 → [B]."""
    rgb = tf.convert_to_tensor(rgb, tf.float32)
    if rgb.shape.rank is not None and (rgb.shape.rank != 4 or rgb.shape[-1] != 3):
        raise ValueError(f"colorfulness: rgb must be an RGB batch [B, H, W, 3]. Received: shape {rgb.shape}")
    r, g, b = tf.unstack(rgb * 255.0, axis=-1)
    rg = r - g
    yb = 0.5 * (r + g) - b
    axes = [1, 2]
    sigma = tf.sqrt(tf.math.reduce_variance(rg, axis=axes) + tf.math.reduce_variance(yb, axis=axes))
    mu = tf.sqrt(tf.square(tf.reduce_mean(rg, axis=axes)) + tf.square(tf.reduce_mean(yb, axis=axes)))
    return sigma + 0.3 * mu


def prediction_colorfulness(pred, target):
    """`colorfulness(pred)`: the (pred, target) form that `METRICS` entries share."""
    del target  # colorfulness judges the colorization alone
    return colorfulness(pred)


# name → fn(pred, target) → [B]; Table 1's columns first, in the paper's order.
METRICS = {
    "colorfulness": prediction_colorfulness,
    "psnr": psnr,
    "ssim": ssim,
    "mse": mse,
    "mae": mae,
    "ms_ssim": ms_ssim,
}


def score_batch(pred, target, names=None):
    """Score a batch with every metric (or those in `names`) → `{name: float32 [B]}`."""
    names = tuple(METRICS) if names is None else tuple(names)
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}. Valid metrics: {', '.join(METRICS)}")
    return {name: METRICS[name](pred, target) for name in names}
