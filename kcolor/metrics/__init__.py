"""Colorization metrics: per-image TensorFlow functions and a dataset accumulator.

Batched functions on RGB in [0, 1] returning one value per image `[B]`: `mse`, `mae`,
`psnr`, `ssim`, `ms_ssim`, `colorfulness` (Paper 001, Section 4.9; MS-SSIM from Paper
003). `METRICS` maps each name to a `fn(pred, target)`, `score_batch` applies them all,
and `MetricTotals` reports per-image means and test-set totals (Paper 001, Table 1).
`fid` and `frechet_distance` compare two image sets as a whole (`kcolor.metrics.fid`).
`warp_error` and `cdc` score the flicker of a colorized video, streamed frame by frame
(`kcolor.metrics.temporal`).

Example:
    from kcolor.metrics import MetricTotals, score_batch
    score_batch(pred, target)["ssim"]            # tf.Tensor [B]
    warp_error(colorized_frames, gray_frames)    # float
"""

from kcolor.metrics.fid import InceptionFeatures, fid, frechet_distance  # noqa: F401
from kcolor.metrics.quality import (  # noqa: F401
    METRICS,
    MS_SSIM_WEIGHTS,
    colorfulness,
    mae,
    ms_ssim,
    ms_ssim_settings,
    mse,
    prediction_colorfulness,
    psnr,
    score_batch,
    ssim,
)
from kcolor.metrics.temporal import cdc, warp_error  # noqa: F401
from kcolor.metrics.totals import MetricTotals  # noqa: F401
