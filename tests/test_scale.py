"""Scale and speed: mixed precision chosen per device, strategies by name, TPU static shapes.

Tiny sizes on CPU. The parity test trains the default Pix2Pix twice (float32 and
mixed_bfloat16, same seed) and compares the validation losses.
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from kcolor.config import ConfigError, apply_overrides
from kcolor.configs import get_config
from kcolor.data import build_datasets
from kcolor.models.io import get_io
from kcolor.models.registry import build_model, get_model
from kcolor.models.saving import save_colorizer
from kcolor.training.loop import train
from kcolor.training.optimizers import make_optimizer
from kcolor.training.precision import PRECISIONS, auto_precision, cpu_bf16_flags, resolve_precision
from kcolor.training.resume import FREE_KEYS, WEIGHT_KEYS
from kcolor.training.steps import compile_step, gan_step
from kcolor.training.strategy import describe_strategy, is_chief, make_strategy
from kcolor.specs import STRATEGIES

PARITY_STEPS = 150
# mixed_bfloat16 ends within 10% of float32's validation loss at the same seed. Measured on a
# CPU with bfloat16 units (AVX512-BF16, Zen 4), seeds 3/4/5: 6.9%, 3.1%, 1.1% apart; float32
# alone ends at 0.0126, 0.0115 and 0.0134 on those seeds (16% apart), so 5% was inside the
# noise of 150 GAN steps. A policy that breaks training lands far outside 10%.
PARITY_RTOL = 0.10


def _cpuinfo(tmp_path, flags):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: fpu sse2 avx2 {flags}\n\n", encoding="utf-8")
    return str(path)


def test_auto_precision_reads_the_cpu_flags(tmp_path):
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU decides auto before the CPU flags")
    amx = _cpuinfo(tmp_path, "amx_tile amx_bf16 avx512f")
    assert cpu_bf16_flags(amx) == ("amx_bf16",)
    policy, reason = resolve_precision("auto", cpuinfo_path=amx)
    assert policy == "mixed_bfloat16" and "amx_bf16" in reason
    (tmp_path / "b").mkdir()
    avx2 = _cpuinfo(tmp_path / "b", "fma")
    assert cpu_bf16_flags(avx2) == ()
    assert auto_precision(cpuinfo_path=avx2)[0] == "float32"
    assert cpu_bf16_flags(str(tmp_path / "missing")) == ()
    assert resolve_precision(None)[0] == "float32"
    assert resolve_precision("mixed_float16")[0] == "mixed_float16"
    with pytest.raises(ValueError) as err:
        resolve_precision("float8")
    assert "float8" in str(err.value) and all(p in str(err.value) for p in PRECISIONS)
    with pytest.raises(ConfigError) as err:
        apply_overrides(get_config("sample"), ["mixed_precision=float8"])
    assert "float8" in str(err.value) and "auto" in str(err.value)


def test_saved_colorizer_is_float32_after_mixed_bfloat16(tmp_path):
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        g = build_model("pix2pix", 32, base_filters=8)["colorizer"]
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert g.compute_dtype == "bfloat16"
    path = save_colorizer(g, tmp_path / "colorizer.keras")
    loaded = keras.saving.load_model(path, safe_mode=True)
    policies = {layer.dtype_policy.name for layer in loaded.layers}
    assert policies == {"float32"}
    x = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, loaded.input_shape[-1])).astype("float32")
    out = loaded(x, training=False)
    assert out.dtype == tf.float32
    # The float32 copy computes what the bfloat16 network approximates.
    np.testing.assert_allclose(out.numpy(), tf.cast(g(x, training=False), tf.float32).numpy(), atol=0.05)


def _parity_cfg(precision):
    return apply_overrides(
        get_config("sample"),
        [
            "model=pix2pix",
            "image_size=32",
            "batch_size=4",
            "base_filters=8",
            "sample_images=2",
            "epochs=1",
            f"steps_per_epoch={PARITY_STEPS}",
            "val_steps=2",
            "seed=3",
            f"mixed_precision={precision}",
        ],
    )


def test_mixed_bfloat16_matches_float32_validation_loss(tmp_path):
    results = {p: train(_parity_cfg(p), run_dir=tmp_path / p, verbose=0) for p in ("float32", "mixed_bfloat16")}
    f32, bf16 = results["float32"]["val"]["val_loss"], results["mixed_bfloat16"]["val"]["val_loss"]
    assert np.isfinite(bf16) and f32 != bf16  # bfloat16 really ran: not the same arithmetic
    assert abs(bf16 - f32) <= PARITY_RTOL * f32, (f32, bf16)
    saved = json.loads((tmp_path / "mixed_bfloat16" / "config.json").read_text(encoding="utf-8"))
    assert saved["mixed_precision"] == "mixed_bfloat16"
    loaded = keras.saving.load_model(tmp_path / "mixed_bfloat16" / "colorizer.keras", safe_mode=True)
    assert {layer.dtype_policy.name for layer in loaded.layers} == {"float32"}


def test_strategy_names_auto_and_batch_line():
    assert {"auto", "default", "mirrored", "multiworker", "tpu"} <= set(STRATEGIES)
    strategy = make_strategy("auto")  # no TPU, no GPU here: the default strategy
    if not tf.config.list_physical_devices("GPU"):
        assert strategy.num_replicas_in_sync == 1
    assert is_chief(strategy)
    line = describe_strategy(strategy, 16)
    assert f"global batch 16, per-replica batch {16 // strategy.num_replicas_in_sync}" in line
    with pytest.raises(ConfigError) as err:
        apply_overrides(get_config("sample"), ["strategy=horovod"])
    assert "horovod" in str(err.value) and "multiworker" in str(err.value)


def test_tpu_without_a_tpu_fails_with_a_clear_message(monkeypatch):
    for key in ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError) as err:
        make_strategy("tpu")
    message = str(err.value)
    assert "no TPU could be reached" in message and "Colab" in message and "mirrored" in message


def test_gan_step_traces_once_with_the_static_shapes_a_tpu_needs():
    cfg = apply_overrides(
        get_config("sample"), ["model=pix2pix", "image_size=32", "batch_size=4", "base_filters=8", "val_steps=1"]
    )
    bundle = build_datasets(cfg)
    spec = bundle.train.element_spec
    assert all(s.shape.is_fully_defined() for s in tf.nest.flatten(spec))  # drop_remainder: [4, 32, 32, 3]
    strategy = make_strategy("default")
    with strategy.scope():
        nets = build_model("pix2pix", 32, base_filters=8)
        g_opt, d_opt = make_optimizer(2e-4), make_optimizer(2e-4)
        g_opt.build(nets["colorizer"].trainable_variables)
        d_opt.build(nets["discriminator"].trainable_variables)
    step = compile_step(
        gan_step, strategy=strategy, element_spec=spec, generator=nets["colorizer"],
        discriminator=nets["discriminator"], g_opt=g_opt, d_opt=d_opt, io=get_io(get_model("pix2pix").io),
    )
    concrete = step.get_concrete_function()
    for tensor in concrete.inputs[: len(tf.nest.flatten(spec))]:
        assert tensor.shape.is_fully_defined(), tensor
    for batch in bundle.train.take(2):
        losses = step(batch)
    assert step.experimental_get_tracing_count() == 1
    assert all(np.isfinite(float(v)) for v in losses.values())


TOPOLOGY_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from kcolor.config import apply_overrides
    from kcolor.configs import get_config
    from kcolor.training.loop import train

    def cfg(strategy):
        return apply_overrides(get_config("sample"), [
            "model=pix2pix", "image_size=32", "batch_size=4", "base_filters=8", "sample_images=2",
            "epochs=1", "steps_per_epoch=6", "val_steps=1", f"strategy={strategy}"])

    def weights(run):
        return keras.saving.load_model(f"{run}/colorizer.keras", safe_mode=True).get_weights()

    out = {}
    for first, second in (("default", "mirrored"), ("mirrored", "default")):
        run = f"{sys.argv[1]}/{first}-{second}"
        train(cfg(first), run_dir=run, max_steps=2, verbose=0)
        saved = weights(run)
        resumed = train(cfg(second), run_dir=run, max_steps=2, verbose=0)  # restore under the other topology
        same = all(np.array_equal(a, b) for a, b in zip(saved, weights(run)))
        out[f"{first}->{second}"] = {"same": same, "restored_step": resumed["step"]}
    from kcolor.errors import ConfigError
    try:  # skipping a batch is a conditional update, which a distributed step cannot run
        train(apply_overrides(cfg("mirrored"), ["on_nonfinite=skip_batch"]), run_dir=f"{sys.argv[1]}/skip", verbose=0)
    except ConfigError as err:
        refused = str(err)
    print(json.dumps({"runs": out, "refused": refused}))
    """
)


def test_checkpoint_resumes_across_one_and_two_devices(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", TOPOLOGY_SCRIPT, str(tmp_path)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for direction, r in out["runs"].items():
        assert r == {"same": True, "restored_step": 2}, (direction, r)
    assert "on_nonfinite=skip_batch works on one replica only; strategy=mirrored has 2 replicas" in out["refused"]
    assert not (tmp_path / "skip").exists()  # refused before any work


def test_precision_change_continues_from_a_bitwise_restore(tmp_path):
    # mixed_precision is not a weight key: the variables are float32 under every policy.
    assert "mixed_precision" not in WEIGHT_KEYS and "mixed_precision" not in FREE_KEYS
    run = tmp_path / "run"
    sets = ["model=pix2pix", "image_size=32", "batch_size=4", "base_filters=8", "sample_images=2", "epochs=1",
            "steps_per_epoch=4", "val_steps=1"]
    train(apply_overrides(get_config("sample"), sets + ["mixed_precision=float32"]), run_dir=run, max_steps=2, verbose=0)
    saved = keras.saving.load_model(run / "colorizer.keras", safe_mode=True).get_weights()
    bf16 = sets + ["mixed_precision=mixed_bfloat16"]
    with pytest.raises(ConfigError) as err:
        train(apply_overrides(get_config("sample"), bf16), run_dir=run, max_steps=2, verbose=0)
    assert "mixed_precision: 'float32' -> 'mixed_bfloat16'" in str(err.value) and "resume=continue" in str(err.value)
    # Continued at the restored step (max_steps reached at once): the colorizer is written again from the
    # weights restored under the bfloat16 policy, bitwise those the float32 run saved.
    result = train(apply_overrides(get_config("sample"), bf16 + ["resume=continue"]), run_dir=run, max_steps=2, verbose=0)
    assert result["step"] == 2 and result["stopped_early"]
    restored = keras.saving.load_model(run / "colorizer.keras", safe_mode=True).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(saved, restored))
