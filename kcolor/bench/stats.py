"""The numbers every benchmark row reports: the step timing and the peak resident memory.

Shared by every measurement of the bench, kcolor's (`kcolor.bench.cases`) and the
PyTorch peer's (`kcolor.bench.torch_peer`), so both frameworks are timed by one
function. TensorFlow-free: the peer's process imports it without loading TensorFlow.
"""

import statistics
import sys

from kcolor.timing import time_calls


def time_steps(run_step, steps, batch_size, *, warmup=0):
    """Call `run_step()` (which returns when its step is done) `warmup` times untimed, then
    `steps` times timed (`kcolor.timing.time_calls`, the one way kcolor times calls).

    Returns images/s (`batch_size / median step time`), the median, quartiles and fastest
    step in ms, and `cpu_per_wall` (this process's CPU seconds per wall second: below the
    thread count when the machine is shared). kcolor's rows and the PyTorch peer's are timed
    by this one function.
    """
    wall, cpu = time_calls(run_step, steps, warmup=warmup)
    median = statistics.median(wall)
    quartiles = statistics.quantiles(wall, n=4) if len(wall) > 1 else [median] * 3
    return {
        "images_per_sec": batch_size / median,
        "step_ms_median": 1000 * median,
        "step_ms_q1": 1000 * quartiles[0],
        "step_ms_q3": 1000 * quartiles[2],
        "step_ms_min": 1000 * min(wall),
        "cpu_per_wall": sum(cpu) / sum(wall),
    }


def time_train(run_step, batch_size, *, steps, warmup):
    """A train step's row: its first call timed alone (`trace_s`: it traces or compiles the
    step), `warmup - 1` more calls untimed, then `time_steps` over `steps` calls.

    kcolor's step (`kcolor.bench.cases`) and the PyTorch peer's (`kcolor.bench.torch_peer`)
    both go through it, so their rows count warm-up and trace the same way.
    """
    (first,), _ = time_calls(run_step, 1)
    return {**time_steps(run_step, steps, batch_size, warmup=max(0, int(warmup) - 1)), "trace_s": first}


def peak_rss_mb():
    """This process's peak resident memory in MB (`ru_maxrss`: KB on Linux, bytes on macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


__all__ = ["peak_rss_mb", "time_steps", "time_train"]
