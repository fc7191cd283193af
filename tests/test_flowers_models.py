"""Paper 001's five supervised colorizers: registry entries, shapes, learning, serialization."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from skimage import data, transform

from kcolor import color
from kcolor.config import apply_overrides
from kcolor.configs import get_config
from kcolor.models import build_model, get_model
from kcolor.models import flowers
from kcolor.models.params import count_params

# Names Keras gives unnamed layers ("conv2d_3", "batch_normalization", ...).
AUTO_NAME = re.compile(
    r"^(conv2d|batch_normalization|leaky_re_lu|re_lu|add|concatenate|max_pooling2d|up_sampling2d|activation)(_\d+)?$"
)
MODELS = ("autoencoder", "deep_cnn", "unet_residual", "resnet_color", "densenet_color")


def _photos(size, n=4):
    """A fixed batch of real photos (RGB in [0, 1]) and their gray inputs."""
    photos = (data.astronaut(), data.chelsea(), data.coffee(), data.rocket())[:n]
    rgb = np.stack([transform.resize(p, (size, size), anti_aliasing=True) for p in photos]).astype(np.float32)
    rgb = tf.constant(rgb)
    return color.rgb_to_gray(rgb), rgb


@pytest.mark.parametrize("name", MODELS)
def test_registry_entry(name):
    spec = get_model(name)
    assert (spec.paper, spec.io, spec.trainer) == ("001", "gray_rgb", "supervised")
    assert spec.defaults == {"image_size": 128, "learning_rate": 1e-3, "beta_1": 0.9, "loss": "mse"}
    builder = getattr(flowers, f"build_{name}")
    assert "Section 4." in builder.__doc__  # each builder names the paper section it follows


@pytest.mark.parametrize("name", MODELS)
def test_builds_at_128(name):
    model = build_model(name, 128)["colorizer"]
    assert [t.name for t in model.inputs] == ["gray"]
    assert tuple(model.inputs[0].shape) == (None, 128, 128, 1)
    gray, _ = _photos(128, n=2)
    out = model(gray, training=False).numpy()
    assert out.shape == (2, 128, 128, 3)
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    # Every layer carries a block prefix, not Keras's auto names such as "conv2d_3".
    auto = [layer.name for layer in model.layers if AUTO_NAME.match(layer.name)]
    assert not auto


@pytest.mark.parametrize("name", MODELS)
def test_forward_at_32(name):
    model = build_model(name, 32)["colorizer"]
    gray, _ = _photos(32, n=3)
    out = model(gray, training=True).numpy()
    assert out.shape == (3, 32, 32, 3)
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("name", MODELS)
def test_supervised_steps_reduce_loss(name):
    keras.utils.set_random_seed(0)
    model = build_model(name, 32)["colorizer"]
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)
    gray, rgb = _photos(32)
    before = [v.numpy().copy() for v in model.trainable_variables]

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    losses = [float(step(gray, rgb)) for _ in range(15)]
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.5 * losses[0], losses
    unchanged = [v.path for v, b in zip(model.trainable_variables, before) if np.array_equal(v.numpy(), b)]
    assert not unchanged  # every weight gets a gradient


@pytest.mark.parametrize("name", MODELS)
def test_keras_round_trip(name, tmp_path):
    model = build_model(name, 32)["colorizer"]
    gray, rgb = _photos(32)
    # One training call moves the BatchNorm statistics away from their initial values.
    model(gray, training=True)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(loaded(gray, training=False).numpy(), model(gray, training=False).numpy())
    assert count_params(loaded) == count_params(model)


def test_resnet_layout_matches_paper_count():
    # BN(1) → Conv1x1 1→F → 20 x [BN(F), Conv1x1 F→F, Conv1x1 F→F] → BN(F) → Conv3x3 F→3.
    for width in (32, 256):
        model = flowers.build_resnet_color((128, 128, 1), filters=width)
        residual = 2 * width + 2 * (width * width + width)
        expected = 2 + (width + width) + 20 * residual + 2 * width + (9 * width * 3 + 3)
        assert count_params(model)["torch"] == expected
    assert sum(layer.name.endswith("_add") for layer in model.layers) == 20


def test_densenet_layout():
    stem, k, n, bott = 32, 12, 4, 4
    model = flowers.build_densenet_color((64, 64, 1))
    expected = stem + stem  # stem conv 1x1 with bias
    channels = stem
    for _ in range(n):
        expected += channels * bott * k + 2 * bott * k  # 1x1 conv (no bias) + BN
        expected += 16 * bott * k * k + 2 * k  # 4x4 conv (no bias) + BN
        channels += k
    trans = channels // 2
    expected += channels * trans + trans  # transition 1x1 with bias
    expected += trans * 32 + 2 * 32  # head 1x1 (no bias) + BN
    expected += 9 * 32 * 3 + 3  # 3x3 → RGB
    assert count_params(model)["torch"] == expected
    kernels = {tuple(layer.kernel_size) for layer in model.layers if isinstance(layer, keras.layers.Conv2D)}
    assert kernels == {(1, 1), (4, 4), (3, 3)}


def test_autoencoder_and_unet_resolutions():
    ae = flowers.build_autoencoder((128, 128, 1))
    assert ae.get_layer("enc3_pool").output.shape[1:3] == (16, 16)
    assert len([l for l in ae.layers if isinstance(l, keras.layers.Conv2D)]) == 9 + 9 + 1
    unet = flowers.build_unet_residual((128, 128, 1))
    assert unet.get_layer("stem_conv").filters == 16  # the paper's 16-filter stem
    assert unet.get_layer("bottleneck_out").output.shape[1:] == (8, 8, 256)
    cnn = flowers.build_deep_cnn((128, 128, 1))
    convs = [l for l in cnn.layers if isinstance(l, keras.layers.Conv2D)]
    assert len(convs) == 6 + 1 and cnn.get_layer("stage2_skip").output.shape[-1] == 64 + 32 + 1


def test_set_options_parse_to_a_working_model():
    # `--set filters=8,16,32` parses to floats; the builders take integral floats.
    cfg = apply_overrides(get_config("flowers_smoke"), ["model=autoencoder", "filters=8,16,32"])
    model = build_model(cfg.model, cfg.image_size, **cfg.options)["colorizer"]
    assert [model.get_layer(f"enc{i}_1_conv").filters for i in (1, 2, 3)] == [8, 16, 32]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: flowers.build_autoencoder((100, 100, 1)), r"multiples of 8.*input_shape=\(100, 100, 1\)"),
        (lambda: flowers.build_unet_residual((128, 128, 3)), r"one-channel.*input_shape=\(128, 128, 3\)"),
        (lambda: flowers.build_deep_cnn((32, 32, 1), filters=(32, 0)), r"filters=0"),
        (lambda: flowers.build_resnet_color((32, 32, 1), filters=2.5), r"filters=2.5"),
        (lambda: flowers.build_densenet_color((32, 32, 1), compression=1.5), r"compression=1.5"),
        (lambda: build_model("deep_cnn", 32, width=3), r"no option \['width'\].*filters, convs_per_stage"),
    ],
)
def test_bad_options_name_the_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_flowers_configs():
    cfg = get_config("flowers")
    assert cfg.data == "tfds:oxford_flowers102" and cfg.image_size == 128 and cfg.epochs == 30
    assert (cfg.learning_rate, cfg.loss, cfg.fractions, cfg.augment) == (1e-3, "mse", (0.6, 0.2, 0.2), ("hue",))
    assert cfg.cache and cfg.shuffle_buffer == 1024
    smoke = get_config("flowers_smoke")
    assert smoke.data == "sample" and smoke.image_size <= 64 and smoke.steps_per_epoch
    for name in MODELS:
        assert apply_overrides(cfg, [f"model={name}"]).model == name


def test_flowers_smoke_trains_end_to_end(tmp_path):
    import kcolor

    cfg = apply_overrides(get_config("flowers_smoke"), ["model=deep_cnn", "epochs=1"])
    result = kcolor.train(cfg, run_dir=str(tmp_path / "run"), verbose=0)
    assert np.isfinite(result["losses"]["loss"])
    model = keras.models.load_model(tmp_path / "run" / "colorizer.keras")
    assert tuple(model.inputs[0].shape) == (None, 32, 32, 1)


def test_flowers_recipe_reads_oxford_flowers102(tmp_path):
    # tfds' mock data stands in for the real download: same loader, random images.
    import tensorflow_datasets as tfds

    import kcolor

    cfg = apply_overrides(
        get_config("flowers"), ["model=resnet_color", "image_size=32", "batch_size=4", "epochs=1", "num_layers=2"]
    )
    with tfds.testing.mock_data(num_examples=24):
        result = kcolor.train(cfg, run_dir=str(tmp_path / "run"), max_steps=2, verbose=0)
    assert result["step"] == 2 and np.isfinite(result["losses"]["loss"])
