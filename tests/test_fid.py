"""FID: the Fréchet distance against a SciPy reference, and the InceptionV3 feature path."""

import numpy as np
import pytest
import scipy.linalg

from kcolor.metrics import InceptionFeatures, fid, frechet_distance


def _features(n=400, d=48, seed=0):
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ mix + rng.normal(size=d)


def _reference(a, b):
    """The usual NumPy/SciPy FID (pytorch-fid's form): sqrtm of the product, real part."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(cov_a @ cov_b)
    covmean = np.real(covmean)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean))


def test_a_set_against_itself_is_zero():
    a = _features()
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6 * np.trace(np.cov(a, rowvar=False)))


def test_agrees_with_the_scipy_reference_and_is_symmetric():
    a, b = _features(seed=1), _features(seed=2) * 1.3 + 0.5
    ours = frechet_distance(a, b)
    assert ours > 1.0
    assert ours == pytest.approx(_reference(a, b), rel=1e-3)
    assert frechet_distance(b, a) == pytest.approx(ours, rel=1e-9)


def test_grows_monotonically_with_added_noise():
    a = _features(seed=3)
    noise = np.random.default_rng(4).normal(size=a.shape)
    values = [frechet_distance(a, a + sigma * noise) for sigma in (0.0, 0.1, 0.3, 0.6, 1.0, 2.0)]
    assert values[0] == pytest.approx(0.0, abs=1e-6)
    assert all(x < y for x, y in zip(values, values[1:])), values


def test_rank_deficient_covariances_stay_finite():
    a = _features(n=20, d=48, seed=5)  # N < D: singular covariance
    b = _features(n=30, d=48, seed=6)
    value = frechet_distance(a, b)
    assert np.isfinite(value) and value > 0
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6 * np.trace(np.cov(a, rowvar=False)))


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        frechet_distance(np.zeros(5), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="dimensions differ"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 2)))


class _PooledColors:
    """A cheap stand-in feature network: per-image channel means and variances on a 4x4 grid."""

    label = "test features"
    comparable = False

    def __call__(self, images):
        x = np.asarray(images, np.float64).reshape(len(images), 4, 8, 4, 8, 3)
        return np.concatenate([x.mean((2, 4)).reshape(len(x), -1), x.var((2, 4)).reshape(len(x), -1)], axis=1)


def test_fid_batches_counts_labels_and_warns_at_small_n():
    rng = np.random.default_rng(0)
    real = rng.random((5, 32, 32, 3), dtype=np.float32)
    fake = np.clip(real + 0.3 * rng.normal(size=real.shape), 0, 1).astype(np.float32)
    extractor = _PooledColors()
    with pytest.warns(UserWarning, match="N=5"):
        result = fid(real, fake, extractor=extractor, batch_size=2)  # three batches per set
    assert result["n_real"] == result["n_fake"] == 5
    assert result["features"] == "test features" and result["comparable"] is False
    assert "rank-deficient" in result["warning"]
    assert result["fid"] == pytest.approx(frechet_distance(extractor(real), extractor(fake)))
    assert fid(real, real, extractor=extractor)["fid"] < 1e-9


def test_fid_sets_keep_the_first_limit_images_of_each_set():
    from kcolor.metrics.fid import FIDSets, format_fid

    rng = np.random.default_rng(3)
    real = rng.random((12, 32, 32, 3), dtype=np.float32)
    fake = np.clip(real + 0.2 * rng.normal(size=real.shape), 0, 1).astype(np.float32)
    extractor = _PooledColors()
    limited, every = FIDSets(extractor=extractor, limit=7), FIDSets(extractor=extractor)
    for start in range(0, 12, 5):  # batches of 5, 5 and 2: the limit falls inside the second
        for sets in (limited, every):
            sets.add("truth", real[start : start + 5])
            sets.add("model", fake[start : start + 5])
    with pytest.warns(UserWarning, match="N=7"):
        summary = limited.summary("truth")
    assert (summary["count"], summary["requested"], summary["offered"]) == (7, 7, 12)
    assert summary["rows"]["model"] == pytest.approx(frechet_distance(extractor(real[:7]), extractor(fake[:7])))
    assert "the first 7 of the 12 scored images" in format_fid(summary)
    with pytest.warns(UserWarning, match="N=12"):
        whole = every.summary("truth")
    assert (whole["count"], whole["requested"], whole["offered"]) == (12, None, 12)
    assert whole["rows"]["model"] != pytest.approx(summary["rows"]["model"])
    assert "the same 12 images" in format_fid(whole)
    with pytest.raises(ValueError, match="limit"):
        FIDSets(extractor=extractor, limit=0)


def test_inception_features_are_2048_d_and_labelled():
    extractor = InceptionFeatures("none")  # the network FID uses, random weights offline
    features = extractor(np.random.default_rng(1).random((2, 32, 32, 3), dtype=np.float32))
    assert features.shape == (2, 2048) and np.isfinite(features).all()
    assert extractor.label.startswith("keras.applications InceptionV3 (random weights=None)")
    assert extractor.comparable is False


def test_cli_evaluate_fid_prints_fid_with_n_and_the_network(tmp_path, capsys):
    import json

    from kcolor.cli.main import main
    from kcolor.config import TrainConfig
    from kcolor.export.run import save_run
    from kcolor.models import build_model
    from kcolor.models.vit_i_gan import SMALL_VIT

    options = dict(encoder_filters=(4, 4, 8, 8, 8), decoder_filters=(8, 8, 4, 4), **SMALL_VIT)
    colorizer = build_model("vit_gan", 32, **options)["colorizer"]
    cfg = TrainConfig(model="vit_gan", data="sample", image_size=32, batch_size=4, options=options)
    run = save_run(tmp_path / "vit_gan", colorizer, model_name="vit_gan", io="l_ab", image_size=32, config=cfg)
    out = tmp_path / "eval"
    with pytest.warns(UserWarning, match="N=3"):
        assert main(["evaluate", str(run), "--fid", "--fid-weights", "none", "--max-images", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| model | FID | N |" in printed and "keras.applications InceptionV3" in printed
    assert "| vit_gan | " in printed and "| 3 |" in printed and "not comparable" in printed
    summary = json.loads((out / "evaluation.json").read_text())["fid"]
    assert summary["count"] == 3 and summary["comparable"] is False
    assert set(summary["rows"]) == {"vit_gan", "gray baseline"} and all(v > 0 for v in summary["rows"].values())


def test_bad_fid_weights_fail_before_any_work(tmp_path):
    from kcolor.evaluate import evaluate_runs

    with pytest.raises(ValueError, match="Unknown fid_weights 'imagnet'.*imagenet"):
        evaluate_runs([str(tmp_path / "no-such-run")], fid=True, fid_weights="imagnet")


def test_the_small_n_path_equals_the_eigendecomposition_path():
    from kcolor.metrics.fid import _centered, _trace_sqrt_eig, _trace_sqrt_gram

    for n_a, n_b in ((20, 30), (300, 250)):
        _, ca = _centered(_features(n=n_a, d=48, seed=7), "a")
        _, cb = _centered(_features(n=n_b, d=48, seed=8) * 2.0, "b")
        assert _trace_sqrt_gram(ca, cb) == pytest.approx(_trace_sqrt_eig(ca, cb), rel=1e-6)
