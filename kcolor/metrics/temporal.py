"""Temporal consistency of a colorized video: the warping error and CDC.

Two standard flicker metrics, both lower-is-better, both streamed: a clip of any length
is read frame by frame and memory stays flat (the previous frame for `warp_error`, the
last four histograms for `cdc`).

- `warp_error`: E_warp of Lai, Huang, Wang, Shechtman, Yumer and Yang, "Learning Blind
  Video Temporal Consistency", ECCV 2018. Flow comes from `kcolor.flow` (OpenCV DIS,
  `FLOW_METHOD`), not FlowNet2 as in the published tables, so absolute values are not
  comparable with those tables; compare runs scored here.
- `cdc`: Color Distribution Consistency of Liu, Zhao, Chan, Wang, Loy, Qiao and Dong,
  "Temporally Consistent Video Colorization with Deep Feature Propagation and
  Self-regularization Learning" (TCVC, arXiv:2110.04562): Jensen-Shannon divergences
  of per-channel color histograms between frames 1, 2 and 4 apart.

Colorized frames are RGB (H, W, 3), float in [0, 1] or uint8.

Example:
    from kcolor.metrics import cdc, warp_error
    warp_error(colorized_frames, gray_frames)       # float, lower is steadier
    cdc(colorized_frames)                           # float, lower is steadier
"""

import collections
import itertools

import numpy as np

from kcolor.flow import dis_flow, gray_u8, non_occluded, warp
from kcolor.pixels import to_uint8

CDC_STEPS = (1, 2, 4)  # TCVC compares frames i and i + k for these k
HISTOGRAM_BINS = 256


def _rgb(frame, what, index):
    x = np.asarray(frame)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(
            f"{what}: frame {index} must be an (H, W, 3) RGB array. "
            f"Received: shape {x.shape}"
        )
    return x


def _float_rgb(frame, what, index):
    x = _rgb(frame, what, index)
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    return x.astype(np.float32)


def _pairs_of_frames(outputs, inputs):
    """(output, input) per frame; raises when one clip ends before the other."""
    missing = object()
    pairs = itertools.zip_longest(outputs, inputs, fillvalue=missing)
    for count, (output, frame) in enumerate(pairs):
        if output is missing or frame is missing:
            shorter = "outputs" if output is missing else "inputs"
            raise ValueError(
                "warp_error: outputs and inputs differ in length: "
                f"{shorter} ended after {count} frames"
            )
        yield output, frame


def _pair_warp_error(output, output_prev, gray, gray_prev):
    """Mean over non-occluded pixels of ||O_t - warp(O_t-1)||², channels summed."""
    flow_back = dis_flow(gray, gray_prev)  # t → t-1, on frame t's grid
    flow_ahead = dis_flow(gray_prev, gray)  # t-1 → t
    mask = non_occluded(flow_back, flow_ahead)
    squared = np.sum(
        (output - warp(output_prev, flow_back)) ** 2, axis=-1, dtype=np.float64
    )
    if not mask.any():  # Lai et al.'s script: no pixel kept, then average over all
        return float(squared.mean())
    return float(squared[mask].mean())


def warp_error(outputs, inputs):
    """E_warp: how far each output frame is from the previous one moved along the flow.

    Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018: for each pair
    of consecutive frames t-1, t,

        E_warp(O_t, O_t-1) = 1 / Σ_i M_t(i) · Σ_i M_t(i) ||O_t(i) - Ô_t-1(i)||²

    where Ô_t-1 = warp(O_t-1, flow t → t-1), ||·||² sums the three RGB channels (values
    in [0, 1]), and M_t is the non-occlusion mask (`kcolor.flow.non_occluded` on the
    flows t → t-1 and t-1 → t). The flow is computed on the INPUT frames, so a
    colorization is judged on the motion of the video it colors. E_warp of the clip is
    the mean over its T - 1 pairs. A pair with no non-occluded pixel is averaged over
    all pixels, as Lai et al.'s evaluation script does. (That script also masks motion
    boundaries, and it reads the mask as three channels and divides by their sum, so
    its numbers are a third of this formula's.)

    Flow is OpenCV DIS (`kcolor.flow.FLOW_METHOD`), not FlowNet2 as in the published
    tables: absolute values are not comparable with published numbers.

    Args:
        outputs: iterable of T colorized frames, (H, W, 3) float in [0, 1] or uint8.
        inputs: iterable of the T input frames the flow is computed on: RGB as
            `outputs`, or gray (H, W) frames.

    Returns:
        E_warp as a float (0 for a perfectly steady clip).

    Example:
        warp_error(colorized_frames, gray_frames)     # lists or generators
    """
    total, count = 0.0, 0
    output_prev = gray_prev = None
    for index, (output, frame) in enumerate(_pairs_of_frames(outputs, inputs)):
        output = _float_rgb(output, "warp_error", index)
        gray = gray_u8(frame)
        if gray.shape != output.shape[:2]:
            raise ValueError(
                f"warp_error: frame {index} of outputs and inputs differ in size. "
                f"Received: {output.shape[:2]} and {gray.shape}"
            )
        if output_prev is not None:
            total += _pair_warp_error(output, output_prev, gray, gray_prev)
        output_prev, gray_prev = output, gray
        count = index + 1
    if count < 2:
        raise ValueError(f"warp_error: needs at least 2 frames. Received: {count}")
    return total / (count - 1)


def _histograms(frame, index):
    """(3, 256) normalized histograms of the R, G and B levels of one frame."""
    x = _rgb(frame, "cdc", index)
    levels = x if x.dtype == np.uint8 else to_uint8(x)
    pixels = levels.reshape(-1, 3)
    counts = [np.bincount(pixels[:, c], minlength=HISTOGRAM_BINS) for c in range(3)]
    return np.stack(counts).astype(np.float64) / len(pixels)


def _kl(a, m):
    """KL(a || m) of each row, natural log; 0 · log 0 = 0, and m > 0 wherever a > 0."""
    ratio = np.divide(a, m, out=np.ones_like(a), where=a > 0)
    return np.sum(a * np.log(ratio), axis=-1)


def _js_divergence(p, q):
    """Jensen-Shannon divergence of each row of p and q, natural log."""
    m = (p + q) / 2.0
    return 0.5 * _kl(p, m) + 0.5 * _kl(q, m)


def cdc(frames):
    """Color Distribution Consistency (TCVC): histogram drift between nearby frames.

    Liu et al., "Temporally Consistent Video Colorization with Deep Feature Propagation
    and Self-regularization Learning" (TCVC, arXiv:2110.04562). For each RGB channel c,
    H_c(i) is frame i's 256-bin histogram of its uint8 levels, normalized to sum to 1;
    then

        CDC = 1/|K| Σ_k∈K  1/(T-k) Σ_i  1/3 Σ_c  JSD(H_c(i), H_c(i+k)),   K = {1, 2, 4}

    with JSD(P, Q) = ½ KL(P || M) + ½ KL(Q || M), M = (P + Q) / 2, in natural log
    (TCVC's code uses `scipy.stats.entropy`, whose default base is e). A step k with
    no pair (a clip of k frames or fewer) is left out of K.

    Args:
        frames: iterable of T >= 2 RGB frames, (H, W, 3) float in [0, 1] (rounded to
            uint8 levels) or uint8.

    Returns:
        CDC as a float (0 when every frame has the same color histograms).

    Example:
        cdc(colorized_frames)       # a list or a generator
    """
    recent = collections.deque(maxlen=max(CDC_STEPS))  # newest last
    sums = dict.fromkeys(CDC_STEPS, 0.0)
    counts = dict.fromkeys(CDC_STEPS, 0)
    total_frames = 0
    for index, frame in enumerate(frames):
        hist = _histograms(frame, index)
        for k in CDC_STEPS:
            if k <= len(recent):
                sums[k] += float(np.mean(_js_divergence(recent[-k], hist)))
                counts[k] += 1
        recent.append(hist)
        total_frames = index + 1
    if total_frames < 2:
        raise ValueError(f"cdc: needs at least 2 frames. Received: {total_frames}")
    return float(np.mean([sums[k] / counts[k] for k in CDC_STEPS if counts[k]]))


__all__ = ["CDC_STEPS", "cdc", "warp_error"]
