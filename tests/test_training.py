"""The training engine: steps update every weight, losses match their formulas, the GAN
step runs under MirroredStrategy, and `train` writes, resumes and reproduces run folders."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from kcolor.config import TrainConfig, apply_overrides
from kcolor.configs import get_config
from kcolor.models.io import get_io
from kcolor.models.registry import build_model
from kcolor.training import loop as loop_lib
from kcolor.training.hooks import RunHooks
from kcolor import metrics
from kcolor.training.losses import ADV_LOSSES, LOSSES, get_loss, register_loss
from kcolor.training.optimizers import FusedAdam
from kcolor.training.steps import compile_step, gan_step, supervised_step
from kcolor.training.strategy import make_strategy
from kcolor.specs import STRATEGIES

ROOT = Path(__file__).resolve().parents[1]


def _rgb_dataset(n=12, size=32, batch=4, seed=0):
    """Smooth random color images: learnable from their gray version."""
    rng = np.random.default_rng(seed)
    low = rng.random((n, 4, 4, 3)).astype(np.float32)
    rgb = tf.image.resize(low, (size, size), method="bilinear")
    return tf.data.Dataset.from_tensor_slices({"rgb": rgb}).batch(batch)


def _values(variables):
    return [v.numpy().copy() for v in variables]


def _unchanged(before, variables):
    return [v.path for b, v in zip(before, variables) if np.array_equal(b, v.numpy())]


def _built(opt, model):
    opt.build(model.trainable_variables)
    return opt


# --------------------------------------------------------------------------- steps


def test_gan_step_changes_every_weight_of_both_networks():
    keras.utils.set_random_seed(1)
    nets = build_model("pix2pix", 32, base_filters=8, preset="isola")
    g, d = nets["colorizer"], nets["discriminator"]
    g_opt, d_opt = _built(FusedAdam(1e-3), g), _built(FusedAdam(1e-3), d)
    ds = _rgb_dataset()
    step = compile_step(
        gan_step,
        element_spec=ds.element_spec,
        generator=g,
        discriminator=d,
        g_opt=g_opt,
        d_opt=d_opt,
        io=get_io("gray_rgb"),
        **nets["gan_loss"],
    )
    g_before, d_before = _values(g.trainable_variables), _values(d.trainable_variables)
    losses = step(next(iter(ds)))
    assert set(losses) == {"total", "gan", "recon", "d_real", "d_fake", "d_total", "d_out_real", "d_out_fake"}
    assert all(np.isfinite(float(v)) for v in losses.values())
    np.testing.assert_allclose(float(losses["total"]), float(losses["gan"]) + 100 * float(losses["recon"]), rtol=1e-5)
    np.testing.assert_allclose(float(losses["d_total"]), float(losses["d_real"]) + float(losses["d_fake"]), rtol=1e-5)
    assert _unchanged(g_before, g.trainable_variables) == []
    assert _unchanged(d_before, d.trainable_variables) == []
    # A short last batch runs through the same trace.
    for batch in ds:
        step(batch)
    assert step.experimental_get_tracing_count() == 1


def _first_gan_losses(**loss):
    keras.utils.set_random_seed(1)
    nets = build_model("pix2pix", 32, base_filters=8, preset="isola")
    g, d = nets["colorizer"], nets["discriminator"]
    ds = _rgb_dataset()
    step = compile_step(
        gan_step, element_spec=ds.element_spec, generator=g, discriminator=d, g_opt=_built(FusedAdam(1e-3), g),
        d_opt=_built(FusedAdam(1e-3), d), io=get_io("gray_rgb"), adv_loss="bce", recon_loss="l1", **loss,
    )
    return {k: float(v) for k, v in step(next(iter(ds))).items()}


def test_gan_step_sum_reduction_sums_the_reconstruction_loss_over_each_image():
    mean = _first_gan_losses(recon_weight=1.0, recon_reduction="mean")
    summed = _first_gan_losses(recon_weight=1.0, recon_reduction="sum")
    # Same weights, same batch: the L1 summed over one image's 32 x 32 x 3 values.
    np.testing.assert_allclose(summed["recon"], mean["recon"] * 32 * 32 * 3, rtol=1e-5)
    np.testing.assert_allclose(summed["gan"], mean["gan"], rtol=1e-6)
    np.testing.assert_allclose(summed["total"], summed["gan"] + summed["recon"], rtol=1e-5)
    with pytest.raises(ValueError, match=r"recon_reduction='total' \(valid: mean, sum\)"):
        _first_gan_losses(recon_reduction="total")


def test_supervised_step_changes_every_weight():
    keras.utils.set_random_seed(2)
    model = build_model("pix2pix", 32, base_filters=8)["colorizer"]
    opt = _built(FusedAdam(1e-3), model)
    ds = _rgb_dataset()
    step = compile_step(
        supervised_step, element_spec=ds.element_spec, model=model, optimizer=opt, loss_fn="mse", io=get_io("gray_rgb")
    )
    before = _values(model.trainable_variables)
    losses = step(next(iter(ds)))
    assert list(losses) == ["loss"] and np.isfinite(float(losses["loss"]))
    assert _unchanged(before, model.trainable_variables) == []


def test_fused_adam_matches_keras_adam():
    rng = np.random.default_rng(0)
    w_keras = keras.Variable(rng.normal(size=(7, 5)).astype(np.float32))
    w_fused = keras.Variable(w_keras.numpy())
    a = keras.optimizers.Adam(1e-2, beta_1=0.5, beta_2=0.9)
    b = FusedAdam(1e-2, beta_1=0.5, beta_2=0.9)
    a.build([w_keras])
    b.build([w_fused])
    for _ in range(10):
        grad = tf.constant(rng.normal(size=(7, 5)).astype(np.float32))
        a.apply_gradients([(grad, w_keras)])
        b.apply_gradients([(grad, w_fused)])
    np.testing.assert_allclose(w_fused.numpy(), w_keras.numpy(), atol=1e-6)
    assert int(b.iterations.numpy()) == 10
    assert keras.optimizers.deserialize(keras.optimizers.serialize(b)).get_config()["beta_2"] == 0.9


# --------------------------------------------------------------------------- losses


def test_adversarial_losses_match_their_formulas():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(2, 5, 5, 1)).astype(np.float32)
    fake = rng.normal(size=(2, 5, 5, 1)).astype(np.float32)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    (d_real, d_fake), g_gan = ADV_LOSSES["bce"].discriminator(real, fake), ADV_LOSSES["bce"].generator(fake)
    np.testing.assert_allclose(d_real, -np.log(sig(real)).mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(d_fake, -np.log(1 - sig(fake)).mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(g_gan, -np.log(sig(fake)).mean(axis=(1, 2, 3)), rtol=1e-5)
    (d_real, d_fake), g_gan = ADV_LOSSES["lsgan"].discriminator(real, fake), ADV_LOSSES["lsgan"].generator(fake)
    np.testing.assert_allclose(d_real, ((real - 1) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(d_fake, (fake**2).mean(axis=(1, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(g_gan, ((fake - 1) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)


@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_losses_are_the_reported_metrics(size):
    # One definition: the loss trains on exactly the quantity `kcolor evaluate` reports.
    rng = np.random.default_rng(size)
    a = tf.constant(rng.random((2, size, size, 3)).astype(np.float32))
    b = tf.clip_by_value(a + 0.2 * tf.random.normal(a.shape, seed=1), 0.0, 1.0)
    ms = metrics.ms_ssim(b, a).numpy()
    assert np.all(ms < 0.99) and np.all(ms > 0.0)
    np.testing.assert_array_equal(get_loss("ms_ssim")(a, b).numpy(), 1.0 - ms)
    np.testing.assert_array_equal(get_loss("mse")(a, b).numpy(), metrics.mse(b, a).numpy())
    np.testing.assert_array_equal(get_loss("mae")(a, b).numpy(), metrics.mae(b, a).numpy())
    np.testing.assert_allclose(
        get_loss("mse_ms_ssim")(a, b).numpy(), 0.5 * (metrics.mse(b, a).numpy() + 1.0 - ms), rtol=1e-6
    )
    np.testing.assert_allclose(get_loss("ms_ssim")(a, a).numpy(), 0.0, atol=1e-5)
    if size >= 161:  # where tf.image.ssim_multiscale works with its defaults
        np.testing.assert_allclose(ms, tf.image.ssim_multiscale(b, a, 1.0).numpy(), rtol=1e-6)


def test_loss_table_is_extensible_and_errors_list_choices():
    assert {"mse", "mae", "l1", "ms_ssim", "mse_ms_ssim"} <= set(LOSSES)
    with pytest.raises(ValueError, match="already registered"):
        register_loss("mse")(lambda t, p: t)
    with pytest.raises(ValueError) as err:
        get_loss("l3")
    assert "l3" in str(err.value) and "mse" in str(err.value) and "ms_ssim" in str(err.value)


def test_strategies_by_name():
    assert make_strategy("default").num_replicas_in_sync == 1
    assert make_strategy("one_device").num_replicas_in_sync == 1
    with pytest.raises(ValueError) as err:
        make_strategy("horovod")
    assert "horovod" in str(err.value) and all(s in str(err.value) for s in STRATEGIES)


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from kcolor.models.io import get_io
    from kcolor.models.registry import build_model
    from kcolor.training.optimizers import make_optimizer
    from kcolor.training.steps import compile_step, gan_step
    from kcolor.training.strategy import make_strategy

    keras.utils.set_random_seed(0)
    strategy = make_strategy("mirrored")
    with strategy.scope():
        nets = build_model("pix2pix", 32, base_filters=8)
        g, d = nets["colorizer"], nets["discriminator"]
        g_opt, d_opt = make_optimizer(1e-3), make_optimizer(1e-3)
        g_opt.build(g.trainable_variables)
        d_opt.build(d.trainable_variables)
    rgb = tf.image.resize(tf.random.uniform((8, 4, 4, 3), seed=1), (32, 32))
    ds = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices({"rgb": rgb}).batch(8))
    step = compile_step(gan_step, strategy=strategy, element_spec=ds.element_spec, generator=g,
                        discriminator=d, g_opt=g_opt, d_opt=d_opt, io=get_io("gray_rgb"), **nets["gan_loss"])
    before = [v.numpy().copy() for v in g.trainable_variables + d.trainable_variables]
    losses = {k: float(v) for k, v in step(next(iter(ds))).items()}
    after = [v.numpy() for v in g.trainable_variables + d.trainable_variables]
    per_replica = [int(v.shape[0]) for v in strategy.experimental_local_results(next(iter(ds))["rgb"])]
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "per_replica": per_replica,
        "losses": losses,
        "unchanged": sum(np.array_equal(a, b) for a, b in zip(before, after)),
        "weights": len(before),
    }))
    """
)


def test_gan_step_under_mirrored_strategy_on_two_logical_cpus():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True, text=True, timeout=300, cwd=ROOT, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2 and result["per_replica"] == [4, 4]
    assert all(np.isfinite(v) for v in result["losses"].values())
    assert result["unchanged"] == 0 and result["weights"] > 0


# --------------------------------------------------------------------------- the loop


def _cfg(*overrides):
    base = apply_overrides(
        get_config("sample"),
        [
            "model=pix2pix",
            "image_size=32",
            "batch_size=4",
            "base_filters=8",
            "sample_images=3",
            "learning_rate=0.002",
            *overrides,
        ],
    )
    return base


def _tiny_data(tmp_path, n=24):
    """Overrides that train on a folder of `n` small smooth PNGs (20 train, 4 val by the 75/25 hash split)."""
    folder = tmp_path / "photos"
    if not folder.exists():
        folder.mkdir()
        low = np.random.default_rng(0).random((n, 4, 4, 3)).astype(np.float32)
        rgb = tf.image.resize(low, (32, 32), method="bilinear")
        for i in range(n):
            png = tf.io.encode_png(tf.image.convert_image_dtype(rgb[i], tf.uint8))
            tf.io.write_file(str(folder / f"{i:02d}.png"), png)
    return [f"data=folder:{folder}", "fractions=0.75,0.25"]


def test_two_epochs_on_sample_photos_reduce_the_reconstruction_loss(tmp_path):
    cfg = _cfg("epochs=2", "steps_per_epoch=12", "val_steps=2")
    result = loop_lib.train(cfg, run_dir=tmp_path / "run", verbose=0)
    history = result["history"]
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[1]["train_recon"] < history[0]["train_recon"]
    assert history[1]["val_loss"] < history[0]["val_loss"]
    assert result["step"] == 24 and result["epoch"] == 2
    assert all(row["images_per_sec"] > 0 for row in history)


def test_run_folder_contents(tmp_path):
    run = tmp_path / "run"
    result = loop_lib.train(_cfg("epochs=1", *_tiny_data(tmp_path)), run_dir=run, verbose=0)
    for name in ("config.json", "model.json", "history.csv", "history.json", "loss_curve.png", "samples.png"):
        assert (run / name).stat().st_size > 0, name
    assert json.loads((run / "config.json").read_text())["model"] == "pix2pix"
    info = json.loads((run / "model.json").read_text())
    assert (info["model"], info["image_size"], info["io"]) == ("pix2pix", 32, "gray_rgb")
    assert info["options"]["base_filters"] == 8
    assert tf.train.latest_checkpoint(str(run / "checkpoints"))
    header = (run / "history.csv").read_text().splitlines()[0].split(",")
    assert {"epoch", "train_recon", "train_d_total", "val_loss", "images_per_sec", "wall_time"} <= set(header)
    # TensorBoard: scalars and the image grid, readable from the event file.
    tags = set()
    for event_file in (run / "tb").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(value.tag for value in event.summary.value)
    assert {"epoch/train_recon", "epoch/val_loss", "samples/gray_prediction_colorized_truth"} <= tags
    # The colorizer reloads in safe mode and gives the trained model's output.
    model = keras.models.load_model(run / "colorizer.keras", safe_mode=True)
    gray = tf.random.uniform((1, 32, 32, 1))
    assert model(gray).shape == (1, 32, 32, 3)
    assert result["losses"]["recon"] > 0 and "val_loss" in result["val"]


def test_resume_continues_from_the_checkpointed_step(tmp_path):
    run = tmp_path / "run"
    cfg = _cfg("epochs=2", "steps_per_epoch=4", *_tiny_data(tmp_path))
    first = loop_lib.train(cfg, run_dir=run, max_steps=3, verbose=0)
    assert first["stopped_early"] and first["step"] == 3 and first["epoch"] == 0
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-3")
    second = loop_lib.train(cfg, run_dir=run, verbose=0)
    assert not second["stopped_early"]
    assert second["step"] == 8 and second["epoch"] == 2  # 3 + 1 to end epoch 1, + 4
    assert [row["step"] for row in second["history"]] == [4, 8]
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run / "checkpoints")))
    assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == 8
    # A finished run resumes to nothing more to do.
    third = loop_lib.train(cfg, run_dir=run, verbose=0)
    assert third["step"] == 8 and len(third["history"]) == 2


def _network_tensors(run_dir):
    """The networks' (colorizer, discriminator) values in a run's latest checkpoint, by checkpoint key."""
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run_dir / "checkpoints")))
    keys = [k for k in reader.get_variable_to_shape_map() if k.split("/")[0] in ("colorizer", "discriminator")]
    return {k: reader.get_tensor(k) for k in keys if "OPTIMIZER_SLOT" not in k}


def _same_tensors(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_init_from_starts_a_fresh_run_from_another_runs_networks_and_never_a_resume(tmp_path):
    import shutil

    data = _tiny_data(tmp_path)
    source_dir, tuned_dir = tmp_path / "source", tmp_path / "tuned"
    loop_lib.train(_cfg("epochs=1", "steps_per_epoch=2", *data), run_dir=source_dir, verbose=0)
    source = _network_tensors(source_dir)
    assert any(k.startswith("discriminator/") for k in source) and any(k.startswith("colorizer/") for k in source)
    tuned_cfg = _cfg("epochs=1", "steps_per_epoch=2", "learning_rate=0.001", f"init_from={source_dir}", *data)
    start = loop_lib.train(tuned_cfg, run_dir=tuned_dir, max_steps=0, verbose=0)  # step 0: only the start
    assert start["step"] == 0 and _same_tensors(_network_tensors(tuned_dir), source)
    loop_lib.train(_cfg("epochs=1", "steps_per_epoch=2", *data), run_dir=tmp_path / "fresh", max_steps=0, verbose=0)
    assert not _same_tensors(_network_tensors(tmp_path / "fresh"), source)  # a run without init_from starts elsewhere
    # The resume trains on from the run's own checkpoint; finished, it is never reset to
    # the source's weights, even once the source folder is gone.
    tuned = loop_lib.train(tuned_cfg, run_dir=tuned_dir, verbose=0)
    assert tuned["step"] == 2 and not _same_tensors(_network_tensors(tuned_dir), source)
    trained = _network_tensors(tuned_dir)
    shutil.rmtree(source_dir)
    assert loop_lib.train(tuned_cfg, run_dir=tuned_dir, verbose=0)["step"] == 2
    assert _same_tensors(_network_tensors(tuned_dir), trained)


def test_init_from_without_weights_or_of_another_model_fails_before_any_work(tmp_path):
    from kcolor.errors import RunFolderError

    nowhere = f"data=folder:{tmp_path / 'no-photos'}"  # reading it would fail otherwise
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFolderError, match="holds no weights: no checkpoint in"):
        loop_lib.train(_cfg(f"init_from={tmp_path / 'empty'}", nowhere), run_dir=tmp_path / "a", verbose=0)
    with pytest.raises(RunFolderError, match="does not exist"):
        loop_lib.train(_cfg(f"init_from={tmp_path / 'gone'}", nowhere), run_dir=tmp_path / "b", verbose=0)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    data = _tiny_data(tmp_path)
    loop_lib.train(_cfg("epochs=1", "steps_per_epoch=1", *data), run_dir=tmp_path / "narrow", verbose=0)
    with pytest.raises(RunFolderError, match="does not fit this run's networks"):
        loop_lib.train(_cfg("base_filters=16", f"init_from={tmp_path / 'narrow'}", *data), run_dir=tmp_path / "wide",
                       verbose=0)  # fmt: skip


def test_interrupt_checkpoints_before_exiting(tmp_path, monkeypatch):
    run = tmp_path / "run"
    cfg = _cfg("epochs=2", "steps_per_epoch=3", *_tiny_data(tmp_path))

    def interrupt(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop_lib._Run, "validate", interrupt)
    with pytest.raises(KeyboardInterrupt):
        loop_lib.train(cfg, run_dir=run, verbose=0)
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-3")
    monkeypatch.undo()
    result = loop_lib.train(cfg, run_dir=run, verbose=0)
    assert result["step"] == 6 and result["epoch"] == 2


def test_same_seed_same_run(tmp_path):
    cfg = _cfg("epochs=1", "steps_per_epoch=3", "seed=5", *_tiny_data(tmp_path))
    a = loop_lib.train(cfg, run_dir=tmp_path / "a", verbose=0)
    b = loop_lib.train(cfg, run_dir=tmp_path / "b", verbose=0)
    for key, value in a["losses"].items():
        np.testing.assert_allclose(b["losses"][key], value, rtol=1e-4, err_msg=key)


def test_model_defaults_fill_untouched_fields_and_resume_guards_the_model(tmp_path):
    run = tmp_path / "defaults"
    data = _tiny_data(tmp_path)
    loop_lib.train(
        apply_overrides(
            TrainConfig(
                model="pix2pix", beta_1=0.9, image_size=32, epochs=1, steps_per_epoch=1, options={"base_filters": 8}
            ),
            ["batch_size=4", *data],
        ),
        run_dir=run,
        verbose=0,
    )
    saved = json.loads((run / "config.json").read_text())
    assert saved["beta_1"] == 0.9  # set by the config: kept
    assert saved["beta_2"] == 0.999 and saved["learning_rate"] == 2e-4  # pix2pix's registered recipe
    run = tmp_path / "run"
    loop_lib.train(_cfg("epochs=1", "steps_per_epoch=1", *data), run_dir=run, verbose=0)
    with pytest.raises(ValueError, match="base_filters"):
        loop_lib.train(_cfg("epochs=1", "base_filters=16", *data), run_dir=run, verbose=0)


def test_gan_step_with_loss_scaling_under_mixed_float16():
    from kcolor.training.optimizers import make_optimizer

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        nets = build_model("pix2pix", 32, base_filters=8)
        g, d = nets["colorizer"], nets["discriminator"]
        g_opt = _built(make_optimizer(1e-3, mixed_precision="mixed_float16"), g)
        d_opt = _built(make_optimizer(1e-3, mixed_precision="mixed_float16"), d)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert isinstance(g_opt, keras.optimizers.LossScaleOptimizer)
    ds = _rgb_dataset()
    step = compile_step(
        gan_step, element_spec=ds.element_spec, generator=g, discriminator=d, g_opt=g_opt, d_opt=d_opt,
        io=get_io("gray_rgb"), **nets["gan_loss"],
    )
    g_before, d_before = _values(g.trainable_variables), _values(d.trainable_variables)
    # Dynamic loss scaling starts high and skips the update of any step whose scaled
    # gradients overflow, halving the scale; a few steps find a scale that applies.
    for _ in range(8):
        losses = step(next(iter(ds)))
        if not _unchanged(g_before, g.trainable_variables) and not _unchanged(d_before, d.trainable_variables):
            break
    assert all(np.isfinite(float(v)) for v in losses.values())
    assert _unchanged(g_before, g.trainable_variables) == []
    assert _unchanged(d_before, d.trainable_variables) == []


# --------------------------------------------------------------------------- bench


def test_bench_measures_the_real_train_step():
    from kcolor.bench import cases as bench

    result = bench.measure_train(
        {"model": "pix2pix", "size": 32, "batch": 2, "steps": 3, "warmup": 1, "options": {"base_filters": 8}}
    )
    assert result["images_per_sec"] > 0 and result["traces"] == 1
    assert result["step_ms_q1"] <= result["step_ms_median"] <= result["step_ms_q3"]
    assert set(result["params"]) == {"colorizer", "discriminator"} and result["peak_rss_mb"] > 0


def test_bench_scaling_rows_are_compared_with_one_process_of_the_same_batch():
    from kcolor.bench import run as bench

    isola = {"model": "pix2pix", "options": {"preset": "isola"}, "size": 128, "batch": 16}
    results = [
        dict(isola, label="pix2pix isola 128/16", images_per_sec=12.0, policy="float32", replicas=1),
        dict(isola, label="pix2pix isola auto", images_per_sec=24.0, policy="mixed_bfloat16", replicas=1),
        {"label": "pipeline records:sample", "kind": "pipeline", "size": 256, "batch": 16, "images_per_sec": 500.0},
        dict(isola, label="pix2pix isola 2 workers", strategy="multiworker", images_per_sec=9.0, policy="float32",
             replicas=2),
        dict(isola, label="pix2pix isola 2 logical CPUs", strategy="mirrored", size=32, images_per_sec=3.0,
             policy="float32", replicas=2),
    ]
    lines = bench.scaling_summary(results)
    assert lines[0] == "pix2pix isola 2 workers: 9.00 img/s against 12.00 for one process (pix2pix isola 128/16): x0.75"
    assert lines[1] == "pix2pix isola 2 logical CPUs: 3.00 img/s (no 1-process float32 row of that size here)"


def test_bench_cases_and_model_filter(capsys):
    from kcolor.bench import run as bench

    args = bench.argparse.Namespace(
        models="pix2pix", quick=False, steps=20, warmup=3, size=64, batch=8, intra_op=2, inter_op=2,
        no_pipeline=False, pipeline_size=256, precision="auto",
    )
    labels = [c["label"] for c in bench.build_cases(args)]
    assert labels == [
        "pix2pix", "pix2pix isola 128/16", "pix2pix isola 256/1", "pix2pix isola auto", "pix2pix isola 2 logical CPUs",
        "pix2pix isola 2 workers", "pipeline records:sample",
    ]
    workers = next(c for c in bench.build_cases(args) if c["label"] == "pix2pix isola 2 workers")
    assert workers["strategy"] == "multiworker" and workers["workers"] == 2 and workers["intra_op"] == 1
    assert (workers["size"], workers["batch"]) == (128, 16)  # the 1-process row's global batch
    targets = {c["label"]: c.get("target_images_per_sec") for c in bench.build_cases(args)}
    assert targets["pix2pix isola 128/16"] == 8.5 and targets["pix2pix isola 256/1"] == 1.45
    with pytest.raises(SystemExit) as err:
        bench.main(["--models", "nope", "--out", "/dev/null"])
    assert "nope" in str(err.value) and "pix2pix" in str(err.value)


def test_hooks_hear_every_phase_in_order_and_again_when_epoch_files_are_cut_short(tmp_path):
    class Record(RunHooks):
        def __init__(self):
            self.calls = []

        def on_phase(self, phase, count):
            self.calls.append((phase, count))

    cfg = _cfg("epochs=1", "steps_per_epoch=2", "val_steps=1", "checkpoint_every_steps=1", *_tiny_data(tmp_path))
    run = tmp_path / "run"
    first = Record()
    loop_lib.train(cfg, run_dir=run, verbose=0, hooks=first)
    assert first.calls == [
        ("step", 1), ("checkpoint", 1), ("step", 2), ("checkpoint", 2),
        ("history", 1), ("figures", 1), ("colorizer", 1),
    ]  # fmt: skip
    # An epoch whose files a kill cut short: the next run writes them again, and says so to its hooks.
    (run / "history.json").unlink()
    again = Record()
    loop_lib.train(cfg, run_dir=run, verbose=0, hooks=again)
    assert again.calls == [("history", 1), ("figures", 1), ("colorizer", 1)]
    assert (run / "history.json").is_file()
