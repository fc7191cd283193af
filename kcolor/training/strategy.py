"""`tf.distribute` strategies by name, and the runtime's thread settings.

| name           | strategy                                                                |
|----------------|-------------------------------------------------------------------------|
| `auto`         | `tpu` when a TPU is announced (see `tpu_hint`) and resolves; `mirrored` with several GPUs; else `default` |
| `default`      | the default (no-op) strategy: one device, no replica context overhead   |
| `one_device`   | `OneDeviceStrategy` on the first GPU, else the CPU                      |
| `mirrored`     | `MirroredStrategy` over every GPU; with no GPU, over every logical CPU  |
| `multiworker`  | `MultiWorkerMirroredStrategy`; the cluster comes from the `TF_CONFIG` environment variable, as TensorFlow documents it (`multi_worker` is the same) |
| `tpu`          | `TPUStrategy` on the TPU found by `TPUClusterResolver` (Colab: `COLAB_TPU_ADDR`; Cloud TPU VM: `TPU_NAME` or `local`) |

`batch_size` is always the global batch: each of the strategy's replicas gets
`batch_size / num_replicas_in_sync` examples a step (`describe_strategy` says both).
TPUs need static shapes: the data pipeline batches with `drop_remainder=True`, so every
batch has the same known shape and the compiled step never retraces.

Example:
    strategy = make_strategy("mirrored")
    with strategy.scope():
        model = build_model("pix2pix", 64)["colorizer"]
"""

import logging

import tensorflow as tf

from kcolor.specs import STRATEGIES
# Environment variables that say a TPU is attached (Colab, Cloud TPU VMs).
TPU_ENV = ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE")

log = logging.getLogger(__name__)
# One strategy object per name and process. Two MirroredStrategy objects number their
# collective ops from the same start, so a second one's all-reduce can meet the first
# one's cached instance of another shape ("Shape mismatch in the collective instance");
# a multi-worker strategy configures the runtime's collectives once per process anyway.
_MADE = {}


def make_strategy(name="default"):
    """The `tf.distribute.Strategy` called `name` (see the module table); built once per process."""
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy '{name}'. Valid strategies: {', '.join(STRATEGIES)}")
    name = "multiworker" if name == "multi_worker" else name
    if name not in _MADE:
        _MADE[name] = _make(name)
    return _MADE[name]


def _make(name):
    if name == "auto":
        if tpu_hint():
            try:
                return _tpu_strategy()
            except RuntimeError as err:
                log.warning("strategy=auto: %s; not using a TPU", err)
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if name == "default":
        return tf.distribute.get_strategy()
    if name in ("multiworker", "multi_worker"):
        # Before any call that starts the runtime (listing devices does): the strategy
        # configures the collectives, which TensorFlow allows only at start-up.
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        if gpus:
            return tf.distribute.MirroredStrategy()
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=cpus)
    return _tpu_strategy()


def tpu_hint():
    """True when the environment announces a TPU (`TPU_ENV` variables, or `/dev/accel*`)."""
    import glob
    import os

    return any(os.environ.get(k) for k in TPU_ENV) or bool(glob.glob("/dev/accel*"))


def _tpu_strategy(tpu=None):
    """Resolve the TPU (`tpu`: a name/address; default from the environment), connect, initialise."""
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as err:
        raise RuntimeError(
            f"strategy 'tpu': no TPU could be reached ({err}). On Colab choose Runtime > Change runtime type > TPU; "
            f"on a Cloud TPU VM set TPU_NAME=local. Other strategies: "
            f"{', '.join(s for s in STRATEGIES if s != 'tpu')}"
        ) from None
    return tf.distribute.TPUStrategy(resolver)


def describe_strategy(strategy, global_batch):
    """One line: the strategy, its replicas, and the global and per-replica batch."""
    replicas = int(strategy.num_replicas_in_sync)
    per_replica = global_batch / replicas
    shown = int(per_replica) if per_replica == int(per_replica) else per_replica
    workers = ""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is not None and getattr(resolver, "task_type", None):
        workers = f", task {resolver.task_type}:{resolver.task_id}"
    return (
        f"strategy {type(strategy).__name__} ({replicas} replica{'s' if replicas != 1 else ''}{workers}): "
        f"global batch {global_batch}, per-replica batch {shown}"
    )


def is_chief(strategy):
    """True unless `strategy` is a multi-worker strategy and this process is not its chief.

    The chief is task `chief`, or `worker` 0 when the cluster has no `chief` task (as
    TensorFlow's multi-worker guide defines it).
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if not task_type:
        return True
    if task_type == "chief":
        return True
    has_chief = "chief" in (resolver.cluster_spec().as_dict() or {})
    return task_type == "worker" and int(resolver.task_id) == 0 and not has_chief


def run_threads(cfg):
    """(intra_op, inter_op) thread pool sizes for a run: the config's, and under
    `deterministic=true` one op at a time (inter_op 1) when the config leaves it to TensorFlow.

    TensorFlow's op determinism does not cover ops that run side by side on CPU: with
    oneDNN, two ops sharing the intra-op pool split their float sums differently from one
    run to the next. Measured on `deep_cnn` (2 cores, 64 px, batch 16): with op determinism
    and TensorFlow's inter-op pool, two 40-step runs end with different weights (their
    gradients differ from step 2); with inter_op 1 they end bitwise equal, at the same speed.
    """
    inter = cfg.inter_op_threads or (1 if cfg.deterministic else 0)
    return int(cfg.intra_op_threads), int(inter)


def set_threads(intra_op=0, inter_op=0):
    """Set TensorFlow's intra-/inter-op thread pools (0 = TensorFlow's choice).

    TensorFlow fixes its pools when the runtime starts; asking for different sizes
    after that only logs a warning and keeps the running ones. Returns True when the
    requested sizes are in effect.
    """
    threading = tf.config.threading
    wanted = (int(intra_op), int(inter_op))
    current = (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
    if wanted == current:
        return True
    try:
        threading.set_intra_op_parallelism_threads(wanted[0])
        threading.set_inter_op_parallelism_threads(wanted[1])
    except RuntimeError:
        log.warning(
            "Thread pools already started with intra_op=%d, inter_op=%d; keeping them (asked for %d, %d). "
            "Set them before TensorFlow runs its first op.",
            current[0],
            current[1],
            wanted[0],
            wanted[1],
        )
        return False
    return True


__all__ = ["TPU_ENV", "describe_strategy", "is_chief", "make_strategy", "run_threads", "set_threads", "tpu_hint"]
