"""`run_benchmark`: check the arguments, train each roster row under one budget (resuming
unfinished runs, skipping finished ones), score them all, write the report.

Every row trains in `<out>/runs/<model>`; a finished row leaves `benchmark.json` there
(its steps and wall time), so running the command again skips it, and an unfinished one
continues from its last checkpoint (`kcolor.training.loop.train` resumes a run folder).
"""

import os
import time

from kcolor import fs
from kcolor.benchmark import report, roster, scoring
from kcolor.fs import atomic_write_json

DONE_FILE = "benchmark.json"


def default_out(data, size):
    """`benchmarks/<source>-<size>px`, the source made a file name."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in data)
    return os.path.join("benchmarks", f"{safe}-{size}px")


def check_arguments(*, data, size, batch, steps, models):
    """The roster rows to run; every bad value is refused here, before any training."""
    from kcolor.specs import parse_source

    entries = roster.select_entries(models)
    for name, value in (("size", size), ("batch", batch), ("steps", steps)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"--{name} must be a positive whole number. Received: {name}={value!r}")
    if size < 32 or size % 16:
        raise ValueError(
            f"--size must be a multiple of 16 and at least 32 (ViT patches of 16, the U-Nets' strides). Received: size={size}"
        )
    from kcolor.config import resolve_config

    for entry in entries:
        parse_source(roster.entry_data(entry, data))  # raises naming the source and the valid kinds
        resolve_config(roster.benchmark_config(entry, data=data, size=size, batch=batch, steps=steps, run_dir="-"))
    return entries


def _train_entry(entry, position, count, *, data, size, batch, steps, out, log):
    """Train one row to `steps` steps (or find it finished); returns its `benchmark.json`."""
    from kcolor.training.loop import train

    run_dir = fs.join(out, "runs", entry.name)
    done_path = fs.join(run_dir, DONE_FILE)
    title = f"[{position}/{count}] {entry.name} (Paper {entry.paper})"
    if fs.isfile(done_path):
        done = fs.read_json(done_path)
        if done.get("steps") == steps:
            log(f"{title}: finished earlier ({steps} steps, {done['wall_s']:.0f} s), skipped")
            return done
    cfg = roster.benchmark_config(entry, data=data, size=size, batch=batch, steps=steps, run_dir=run_dir)
    log(f"{title}: training from {entry.config} ...")
    resumed = fs.exists(fs.join(run_dir, "config.json"))
    start = time.perf_counter()
    result = train(cfg, run_dir=run_dir, verbose=1)
    wall = time.perf_counter() - start
    done = {
        "model": entry.name, "paper": entry.paper, "config": entry.config, "data": cfg.data,
        "steps": int(result["step"]), "wall_s": wall, "resumed": resumed,
        # Build, data, validation and saving included; a resumed run's earlier calls are not.
        "seconds_per_step": None if resumed else wall / max(1, int(result["step"])),
    }
    atomic_write_json(done_path, done)
    return done


def run_benchmark(*, data="photos", size=64, batch=16, steps=None, models=None, out=None, fid=True, log=print):
    """Train the roster under one budget, score it on one frozen test split, write `out`.

    Args:
        data: one data source for every row (`pairs:<data>` for reference models).
        size, batch, steps: the budget every row shares (image size, batch size, steps).
        models: a subset of `roster.NAMES` (comma/space separated, or a list); None: all.
        out: the output folder (default `benchmarks/<data>-<size>px`).
        fid: try FID (needs InceptionV3 ImageNet weights; "unavailable offline" if not); False skips it.
        log: where progress lines go.

    Returns:
        `{"out": folder, "results": results.json's contents, "table": table.md's text}`.
    """
    steps = roster.DEFAULT_STEPS if steps is None else steps
    entries = check_arguments(data=data, size=size, batch=batch, steps=steps, models=models)
    out = out or default_out(data, size)
    done = {}
    for position, entry in enumerate(entries, 1):
        done[entry.name] = _train_entry(
            entry, position, len(entries), data=data, size=size, batch=batch, steps=steps, out=out, log=log
        )
    log(f"scoring {len(entries)} model(s) and the baselines on the test split of {data} ...")
    scored = scoring.score(entries, data=data, size=size, batch=batch, out=out, fid=fid)
    results = report.build_results(entries, done, scored, data=data, size=size, batch=batch, steps=steps)
    table = report.write_report(results, out)
    log("drawing the full-resolution grids ...")
    from kcolor.benchmark.figures import write_grids

    write_grids(entries, data=data, size=size, out=out)
    log(f"wrote {out}")
    return {"out": out, "results": results, "table": table}
