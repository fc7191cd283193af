"""Pix2Pix (Paper 001 / Isola et al.): parameter counts of the original architecture,
real PatchGAN receptive fields, presets and options, shapes and `.keras` round trips."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kcolor.models import patchgan, unet
from kcolor.models import pix2pix as p2p
from kcolor.models.layers import FusedBatchNormalization
from kcolor.models.params import count_params
from kcolor.models.registry import build_model, get_model


def _isola_generator_params(in_channels, size):
    """Isola's unet_256 counted by hand from its layer list (PyTorch counting).

    Encoder convs 4x4 without bias; BatchNorm (gamma, beta) on every level but the
    first and the innermost. Decoder ConvTranspose 4x4 without bias + BatchNorm, their
    inputs the concatenation of the level below and the skip; the outermost
    ConvTranspose has a bias and no norm.
    """
    levels = int(np.log2(size))
    widths = [min(64 * 2**i, 512) for i in range(levels)]
    total, prev = 0, in_channels
    for i, w in enumerate(widths):
        total += 16 * prev * w + (2 * w if 0 < i < levels - 1 else 0)
        prev = w
    for j, w in enumerate(reversed(widths[:-1])):
        cin = widths[-1] if j == 0 else 2 * widths[levels - 1 - j]
        total += 16 * cin * w + 2 * w
    total += 16 * 2 * widths[0] * 3 + 3
    return total


def _isola_discriminator_params(in_channels):
    """Isola's n_layers=3 PatchGAN: C64 (with bias) - C128 - C256 - C512 - 1 (with bias)."""
    c1 = 16 * in_channels * 64 + 64
    c2 = 16 * 64 * 128 + 2 * 128
    c3 = 16 * 128 * 256 + 2 * 256
    c4 = 16 * 256 * 512 + 2 * 512
    out = 16 * 512 + 1
    return c1 + c2 + c3 + c4 + out


def test_isola_preset_parameter_counts_at_256():
    nets = build_model("pix2pix", 256, preset="isola")
    g, d = count_params(nets["colorizer"]), count_params(nets["discriminator"])
    # Hand counts of Isola's networks with kcolor's inputs (gray: 1 channel; the
    # discriminator sees gray + RGB = 4 channels).
    assert g["torch"] == _isola_generator_params(1, 256) == 54_411_907
    assert d["torch"] == _isola_discriminator_params(4) == 2_766_657
    # With Isola's own 3-channel inputs the same formula gives the reference code's
    # printed sizes, "54.414 M" and "2.769 M".
    assert round(_isola_generator_params(3, 256) / 1e6, 3) == 54.414
    assert round(_isola_discriminator_params(6) / 1e6, 3) == 2.769
    # Keras also holds BatchNorm's moving mean and variance.
    assert g["total"] == 54_421_763 and g["non_trainable"] == 2 * 4928
    assert d["total"] == 2_768_449 and d["non_trainable"] == 2 * (128 + 256 + 512)
    assert nets["discriminator"].output_shape == (None, 30, 30, 1)
    assert nets["gan_loss"] == {"adv_loss": "bce", "recon_loss": "l1", "recon_weight": 100.0}


def test_isola_levels_follow_the_image_size():
    for size, levels in ((256, 8), (128, 7)):
        g = unet.build_unet_generator((size, size, 1))
        encoder = [layer for layer in g.layers if layer.name.startswith("enc") and layer.name.endswith("_conv")]
        assert len(encoder) == levels
        assert g.get_layer(f"enc{levels}_conv").output.shape[1:3] == (1, 1)
        assert g.get_layer(f"enc{levels}_conv").output.shape[-1] == 512
    assert count_params(build_model("pix2pix", 128, preset="isola")["colorizer"])["torch"] == _isola_generator_params(
        1, 128
    )


@pytest.mark.parametrize("patch", sorted(patchgan.PATCH_STACKS))
def test_patchgan_receptive_field_is_the_patch_size(patch):
    assert patchgan.patch_receptive_field(patchgan.PATCH_STACKS[patch]) == patch
    # Measured: the input pixels that reach one interior output logit.
    size = 256
    d = patchgan.build_patchgan_discriminator((size, size, 1), base_filters=4, patch=patch)
    image = tf.Variable(tf.random.uniform((1, size, size, 3)))
    condition = tf.random.uniform((1, size, size, 1))
    with tf.GradientTape() as tape:
        logits = d({"condition": condition, "image": image}, training=False)
        centre = logits.shape[1] // 2
        target = logits[0, centre, centre, 0]
    grad = tf.reduce_sum(tf.abs(tape.gradient(target, image)), axis=(0, 3)).numpy()
    rows = np.flatnonzero(grad.sum(axis=1))
    cols = np.flatnonzero(grad.sum(axis=0))
    assert rows[-1] - rows[0] + 1 == patch
    assert cols[-1] - cols[0] + 1 == patch


def test_default_is_small_and_shapes_are_right():
    spec = get_model("pix2pix")
    assert (spec.io, spec.trainer, spec.paper) == ("gray_rgb", "gan", "001")
    nets = build_model("pix2pix", 64)
    g, d = nets["colorizer"], nets["discriminator"]
    assert [t.name for t in g.inputs] == ["gray"]
    assert sorted(t.name for t in d.inputs) == ["condition", "image"]
    assert count_params(g)["total"] < 10_000_000
    gray = tf.random.uniform((2, 64, 64, 1))
    rgb = g(gray, training=False)
    assert rgb.shape == (2, 64, 64, 3)
    assert float(tf.reduce_min(rgb)) >= 0.0 and float(tf.reduce_max(rgb)) <= 1.0
    logits = d({"condition": gray, "image": rgb}, training=False)
    assert logits.shape == (2, 6, 6, 1)
    assert nets["gan_loss"] == {"adv_loss": "lsgan", "recon_loss": "mse", "recon_weight": 100.0}


def test_encoder_activation_and_dropout_follow_the_options():
    isola = unet.build_unet_generator((64, 64, 1), base_filters=8, encoder_activation="leaky_relu")
    paper = unet.build_unet_generator((64, 64, 1), base_filters=8, encoder_activation="relu", dropout=0.3)
    enc_iso = [layer for layer in isola.layers if layer.name.startswith("enc") and "relu" in layer.name]
    enc_pap = [layer for layer in paper.layers if layer.name.startswith("enc") and "relu" in layer.name]
    assert enc_iso and all(isinstance(layer, keras.layers.LeakyReLU) for layer in enc_iso)
    assert enc_pap and all(type(layer) is keras.layers.ReLU for layer in enc_pap)
    drops = [layer for layer in paper.layers if isinstance(layer, keras.layers.Dropout)]
    assert [layer.name for layer in drops] == ["dec1_dropout", "dec2_dropout", "dec3_dropout"]
    assert all(layer.rate == 0.3 for layer in drops)
    none = unet.build_unet_generator((64, 64, 1), base_filters=8, dropout=0.0)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in none.layers)


def test_presets_fill_only_unset_options():
    o = p2p.resolve_options("paper001")
    assert (o["encoder_activation"], o["patch"], o["adv_loss"], o["recon_loss"]) == ("relu", 64, "lsgan", "mse")
    o = p2p.resolve_options("isola", adv_loss="lsgan", patch=128)
    assert (o["encoder_activation"], o["adv_loss"], o["patch"], o["base_filters"]) == ("leaky_relu", "lsgan", 128, 64)
    nets = build_model("pix2pix", 128, preset="paper001")
    assert nets["discriminator"].get_layer("c2_conv").kernel.shape[:2] == (3, 3)


@pytest.mark.parametrize(
    "options, words",
    [
        ({"preset": "nope"}, ["nope", "isola", "paper001"]),
        ({"patch": 90}, ["90", "64", "70", "128"]),
        ({"adv_loss": "hinge"}, ["hinge", "lsgan", "bce"]),
        ({"recon_loss": "l2"}, ["l2", "mse", "l1"]),
        ({"encoder_activation": "gelu"}, ["gelu", "relu", "leaky_relu"]),
        ({"num_levels": 9}, ["num_levels=9", "2..6"]),
        ({"dropout": 1.5}, ["dropout=1.5"]),
    ],
)
def test_bad_options_name_the_value_and_the_choices(options, words):
    with pytest.raises(ValueError) as err:
        build_model("pix2pix", 64, **options)
    for word in words:
        assert word in str(err.value)


def test_keras_round_trip_in_safe_mode(tmp_path):
    nets = build_model("pix2pix", 32, base_filters=8)
    gray = tf.random.uniform((2, 32, 32, 1))
    rgb = tf.random.uniform((2, 32, 32, 3))
    for name, args in (("colorizer", gray), ("discriminator", {"condition": gray, "image": rgb})):
        model = nets[name]
        path = tmp_path / f"{name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path, safe_mode=True)
        np.testing.assert_allclose(loaded(args, training=False), model(args, training=False), atol=1e-6)


def test_fused_batchnorm_matches_keras_batchnorm():
    x = tf.random.stateless_normal((4, 8, 8, 5), (0, 1)) * 3.0 + 1.0
    keras_bn, fused_bn = keras.layers.BatchNormalization(), FusedBatchNormalization()
    for layer in (keras_bn, fused_bn):
        layer.build(x.shape)
        layer.gamma.assign(tf.random.stateless_normal((5,), (1, 2)) + 1.0)
        layer.beta.assign(tf.random.stateless_normal((5,), (3, 4)))

    @tf.function
    def forward_backward(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * tf.sin(x))
        return y, tape.gradient(loss, [x, layer.gamma, layer.beta])

    (y_k, g_k), (y_f, g_f) = forward_backward(keras_bn), forward_backward(fused_bn)
    np.testing.assert_allclose(y_f, y_k, atol=1e-5)
    for a, b in zip(g_f, g_k):
        np.testing.assert_allclose(a, b, atol=1e-4)
    np.testing.assert_allclose(fused_bn.moving_mean, keras_bn.moving_mean, atol=1e-6)
    np.testing.assert_allclose(fused_bn.moving_variance, keras_bn.moving_variance, atol=1e-6)
    np.testing.assert_allclose(fused_bn(x, training=False), keras_bn(x, training=False), atol=1e-5)


def test_skip_deconv_is_a_deconv_of_the_concatenation():
    x = keras.Input((4, 4, 6))
    skip = keras.Input((4, 4, 2))
    split = keras.Model([x, skip], unet.skip_deconv(x, skip, 5, use_bias=True, name="t"))
    a = tf.random.stateless_normal((2, 4, 4, 6), (7, 8))
    b = tf.random.stateless_normal((2, 4, 4, 2), (9, 10))
    whole = keras.layers.Conv2DTranspose(5, 4, strides=2, padding="same")
    whole.build((None, 4, 4, 8))
    kernel = tf.concat([split.get_layer("t_deconv").kernel, split.get_layer("t_deconv_skip").kernel], axis=-1)
    whole.set_weights([kernel.numpy(), split.get_layer("t_deconv").bias.numpy()])
    np.testing.assert_allclose(split([a, b]), whole(tf.concat([a, b], axis=-1)), atol=1e-5)
