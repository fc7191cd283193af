"""Video flicker metrics (kcolor.metrics.temporal) against values computed by hand."""

import importlib.util
import math

import numpy as np
import pytest

from kcolor.metrics import cdc, warp_error

needs_cv2 = pytest.mark.skipif(
    importlib.util.find_spec("cv2") is None, reason="warp_error needs OpenCV"
)

SIZE = 48
# JSD (natural log) of P = all mass at level 0 and Q = half at 0, half at 255:
# M = (0.75 at 0, 0.25 at 255); KL(P||M) = ln(4/3); KL(Q||M) = 0.5 ln(2/3) + 0.5 ln 2
# = 0.5 ln(4/3); JSD = 0.5 (ln(4/3) + 0.5 ln(4/3)) = 0.75 ln(4/3).
JSD_HALF = 0.75 * math.log(4 / 3)


def _texture_rgb(seed=0, size=SIZE):
    """A smooth random RGB texture in [0, 1] that optical flow can follow."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((size // 4, size // 4, 3))
    return np.kron(coarse, np.ones((4, 4, 1))).astype(np.float32)


def _shifted(image, dx, dy):
    return np.roll(image, (dy, dx), axis=(0, 1))


def _black():
    return np.zeros((SIZE, SIZE, 3), np.uint8)


def _half_white(channels=(0, 1, 2)):
    frame = _black()
    for c in channels:
        frame[: SIZE // 2, :, c] = 255  # half the pixels at 255, half at 0
    return frame


@needs_cv2
def test_identical_frames_have_no_warping_error():
    frames = [_texture_rgb()] * 4
    assert warp_error(frames, frames) == pytest.approx(0.0, abs=1e-12)


@needs_cv2
@pytest.mark.parametrize("step", [0.1, 0.25])
def test_a_constant_jump_in_every_channel_costs_three_c_squared(step):
    # Static input: the flow is zero, every pixel is kept, and each output pair differs
    # by `step` in R, G and B, so ||O_t - O_t-1||^2 = 3 step^2 at every pixel.
    inputs = [_texture_rgb()] * 4
    outputs = [np.full((SIZE, SIZE, 3), 0.1 + step * t, np.float32) for t in range(4)]
    assert warp_error(iter(outputs), iter(inputs)) == pytest.approx(
        3 * step**2, abs=1e-6
    )


@needs_cv2
def test_uint8_outputs_are_read_on_the_zero_one_scale():
    inputs = [_texture_rgb()] * 2
    outputs = [np.full((SIZE, SIZE, 3), v, np.uint8) for v in (50, 60)]
    expected = 3 * (10 / 255) ** 2
    assert warp_error(outputs, inputs) == pytest.approx(expected, abs=1e-6)


@needs_cv2
def test_warping_error_follows_the_motion_of_the_inputs():
    # The input pans 2 px right per frame. Outputs that pan with it are steady once
    # carried along the flow; outputs frozen on frame 0 flicker against the motion.
    # A flow used backwards would warp the panning outputs 4 px the wrong way.
    inputs = [_shifted(_texture_rgb(), 2 * t, 0) for t in range(4)]
    panning = warp_error(inputs, inputs)
    frozen = warp_error([inputs[0]] * 4, inputs)
    assert frozen > 0.05
    assert panning < 0.1 * frozen


@needs_cv2
def test_warp_error_needs_two_frames_and_equal_lengths():
    frame = _texture_rgb()
    with pytest.raises(ValueError, match="at least 2 frames. Received: 1"):
        warp_error([frame], [frame])
    with pytest.raises(ValueError, match="outputs ended after 2 frames"):
        warp_error([frame] * 2, [frame] * 3)


def test_identical_frames_have_zero_cdc():
    assert cdc([_texture_rgb()] * 6) == 0.0


def test_cdc_of_two_frames_is_their_jsd():
    assert cdc([_black(), _half_white()]) == pytest.approx(JSD_HALF, abs=1e-12)


def test_cdc_averages_the_channels():
    # only R changes: JSD_HALF for R, 0 for G and B
    assert cdc([_black(), _half_white((0,))]) == pytest.approx(JSD_HALF / 3, abs=1e-12)


def test_cdc_reads_float_frames_as_uint8_levels():
    frames = [np.zeros((SIZE, SIZE, 3), np.float32), _half_white() / 255.0]
    assert cdc(frames) == pytest.approx(JSD_HALF, abs=1e-12)


def test_cdc_averages_steps_one_two_and_four_on_five_frames():
    # A B A A B, J = JSD(A, B), JSD of equal frames = 0:
    # k = 1: pairs (AB, BA, AA, AB) -> 3J/4;  k = 2: (AA, BA, AB) -> 2J/3;
    # k = 4: (AB) -> J;  CDC = (3/4 + 2/3 + 1) J / 3 = 29J/36.
    a, b = _black(), _half_white()
    frames = (f for f in [a, b, a, a, b])  # a generator: streamed once
    assert cdc(frames) == pytest.approx(29 / 36 * JSD_HALF, abs=1e-12)


def test_cdc_leaves_out_steps_longer_than_the_clip():
    # A B B: k = 1: (AB, BB) -> J/2;  k = 2: (AB) -> J;  k = 4: no pair.
    a, b = _black(), _half_white()
    assert cdc([a, b, b]) == pytest.approx(0.75 * JSD_HALF, abs=1e-12)


def test_cdc_needs_two_frames():
    with pytest.raises(ValueError, match="at least 2 frames. Received: 1"):
        cdc([_black()])
    with pytest.raises(ValueError, match="Received: shape"):
        cdc([_black()[..., 0], _black()[..., 0]])
