"""The numbers every benchmark row reports: the step timing and the peak resident memory.

Shared by every measurement of the bench, kcolor's (`kcolor.bench.cases`) and the
PyTorch peer's (`kcolor.bench.torch_peer`), so both frameworks are timed by one
function. TensorFlow-free: the peer's process imports it without loading TensorFlow.
"""

import statistics
import sys
import time


def time_steps(run_step, steps, batch_size):
    """Call `run_step()` (which returns when its step is done) `steps` times and time each call.

    Returns images/s (`batch_size / median step time`), the median, quartiles and fastest
    step in ms, and `cpu_per_wall` (this process's CPU seconds per wall second: below the
    thread count when the machine is shared). kcolor's rows and the PyTorch peer's are timed
    by this one function.
    """
    times, cpu_times = [], []
    for _ in range(int(steps)):
        t0, c0 = time.perf_counter(), time.process_time()
        run_step()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    median = statistics.median(times)
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [median] * 3
    return {
        "images_per_sec": batch_size / median,
        "step_ms_median": 1000 * median,
        "step_ms_q1": 1000 * quartiles[0],
        "step_ms_q3": 1000 * quartiles[2],
        "step_ms_min": 1000 * min(times),
        "cpu_per_wall": sum(cpu_times) / sum(times),
    }


def peak_rss_mb():
    """This process's peak resident memory in MB (`ru_maxrss`: KB on Linux, bytes on macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


__all__ = ["peak_rss_mb", "time_steps"]
