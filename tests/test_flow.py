"""kcolor.flow against shifts, rolls and blends whose answers are known by hand."""

import subprocess
import sys

import numpy as np
import pytest

from kcolor import flow  # imports OpenCV only when a function runs

cv2 = pytest.importorskip("cv2")

SHIFT = (3, 2)  # (dx, dy): 3 px right, 2 px down
MARGIN = 16  # interior: far from the borders the shift brings in


def _texture(size=96, seed=0):
    """Smooth random texture as uint8: DIS finds its patches at every pyramid level."""
    noise = (np.random.default_rng(seed).random((size, size)) * 255).astype(np.uint8)
    blurred = cv2.GaussianBlur(noise, (0, 0), 2.0)
    return cv2.normalize(blurred, None, 0, 255, cv2.NORM_MINMAX)


def _interior(x):
    return x[MARGIN:-MARGIN, MARGIN:-MARGIN]


def _constant_flow(shape, dx, dy):
    return np.broadcast_to(np.float32([dx, dy]), (*shape, 2)).copy()


def test_dis_flow_recovers_an_integer_shift():
    src = _texture()
    dst = np.roll(src, (SHIFT[1], SHIFT[0]), axis=(0, 1))  # dst(x) = src(x - shift)
    got = flow.dis_flow(src, dst)  # so src(x) = dst(x + shift): flow = +shift
    assert got.shape == (*src.shape, 2) and got.dtype == np.float32
    error = np.abs(_interior(got) - np.float32(SHIFT))
    assert error.max() < 0.5


def test_dis_flow_rejects_frames_that_are_not_gray_uint8():
    frame = _texture(32)
    with pytest.raises(ValueError, match="src_gray must be an \\(H, W\\) uint8"):
        flow.dis_flow(frame.astype(np.float32), frame)
    with pytest.raises(ValueError, match="differ in size"):
        flow.dis_flow(frame, frame[:16])


@pytest.mark.parametrize("channels", [None, 1, 2, 3])
def test_warp_with_an_integer_flow_is_a_roll(channels):
    rng = np.random.default_rng(1)
    shape = (40, 48) if channels is None else (40, 48, channels)
    image = rng.random(shape).astype(np.float32)
    dx, dy = SHIFT
    got = flow.warp(image, _constant_flow(shape[:2], dx, dy))
    # out(x) = image(x + (dx, dy)) = np.roll by (-dy, -dx), away from the wrapped edge
    expected = np.roll(image, (-dy, -dx), axis=(0, 1))
    assert got.shape == image.shape and got.dtype == np.float32
    np.testing.assert_array_equal(got[:-dy, :-dx], expected[:-dy, :-dx])


def test_warp_replicates_the_border_and_interpolates_bilinearly():
    image = np.float32([[0.0, 1.0, 2.0], [10.0, 11.0, 12.0]])
    half_right = _constant_flow(image.shape, 0.5, 0.0)
    # halfway between neighbours; the last column reads past the edge: replicated
    expected = np.float32([[0.5, 1.5, 2.0], [10.5, 11.5, 12.0]])
    np.testing.assert_allclose(flow.warp(image, half_right), expected, atol=1e-6)


def test_non_occluded_keeps_consistent_flows_and_drops_disagreeing_ones():
    shape = (60, 64)
    forward = _constant_flow(shape, *SHIFT)
    backward = _constant_flow(shape, -SHIFT[0], -SHIFT[1])
    assert flow.non_occluded(forward, backward).all()

    # Where B's backward flow points the wrong way, |f + b~|^2 = 6^2 + 4^2 = 52, far
    # above 0.01 (13 + 13) + 0.5. Pixel x of A reads b at x + (3, 2), so the block of B
    # at rows 20:40, cols 20:40 marks A's rows 18:38, cols 17:37.
    backward[20:40, 20:40] = SHIFT
    expected = np.ones(shape, bool)
    expected[18:38, 17:37] = False
    np.testing.assert_array_equal(flow.non_occluded(forward, backward), expected)


@pytest.mark.parametrize(
    "mismatch, kept",
    [
        # |f + b~|^2 = 0.64 < 0.01 (100 + 9.2^2) + 0.5 = 2.3464: within the tolerance
        (0.8, True),
        # |f + b~|^2 = 2.56 >= 0.01 (100 + 8.4^2) + 0.5 = 2.2056: occluded
        (1.6, False),
    ],
)
def test_non_occluded_tolerance_grows_with_the_flow_length(mismatch, kept):
    shape = (8, 8)
    forward = _constant_flow(shape, 10.0, 0.0)
    backward = _constant_flow(shape, -10.0 + mismatch, 0.0)
    assert (flow.non_occluded(forward, backward) == kept).all()


def test_blend_chroma_by_hand():
    prev = np.float32([[[1.0, 2.0], [5.0, 6.0]]])  # (1, 2, 2)
    cur = np.float32([[[3.0, 4.0], [7.0, 8.0]]])
    mask = np.array([[True, False]])
    got = flow.blend_chroma(prev, cur, mask, 0.25)
    # masked pixel: 0.25 * (1, 2) + 0.75 * (3, 4) = (2.5, 3.5); the other keeps cur
    np.testing.assert_allclose(got, [[[2.5, 3.5], [7.0, 8.0]]], atol=1e-6)
    np.testing.assert_array_equal(flow.blend_chroma(prev, cur, mask, 0.0), cur)


@pytest.mark.parametrize("strength", [1.0, -0.1, 1.5])
def test_blend_chroma_rejects_a_strength_outside_zero_one(strength):
    ab = np.zeros((2, 2, 2), np.float32)
    with pytest.raises(ValueError) as error:
        flow.blend_chroma(ab, ab, np.ones((2, 2), bool), strength)
    assert f"strength={strength}" in str(error.value)
    assert "[0, 1)" in str(error.value)


def test_gray_u8_uses_bt601_weights():
    # 0.299 * 255 + 0.587 * 127.5 + 0.114 * 0 = 151.0875
    assert flow.gray_u8(np.float32([[[1.0, 0.5, 0.0]]]))[0, 0] == 151
    # 0.299 * 10 + 0.587 * 20 + 0.114 * 200 = 37.53
    got = flow.gray_u8(np.uint8([[[10, 20, 200]]]))
    assert got.dtype == np.uint8 and got.shape == (1, 1) and got[0, 0] == 38


def test_a_missing_opencv_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # `import cv2` now fails
    with pytest.raises(ImportError, match=r'pip install "kcolor\[video\]"'):
        flow.warp(np.zeros((4, 4), np.float32), np.zeros((4, 4, 2), np.float32))


def test_importing_flow_needs_neither_opencv_nor_tensorflow():
    code = (
        "import sys; sys.modules['cv2'] = None; import kcolor.flow; "
        "assert 'tensorflow' not in sys.modules, 'flow imported TensorFlow'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
