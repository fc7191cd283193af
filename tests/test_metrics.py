"""kcolor.metrics against independent references: scikit-image and NumPy written here."""

import numpy as np
import pytest
import tensorflow as tf
from skimage import data, transform
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from kcolor import metrics

# tf.image.ssim and skimage (gaussian_weights, sigma 1.5, population covariance) use the
# same 11x11 window and the same valid region; they differ only in float32 vs float64
# arithmetic, where E[x^2] - E[x]^2 cancels: differences measured here stay below 1e-5.
SSIM_TOL = 5e-5
# PSNR from a float32 vs float64 MSE: a relative MSE error of 1e-6 is 4e-6 dB.
PSNR_TOL = 1e-3


def _skimage_ssim(a, b):
    return structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0, channel_axis=-1
    )


def _numpy_colorfulness(img):
    """Hasler & Süsstrunk (2003), the paper's formula, on 0-255 RGB, in float64."""
    r, g, b = (img.astype(np.float64) * 255.0).transpose(2, 0, 1)
    rg = r - g
    yb = 0.5 * (r + g) - b
    return np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2)


def _random_pairs(size=48, n=4, seed=0):
    rng = np.random.default_rng(seed)
    target = rng.random((n, size, size, 3)).astype(np.float32)
    noise = np.linspace(0.03, 0.4, n, dtype=np.float32)[:, None, None, None]  # a different level per image
    pred = np.clip(target + noise * rng.normal(0.0, 1.0, target.shape), 0.0, 1.0).astype(np.float32)
    return pred, target


def _photo_pairs(size=128):
    """astronaut and chelsea with three predictions each: noisy, gray, and color-shifted."""
    rng = np.random.default_rng(1)
    preds, targets = [], []
    for photo in (data.astronaut(), data.chelsea()):
        x = transform.resize(photo, (size, size), anti_aliasing=True).astype(np.float32)
        gray = np.repeat((x @ np.float32([0.299, 0.587, 0.114]))[..., None], 3, axis=-1)
        noisy = np.clip(x + rng.normal(0.0, 0.05, x.shape), 0.0, 1.0)
        shifted = np.clip(x[..., ::-1] * 0.9 + 0.05, 0.0, 1.0)  # wrong colors, same structure
        for pred in (noisy, gray, shifted):
            preds.append(pred.astype(np.float32))
            targets.append(x)
    return np.stack(preds), np.stack(targets)


CASES = {"random": _random_pairs, "photos": _photo_pairs}


@pytest.mark.parametrize("case", CASES)
def test_psnr_matches_skimage(case):
    pred, target = CASES[case]()
    ours = metrics.psnr(pred, target).numpy()
    ref = [peak_signal_noise_ratio(t, p, data_range=1.0) for p, t in zip(pred, target)]
    assert ours.shape == (len(pred),)
    np.testing.assert_allclose(ours, ref, atol=PSNR_TOL)


@pytest.mark.parametrize("case", CASES)
def test_ssim_matches_skimage(case):
    pred, target = CASES[case]()
    ours = metrics.ssim(pred, target).numpy()
    ref = [_skimage_ssim(p, t) for p, t in zip(pred, target)]
    np.testing.assert_allclose(ours, ref, atol=SSIM_TOL)
    assert np.ptp(ref) > 0.1  # the cases really differ, so agreement means something


@pytest.mark.parametrize("case", CASES)
def test_mse_mae_match_numpy(case):
    pred, target = CASES[case]()
    diff = pred.astype(np.float64) - target
    np.testing.assert_allclose(metrics.mse(pred, target).numpy(), (diff**2).mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(metrics.mae(pred, target).numpy(), np.abs(diff).mean(axis=(1, 2, 3)), rtol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_colorfulness_matches_numpy(case):
    pred, target = CASES[case]()
    images = np.concatenate([pred, target])
    ours = metrics.colorfulness(images).numpy()
    ref = [_numpy_colorfulness(img) for img in images]
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-3)


def test_colorfulness_known_values():
    gray = np.full((1, 8, 8, 3), 0.4, np.float32)
    red = np.zeros((1, 8, 8, 3), np.float32)
    red[..., 0] = 1.0
    # Pure red: rg = 255, yb = 127.5 everywhere, so C = 0.3 * sqrt(255^2 + 127.5^2).
    np.testing.assert_allclose(metrics.colorfulness(gray).numpy(), [0.0], atol=1e-4)
    np.testing.assert_allclose(metrics.colorfulness(red).numpy(), [0.3 * np.hypot(255.0, 127.5)], rtol=1e-6)
    # The real photos: the astronaut is the more colorful one.
    photos = np.stack([transform.resize(p, (64, 64)) for p in (data.astronaut(), data.chelsea())])
    astronaut, chelsea = metrics.colorfulness(photos.astype(np.float32)).numpy()
    assert astronaut > chelsea > 10.0


def test_ms_ssim_settings_by_size():
    assert metrics.ms_ssim_settings(256) == (metrics.MS_SSIM_WEIGHTS, 11)
    assert metrics.ms_ssim_settings(161) == (metrics.MS_SSIM_WEIGHTS, 11)
    for size, scales in ((160, 4), (128, 4), (81, 4), (80, 3), (64, 3), (41, 3), (40, 2), (32, 2), (21, 2), (20, 1)):
        weights, filter_size = metrics.ms_ssim_settings(size)
        assert len(weights) == scales and filter_size == 11, size
        assert sum(weights) == pytest.approx(1.0)
    assert metrics.ms_ssim_settings(8) == ((1.0,), 8)
    with pytest.raises(ValueError, match="size=0"):
        metrics.ms_ssim_settings(0)


def test_ms_ssim_equals_tf_default_at_full_scale():
    pred, target = _random_pairs(size=176, n=2)
    np.testing.assert_allclose(
        metrics.ms_ssim(pred, target).numpy(), tf.image.ssim_multiscale(pred, target, 1.0).numpy(), rtol=1e-6
    )


def test_ms_ssim_single_scale_is_ssim():
    pred, target = _random_pairs(size=16, n=3)
    np.testing.assert_allclose(metrics.ms_ssim(pred, target).numpy(), metrics.ssim(pred, target).numpy(), rtol=1e-6)


@pytest.mark.parametrize("size", (32, 64, 128))
def test_ms_ssim_small_sizes(size):
    pred, target = _photo_pairs(size)
    scores = metrics.ms_ssim(pred, target).numpy()
    assert np.isfinite(scores).all() and (scores >= 0).all() and (scores <= 1).all()
    np.testing.assert_allclose(metrics.ms_ssim(target, target).numpy(), 1.0, rtol=1e-5)
    rng = np.random.default_rng(2)
    a = np.clip(target + rng.normal(0, 0.02, target.shape), 0, 1).astype(np.float32)
    b = np.clip(target + rng.normal(0, 0.2, target.shape), 0, 1).astype(np.float32)
    assert (metrics.ms_ssim(a, target).numpy() > metrics.ms_ssim(b, target).numpy()).all()


def test_score_batch_and_metric_table():
    pred, target = _random_pairs(size=32, n=3)
    scores = metrics.score_batch(pred, target)
    assert tuple(scores) == ("colorfulness", "psnr", "ssim", "mse", "mae", "ms_ssim")
    assert all(v.shape == (3,) for v in scores.values())
    np.testing.assert_allclose(scores["colorfulness"].numpy(), metrics.colorfulness(pred).numpy())
    assert set(metrics.score_batch(pred, target, ["mse"])) == {"mse"}
    with pytest.raises(ValueError, match=r"'lpips'.*Valid metrics: colorfulness, psnr"):
        metrics.score_batch(pred, target, ["lpips"])


def test_shape_errors():
    good = np.zeros((2, 16, 16, 3), np.float32)
    with pytest.raises(ValueError, match=r"\[B, H, W, 3\].*\(2, 16, 16, 1\)"):
        metrics.ssim(np.zeros((2, 16, 16, 1), np.float32), good)
    with pytest.raises(ValueError, match=r"\[B, H, W, C\].*\(16, 16, 3\)"):
        metrics.mse(good[0], good[0])
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.ssim(good, np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match=r"colorfulness.*\(16, 16, 3\)"):
        metrics.colorfulness(good[0])


def test_metric_totals_mean_and_total():
    totals = metrics.MetricTotals()
    batches = [_random_pairs(size=32, n=n, seed=s) for n, s in ((3, 0), (2, 1), (4, 2))]
    for pred, target in batches:
        returned = totals.update(pred, target)
        assert returned["psnr"].shape == (len(pred),)
    assert totals.count == 9
    pred = np.concatenate([b[0] for b in batches])
    target = np.concatenate([b[1] for b in batches])
    ref_psnr = np.array([peak_signal_noise_ratio(t, p, data_range=1.0) for p, t in zip(pred, target)])
    ref_color = np.array([_numpy_colorfulness(p) for p in pred])
    summary = totals.summary()
    assert summary["psnr"]["count"] == 9
    np.testing.assert_allclose(summary["psnr"]["total"], ref_psnr.sum(), atol=9 * PSNR_TOL)
    np.testing.assert_allclose(summary["psnr"]["mean"], ref_psnr.mean(), atol=PSNR_TOL)
    np.testing.assert_allclose(totals.total()["colorfulness"], ref_color.sum(), rtol=1e-4)
    np.testing.assert_allclose(totals.values()["mse"], ((pred - target) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)
    totals.reset()
    assert totals.count == 0 and np.isnan(totals.mean()["mse"])


def test_metric_totals_add_checks():
    totals = metrics.MetricTotals(["mse", "mae"])
    totals.add({"mse": [0.1, 0.2], "mae": np.array([0.3, 0.4])})
    assert totals.total() == pytest.approx({"mse": 0.3, "mae": 0.7})
    with pytest.raises(ValueError, match=r"missing metrics \['mae'\]"):
        totals.add({"mse": [0.1]})
    with pytest.raises(ValueError, match="disagree on the batch size"):
        totals.add({"mse": [0.1], "mae": [0.1, 0.2]})
    with pytest.raises(ValueError, match=r"\['fid'\].*Valid metrics"):
        metrics.MetricTotals(["fid"])
