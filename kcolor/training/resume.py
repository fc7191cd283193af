"""Exact resume: what a checkpoint holds beyond the weights, and when a run folder may resume.

A training checkpoint (`kcolor.training.checkpoints`) holds the networks, the optimizers, the
global step, the epoch counters, the random state of the networks (Keras seed
generators: dropout) and the run state (`RunCheckpoint.state`): the running sums of
the current epoch's losses, the per-epoch history rows and the number of skipped
batches. The data position is the global step itself: batch `b` of the training
stream is a function of `(seed, b)` only (`kcolor.data.pipeline`: each pass is
shuffled with `(seed, pass)`, each example augmented with `(seed, pass, index)`), so a
resumed run rebuilds the stream at batch `step`. The GAN step's noisy labels are
stateless draws from `(seed, step, replica)` (`kcolor.training.steps.gan_step`). This was chosen over tracking the
`tf.data` iterator in the checkpoint: it holds under every `tf.distribute` strategy,
and a checkpoint does not carry the shuffle buffer (up to `shuffle_buffer` images).

With `deterministic=true` (TensorFlow op determinism, one op at a time), a run killed at any point and
run again with the same command ends with bitwise the same weights and the same
`history.json` values (timings excepted: `images_per_sec`, `epoch_time`, `wall_time`)
as an uninterrupted run, on CPU. Without it, the run continues from the same data
position and random state, and may differ by the order of parallel float sums.

Resuming under a changed config: `changed_keys` compares the saved `config.json` (its
old field names read as the new ones, `kcolor.config.migrate_fields`, so a run saved
before a rename is not "changed") with the new config, leaving out `FREE_KEYS`.
`resume=auto` (the default) refuses with one line naming the changed keys;
`resume=continue` keeps the weights and records the change in the run's history
(`config_changes.json` and the next history row's `config_change`); `resume=restart`
moves the old checkpoints and history into `restarted-<UTC time>/` and starts again. A
change of `WEIGHT_KEYS` cannot continue (the weights do not fit): only `restart` or
another run folder.

Example:
    changed = changed_keys(json.load(open("runs/x/config.json")), cfg.to_dict())
"""

import json
import math
import time

import tensorflow as tf

from kcolor import fs
from kcolor._version import __version__
from kcolor.config import migrate_fields
from kcolor.errors import ConfigError, KcolorError, RunFolderError
from kcolor.fs import atomic_write_json

# Bumped when a checkpoint's contents change meaning; a newer one is refused.
STATE_FORMAT = 1

# Config keys that may change between a run and its resume without `resume=...`.
FREE_KEYS = (
    "epochs",
    "run_dir",
    "config_name",
    "keep_checkpoints",
    "checkpoint_every",
    "checkpoint_every_steps",
    "checkpoint_every_minutes",
    "sample_images",
    "intra_op_threads",
    "inter_op_threads",
    "strategy",
    "jit_compile",
    "deterministic",
    "resume",
    "on_nonfinite",
    "data_dir",
    "download",
    "cache",
    "fid_images",  # read by `kcolor evaluate`, never by training
)
# Keys whose change makes the checkpointed weights or optimizer state not fit.
# `mixed_precision` is not one: the variables stay float32 under every policy, and a
# checkpoint written under float32 restores bitwise under mixed_bfloat16 and back
# (tests/test_scale.py). It changes the arithmetic from there on, so it needs
# `resume=continue` (recorded in the history). A change to or from mixed_float16 also
# adds or drops the loss-scale optimizer's state: such a checkpoint does not restore
# (the restore fails naming the checkpoint; use resume=restart).
WEIGHT_KEYS = ("model", "image_size", "options")
# History columns that are timings: they differ between any two runs.
TIMING_KEYS = ("images_per_sec", "epoch_time", "wall_time")

RUN_FILES_MOVED_ON_RESTART = (
    "checkpoints", "history.json", "history.csv", "config_changes.json", "tb",
    "loss_curve.png", "samples.png", "colorizer.keras",
)


class NonFiniteLossError(KcolorError):
    """A training loss came out NaN or infinite (`on_nonfinite=stop`)."""


def _jsonable(value):
    return json.loads(json.dumps(value, default=lambda v: list(v) if isinstance(v, (tuple, set)) else str(v)))


def changed_keys(old: dict, new: dict) -> list:
    """The config keys whose values differ between two configs, `FREE_KEYS` left out."""
    old, new = _jsonable(old), _jsonable(new)
    keys = sorted((set(old) | set(new)) - set(FREE_KEYS))
    return [k for k in keys if old.get(k) != new.get(k)]


def describe_changes(old: dict, new: dict, keys) -> str:
    old, new = _jsonable(old), _jsonable(new)
    return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys)


def check_resumable(run_dir, cfg, *, move=True):
    """Decide how `cfg` may resume `run_dir`; returns `(old_config, changed)`.

    Raises `ConfigError` (one line) when the config changed and `cfg.resume` does not say
    what to do, or when it cannot continue. With `resume=restart` the old checkpoints
    and history are moved aside first (then nothing is resumed); `move=False` (a
    multi-worker run's non-chief workers) leaves that to the chief.
    """
    path = fs.join(run_dir, "config.json")
    if not fs.exists(path) or not fs.exists(fs.join(run_dir, "checkpoints")):
        return None, []
    try:
        old = fs.read_json(path)
    except (OSError, ValueError, tf.errors.OpError) as err:
        raise RunFolderError(f"{path} cannot be read ({err}); choose another run_dir or use --set resume=restart") from None
    if not isinstance(old, dict):
        raise RunFolderError(f"{path} does not hold a kcolor config; choose another run_dir")
    new = cfg.to_dict()
    if cfg.resume == "restart":
        if move:
            move_aside(run_dir)
        return None, []
    old = migrate_fields(old, where=f"{path}: config field")
    changed = changed_keys(old, new)
    if not changed:
        return old, []
    detail = describe_changes(old, new, changed)
    weights = [k for k in changed if k in WEIGHT_KEYS]
    if weights:
        raise ConfigError(
            f"Run folder {run_dir} holds a checkpoint of a different model ({detail}); its weights cannot "
            "continue: use --set resume=restart, or another run_dir"
        )
    if cfg.resume != "continue":
        raise ConfigError(
            f"Run folder {run_dir} was trained with another config (changed: {detail}); pass --set resume=continue "
            f"to keep its weights under the new config, --set resume=restart to start over, or another run_dir. "
            f"Keys that may change freely: {', '.join(FREE_KEYS)}"
        )
    return old, changed


def move_aside(run_dir) -> str:
    """Move a run's checkpoints and outputs into `restarted-<UTC time>/` inside it."""
    target = fs.join(run_dir, time.strftime("restarted-%Y%m%dT%H%M%SZ", time.gmtime()))
    fs.makedirs(target)
    for name in RUN_FILES_MOVED_ON_RESTART:
        if fs.exists(fs.join(run_dir, name)):
            fs.move(fs.join(run_dir, name), fs.join(target, name))
    return target


def record_change(run_dir, *, step, epoch, old, new, keys):
    """Append a `resume=continue` change to the run's `config_changes.json`; returns its text."""
    path = fs.join(run_dir, "config_changes.json")
    records = fs.read_json(path) if fs.exists(path) else []
    old, new = _jsonable(old), _jsonable(new)
    records.append({"step": int(step), "epoch": int(epoch), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "changed": {k: [old.get(k), new.get(k)] for k in keys}})
    atomic_write_json(path, records)
    return describe_changes(old, new, keys)


# --------------------------------------------------------------------------- run state


def empty_epoch():
    return {"steps": 0, "sums": {}, "images": 0, "busy": 0.0, "elapsed": 0.0}


def encode_state(*, epoch_stats, history_rows, skipped, wall_time, pending_change=None) -> str:
    """The JSON a checkpoint keeps beside the weights (the run state)."""
    return json.dumps(
        {
            "format": STATE_FORMAT,
            "kcolor": __version__,
            "epoch": epoch_stats,
            "history": history_rows,
            "skipped_batches": int(skipped),
            "wall_time": float(wall_time),
            "pending_change": pending_change,
        },
        default=lambda v: v.item() if hasattr(v, "item") else str(v),
    )


def decode_state(text, where) -> dict:
    """Parse a checkpoint's run state (empty for a checkpoint written before it existed)."""
    if not text:
        return {}
    try:
        state = json.loads(text)
    except ValueError:
        raise RunFolderError(f"The checkpoint {where} holds an unreadable run state; use --set resume=restart") from None
    fmt = state.get("format")
    if not isinstance(fmt, int) or fmt > STATE_FORMAT:
        raise RunFolderError(
            f"The checkpoint {where} was written by kcolor {state.get('kcolor', '?')} (state format {fmt!r}); "
            f"this kcolor {__version__} reads format {STATE_FORMAT} or older: upgrade kcolor, "
            "or use --set resume=restart"
        )
    return state


def first_nonfinite(losses: dict):
    """The first `(name, value)` of `losses` that is NaN or infinite, else None."""
    for name, value in losses.items():
        if not math.isfinite(value):
            return name, value
    return None


__all__ = [
    "FREE_KEYS",
    "TIMING_KEYS",
    "WEIGHT_KEYS",
    "NonFiniteLossError",
    "changed_keys",
    "check_resumable",
]
