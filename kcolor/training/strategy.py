"""`tf.distribute` strategies by name, and the runtime's thread settings.

| name           | strategy                                                                |
|----------------|-------------------------------------------------------------------------|
| `default`      | the default (no-op) strategy: one device, no replica context overhead   |
| `one_device`   | `OneDeviceStrategy` on the first GPU, else the CPU                      |
| `mirrored`     | `MirroredStrategy` over every GPU; with no GPU, over every logical CPU  |
| `multi_worker` | `MultiWorkerMirroredStrategy` (cluster from the `TF_CONFIG` variable)   |
| `tpu`          | `TPUStrategy` on the TPU found by `TPUClusterResolver`                  |

Example:
    strategy = make_strategy("mirrored")
    with strategy.scope():
        model = build_model("pix2pix", 64)["colorizer"]
"""

import logging

import tensorflow as tf

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker", "tpu")

log = logging.getLogger(__name__)


def make_strategy(name="default"):
    """Build the `tf.distribute.Strategy` called `name` (see the module table)."""
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy '{name}'. Valid strategies: {', '.join(STRATEGIES)}")
    if name == "default":
        return tf.distribute.get_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        if gpus:
            return tf.distribute.MirroredStrategy()
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=cpus)
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as err:
        raise RuntimeError(
            f"strategy 'tpu': no TPU could be reached ({err}). Valid strategies: {', '.join(STRATEGIES)}"
        ) from None
    return tf.distribute.TPUStrategy(resolver)


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


__all__ = ["STRATEGIES", "make_strategy", "set_threads"]
