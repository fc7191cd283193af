"""Paper 002 (Pérez García 2020): the ResNet50 cGAN and the baseline cGAN in Lab.

Parameter counts at the paper's sizes against hand counts, offline weight handling,
the GAN step's noisy labels and half batch, the encoder freeze hook through the
training loop, and export + colorize of a Lab model.
"""

import socket

import keras
import numpy as np
import pytest
import tensorflow as tf

from kcolor.config import TrainConfig
from kcolor.errors import DownloadUnavailable
from kcolor.models import build_model, get_model
from kcolor.models import cgan as cgan_lib
from kcolor.models.io import get_io
from kcolor.models.params import count_params
from kcolor.training.losses import ADV_LOSSES
from kcolor.training.optimizers import FusedAdam
from kcolor.training.steps import compile_step, gan_step

TINY_RESNET = {"weights": "none", "decoder_filters": (8, 8, 8, 8, 8), "d_base_filters": 4}
TINY_BASELINE = {"base_filters": 4, "max_filters": 8, "d_filters": (4, 8)}
# keras.applications.ResNet50(include_top=False): 23,587,712 weights, of which the
# BatchNorm moving statistics (53,120) do not train.
RESNET50_NOTOP_TRAINABLE = 23_534_592


def _conv(k, cin, cout, bias=True):
    return k * k * cin * cout + (cout if bias else 0)


def _patchgan70(cin, base=64):
    widths = [base, 2 * base, 4 * base, 8 * base]
    total = _conv(4, cin, widths[0])
    for a, b in zip(widths, widths[1:]):
        total += _conv(4, a, b, bias=False) + 2 * b  # conv + BatchNorm gamma, beta
    return total + _conv(4, widths[-1], 1)


def test_resnet50_cgan_parameter_counts_at_224():
    nets = build_model("cgan_resnet50", 224, weights="none")
    g, d = nets["colorizer"], nets["discriminator"]
    widths = (2048, 512, 256, 128, 64, 32)
    decoder = sum(_conv(3, a, b) for a, b in zip(widths, widths[1:])) + _conv(3, 32, 2)
    assert count_params(g)["trainable"] == RESNET50_NOTOP_TRAINABLE + decoder == 34_540_066
    assert count_params(d)["trainable"] == _patchgan70(3) == 2_765_633  # judges (L, ab): 3 channels
    assert g.output_shape == (None, 224, 224, 2) and d.output_shape == (None, 26, 26, 1)
    assert g.get_layer("resnet50").output.shape[1:] == (7, 7, 2048)
    assert nets["gan_loss"]["real_labels"] == (0.0, 0.49) and nets["gan_loss"]["fake_labels"] == (0.5, 0.99)
    assert nets["gan_loss"]["g_fraction"] == 0.5
    assert (get_model("cgan_resnet50").io, get_model("cgan_resnet50").paper) == ("l_ab", "002")


def test_baseline_cgan_parameter_counts_at_256():
    nets = build_model("cgan_unet_baseline", 256)
    g, d = nets["colorizer"], nets["discriminator"]
    # Isola's unet_256 (see test_pix2pix) with 1 input channel and 2 output channels.
    widths = [min(64 * 2**i, 512) for i in range(8)]
    unet, prev = 0, 1
    for i, w in enumerate(widths):
        unet += 16 * prev * w + (2 * w if 0 < i < 7 else 0)
        prev = w
    for j, w in enumerate(reversed(widths[:-1])):
        cin = widths[-1] if j == 0 else 2 * widths[7 - j]
        unet += 16 * cin * w + 2 * w
    unet += 16 * 2 * widths[0] * 2 + 2
    assert count_params(g)["trainable"] == unet == 54_409_858
    classifier = _conv(4, 3, 64) + sum(_conv(4, a, b, bias=False) + 2 * b for a, b in ((64, 128), (128, 256), (256, 512)))
    classifier += 16 * 16 * 512 + 1  # Flatten (16, 16, 512) -> Dense(1)
    assert count_params(d)["trainable"] == classifier == 2_888_513
    assert g.output_shape == (None, 256, 256, 2) and d.output_shape == (None, 1)
    assert g.get_layer("out_tanh") is not None and [t.name for t in g.inputs] == ["L"]


def test_lab_outputs_are_tanh_ab_and_preprocessing_is_optional():
    L = tf.random.uniform((2, 32, 32, 1), -1.0, 1.0)
    with_pre = build_model("cgan_resnet50", 32, **TINY_RESNET)["colorizer"]
    without = build_model("cgan_resnet50", 32, **TINY_RESNET, imagenet_preprocessing=False)["colorizer"]
    assert "imagenet_preprocess" in [layer.name for layer in with_pre.layers]
    assert "imagenet_preprocess" not in [layer.name for layer in without.layers]
    pre = keras.Model(with_pre.inputs, with_pre.get_layer("imagenet_preprocess").output)
    x = np.zeros((1, 32, 32, 1), np.float32)
    x[0, 0, 0], x[0, 0, 1] = 1.0, -1.0  # L = 100 and L = 0
    pixels = pre(x).numpy()
    np.testing.assert_allclose(pixels[0, 0, 0], 255.0 - np.array(cgan_lib.IMAGENET_BGR_MEAN), rtol=1e-5)
    np.testing.assert_allclose(pixels[0, 0, 1], -np.array(cgan_lib.IMAGENET_BGR_MEAN), rtol=1e-5)
    for g in (with_pre, without, build_model("cgan_unet_baseline", 32, **TINY_BASELINE)["colorizer"]):
        ab = g(L, training=False)
        assert ab.shape == (2, 32, 32, 2) and float(tf.reduce_max(tf.abs(ab))) <= 1.0


def test_imagenet_download_that_cannot_happen_fails_fast_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # nothing cached

    def offline(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", offline)
    with pytest.raises(DownloadUnavailable) as err:
        build_model("cgan_resnet50", 32, decoder_filters=(8, 8, 8, 8, 8))
    message = str(err.value)
    for words in ("weights=none", "weights=PATH", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        assert words in message


def test_weights_path_loads_offline_and_bad_weights_name_the_choices(tmp_path):
    source = build_model("cgan_resnet50", 32, **TINY_RESNET)["colorizer"].get_layer("resnet50")
    path = str(tmp_path / "resnet50_notop.weights.h5")
    source.save_weights(path)
    loaded = build_model("cgan_resnet50", 32, **{**TINY_RESNET, "weights": path})["colorizer"].get_layer("resnet50")
    for a, b in zip(source.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(FileNotFoundError) as err:
        build_model("cgan_resnet50", 32, weights=str(tmp_path / "missing.h5"))
    assert "missing.h5" in str(err.value) and "imagenet" in str(err.value) and "none" in str(err.value)


@pytest.mark.parametrize(
    "name, options, words",
    [
        ("cgan_resnet50", {"decoder_filters": (8, 8)}, ["decoder_filters", "5"]),
        ("cgan_resnet50", {"patch": 90}, ["90", "70", "64", "128"]),
        ("cgan_resnet50", {"freeze_epochs": -1}, ["freeze_epochs=-1"]),
        ("cgan_unet_baseline", {"g_fraction": 0.0}, ["g_fraction=0.0"]),
        ("cgan_unet_baseline", {"d_filters": (4, 8, 8, 8, 8, 8)}, ["6 stride-2 blocks", "64"]),
    ],
)
def test_bad_options_name_the_value(name, options, words):
    with pytest.raises(ValueError) as err:
        build_model(name, 32, **options)
    for word in words:
        assert word in str(err.value)


def test_resnet50_needs_a_multiple_of_32():
    with pytest.raises(ValueError, match="multiple of 32.*Received: 48x48"):
        build_model("cgan_resnet50", 48, weights="none")


def test_labelled_adversarial_losses_match_their_formulas():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 2, 2, 1)).astype(np.float32)
    labels = np.array([0.1, 0.45, 0.8], np.float32)
    y = labels[:, None, None, None]
    p = 1 / (1 + np.exp(-logits))
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(ADV_LOSSES["bce"].labelled(logits, labels), bce.mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(ADV_LOSSES["lsgan"].labelled(logits, labels), ((logits - y) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(ADV_LOSSES["bce"].output(logits), p, rtol=1e-5)


def _step(nets, batch_size=4, **overrides):
    g, d = nets["colorizer"], nets["discriminator"]
    g_opt, d_opt = FusedAdam(1e-3), FusedAdam(1e-3)
    g_opt.build(g.trainable_variables)
    d_opt.build(d.trainable_variables)
    spec = {"rgb": tf.TensorSpec((None, 32, 32, 3), tf.float32)}
    kwargs = {**nets["gan_loss"], **overrides}
    return compile_step(gan_step, element_spec=spec, generator=g, discriminator=d, g_opt=g_opt, d_opt=d_opt,
                        io=get_io("l_ab"), **kwargs)


def test_gan_step_with_noisy_labels_and_half_batch_trains_both_networks():
    keras.utils.set_random_seed(3)
    nets = build_model("cgan_unet_baseline", 32, **TINY_BASELINE)
    g, d = nets["colorizer"], nets["discriminator"]
    step = _step(nets)
    before = [v.numpy() for v in g.trainable_variables + d.trainable_variables]
    rgb = tf.random.stateless_uniform((5, 32, 32, 3), (1, 2))
    losses = {k: float(v) for k, v in step({"rgb": rgb}).items()}
    assert {"d_out_real", "d_out_fake", "d_real", "d_fake", "gan", "recon"} <= set(losses)
    assert all(np.isfinite(v) for v in losses.values())
    assert 0.0 < losses["d_out_real"] < 1.0 and 0.0 < losses["d_out_fake"] < 1.0  # sigmoid probabilities
    after = g.trainable_variables + d.trainable_variables
    assert [v.path for b, v in zip(before, after) if np.array_equal(b, v.numpy())] == []
    step({"rgb": rgb[:1]})  # a one-image batch: the generator's image is also the real one
    assert step.experimental_get_tracing_count() == 1
    with pytest.raises(ValueError, match="both real_labels and fake_labels"):
        gan_step({"rgb": rgb}, generator=g, discriminator=d, g_opt=None, d_opt=None, io=get_io("l_ab"),
                 real_labels=(0.0, 0.49))
    with pytest.raises(ValueError, match="real_labels=.1.5"):
        gan_step({"rgb": rgb}, generator=g, discriminator=d, g_opt=None, d_opt=None, io=get_io("l_ab"),
                 real_labels=(1.5, 2.0), fake_labels=(0.5, 0.99))


def test_noisy_labels_are_drawn_again_exactly_after_a_restore(tmp_path):
    """The labels are stateless draws from (label_seed, step, replica): restoring a checkpoint
    and repeating a step repeats its labels, so a resumed Paper 002 run stays bitwise."""
    keras.utils.set_random_seed(5)
    nets = build_model("cgan_unet_baseline", 32, **TINY_BASELINE)
    g, d = nets["colorizer"], nets["discriminator"]
    g_opt, d_opt = FusedAdam(1e-3), FusedAdam(1e-3)
    g_opt.build(g.trainable_variables)
    d_opt.build(d.trainable_variables)
    seeds = [v for v in g.variables + d.variables if "seed_generator_state" in v.path]
    state = tf.train.Checkpoint(g=g, d=d, g_opt=g_opt, d_opt=d_opt, seeds=seeds)
    assert nets["gan_loss"]["real_labels"] is not None  # the paper's noisy labels are on

    def step_with(label_seed):
        return compile_step(gan_step, element_spec={"rgb": tf.TensorSpec((None, 32, 32, 3), tf.float32)},
                            generator=g, discriminator=d, g_opt=g_opt, d_opt=d_opt, io=get_io("l_ab"),
                            **nets["gan_loss"], label_seed=label_seed)

    step = step_with(7)
    batch = {"rgb": tf.random.stateless_uniform((4, 32, 32, 3), (3, 4))}
    step(batch)
    saved = state.write(str(tmp_path / "state"))
    first = {k: v.numpy() for k, v in step(batch).items()}
    weights = [v.numpy() for v in g.trainable_variables + d.trainable_variables]
    state.read(saved)
    again = {k: v.numpy() for k, v in step(batch).items()}
    assert {k: v.tobytes() for k, v in first.items()} == {k: v.tobytes() for k, v in again.items()}
    for a, b in zip(weights, g.trainable_variables + d.trainable_variables):
        np.testing.assert_array_equal(a, b.numpy())
    state.read(saved)
    other = {k: v.numpy() for k, v in step_with(8)(batch).items()}
    assert other["d_real"] != first["d_real"]  # another label seed draws other labels: the check can fail


def test_half_batch_generator_sees_only_the_first_half():
    keras.utils.set_random_seed(4)
    nets = build_model("cgan_resnet50", 32, **TINY_RESNET, freeze_epochs=1)
    nets["epoch_hook"](0)  # frozen encoder: BatchNorm in inference mode, the output is per-image
    g = nets["colorizer"]
    io = get_io("l_ab")
    rgb = tf.random.stateless_uniform((4, 32, 32, 3), (5, 6))
    L, ab = io.inputs({"rgb": rgb})["L"], io.target({"rgb": rgb})
    expected = float(tf.reduce_mean(tf.abs(ab[:2] - g(L[:2], training=True))))
    full = float(tf.reduce_mean(tf.abs(ab - g(L, training=True))))
    losses = _step(nets)({"rgb": rgb})
    np.testing.assert_allclose(float(losses["recon"]), expected, rtol=1e-4)
    assert abs(full - expected) > 1e-4  # the halves differ, so the check can fail


def _small_generator(input_shape, *, name="resnet50_generator", **unused):
    """A stand-in for the ResNet50 generator with the same structure (a nested encoder
    model named "resnet50", BatchNorm inside), small enough to train in a test."""
    inner = keras.Input(input_shape[:2] + (3,))
    x = keras.layers.Conv2D(8, 3, padding="same", name="enc_conv")(inner)
    x = keras.layers.BatchNormalization(name="enc_bn")(x)
    encoder = keras.Model(inner, keras.layers.ReLU()(x), name="resnet50")
    L = keras.Input(input_shape, name="L")
    x = encoder(keras.layers.Concatenate()([L, L, L]))
    ab = keras.layers.Conv2D(2, 3, padding="same", activation="tanh", name="out_conv")(x)
    return keras.Model(L, ab, name=name)


def test_freeze_hook_through_the_training_loop(tmp_path, monkeypatch):
    """freeze_epochs=1: the loop runs the model's epoch_hook; epoch 1 leaves the encoder
    (BatchNorm statistics included) as built, epoch 2 fine-tunes it."""
    from kcolor.export.run import load_run
    from kcolor.training.loop import train

    seen = []  # (completed epochs, trainable after the hook, its answer, encoder weights then)
    original = cgan_lib.freeze_schedule

    def recording_schedule(encoder, freeze_epochs):
        hook = original(encoder, freeze_epochs)

        def epoch_hook(completed):
            changed = hook(completed)
            seen.append((completed, encoder.trainable, changed, [w.numpy() for w in encoder.weights]))
            return changed

        return epoch_hook

    monkeypatch.setattr(cgan_lib, "freeze_schedule", recording_schedule)
    monkeypatch.setattr(cgan_lib, "build_resnet50_generator", _small_generator)
    options = {**TINY_RESNET, "freeze_epochs": 1}
    cfg = TrainConfig(model="cgan_resnet50", data="sample", image_size=32, batch_size=4, epochs=2,
                      steps_per_epoch=2, val_steps=1, sample_images=2, options=options)
    result = train(cfg, run_dir=tmp_path / "run", verbose=0)
    assert [(epoch, trainable, changed) for epoch, trainable, changed, _ in seen] == [(0, False, True), (1, True, True)]
    for a, b in zip(seen[0][3], seen[1][3]):  # the frozen epoch changed nothing in the encoder
        np.testing.assert_array_equal(a, b)
    final = load_run(tmp_path / "run").colorizer.get_layer("resnet50").weights
    assert all(not np.array_equal(a, b.numpy()) for a, b in zip(seen[1][3], final))  # fine-tuned in epoch 2
    assert result["epoch"] == 2 and {"train_d_out_real", "train_d_out_fake"} <= set(result["history"][-1])


def test_lab_model_exports_to_savedmodel_and_colorizes_full_resolution(tmp_path):
    from skimage import data as skdata

    from kcolor.export import export_run
    from kcolor.export.colorize import colorize_paths
    from kcolor.export.run import save_run
    from kcolor.data.images import read_image, write_png

    colorizer = build_model("cgan_unet_baseline", 32, **TINY_BASELINE)["colorizer"]
    cfg = TrainConfig(model="cgan_unet_baseline", data="sample", image_size=32, batch_size=4, options=TINY_BASELINE)
    run_dir = save_run(tmp_path / "run", colorizer, model_name="cgan_unet_baseline", io="l_ab", image_size=32,
                       options=TINY_BASELINE, config=cfg)
    result = export_run(run_dir, format="savedmodel", repeats=1)
    assert result["parity"]["bar_met"], result["parity"]
    photo = skdata.astronaut()[:100, :75]  # not square, not the training size
    write_png(tmp_path / "photo.png", photo / 255.0)
    out = colorize_paths(result["path"], [str(tmp_path / "photo.png")], out_dir=str(tmp_path / "out"))
    assert out["written"] == 1
    assert read_image(out["outputs"][0]).size == (100, 75)


def test_paper002_configs_build_the_papers_setting_and_smoke_runs_offline():
    from kcolor.configs import get_config

    resnet, baseline = get_config("unsplash_resnet50"), get_config("unsplash_unet_baseline")
    assert (resnet.model, resnet.image_size, resnet.batch_size) == ("cgan_resnet50", 224, 32)
    assert (baseline.model, baseline.image_size, baseline.batch_size) == ("cgan_unet_baseline", 256, 32)
    for cfg in (resnet, baseline):
        assert cfg.data == "folder:~/data/unsplash" and (cfg.learning_rate, cfg.beta_1) == (2e-4, 0.5)
        # The L1 weight the paper does not give is set, not left to the model's default.
        assert cfg.options["recon_weight"] == 100.0
    assert resnet.options["weights"] == "imagenet"
    for name in ("unsplash_resnet50_smoke", "unsplash_unet_baseline_smoke"):
        smoke = get_config(name)
        assert smoke.options["recon_weight"] == 100.0
        assert smoke.data == "sample" and smoke.image_size == 32 and smoke.options.get("weights", "none") == "none"
