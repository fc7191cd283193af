"""Timing and progress: the one way kcolor times a call and shows how far long work is.

On the lowest floor (ARCHITECTURE.md): no TensorFlow, no kcolor import. `time_calls`
times repeated calls (the benchmarks' steps, the export latency), and `Progress` is the
one-line progress display of the commands that read many files (`make-records`,
`make-pairs`), redrawn at most twice a second on stderr.

Example:
    times, cpu = time_calls(step, 20, warmup=2)
    progress = Progress("make-records flowers", total=8189, unit="images")
    for path in paths:
        ...
        progress.step(note="train, 0 skipped")
    progress.close()
"""

import statistics
import sys
import time


def time_calls(fn, repeats, *, warmup=0):
    """Call `fn()` `warmup` times untimed, then `repeats` times timed.

    Returns:
        `(wall, cpu)`: two lists of seconds per call, the wall-clock time
        (`time.perf_counter`) and this process's CPU time (`time.process_time`).
    """
    for _ in range(int(warmup)):
        fn()
    wall, cpu = [], []
    for _ in range(int(repeats)):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def median_ms(fn, *, repeats=10, warmup=2) -> float:
    """Median wall time of `fn()` in milliseconds, after `warmup` untimed calls."""
    wall, _ = time_calls(fn, repeats, warmup=warmup)
    return 1000.0 * statistics.median(wall)


class Progress:
    """A one-line progress display: `LABEL: done/total UNIT (note), rate RATE_UNIT/s`.

    Args:
        label: what is being done, e.g. "make-records flowers".
        total: how many items there are.
        unit: what an item is ("images", "videos").
        rate_unit: the unit of the rate (default `unit`; `make-records` says "img/s").
        enabled: False shows nothing (the counts are still kept).
        stream: where the line goes (default stderr).
    """

    def __init__(self, label, total, *, unit="images", rate_unit=None, enabled=True, stream=None):
        self.label, self.total, self.unit, self.enabled = label, total, unit, enabled
        self.rate_unit = rate_unit or unit
        self.stream = stream or sys.stderr
        self.done, self.start, self.last = 0, time.time(), 0.0
        self.showing = False  # a line is on screen, not yet ended by `interrupt`

    def line(self, note="") -> str:
        rate = self.done / max(time.time() - self.start, 1e-9)
        note = f" ({note})" if note else ""
        return f"{self.label}: {self.done}/{self.total} {self.unit}{note}, {rate:.1f} {self.rate_unit}/s"

    def step(self, note="", *, count=1):
        """Count `count` more items done; redraw the line at most every 0.5 s, at the end, and
        at once after `interrupt` (so the line comes back under a message)."""
        self.done += count
        now = time.time()
        if self.enabled and (not self.showing or now - self.last > 0.5 or self.done >= self.total):
            self.last = now
            self.stream.write("\r" + self.line(note))
            self.stream.flush()
            self.showing = True

    def interrupt(self):
        """End the progress line so that a message can be printed on its own line."""
        if self.enabled and self.showing:
            self.stream.write("\n")
            self.showing = False

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


__all__ = ["Progress", "median_ms", "time_calls"]
