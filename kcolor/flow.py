"""Optical flow for videos: dense flow, backward warping, occlusion and chroma blending.

What colorizing a video frame by frame needs to carry color from one frame to the next
and to measure flicker (`kcolor.metrics.temporal`): `dis_flow` (dense flow between two
gray frames), `warp` (a backward warp along a flow), `non_occluded` (the
forward-backward consistency check) and `blend_chroma` (previous chroma blended into the
current frame where the flow can be trusted).

Flow is OpenCV's DIS (Kroeger, Timofte, Dai and Van Gool, "Fast Optical Flow using Dense
Inverse Search", ECCV 2016) with its MEDIUM preset, on the CPU; published video
colorization numbers use FlowNet2 (Ilg et al., CVPR 2017), so reports print
`FLOW_METHOD` beside every number that depends on flow.

NumPy and OpenCV only, no TensorFlow. OpenCV comes with the `video` extra and is
imported inside the functions, so `import kcolor` works without it; a function that
needs it raises ImportError saying how to install it.

Flow convention: `flow[y, x] = (dx, dy)` in pixels, and `dis_flow(src, dst)` is the flow
for which `src(x) ≈ dst(x + flow(x))`; `warp(dst, flow)` then looks like `src`.

Example:
    flow = dis_flow(gray_u8(frame_t), gray_u8(frame_prev))     # t → t-1
    ab = blend_chroma(warp(ab_prev, flow), ab_t, mask, 0.5)
"""

import numpy as np

FLOW_METHOD = "OpenCV DIS optical flow (preset MEDIUM)"
# ITU-R BT.601 luma weights for R, G, B.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)
# Sundaram et al. (2010): a pixel is occluded when the forward and the warped backward
# flow disagree by more than this share of their squared lengths plus this constant.
OCCLUSION_RELATIVE = 0.01
OCCLUSION_ABSOLUTE = 0.5

# One DIS object per preset, created on first use: creating one costs more than a call.
_DIS = {}


def _cv2():
    try:
        import cv2
    except ImportError:
        raise ImportError(
            "kcolor.flow needs OpenCV (opencv-python-headless), which is missing. "
            'Install it with: pip install "kcolor[video]"'
        ) from None
    return cv2


def _dis(preset):
    if preset not in _DIS:
        _DIS[preset] = _cv2().DISOpticalFlow_create(preset)
    return _DIS[preset]


def _check_flow(flow, what):
    flow = np.asarray(flow, np.float32)
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(
            f"{what}: flow must be an (H, W, 2) array. Received: shape {flow.shape}"
        )
    return flow


def gray_u8(rgb):
    """Luma of an RGB frame as uint8: BT.601, 0.299 R + 0.587 G + 0.114 B.

    Args:
        rgb: (H, W, 3) float RGB in [0, 1] or uint8 RGB. An already gray (H, W) or
            (H, W, 1) frame is only converted to uint8.

    Returns:
        (H, W) uint8 luma, rounded to the nearest level.

    Example:
        gray_u8(np.array([[[1.0, 0.5, 0.0]]]))        # [[151]]
    """
    x = np.asarray(rgb)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if not (x.ndim == 2 or (x.ndim == 3 and x.shape[-1] == 3)):
        raise ValueError(
            f"gray_u8: expected an (H, W, 3) RGB or (H, W) gray frame. "
            f"Received: shape {x.shape}"
        )
    if x.dtype == np.uint8:
        levels = x.astype(np.float32)
    elif np.issubdtype(x.dtype, np.floating):
        levels = x.astype(np.float32) * 255.0
    else:
        raise ValueError(
            f"gray_u8: expected uint8 or float in [0, 1]. Received: dtype {x.dtype}"
        )
    if levels.ndim == 3:
        levels = levels @ np.asarray(LUMA_WEIGHTS, np.float32)
    # rounded here, not by pixels.to_uint8: a floor-1 sibling that imports TensorFlow
    return np.clip(np.round(levels), 0, 255).astype(np.uint8)


def dis_flow(src_gray, dst_gray):
    """Dense optical flow from `src_gray` to `dst_gray`: `src(x) ≈ dst(x + flow(x))`.

    OpenCV's DIS with `DISOPTICAL_FLOW_PRESET_MEDIUM` (see `FLOW_METHOD`); the DIS
    object is created once per process.

    Args:
        src_gray: (H, W) uint8 frame (`gray_u8`).
        dst_gray: (H, W) uint8 frame of the same size.

    Returns:
        (H, W, 2) float32 flow, `(dx, dy)` in pixels at each pixel of `src_gray`.

    Example:
        flow = dis_flow(gray_u8(frame_t), gray_u8(frame_prev))
        looks_like_t = warp(frame_prev, flow)
    """
    cv2 = _cv2()
    src = np.asarray(src_gray)
    dst = np.asarray(dst_gray)
    for label, x in (("src_gray", src), ("dst_gray", dst)):
        if x.ndim != 2 or x.dtype != np.uint8:
            raise ValueError(
                f"dis_flow: {label} must be an (H, W) uint8 frame (see gray_u8). "
                f"Received: shape {x.shape}, dtype {x.dtype}"
            )
    if src.shape != dst.shape:
        raise ValueError(
            "dis_flow: the frames differ in size. "
            f"Received: {src.shape} and {dst.shape}"
        )
    flow = _dis(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(src, dst, None)
    return np.asarray(flow, np.float32)


def warp(image, flow):
    """Backward warp: `out(x) = image(x + flow(x))`, bilinear, borders replicated.

    `cv2.remap` with `INTER_LINEAR` and `BORDER_REPLICATE`; its bilinear weights sit on
    a 1/32-pixel grid, and an integer flow moves values exactly.

    Args:
        image: (H, W) or (H, W, C) array, any number of channels; computed in float32.
        flow: (H, W, 2) flow, `(dx, dy)` in pixels, on the grid of the output.

    Returns:
        float32 array of the shape of `image`.

    Example:
        flow = np.full((h, w, 2), (3.0, 0.0), np.float32)
        warp(image, flow)       # moved 3 px left: out[:, x] = image[:, x + 3]
    """
    cv2 = _cv2()
    image = np.asarray(image, np.float32)
    flow = _check_flow(flow, "warp")
    if image.ndim not in (2, 3) or image.shape[:2] != flow.shape[:2]:
        raise ValueError(
            "warp: image must be (H, W) or (H, W, C) with the flow's (H, W). "
            f"Received: image {image.shape}, flow {flow.shape}"
        )
    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(
        np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    )
    out = cv2.remap(
        image,
        grid_x + flow[..., 0],
        grid_y + flow[..., 1],
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out.reshape(image.shape)  # remap drops a trailing channel axis of 1


def non_occluded(flow_fw, flow_bw):
    """Pixels whose flow survives the forward-backward consistency check.

    Sundaram, Brox and Keutzer, "Dense Point Trajectories by GPU-Accelerated Large
    Displacement Optical Flow", ECCV 2010, as used by Lai et al., "Learning Blind Video
    Temporal Consistency", ECCV 2018, for their warping error. With f the forward flow
    (frame A → B, on A's grid) and b̃(x) = b(x + f(x)) the backward flow (B → A) warped
    onto A's grid, a pixel x of A is kept when

        |f(x) + b̃(x)|² < 0.01 (|f(x)|² + |b̃(x)|²) + 0.5

    Only this first test; Sundaram's motion-boundary test is not applied.

    Args:
        flow_fw: (H, W, 2) flow from frame A to frame B.
        flow_bw: (H, W, 2) flow from frame B to frame A.

    Returns:
        (H, W) bool, True where the pixel of A is visible in B with a consistent flow.

    Example:
        mask = non_occluded(dis_flow(gray_t, gray_prev), dis_flow(gray_prev, gray_t))
    """
    f = _check_flow(flow_fw, "non_occluded")
    b = _check_flow(flow_bw, "non_occluded")
    if f.shape != b.shape:
        raise ValueError(
            f"non_occluded: the flows differ in size. Received: {f.shape} and {b.shape}"
        )
    b_warped = warp(b, f)
    disagreement = np.sum((f + b_warped) ** 2, axis=-1)
    lengths = np.sum(f**2, axis=-1) + np.sum(b_warped**2, axis=-1)
    return disagreement < OCCLUSION_RELATIVE * lengths + OCCLUSION_ABSOLUTE


def blend_chroma(prev_ab_warped, cur_ab, mask, strength):
    """The previous frame's chroma blended into the current one where `mask` holds.

    `strength * prev + (1 - strength) * cur` where `mask` is True, `cur` elsewhere.

    Args:
        prev_ab_warped: (H, W, C) chroma of the previous frame, warped onto this one.
        cur_ab: (H, W, C) chroma of the current frame.
        mask: (H, W) or (H, W, C) bool, where the previous chroma can be trusted
            (`non_occluded`).
        strength: weight of the previous frame, in [0, 1); 0 leaves `cur_ab` as it is.

    Returns:
        float32 array of the shape of `cur_ab`.

    Example:
        ab = blend_chroma(warp(ab_prev, flow), ab_t, non_occluded(flow, back), 0.5)
    """
    if not 0.0 <= strength < 1.0:
        raise ValueError(
            f"blend_chroma: strength must be in [0, 1). Received: strength={strength}"
        )
    prev = np.asarray(prev_ab_warped, np.float32)
    cur = np.asarray(cur_ab, np.float32)
    mask = np.asarray(mask, bool)
    if mask.ndim == cur.ndim - 1:
        mask = mask[..., None]
    if prev.shape != cur.shape or mask.shape[:2] != cur.shape[:2]:
        raise ValueError(
            "blend_chroma: prev_ab_warped, cur_ab and mask must share (H, W). "
            f"Received: {prev.shape}, {cur.shape} and {mask.shape}"
        )
    blended = strength * prev + (1.0 - strength) * cur
    return np.where(mask, blended, cur).astype(np.float32)


__all__ = [
    "FLOW_METHOD",
    "LUMA_WEIGHTS",
    "blend_chroma",
    "dis_flow",
    "gray_u8",
    "non_occluded",
    "warp",
]
