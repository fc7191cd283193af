"""Mixed precision chosen per device: `mixed_precision=auto|float32|mixed_bfloat16|mixed_float16`.

`resolve_precision(name, strategy)` turns the config's value into the Keras dtype policy
the networks are built under:

| device                                                  | `auto` gives       |
|---------------------------------------------------------|--------------------|
| TPU (`TPUStrategy`)                                     | `mixed_bfloat16`   |
| GPU with compute capability >= 8.0 (Ampere and newer)   | `mixed_bfloat16`   |
| older GPU                                               | `mixed_float16` (the optimizers get loss scaling) |
| CPU with bfloat16 matrix units (Intel AMX or AVX512-BF16, from `/proc/cpuinfo`) | `mixed_bfloat16` |
| any other CPU                                           | `float32`          |

A CPU without bfloat16 units emulates it and runs slower than float32, so `auto` keeps
float32 there. `None` means `float32` (the default: a paper config keeps the paper's
arithmetic). Under either mixed policy the variables stay float32; the train steps cast
the networks' outputs to float32 before every loss and metric, the Lab conversions run in
float32, and `FusedBatchNormalization` keeps its statistics in float32. Saved colorizers
are float32 models (`kcolor.models.saving.standard_keras`).

Example:
    policy, reason = resolve_precision("auto", strategy)   # "float32" on an AVX2-only CPU
"""

import logging

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of bfloat16 matrix units

log = logging.getLogger(__name__)


def cpu_bf16_flags(cpuinfo_path="/proc/cpuinfo"):
    """The bfloat16 matrix-unit flags (`BF16_CPU_FLAGS`) this CPU reports; () when none or unknown."""
    try:
        with open(cpuinfo_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return ()
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[-1].split())
    return tuple(flag for flag in BF16_CPU_FLAGS if flag in flags)


def _gpu_capabilities():
    import tensorflow as tf

    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capabilities.append(tuple(details.get("compute_capability") or (0, 0)))
    return capabilities


def auto_precision(strategy=None, *, cpuinfo_path="/proc/cpuinfo"):
    """The policy `auto` picks for this machine and `strategy`, and why (a sentence)."""
    import tensorflow as tf

    if strategy is not None and isinstance(strategy, tf.distribute.TPUStrategy):
        return "mixed_bfloat16", "TPU: bfloat16"
    capabilities = _gpu_capabilities()
    if capabilities:
        lowest = min(capabilities)
        shown = ", ".join(f"{major}.{minor}" for major, minor in capabilities)
        if lowest >= (8, 0):
            return "mixed_bfloat16", f"GPU compute capability {shown} (>= 8.0): bfloat16"
        return "mixed_float16", f"GPU compute capability {shown} (< 8.0): float16 with loss scaling"
    flags = cpu_bf16_flags(cpuinfo_path)
    if flags:
        return "mixed_bfloat16", f"CPU with bfloat16 matrix units ({', '.join(flags)}): bfloat16"
    return "float32", f"CPU without bfloat16 matrix units (none of {', '.join(BF16_CPU_FLAGS)}): float32"


def resolve_precision(name, strategy=None, *, cpuinfo_path="/proc/cpuinfo"):
    """`(policy, reason)`: the Keras dtype policy for the config value `name` (see the
    module table), and a sentence saying what was detected (logged at INFO for `auto`).

    Raises:
        ValueError: `name` is not one of `PRECISIONS` (or None).
    """
    if name is None:
        return "float32", "default: float32"
    if name not in PRECISIONS:
        raise ValueError(f"Unknown mixed_precision '{name}'. Valid values: {', '.join(PRECISIONS)}")
    if name != "auto":
        return name, f"mixed_precision={name}"
    policy, why = auto_precision(strategy, cpuinfo_path=cpuinfo_path)
    log.info("mixed_precision=auto: %s -> %s", why, policy)
    return policy, f"mixed_precision=auto: {why}"


__all__ = ["BF16_CPU_FLAGS", "PRECISIONS", "auto_precision", "cpu_bf16_flags", "resolve_precision"]
