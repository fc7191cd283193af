"""Paper 003 (KMHCNet): parameter counts, encoders, an offline ImageNet download, losses, gray filter, configs.

Full sizes are checked by counting parameters only; training runs at 32 px with ResNet18. Loading
ImageNet files into the encoders: tests/test_pretrained_weights.py.
"""

import socket

import keras
import numpy as np
import pytest
import tensorflow as tf
from skimage import color as skcolor

from kcolor import color
from kcolor.config import apply_overrides, resolve_config
from kcolor.configs import get_config, list_configs
from kcolor.configs.kmhcnet import VARIANTS, kmhcnet_smoke
from kcolor.data.gray_filter import is_gray
from kcolor.errors import DownloadUnavailable
from kcolor.models import build_model
from kcolor.models.encoders import build_encoder
from kcolor.models.io import get_io
from kcolor.models.kmhcnet import build_kmhcnet
from kcolor.models.params import count_params
from kcolor.models.smp_decoders import unet_decoder, unetpp_decoder
from kcolor.models.weights import fetch_weights
from kcolor.training.losses import call_loss, get_loss
from kcolor.training.optimizers import make_optimizer
from kcolor.training.steps import supervised_step

# Table 2 of the paper (trainable parameters) and what kcolor builds, at 256 px with weights=none.
COUNTS = {
    ("unetpp", "resnet18"): (15.96e6, 15_964_322),
    ("unetpp", "resnet34"): (26.07e6, 26_072_482),
    ("unetpp", "resnet50"): (48.98e6, 48_979_618),
    ("unetpp", "resnet101"): (67.97e6, 67_971_746),
    ("unetpp", "resnet152"): (83.62e6, 83_615_394),
    ("unetpp", "inception_resnet_v2"): (71.08e6, 71_082_562),
    ("unetpp", "efficientnet_b6"): (43.33e6, 43_332_554),
    ("unet", "inception_resnet_v2"): (62.03e6, 62_028_866),
    ("unet", "resnet152"): (67.15e6, 67_150_754),
}
DECODERS = {"unet": unet_decoder, "unetpp": unetpp_decoder}
HEAD_PARAMS = 16 * 9 * 2 + 2  # Conv 3x3, 16 -> 2, with bias


def _decoder_params(architecture, feature_shapes):
    """Trainable parameters of a decoder and head over features of these shapes (cheap to build)."""
    inputs = [keras.Input(shape) for shape in feature_shapes]
    model = keras.Model(inputs, DECODERS[architecture](inputs))
    return count_params(model)["trainable"] + HEAD_PARAMS


def _check_structure(name, encoder):
    if name == "inception_resnet_v2":  # skips found by structure; "same" padding; BatchNorm with scale
        assert [t.shape[-1] for t in encoder.outputs] == [64, 192, 320, 1088, 1536]
        assert all(layer.scale for layer in encoder.layers if isinstance(layer, keras.layers.BatchNormalization))
        assert not any(getattr(layer, "padding", "same") == "valid" for layer in encoder.layers)
    if name == "efficientnet_b6":  # no top_conv/top_bn, no input preprocessing
        assert not {"top_conv", "top_bn"} & {layer.name for layer in encoder.layers}
        assert not any(isinstance(layer, (keras.layers.Rescaling, keras.layers.Normalization)) for layer in encoder.layers)
        assert [t.shape[-1] for t in encoder.outputs] == [56, 40, 72, 200, 576]


def test_parameter_counts_match_table_2():
    """All nine counts of Table 2, each exact to the unit and within the paper's rounding.

    Each encoder is built once at 256 px; a model's count is its encoder's plus its
    decoder's on those features (the whole model is built once below to prove the sum).
    """
    encoders = sorted({enc for _, enc in COUNTS})
    measured = {}
    for name in encoders:
        encoder = build_encoder(name, (256, 256, 1))
        shapes = [tuple(t.shape[1:]) for t in encoder.outputs]
        assert [s[0] for s in shapes] == [128, 64, 32, 16, 8], name  # strides 2..32
        encoder_params = count_params(encoder)["trainable"]
        _check_structure(name, encoder)
        for (architecture, enc), _ in COUNTS.items():
            if enc == name:
                measured[(architecture, enc)] = encoder_params + _decoder_params(architecture, shapes)
        keras.backend.clear_session()
    for key, (paper, exact) in COUNTS.items():
        assert measured[key] == exact, key
        assert abs(measured[key] - paper) / paper < 0.01, key
        assert round(measured[key] / 1e6, 2) == round(paper / 1e6, 2), key
    whole = build_kmhcnet((256, 256, 1), architecture="unetpp", encoder="resnet18", weights="none")
    assert count_params(whole)["trainable"] == COUNTS[("unetpp", "resnet18")][1]


def test_bad_options_fail_before_building():
    with pytest.raises(ValueError, match="Valid encoders: resnet18"):
        build_kmhcnet((64, 64, 1), encoder="vgg19", weights="none")
    with pytest.raises(ValueError, match="divisible by 32"):
        build_kmhcnet((48, 48, 1), encoder="resnet18", weights="none")
    with pytest.raises(ValueError, match="Valid choices: unet, unetpp"):
        build_kmhcnet((64, 64, 1), architecture="fpn", weights="none")
    with pytest.raises(ValueError, match="existing weights file"):
        build_kmhcnet((64, 64, 1), encoder="resnet18", weights="/no/such/file.safetensors")


def test_imagenet_download_that_cannot_happen_fails_at_once_with_what_to_do(tmp_path, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DownloadUnavailable, match="weights=PATH.*weights=none"):
        fetch_weights("https://huggingface.co/timm/resnet18.tv_in1k/resolve/main/model.safetensors")
    with pytest.raises(FileNotFoundError, match="Could not download ImageNet weights"):
        build_kmhcnet((32, 32, 1), encoder="resnet18", weights="imagenet")


# ---------------------------------------------------------------------------- losses


def _lab_batch(size, seed=0):
    rng = np.random.default_rng(seed)
    # Smooth random images: upsampled noise, so that every MS-SSIM scale sees structure.
    small = rng.random((2, size // 8, size // 8, 3)).astype(np.float32)
    rgb = tf.image.resize(small, (size, size), method="bilinear").numpy()
    L, ab = color.rgb_to_lab_normalized(rgb)
    return rgb, L, ab


def test_ms_ssim_losses_match_tf_ssim_multiscale_at_256():
    rgb, L, ab = _lab_batch(256)
    pred_ab = tf.clip_by_value(ab + tf.random.stateless_normal(ab.shape, (1, 2), stddev=0.05), -1.0, 1.0)
    lab_loss = call_loss(get_loss("ms_ssim@lab"), ab, pred_ab, {"L": L}).numpy()
    reference = 1.0 - tf.image.ssim_multiscale((pred_ab + 1) / 2, (ab + 1) / 2, max_val=1.0).numpy()
    np.testing.assert_allclose(lab_loss, reference, atol=1e-5)
    # RGB space: Lab -> RGB by scikit-image, then TensorFlow's MS-SSIM.
    rgb_loss = call_loss(get_loss("ms_ssim@rgb"), ab, pred_ab, {"L": L}).numpy()

    def sk_rgb(ab_norm):
        lab = np.concatenate([(L.numpy() + 1) * 50, ab_norm.numpy() * 128], -1).astype(np.float64)
        return np.stack([skcolor.lab2rgb(image) for image in lab]).astype(np.float32)

    reference = 1.0 - tf.image.ssim_multiscale(sk_rgb(pred_ab), sk_rgb(ab), max_val=1.0).numpy()
    np.testing.assert_allclose(rgb_loss, reference, atol=2e-3)
    mixed = call_loss(get_loss("mse_ms_ssim@lab"), ab, pred_ab, {"L": L}).numpy()
    mse = np.mean(((pred_ab.numpy() + 1) / 2 - (ab.numpy() + 1) / 2) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(mixed, 0.5 * (lab_loss + mse), atol=1e-5)


def test_lab3_is_equation_4s_full_lab_image_with_the_inputs_own_lightness():
    _, L, ab = _lab_batch(64, seed=2)
    pred_ab = tf.clip_by_value(ab + tf.random.stateless_normal(ab.shape, (3, 4), stddev=0.1), -1.0, 1.0)
    image = get_loss("mse@lab3").pixels(pred_ab, L).numpy()
    np.testing.assert_allclose(image[..., 0], (L.numpy()[..., 0] + 1) / 2, atol=1e-6)  # L / 100
    np.testing.assert_allclose(image[..., 1:], (pred_ab.numpy() + 1) / 2, atol=1e-6)
    # L is the same in output and target: a third channel of zero error, so 2/3 of ab's MSE.
    ab_only = call_loss(get_loss("mse@lab"), ab, pred_ab, {"L": L}).numpy()
    full = call_loss(get_loss("mse@lab3"), ab, pred_ab, {"L": L}).numpy()
    np.testing.assert_allclose(full, ab_only * 2 / 3, rtol=1e-5)
    with pytest.raises(ValueError, match="needs the model's input L"):
        call_loss(get_loss("mse@lab3"), ab, pred_ab, {})


def test_lab_to_rgb_of_the_loss_agrees_with_scikit_image():
    _, L, ab = _lab_batch(32, seed=3)
    ours = get_loss("mse@rgb").pixels(ab, L).numpy()
    lab = np.concatenate([(L.numpy() + 1) * 50, ab.numpy() * 128], -1).astype(np.float64)
    theirs = np.stack([skcolor.lab2rgb(image) for image in lab])
    np.testing.assert_allclose(ours, theirs, atol=2e-3)


@pytest.mark.parametrize("name", ["mse@lab+vgg16:none", "mse@rgb+resnet50:none"])
def test_perceptual_loss_is_zero_on_identical_images_and_grows_with_the_difference(name):
    _, L, ab = _lab_batch(32, seed=5)
    loss = get_loss(name)
    assert loss is get_loss(name)  # one embedding network per loss name
    values = []
    for scale in (0.0, 0.1, 0.3, 0.8):
        noisy = tf.clip_by_value(ab + scale * tf.random.stateless_normal(ab.shape, (7, 8)), -1.0, 1.0)
        values.append(float(tf.reduce_mean(call_loss(loss, ab, noisy, {"L": L}))))
    assert values[0] == 0.0
    assert values[1] < values[2] < values[3], values
    assert not loss.network().trainable_weights  # frozen


def test_bad_loss_names_name_the_choices():
    with pytest.raises(ValueError, match="mse, ms_ssim, mse_ms_ssim"):
        get_loss("ssim@lab")
    with pytest.raises(ValueError, match="lab, lab3, rgb"):
        get_loss("mse@hsv")
    with pytest.raises(ValueError, match="Valid embeddings: vgg16, resnet50"):
        get_loss("mse@lab+vgg19")
    with pytest.raises(ValueError, match="use mse or mse_ms_ssim"):
        get_loss("ms_ssim@lab+vgg16")


# ---------------------------------------------------------------------------- training a step


def _step_combinations():
    """Each distinct (model, loss) of the 16 smoke configs."""
    seen = {}
    for variant in VARIANTS:
        cfg = kmhcnet_smoke(variant)
        seen.setdefault((cfg.model, cfg.loss), variant)
    return sorted(seen, key=lambda combo: seen[combo])


@pytest.fixture(scope="module")
def small_models():
    return {name: build_model(name, 32, encoder="resnet18", weights="none")["colorizer"] for name in ("unet_enc", "unetpp_enc")}


@pytest.mark.parametrize("combo", _step_combinations(), ids=lambda c: f"{c[0]}-{c[1]}")
def test_every_variant_trains_a_step_at_32px(combo, small_models):
    """Each variant's architecture and loss (its smoke setting) takes a supervised step that moves every weight."""
    model_name, loss_name = combo
    model = small_models[model_name]
    optimizer = make_optimizer(1e-3)
    optimizer.build(model.trainable_variables)
    rgb, _, _ = _lab_batch(32, seed=1)
    before = [v.numpy().copy() for v in model.trainable_variables]
    # Eager: the same step the loop compiles, without tracing a graph per combination.
    losses = supervised_step({"rgb": tf.constant(rgb)}, model=model, optimizer=optimizer, loss_fn=loss_name, io=get_io("l_ab"))
    assert np.isfinite(float(losses["loss"])) and float(losses["loss"]) > 0
    unchanged = [v.path for b, v in zip(before, model.trainable_variables) if np.array_equal(b, v.numpy())]
    assert not unchanged, unchanged[:5]
    assert all(np.isfinite(v.numpy()).all() for v in model.trainable_variables)  # no NaN from MS-SSIM's gradient


# ---------------------------------------------------------------------------- configs and data


def test_the_16_configs_hold_tables_1_and_2():
    epochs = [43, 39, 38, 33, 27, 26, 25, 23, 20, 20, 17, 13, 12, 10, 10, 9]
    names = set(list_configs())
    for variant, expected_epochs in zip(range(1, 17), epochs):
        assert f"kmhcnet_{variant}" in names and f"kmhcnet_{variant}_smoke" in names
        cfg = resolve_config(get_config(f"kmhcnet_{variant}"))
        assert cfg.epochs == expected_epochs
        assert (cfg.model, cfg.options["encoder"], cfg.loss) == VARIANTS[variant][:3]
        assert cfg.options["weights"] == "imagenet" and cfg.image_size == 256 and cfg.drop_gray_chroma > 0
        assert cfg.data.startswith("folder:") and cfg.learning_rate == 1e-4
        smoke = resolve_config(get_config(f"kmhcnet_{variant}_smoke"))
        assert smoke.data == "sample" and smoke.options == {"encoder": "resnet18", "weights": "none"}
        assert smoke.model == cfg.model and smoke.loss.split(":")[0] == cfg.loss
    assert get_config("kmhcnet_9").model == "unet_enc" and get_config("kmhcnet_3").loss == "ms_ssim@rgb"
    with pytest.raises(ValueError, match="loss="):
        apply_overrides(get_config("kmhcnet_4"), ["loss=ms_ssim@hsv"])


def test_gray_filter_drops_gray_images_and_keeps_colored_ones():
    rgb, _, _ = _lab_batch(64, seed=2)
    gray = np.repeat(color.rgb_to_gray(rgb).numpy(), 3, axis=-1)
    noisy_gray = np.clip(gray + np.random.default_rng(0).normal(0, 0.002, gray.shape), 0, 1)  # JPEG-like noise
    mostly_gray = gray.copy()
    mostly_gray[:, :16, :16] = [0.9, 0.1, 0.1]  # a red corner: 6% of the image
    flags = is_gray(np.concatenate([rgb, gray, noisy_gray, mostly_gray]), threshold=2.0).numpy()
    assert flags.tolist() == [False, False, True, True, True, True, False, False]


def test_gray_images_are_dropped_from_a_folder_and_counted(tmp_path):
    from PIL import Image

    from kcolor.data.gray_filter import drop_gray
    from kcolor.data.sources import load_raw

    rgb, _, _ = _lab_batch(64, seed=4)
    for i in range(4):
        Image.fromarray((np.roll(rgb[i % 2], 8 * i, axis=0) * 255).astype(np.uint8)).save(tmp_path / f"color{i}.png")
    gray = (np.repeat(color.rgb_to_gray(rgb).numpy(), 3, -1) * 255).astype(np.uint8)
    Image.fromarray(gray[0]).save(tmp_path / "gray0.jpg", quality=70)  # stored as a color JPEG
    Image.fromarray(gray[1]).save(tmp_path / "gray1.png")
    raw = load_raw(f"folder:{tmp_path}", split=(1.0, 0.0, 0.0))
    with pytest.warns(UserWarning, match="dropped 2 gray image"):
        kept = drop_gray(raw, 2.0)
    assert kept.counts["train"] == 4 and kept.info["gray_dropped"]["train"] == 2
    assert sorted(e["id"].numpy().decode() for e in kept.splits["train"]) == [f"color{i}.png" for i in range(4)]
    assert drop_gray(raw, 0.0) is raw
