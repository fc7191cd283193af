"""Paper 004: ViT-I-GAN / ViT-GAN generators and the ViT discriminator."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kcolor.errors import DownloadUnavailable
from kcolor.models import build_model, get_model
from kcolor.models import inception as inception_mod
from kcolor.models.io import get_io
from kcolor.models.vit import build_vit_discriminator, num_tokens
from kcolor.models.vit_i_gan import SMALL_VIT, build_vit_i_gan_generator
from kcolor.training.optimizers import make_optimizer
from kcolor.training.steps import gan_step

SMALL = dict(encoder_filters=(8, 8, 16, 16, 32), decoder_filters=(16, 16, 8, 8), **SMALL_VIT)


@pytest.fixture(scope="module")
def paper_width_generator():
    # The paper's encoder/fusion widths at 64 px (the grid is 2x2 instead of 8x8).
    return build_vit_i_gan_generator((64, 64, 1), weights="none")


def test_encoder_ends_at_h32_w32_512_and_fusion_has_1512_channels(paper_width_generator):
    g = paper_width_generator
    assert g.get_layer("enc5_pool").output.shape[1:] == (2, 2, 512)
    assert g.get_layer("fusion_repeat").output.shape[1:] == (2, 2, 1000)
    assert g.get_layer("fusion_concat").output.shape[1:] == (2, 2, 1512)
    assert g.get_layer("fusion_1x1_lrelu").output.shape[1:] == (2, 2, 512)
    assert g.output.shape[1:] == (64, 64, 2)
    convs = [l for l in g.layers if isinstance(l, keras.layers.Conv2D) and l.name.startswith("enc")]
    assert len(convs) == 10 and all(l.kernel_size == (5, 5) and l.padding == "same" for l in convs)
    pools = [l for l in g.layers if isinstance(l, keras.layers.AveragePooling2D)]
    assert len(pools) == 5
    deconvs = [l for l in g.layers if isinstance(l, keras.layers.Conv2DTranspose)]
    assert len(deconvs) == 5 and all(l.kernel_size == (3, 3) for l in deconvs)
    ups = [l for l in g.layers if isinstance(l, keras.layers.UpSampling2D) and l.name.startswith("dec")]
    assert len(ups) == 5 and all(l.interpolation == "nearest" for l in ups)


def test_inception_branch_reads_l_in_unit_range_at_299_tripled(paper_width_generator):
    g = paper_width_generator
    probe = keras.Model(g.input, [g.get_layer("inc_triple").output, g.get_layer("fusion_vector").output])
    L = np.linspace(-1.0, 1.0, 64 * 64, dtype=np.float32).reshape(1, 64, 64, 1)
    triple, logits = (keras.ops.convert_to_numpy(t) for t in probe(L))
    assert triple.shape == (1, 299, 299, 3) and logits.shape == (1, 1, 1, 1000)
    inc = g.get_layer("inception_v3")
    np.testing.assert_allclose(logits[:, 0, 0], keras.ops.convert_to_numpy(inc(triple)), atol=1e-4)
    assert triple.min() >= -1e-6 and triple.max() <= 1.0 + 1e-6 and triple.max() > 0.99
    np.testing.assert_array_equal(triple[..., 0], triple[..., 2])
    assert not inc.trainable and inc.layers[-1].activation is keras.activations.linear  # pre-softmax


def test_the_fusion_repeats_one_vector_over_the_grid(paper_width_generator):
    g = paper_width_generator
    probe = keras.Model(g.input, [g.get_layer("fusion_repeat").output, g.get_layer("fusion_vector").output])
    rep, vector = (keras.ops.convert_to_numpy(t) for t in probe(np.zeros((1, 64, 64, 1), np.float32)))
    for i in range(2):
        for j in range(2):
            np.testing.assert_array_equal(rep[0, i, j], vector[0, 0, 0])


def test_vit_gan_is_the_same_generator_without_inception():
    g = build_model("vit_gan", 64, **SMALL)["colorizer"]
    gi = build_model("vit_i_gan", 64, weights="none", **SMALL)["colorizer"]
    names = {l.name for l in g.layers}
    assert "inception_v3" not in names and not any(n.startswith(("fusion", "inc_")) for n in names)
    assert names < {l.name for l in gi.layers}
    assert g.name == "vit_gan_generator" and gi.name == "vit_i_gan_generator"


def _vit_param_count(dim, depth, heads, mlp, patch, channels, tokens):
    per_block = 2 * 2 * dim + (4 * dim * dim + 4 * dim) + (dim * mlp + mlp + mlp * dim + dim)
    return patch * patch * channels * dim + dim + dim + tokens * dim + depth * per_block + 2 * dim + dim + 1


def test_paper_vit_discriminator_has_64_patches_and_the_expected_size():
    d = build_vit_discriminator((256, 256, 1))
    assert num_tokens(d) == 65  # 8 x 8 patches of 32 px and the class token
    assert d.get_layer("vit_patch_tokens").output.shape[1:] == (64, 1024)
    assert sum(isinstance(l, keras.layers.MultiHeadAttention) for l in d.layers) == 6
    mha = d.get_layer("vit_block1_mha")
    assert mha.num_heads == 16 and mha.key_dim == 64 and mha.dropout == 0.1
    assert d.get_layer("vit_block1_mlp1").units == 2048 and d.get_layer("vit_embed_drop").rate == 0.1
    assert d.output.shape[1:] == (1,)
    assert d.count_params() == _vit_param_count(1024, 6, 16, 2048, 32, 3, 65)


def test_vit_mean_pool_and_non_256_sizes():
    d = build_vit_discriminator((96, 96, 1), pool="mean", dim=32, depth=1, heads=2, mlp_dim=32)
    assert num_tokens(d) == 9  # its own 3 x 3 grid, no class token
    out = d({"condition": np.zeros((2, 96, 96, 1), np.float32), "image": np.zeros((2, 96, 96, 2), np.float32)})
    assert out.shape == (2, 1)
    with pytest.raises(ValueError, match=r"100x100 .*multiple of patch_size"):
        build_vit_discriminator((100, 100, 1), dim=32, depth=1, heads=2, mlp_dim=32)
    with pytest.raises(ValueError, match="multiple of 32"):
        build_vit_i_gan_generator((100, 100, 1), fusion_inception=False)


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(dim=30, heads=4), "divisible by heads"),
        (dict(pool="max"), "cls, mean"),
        (dict(dropout=1.5), "dropout"),
    ],
)
def test_bad_vit_options_name_the_value(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        build_vit_discriminator((64, 64, 1), **{"dim": 32, "depth": 1, "heads": 2, "mlp_dim": 32, **kwargs})


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(weights="bogus"), "imagenet"),
        (dict(output_activation="relu"), "tanh, leaky_relu, linear"),
        (dict(encoder_filters=(8, 8)), "5 positive widths"),
        (dict(inception_range="rgb"), "unit, imagenet"),
    ],
)
def test_bad_generator_options_name_the_value(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        build_model("vit_i_gan", 64, **{"weights": "none", **SMALL, **kwargs})


def test_imagenet_download_that_cannot_happen_fails_with_what_to_do(monkeypatch, tmp_path):
    from kcolor.models import weights

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached weights
    monkeypatch.setenv("HOME", str(tmp_path))

    def no_network(address, timeout=None):
        assert address[0] == "storage.googleapis.com"
        raise OSError("[Errno -2] Name or service not known")

    monkeypatch.setattr(weights.socket, "create_connection", no_network)
    with pytest.raises(DownloadUnavailable, match="inception_v3.*weights=none"):
        build_model("vit_i_gan", 64, **SMALL)  # weights="imagenet" is the default


def test_weights_from_a_file(tmp_path, paper_width_generator):
    inc = paper_width_generator.get_layer("inception_v3")
    path = tmp_path / "inception.weights.h5"
    inc.save_weights(path)
    loaded = inception_mod.build_inception_v3(include_top=True, weights=str(path))
    x = np.random.default_rng(0).random((1, 299, 299, 3), dtype=np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(inc(x)), atol=1e-5)


@pytest.mark.parametrize("name", ["vit_i_gan", "vit_gan"])
def test_both_gans_train_a_step_and_every_trainable_weight_moves(name):
    options = dict(SMALL, **({"weights": "none"} if name == "vit_i_gan" else {}))
    nets = build_model(name, 64, **options)
    g, d = nets["colorizer"], nets["discriminator"]
    g_opt, d_opt = make_optimizer(2e-4, beta_1=0.5, beta_2=0.9), make_optimizer(2e-4, beta_1=0.5, beta_2=0.9)
    g_opt.build(g.trainable_variables)
    d_opt.build(d.trainable_variables)
    before = {w.path: w.numpy().copy() for w in g.weights + d.weights}
    frozen = {w.path for w in g.non_trainable_weights}
    step = tf.function(
        lambda batch: gan_step(
            batch, generator=g, discriminator=d, g_opt=g_opt, d_opt=d_opt, io=get_io(get_model(name).io), **nets["gan_loss"]
        )
    )
    batch = {"rgb": tf.random.stateless_uniform((2, 64, 64, 3), seed=(1, 2))}
    losses = {k: float(v) for k, v in step(batch).items()}
    assert {"total", "gan", "recon", "d_real", "d_fake", "d_total"} <= set(losses)
    assert all(np.isfinite(v) for v in losses.values())
    # Paper 004's hybrid loss: L1 summed over each image + BCE, unweighted (section 4.1).
    assert nets["gan_loss"] == {"adv_loss": "bce", "recon_loss": "l1", "recon_weight": 1.0, "recon_reduction": "sum"}
    for w in g.trainable_weights + d.trainable_weights:
        assert not np.array_equal(before[w.path], w.numpy()), f"{w.path} did not change"
    inception_weights = g.get_layer("inception_v3").weights if name == "vit_i_gan" else []
    assert (name == "vit_i_gan") == bool(inception_weights)
    for w in inception_weights:
        assert w.path in frozen
        np.testing.assert_array_equal(before[w.path], w.numpy())


def test_paper_configs_build_the_paper_setting():
    from kcolor.config import resolve_config
    from kcolor.configs import get_config

    for name, model in (("unsplash_vit_i_gan", "vit_i_gan"), ("unsplash_vit_gan", "vit_gan")):
        cfg = resolve_config(get_config(name))
        assert (cfg.model, cfg.image_size, cfg.batch_size, cfg.epochs) == (model, 256, 16, 50)
        assert (cfg.learning_rate, cfg.beta_1, cfg.beta_2, cfg.lr_schedule) == (2e-4, 0.5, 0.9, None)
        assert cfg.data.startswith("folder:") and cfg.data.endswith("data/unsplash")
    assert resolve_config(get_config("unsplash_vit_i_gan")).options == {
        "weights": "imagenet", "recon_weight": 1.0, "recon_reduction": "sum"
    }
    coco = resolve_config(get_config("coco_vit_i_gan"))
    assert (coco.beta_2, coco.lr_schedule) == (0.999, "piecewise:59000:2e-4,2e-5")
    assert coco.epochs * coco.steps_per_epoch == 59000 + 118000
    smoke = resolve_config(get_config("vit_i_gan_smoke"))
    assert smoke.data == "sample" and smoke.options["weights"] == "none" and smoke.options["vit_dim"] == 64
    # FID counts: Table 2's 10k Unsplash images, section 6.4's 40k COCO test images; the
    # smoke and demo settings score every image they have.
    assert [resolve_config(get_config(n)).fid_images for n in ("unsplash_vit_i_gan", "unsplash_vit_gan")] == [10000] * 2
    assert coco.fid_images == 40000
    assert [resolve_config(get_config(n)).fid_images for n in ("vit_i_gan_smoke", "vit_gan_photos_demo")] == [None, None]
    # Only ViT-I-GAN is trained on COCO (sections 5 and 6.4).
    with pytest.raises(ValueError, match="coco_vit_gan"):
        get_config("coco_vit_gan")


@pytest.mark.parametrize("model", ["vit_i_gan", "vit_gan"])
def test_ncd_configs_fine_tune_the_unsplash_run_on_400_of_723(model):
    from kcolor.config import resolve_config
    from kcolor.configs import get_config
    from kcolor.training.loop import default_run_dir

    unsplash = resolve_config(get_config(f"unsplash_{model}"))
    ncd = resolve_config(get_config(f"ncd_{model}"))
    assert ncd.model == model and ncd.data.startswith("folder:") and ncd.data.endswith("data/ncd")
    assert np.allclose(np.array(ncd.fractions) * 723, (400, 0, 323))
    # It starts from the Unsplash run folder `kcolor train --config unsplash_...` writes,
    # whose networks are its own: the same model, size and options.
    assert ncd.init_from == default_run_dir(unsplash)
    same = ("model", "image_size", "options", "batch_size", "epochs", "learning_rate", "beta_1", "beta_2")
    assert {k: getattr(ncd, k) for k in same} == {k: getattr(unsplash, k) for k in same}
    assert ncd.fid_images is None and unsplash.init_from is None
    # 723 file names split by the hash: about 400 / 323, no validation split.
    from kcolor.data.raw import split_ids

    counts = {k: len(v) for k, v in split_ids([f"cat{i % 20}/{i:04d}.jpg" for i in range(723)], ncd.fractions).items()}
    assert counts["val"] == 0 and abs(counts["train"] - 400) <= 40 and counts["train"] + counts["test"] == 723
    assert ncd.config_name == f"ncd_{model}"


def test_the_generator_has_no_skip_connections_unless_asked():
    plain = build_model("vit_gan", 64, **SMALL)["colorizer"]
    assert not [l for l in plain.layers if isinstance(l, keras.layers.Concatenate)]
    g = build_model("vit_i_gan", 64, weights="none", skips=True, **SMALL)["colorizer"]
    for i in range(1, 6):  # dec_i_up at H / 2^(5-i) meets the encoder stage 6-i before its pooling
        concat = g.get_layer(f"dec{i}_skip")
        upsampled, skip = concat.input
        assert upsampled.shape[1] == skip.shape[1] == 64 // 2 ** (5 - i)
        assert skip is g.get_layer(f"enc{6 - i}b_lrelu").output
    assert g.get_layer("dec1_skip").input[0] is g.get_layer("dec1_up").output  # the fused volume, upsampled
    assert g.output.shape[1:] == (64, 64, 2) and g.count_params() > plain.count_params()
    with pytest.raises(ValueError, match="skips must be true or false"):
        build_model("vit_gan", 64, skips="yes", **SMALL)
    # The builder defaults are the paper's (weights and ViT of Table 1).
    defaults = get_model("vit_i_gan").option_defaults()
    assert defaults["weights"] == "imagenet"
    assert [defaults[k] for k in ("vit_patch", "vit_dim", "vit_depth", "vit_heads", "vit_mlp")] == [32, 1024, 6, 16, 2048]



def _statistics_lag(bn_momentum, steps=40, size=32):
    """Worst BatchNorm layer's median |log(moving variance / variance)| after `steps` ViT-GAN steps.

    The variance is that of 64 training crops seen in training mode with the final
    weights: what the moving statistics, which the colorizer uses, should have reached.
    """
    import dataclasses

    from kcolor.configs.vit_i_gan import vit_gan_smoke
    from kcolor.data import build_datasets
    from kcolor.models.io import feed

    keras.utils.set_random_seed(0)
    data = build_datasets(dataclasses.replace(vit_gan_smoke(), image_size=size, batch_size=8))
    options = dict(SMALL) if bn_momentum is None else dict(SMALL, bn_momentum=bn_momentum)
    nets = build_model("vit_gan", size, **options)
    g, d, io = nets["colorizer"], nets["discriminator"], get_io("l_ab")
    g_opt, d_opt = make_optimizer(2e-4, beta_1=0.5, beta_2=0.9), make_optimizer(2e-4, beta_1=0.5, beta_2=0.9)
    g_opt.build(g.trainable_variables)
    d_opt.build(d.trainable_variables)
    step = tf.function(
        lambda batch: gan_step(batch, generator=g, discriminator=d, g_opt=g_opt, d_opt=d_opt, io=io, **nets["gan_loss"])
    )
    stream = iter(data.train_from(0))
    for _ in range(steps):
        step(next(stream))
    norms = [layer for layer in g.layers if isinstance(layer, keras.layers.BatchNormalization)]
    probe = keras.Model(g.input, [layer.input for layer in norms])
    x = feed(g, io.inputs({"rgb": tf.concat([next(stream)["rgb"] for _ in range(8)], 0)}))
    lags = []
    for layer, a in zip(norms, probe(x, training=True)):
        variance = np.var(keras.ops.convert_to_numpy(a), axis=(0, 1, 2)) + layer.epsilon
        moving = keras.ops.convert_to_numpy(layer.moving_variance) + layer.epsilon
        lags.append(float(np.median(np.abs(np.log(moving / variance)))))
    return max(lags)


def test_vit_gan_moving_statistics_keep_up_with_a_short_run():
    # With Keras' momentum 0.99 the moving variances were still two thirds their
    # initial 1 after 40 steps (measured: a layer 52x off); the colorizer, in inference
    # mode, normalizes with them. Momentum 0.9 (the default) measured 2.0x at worst.
    lag = _statistics_lag(bn_momentum=None)  # the model's default
    assert lag < np.log(4.0), f"a BatchNorm moving variance is {np.exp(lag):.1f}x off the data's"
