"""Paper 000 models: exact parameter counts, forward passes, the frozen encoder,
encoder transfer from an autoencoder run, `.keras` round trips and attention maps."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from kcolor.config import apply_overrides, resolve_config
from kcolor.configs import get_config
from kcolor.models import stable
from kcolor.models.io import get_io
from kcolor.models.params import count_params
from kcolor.models.registry import build_model, get_model

MODELS = ("ref_autoencoder", "ref_unet", "stable_colorizer")


def _batch(size, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "rgb": tf.constant(rng.random((batch, size, size, 3), dtype=np.float32)),
        "reference": tf.constant(rng.random((batch, size, size, 3), dtype=np.float32)),
    }


def _inputs(name, size, seed=0):
    return get_io(get_model(name).io).inputs(_batch(size, seed=seed))


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize(
    "builder, expected",
    [
        (stable.build_ref_encoder, 65_952),
        (stable.build_ref_autoencoder, 131_721),
        (stable.build_ref_unet, 177_132),
        (stable.build_stable_colorizer, 309_452),
    ],
)
def test_paper_parameter_counts_at_256(builder, expected):
    model = builder((256, 256, 3))
    assert count_params(model)["torch"] == expected


def test_stable_colorizer_trains_all_but_the_encoder():
    counts = count_params(stable.build_stable_colorizer((256, 256, 3)))
    assert counts["trainable"] == 309_452 - 65_952


def test_registered_models_match_the_builders():
    for name, expected in zip(MODELS, (131_721, 177_132, 309_452)):
        spec = get_model(name)
        assert spec.paper == "000" and spec.trainer == "supervised"
        assert count_params(build_model(name, 256)["colorizer"])["torch"] == expected
    assert get_model("ref_autoencoder").io == "rgb_rgb"
    assert get_model("ref_unet").io == get_model("stable_colorizer").io == "ref_gray3_rgb"
    assert get_model("ref_autoencoder").defaults["learning_rate"] == 1e-3
    assert get_model("stable_colorizer").defaults["learning_rate"] == 1e-2
    assert get_model("stable_colorizer").option_names == ("encoder_from",)


def test_layer_names_carry_block_prefixes():
    model = stable.build_stable_colorizer((32, 32, 3))
    names = {layer.name for layer in model.layers}
    for expected in ("down1_conv", "down4_gelu", "ref_encoder", "ref_adapter_conv", "query_adapter_bn",
                     "attention_mha", "attention_out_gelu", "bottleneck_concat", "up2_concat", "output_conv"):
        assert expected in names
    assert model.get_layer("up1_conv").kernel.shape == (3, 3, 64, 128)  # u1 sees [fused, d4]
    mha = model.get_layer("attention_mha")
    assert mha.num_heads == 4 and mha.key_dim == 16


def test_blocks_use_exact_gelu():
    model = stable.build_ref_encoder((32, 32, 3))
    gelu = model.get_layer("down1_gelu")
    x = np.linspace(-4, 4, 101, dtype=np.float32)
    exact = 0.5 * x * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x], np.float32))
    np.testing.assert_allclose(np.asarray(gelu(x)), exact, atol=1e-6)


def test_bad_shapes_name_the_value():
    with pytest.raises(ValueError, match=r"input_shape=\(30, 30, 3\)"):
        stable.build_ref_unet((30, 30, 3))
    with pytest.raises(ValueError, match=r"reference_shape=\(32, 32, 1\)"):
        stable.build_stable_colorizer((32, 32, 3), reference_shape=(32, 32, 1))


# --------------------------------------------------------------------------- forward


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("size", [32, 64])
def test_forward_pass(name, size):
    model = build_model(name, size)["colorizer"]
    io = get_io(get_model(name).io)
    inputs = _inputs(name, size)
    assert set(inputs) == {t.name for t in model.inputs}
    out = model(inputs, training=False)
    assert out.shape == (2, size, size, 3)
    assert np.isfinite(out.numpy()).all()
    rgb = io.to_rgb(out, inputs).numpy()
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_stable_colorizer_takes_a_reference_of_another_size():
    model = stable.build_stable_colorizer((32, 32, 3), reference_shape=(64, 48, 3))
    out = model({"gray": tf.zeros((1, 32, 32, 3)), "reference": tf.zeros((1, 64, 48, 3))})
    assert out.shape == (1, 32, 32, 3)
    scores = stable.attention_maps(model, {"gray": np.zeros((1, 32, 32, 3)), "reference": np.zeros((1, 64, 48, 3))})
    assert scores.shape == (1, 4, 4, 12)


def test_ref_unet_ignores_the_reference():
    model = build_model("ref_unet", 32)["colorizer"]
    a, b = _inputs("ref_unet", 32, seed=1), _inputs("ref_unet", 32, seed=2)
    b = {"gray": a["gray"], "reference": b["reference"]}
    np.testing.assert_array_equal(model(a, training=False).numpy(), model(b, training=False).numpy())
    reference = tf.identity(b["reference"])
    with tf.GradientTape() as tape:
        tape.watch(reference)
        total = tf.reduce_sum(model({"gray": a["gray"], "reference": reference}, training=False))
    assert tape.gradient(total, reference) is None


def test_stable_colorizer_uses_the_reference():
    model = build_model("stable_colorizer", 32)["colorizer"]
    gray = _inputs("stable_colorizer", 32)["gray"]
    dark = {"gray": gray, "reference": tf.zeros((2, 32, 32, 3))}
    bright = {"gray": gray, "reference": tf.ones((2, 32, 32, 3))}
    # At initialization, unnormalized (inference-mode) BatchNorm damps the reference path,
    # so the effect is small but far above float32 noise (identical inputs give identical outputs).
    diff = np.abs(model(dark, training=False).numpy() - model(bright, training=False).numpy()).max()
    assert diff > 1e-5
    reference = tf.random.uniform((2, 32, 32, 3), seed=1)
    with tf.GradientTape() as tape:
        tape.watch(reference)
        total = tf.reduce_sum(model({"gray": gray, "reference": reference}, training=False))
    grad = tape.gradient(total, reference)
    assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0.0


# --------------------------------------------------------------------------- frozen encoder


def test_encoder_is_frozen_and_everything_else_learns():
    model = build_model("stable_colorizer", 32)["colorizer"]
    encoder = model.get_layer("ref_encoder")
    assert not encoder.trainable
    trainable_ids = {id(w) for w in model.trainable_weights}
    assert not any(id(w) in trainable_ids for w in encoder.weights)

    inputs, target = _inputs("stable_colorizer", 32), _batch(32)["rgb"]
    encoder_before = [w.numpy().copy() for w in encoder.weights]  # moving statistics included
    trainable_before = [w.numpy().copy() for w in model.trainable_weights]
    optimizer = keras.optimizers.Adam(1e-2)
    losses = []
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(inputs, training=True) - target))
        grads = tape.gradient(loss, model.trainable_weights)
        assert all(g is not None for g in grads), "a trainable weight gets no gradient"
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        losses.append(float(loss))

    for before, w in zip(encoder_before, encoder.weights):
        np.testing.assert_array_equal(before, w.numpy(), err_msg=w.path)
    changed = [not np.array_equal(b, w.numpy()) for b, w in zip(trainable_before, model.trainable_weights)]
    assert all(changed)
    assert losses[-1] < losses[0]


# --------------------------------------------------------------------------- encoder transfer


def _trained_looking_autoencoder(size, seed=3):
    autoencoder = build_model("ref_autoencoder", size)["colorizer"]
    rng = np.random.default_rng(seed)
    for w in autoencoder.weights:
        value = rng.normal(size=w.shape).astype(np.float32)
        w.assign(np.abs(value) + 0.5 if "variance" in w.path else value)
    return autoencoder


def test_encoder_from_copies_the_autoencoder_encoder(tmp_path):
    autoencoder = _trained_looking_autoencoder(64)  # another size than the colorizer's
    run_dir = tmp_path / "runs" / "ref_autoencoder_smoke-ref_autoencoder"
    run_dir.mkdir(parents=True)
    autoencoder.save(run_dir / "colorizer.keras")

    model = build_model("stable_colorizer", 32, encoder_from=str(run_dir))["colorizer"]
    source = autoencoder.get_layer("ref_encoder").get_weights()
    copied = model.get_layer("ref_encoder").get_weights()
    assert len(source) == len(copied) == 24  # 4 x (kernel, bias, gamma, beta, moving mean, moving variance)
    for s, c in zip(source, copied):
        np.testing.assert_array_equal(s, c)
    assert not model.get_layer("ref_encoder").trainable

    # and the override path a user types
    cfg = apply_overrides(get_config("stable_smoke"), [f"encoder_from={run_dir}"])
    assert cfg.options["encoder_from"] == str(run_dir)


def test_encoder_from_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing_run"):
        build_model("stable_colorizer", 32, encoder_from=str(tmp_path / "missing_run"))
    empty = tmp_path / "empty_run"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="colorizer.keras"):
        build_model("stable_colorizer", 32, encoder_from=str(empty))
    wrong = tmp_path / "unet_run"
    wrong.mkdir()
    build_model("ref_unet", 32)["colorizer"].save(wrong / "colorizer.keras")
    with pytest.raises(ValueError, match="not a ref_autoencoder"):
        build_model("stable_colorizer", 32, encoder_from=str(wrong))


# --------------------------------------------------------------------------- serialization


@pytest.mark.parametrize("name", MODELS)
def test_keras_round_trip_in_safe_mode(name, tmp_path):
    model = build_model(name, 32)["colorizer"]
    inputs = _inputs(name, 32)
    model(inputs, training=True)  # move the BatchNorm statistics off their initial values
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(model(inputs, training=False).numpy(), reloaded(inputs, training=False).numpy())
    assert count_params(reloaded) == count_params(model)
    if name == "stable_colorizer":
        assert not reloaded.get_layer("ref_encoder").trainable
        np.testing.assert_array_equal(stable.attention_maps(model, inputs), stable.attention_maps(reloaded, inputs))


# --------------------------------------------------------------------------- attention maps


def test_attention_maps_shape_rows_and_cache():
    model = build_model("stable_colorizer", 64)["colorizer"]
    inputs = _inputs("stable_colorizer", 64)
    scores = stable.attention_maps(model, inputs)
    assert scores.shape == (2, 4, 16, 16)  # 64/16 = 4x4 tokens on both sides
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)
    assert (scores >= 0).all()
    assert stable.attention_model(model) is stable.attention_model(model)
    # the scorer shares the colorizer's layers: changing a weight changes the scores
    query = model.get_layer("attention_mha")._query_dense.kernel
    query.assign(query.numpy() * 3.0)
    assert np.abs(stable.attention_maps(model, inputs) - scores).max() > 1e-6


def test_attention_maps_needs_a_stable_colorizer():
    unet = build_model("ref_unet", 32)["colorizer"]
    with pytest.raises(ValueError, match="stable_colorizer"):
        stable.attention_maps(unet, _inputs("ref_unet", 32))
    model = build_model("stable_colorizer", 32)["colorizer"]
    with pytest.raises(ValueError, match="reference"):
        stable.attention_maps(model, {"gray": np.zeros((1, 32, 32, 3))})


# --------------------------------------------------------------------------- configs


def test_paper_configs():
    ae = get_config("ref_autoencoder_coco")
    assert (ae.model, ae.image_size, ae.epochs, ae.learning_rate, ae.loss) == ("ref_autoencoder", 256, 20, 1e-3, "mse")
    assert ae.data.startswith("tfds:coco/2017") and ae.fractions == (0.8, 0.2, 0.0)
    for name, model in (("ref_unet_konvid", "ref_unet"), ("stable_konvid", "stable_colorizer")):
        cfg = get_config(name)
        assert (cfg.model, cfg.data, cfg.epochs, cfg.learning_rate) == (
            model, "pairs:records:tf_records/konvid", 30, 1e-2)
        assert cfg.fractions == (0.8, 0.2, 0.0) and cfg.reference_from == "pair"
    konvid = resolve_config(get_config("stable_konvid"))  # the encoder comes through options_by_model
    assert konvid.options["encoder_from"].endswith("ref_autoencoder_coco-ref_autoencoder")
    assert resolve_config(apply_overrides(get_config("stable_konvid"), ["model=ref_unet"])).options == {}
    cheating = get_config("stable_cheating")
    assert cheating.reference_from == "self" and cheating.model == "stable_colorizer"
    for name in ("stable_smoke", "ref_unet_smoke", "ref_autoencoder_smoke"):
        cfg = get_config(name)
        assert cfg.image_size == 64 and cfg.data.endswith("sample")
        assert get_model(cfg.model).paper == "000"
