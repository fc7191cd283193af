"""What one benchmark case measures, in the case's own (child) process.

`python -m kcolor.bench --case JSON` runs `measure_case` and prints its result as one
JSON line; the driver (`kcolor.bench.run`) starts one such process per case, so thread
pools are set before TensorFlow starts and the peak resident memory is the case's own.
This module owns kcolor's measurements: the real train step of a registered model
(`measure_train`) and the TFRecord input pipeline (`measure_pipeline`); the conv peaks
and the profile are `kcolor.bench.peer`'s, the PyTorch step `kcolor.bench.torch_peer`'s.
TensorFlow is imported inside the functions, after the threads are set.
"""

import os
import tempfile
import time

from kcolor.bench.stats import peak_rss_mb, time_train


def measure_train(case):
    """Images/s of one model's real train step; runs in the child process.

    In the order TensorFlow needs: the threads and logical devices before TensorFlow
    starts, the networks and optimizers under the case's strategy and precision, one
    fixed random batch, the step compiled as `train` compiles it, then the timing
    (`kcolor.bench.stats.time_train`) and, with `profile_steps`, a profile of the step.
    """
    _set_up_devices(case)
    import keras

    from kcolor.models.io import get_io
    from kcolor.models.params import count_params
    from kcolor.models.registry import get_model
    from kcolor.training.precision import resolve_precision
    from kcolor.training.strategy import make_strategy

    keras.utils.set_random_seed(0)
    spec = get_model(case["model"])
    io = get_io(spec.io)
    strategy = make_strategy(case.get("strategy", "default"))
    policy, _ = resolve_precision(case.get("precision"), strategy)
    networks, models, opts = _build_networks(spec, case, strategy, policy)
    batch, element_spec = _fixed_batch(io, int(case["size"]), int(case["batch"]), strategy)
    step = _compile_train_step(spec, io, networks, models, opts, strategy, element_spec, case)

    def run_step():  # reading a loss waits for the step to finish
        float(next(iter(step(batch).values())))

    result = time_train(run_step, int(case["batch"]), steps=case["steps"], warmup=case["warmup"])
    result.update({
        "traces": step.experimental_get_tracing_count(),
        "params": {k: count_params(v)["total"] for k, v in models.items()},
        "trainable": {k: count_params(v)["trainable"] for k, v in models.items()},
        "peak_rss_mb": peak_rss_mb(),
        "policy": policy,
        "replicas": int(strategy.num_replicas_in_sync),
    })
    if case.get("profile_steps"):  # where the step's time goes (kcolor.bench.peer)
        from kcolor.bench.peer import profile_by_op_type

        result["profile"] = profile_by_op_type(run_step, case["profile_steps"])
    return result


def _set_up_devices(case):
    """The case's thread pools and logical CPU devices: both must be set before TensorFlow starts."""
    import tensorflow as tf

    from kcolor.training.strategy import set_threads

    set_threads(case.get("intra_op", 0), case.get("inter_op", 0))
    if case.get("logical_devices", 1) > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * int(case["logical_devices"])
        )


def _build_networks(spec, case, strategy, policy):
    """`(networks, models, optimizers)` of the case's model, built under `strategy` and `policy`.

    The global precision policy is restored afterwards: it only has to hold while the
    layers and optimizers are created.
    """
    import keras

    from kcolor.training.optimizers import make_optimizer

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    with strategy.scope():
        networks = spec.build(int(case["size"]), **{**spec.offline, **case.get("options", {})})  # no downloads
        models = {k: v for k, v in networks.items() if isinstance(v, keras.Model)}
        opts = {}
        for name in ("colorizer", "discriminator") if spec.trainer == "gan" else ("colorizer",):
            opts[name] = make_optimizer(2e-4, beta_1=0.5, mixed_precision=policy)
            opts[name].build(models[name].trainable_variables)
    keras.mixed_precision.set_global_policy(previous)
    return networks, models, opts


def _fixed_batch(io, size, batch_size, strategy):
    """`(batch, element_spec)`: one random batch, the same at every step (no input pipeline in the timing).

    Under a strategy of several replicas it is the same batch, split across the replicas.
    """
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    batch = {"rgb": tf.constant(rng.random((batch_size, size, size, 3), dtype=np.float32))}
    if io.uses_reference:
        batch["reference"] = tf.constant(rng.random((batch_size, size, size, 3), dtype=np.float32))
    element_spec = {k: tf.TensorSpec(v.shape, v.dtype) for k, v in batch.items()}
    if strategy.num_replicas_in_sync > 1:
        stream = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(batch).repeat())
        element_spec = stream.element_spec
        batch = next(iter(stream))
    return batch, element_spec


def _compile_train_step(spec, io, networks, models, opts, strategy, element_spec, case):
    """The model's real train step (`gan_step` or `supervised_step`), compiled as `train` compiles it."""
    from kcolor.training.steps import compile_step, gan_step, supervised_step

    if spec.trainer == "gan":
        gan_loss = {"adv_loss": "bce", "recon_loss": "l1", "recon_weight": 100.0, **(networks.get("gan_loss") or {})}
        return compile_step(
            gan_step,
            strategy=strategy,
            element_spec=element_spec,
            jit_compile=case.get("jit_compile", False),
            generator=models["colorizer"],
            discriminator=models["discriminator"],
            g_opt=opts["colorizer"],
            d_opt=opts["discriminator"],
            io=io,
            **gan_loss,
        )
    return compile_step(
        supervised_step,
        strategy=strategy,
        element_spec=element_spec,
        model=models["colorizer"],
        optimizer=opts["colorizer"],
        loss_fn=case.get("loss", "mse"),
        io=io,
    )


def measure_pipeline(case):
    """Images/s of the TFRecord input pipeline with training switched off (child)."""
    from kcolor.training.strategy import set_threads

    set_threads(case.get("intra_op", 0), case.get("inter_op", 0))
    from kcolor.config import TrainConfig
    from kcolor.data import build_datasets, write_records

    size, batch_size = int(case["size"]), int(case["batch"])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        manifest = write_records("sample", "bench", out_dir=tmp, image_size=size, verbose=False)
        write_time = time.perf_counter() - t0
        cfg = TrainConfig(
            data=f"records:{os.path.join(tmp, 'bench')}",
            image_size=size,
            batch_size=batch_size,
            cache=False,
            augment=("hue", "flip"),
        )
        bundle = build_datasets(cfg)
        batches = iter(bundle.train.repeat())
        for _ in range(int(case["warmup"])):
            next(batches)
        images, t0 = 0, time.perf_counter()
        for _ in range(int(case["steps"])):
            images += int(next(batches)["rgb"].shape[0])
        elapsed = time.perf_counter() - t0
    return {
        "images_per_sec": images / elapsed,
        "images": images,
        "write_s": write_time,
        "train_examples": manifest["counts"]["train"],
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_case(case):
    """Run one case in this (child) process: its `kind` picks the measurement."""
    if case["kind"] == "torch_train":  # the PyTorch peer: torch only, no TensorFlow in this process
        from kcolor.bench.torch_peer import measure_train as measure_torch

        return measure_torch(case)
    if case["kind"] == "peaks":
        from kcolor.bench.peer import measure_peaks

        return measure_peaks(case)
    return measure_train(case) if case["kind"] == "train" else measure_pipeline(case)


__all__ = ["measure_case", "measure_pipeline", "measure_train"]
