import numpy as np
import pytest
import tensorflow as tf
from skimage import color as skcolor

from kcolor import color


@pytest.fixture(scope="module")
def random_rgb():
    rng = np.random.default_rng(0)
    rgb = rng.random((64, 64, 3)).astype(np.float32)  # 4,096 random colors
    rgb[0, :8] = [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]]
    return rgb


def test_rgb_to_lab_matches_skimage(random_rgb):
    ours = color.rgb_to_lab(random_rgb).numpy()
    ref = skcolor.rgb2lab(random_rgb.astype(np.float64))
    assert np.abs(ours[..., 0] - ref[..., 0]).max() < 0.5
    assert np.abs(ours[..., 1:] - ref[..., 1:]).max() < 0.5


def test_lab_to_rgb_matches_skimage(random_rgb):
    lab = skcolor.rgb2lab(random_rgb.astype(np.float64))
    rng = np.random.default_rng(1)
    # Also Lab values outside the sRGB gamut, which both sides clip.
    wild = np.stack([rng.uniform(0, 100, 4096), rng.uniform(-128, 127, 4096), rng.uniform(-128, 127, 4096)], -1)
    for sample in (lab.reshape(-1, 3), wild):
        ours = color.lab_to_rgb(sample.astype(np.float32)).numpy()
        ref = skcolor.lab2rgb(sample[None])[0]
        # 0.5 in Lab is ~0.005 in RGB; compare in Lab units to state the same bound.
        diff = skcolor.rgb2lab(ours[None].astype(np.float64)) - skcolor.rgb2lab(ref[None])
        assert np.abs(diff).max() < 0.5


def test_round_trip_rgb_lab_rgb(random_rgb):
    back = color.lab_to_rgb(color.rgb_to_lab(random_rgb)).numpy()
    assert np.abs(back - random_rgb).max() < 2e-3


def test_normalized_round_trip_and_ranges(random_rgb):
    batch = np.stack([random_rgb, random_rgb[::-1]])
    L, ab = color.rgb_to_lab_normalized(batch)
    assert L.shape == (2, 64, 64, 1) and ab.shape == (2, 64, 64, 2)
    assert -1.0 - 1e-5 <= float(tf.reduce_min(L)) and float(tf.reduce_max(L)) <= 1.0 + 1e-5
    assert float(tf.reduce_max(tf.abs(ab))) <= 1.0
    back = color.lab_normalized_to_rgb(L, ab).numpy()
    assert np.abs(back - batch).max() < 2e-3


def test_gray_is_601_luma(random_rgb):
    gray = color.rgb_to_gray(random_rgb).numpy()[..., 0]
    expected = random_rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(gray, expected, atol=1e-6)
    three = color.rgb_to_gray(random_rgb, channels=3).numpy()
    assert three.shape == (64, 64, 3) and np.all(three[..., 0] == three[..., 2])
    with pytest.raises(ValueError, match="channels=2"):
        color.rgb_to_gray(random_rgb, channels=2)


def test_gradients_are_finite_including_black_and_white():
    rgb = tf.constant([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.02, 0.5, 0.9]])
    with tf.GradientTape() as tape:
        tape.watch(rgb)
        lab = color.rgb_to_lab(rgb)
        back = color.lab_to_rgb(lab, clip=False)
        loss = tf.reduce_sum(lab) + tf.reduce_sum(back)
    grad = tape.gradient(loss, rgb)
    assert np.all(np.isfinite(grad.numpy()))


def test_works_inside_tf_function_and_tf_data(random_rgb):
    ds = tf.data.Dataset.from_tensor_slices(random_rgb[None]).map(color.rgb_to_lab)
    from_ds = next(iter(ds)).numpy()
    compiled = tf.function(color.rgb_to_lab)(random_rgb).numpy()
    np.testing.assert_allclose(from_ds, compiled, atol=1e-4)
