"""The training loop: one config in, one run folder out, resumable.

`train(cfg)` builds the data (`kcolor.data.build_datasets`) and the registered model's
networks under the configured `tf.distribute` strategy, then runs epochs of the model's
train step (`supervised_step` or `gan_step`), validating after each. The run folder
(default `runs/<config_name>-<model>`; any TensorFlow filesystem path works, such as
`gs://bucket/runs/x`: every file goes through `kcolor.fs`) holds:

| file              | what                                                                |
|-------------------|---------------------------------------------------------------------|
| `config.json`     | the resolved config                                                 |
| `model.json`      | `{model, image_size, options, io, trainer, paper, ...}` for export  |
| `checkpoints/`    | `tf.train.CheckpointManager`: networks, optimizers, step and epoch  |
| `tb/`             | TensorBoard scalars (per step and epoch) and the sample image grid  |
| `history.csv/json`| per epoch: train losses, val losses, images/s, epoch and wall time  |
| `loss_curve.png`  | the history's losses against the epoch                              |
| `samples.png`     | held-out images: gray input, prediction, as colorized, ground truth |
| `colorizer.keras` | the trained colorizer (loads in Keras safe mode)                    |

Running the same command again on the same run folder resumes from the last
checkpoint's step and epoch; an interrupt (Ctrl-C) checkpoints before it exits. Every
file is written atomically. A run that starts afresh with `init_from=RUN_DIR` (a config
field: fine-tuning) first takes its networks' weights from that run's latest checkpoint
(`checkpoints.init_networks_from`; fresh optimizers, step 0); a resume keeps its own.

Exact resume (`kcolor.training.resume` holds the details): the checkpoint keeps the run
state (the epoch's loss sums, the history rows, skipped batches) and the networks' seed
generators; the training stream restarts at batch `step` (`DataBundle.train_from`).
With `deterministic=true` (op determinism, and one op at a time: `strategy.run_threads`)
a run killed anywhere (SIGKILL) and run again ends bitwise equal to an uninterrupted one,
and two runs of one command end bitwise equal, on one CPU (weights and history.json, timings excepted;
measured by tests/test_resume.py). Checkpoints: every `checkpoint_every` epochs, and
every `checkpoint_every_steps` steps and/or `checkpoint_every_minutes` minutes; a kill
during a write leaves the previous checkpoint as the latest. A changed config is
refused unless `resume=continue` or `resume=restart` (free keys: `resume.FREE_KEYS`).
A NaN/Inf loss stops the run naming the step and the last good checkpoint, writing
nothing; `on_nonfinite=skip_batch` leaves such a batch's update out (BatchNorm
statistics restored) and counts it (`skipped_batches`).
Multi-worker (`strategy=multiworker`, `TF_CONFIG` on every worker): every worker runs
the same command; only the chief (task `chief`, else `worker` 0) writes the run folder
(config, history, figures, TensorBoard, `colorizer.keras`) and its checkpoints. Every
worker takes part in each checkpoint save, as TensorFlow's multi-worker guide asks:
the others save into a temporary folder of their own (`tempfile.mkdtemp`), deleted
after each save and when the run ends. All workers restore from the run folder's
checkpoints, so on several machines it must be a path they all read (`gs://...`); a
worker that restores another step than the chief stops the run with a message.
Validation sums and train losses are reduced over every replica of every worker, and
`images_per_sec` counts the global batch. Each worker reads its own share of the data
(`kcolor.data.pipeline`: `records:` shards by file, other sources by data). BatchNorm
moving statistics, which Keras updates per replica, are averaged over the replicas
before each validation and checkpoint (`Networks.sync_statistics`), so every worker
validates and saves the same weights (`weights_sha256` in the result is equal on all).

A `bundle=` argument (a `kcolor.data.DataBundle` built by the caller) resumes exactly
when its `train_from(step)` gives the batches from `step` on (`build_datasets`' does),
or, without `train_from`, when its `train` split yields the same batches on every pass.
`hooks=` (a `kcolor.training.hooks.RunHooks`) hears each phase of the run: a train
step, a checkpoint write, each end-of-epoch file. `on_nonfinite=skip_batch` needs a
single replica: a conditional update cannot run inside a distributed step, so with more
replicas the run is refused before it starts.

The parts of a run: `networks` (the models and optimizers, built in a fixed order),
`checkpoints` (what a checkpoint holds, save and restore), `run_folder` (every other
file of the run folder), `streams` (the distributed data and the compiled steps),
`workers` (the chief and the other workers) and `hooks`; this module holds the epoch
loop that drives them, and `train`.

Example:
    cfg = apply_overrides(get_config("sample"), ["model=pix2pix", "epochs=2"])
    result = train(cfg)        # {'run_dir': ..., 'losses': ..., 'val': ..., 'history': ...}
"""

import dataclasses
import time

import keras
import tensorflow as tf

from kcolor import fs
from kcolor.config import resolve_config
from kcolor.errors import ConfigError
from kcolor.models.io import get_io
from kcolor.models.registry import get_model
from kcolor.training import resume as resume_lib
from kcolor.training.checkpoints import RunCheckpoint, init_checkpoint, init_networks_from
from kcolor.training.history import History
from kcolor.training.hooks import PhaseCalls
from kcolor.training.networks import Networks
from kcolor.training.precision import resolve_precision
from kcolor.training.run_folder import RunFolder
from kcolor.training.strategy import describe_strategy, is_chief, make_strategy, run_threads, set_threads
from kcolor.training.streams import RunStreams, compile_run_steps
from kcolor.training.workers import Workers, global_count

STEP_LOG_EVERY = 10  # TensorBoard step scalars every this many steps


def default_run_dir(cfg):
    return fs.join("runs", f"{cfg.config_name}-{cfg.model}")


def _build_datasets(cfg):
    # Imported here: the data floor loads only when a run needs it.
    from kcolor.data import build_datasets

    return build_datasets(cfg)


@dataclasses.dataclass
class _EpochStats:
    """Running sums of one epoch's train losses and its throughput."""

    start: float
    steps: int = 0
    images: int = 0
    busy: float = 0.0  # seconds inside the train step, the tracing call excluded
    sums: dict = dataclasses.field(default_factory=dict)
    stopped: bool = False
    skipped: int = 0  # batches skipped for a non-finite loss (on_nonfinite=skip_batch)

    def add(self, losses):
        self.steps += 1
        for k, v in losses.items():
            self.sums[k] = self.sums.get(k, 0.0) + v

    def means(self):
        counted = self.steps - self.skipped
        return {k: v / counted for k, v in self.sums.items()} if counted else {}

    def to_state(self):
        elapsed = time.perf_counter() - self.start
        return {"steps": self.steps, "sums": dict(self.sums), "images": self.images, "busy": self.busy,
                "elapsed": elapsed, "skipped": self.skipped}

    @classmethod
    def from_state(cls, state):
        state = state or resume_lib.empty_epoch()
        return cls(
            start=time.perf_counter() - float(state.get("elapsed", 0.0)),
            steps=int(state.get("steps", 0)),
            images=int(state.get("images", 0)),
            busy=float(state.get("busy", 0.0)),
            sums={k: float(v) for k, v in (state.get("sums") or {}).items()},
            skipped=int(state.get("skipped", 0)),
        )


class _Run:
    """The epoch loop of one `train` call; `train` below is the public entry point.

    It runs the steps, validates, checkpoints when due and has the end-of-epoch files
    written, and keeps the run's progress (history, skipped batches, timings). Its
    parts: the data bundle, `Networks`, `RunCheckpoint` and `RunFolder`, made in that
    order here (the networks' variables before the checkpoint's counters, as seeded
    runs expect), and `RunStreams` with the compiled steps, made once the checkpoint is
    restored (the training stream starts at its step).
    """

    def __init__(self, cfg, run_dir, bundle, verbose, strategy, hooks=None):
        self.cfg = cfg
        self.verbose = verbose
        # Made by `train` before any other TensorFlow op: a multi-worker strategy
        # configures the runtime's collectives, which it can only do at start-up.
        self.strategy = strategy
        self.workers = Workers(strategy)
        self.chief = self.workers.chief
        self.phases = PhaseCalls(hooks)
        self.restored_state = {}  # what `restore` found; stays empty when nothing is restored
        self.pending_change = None  # a resume=continue change, recorded in the next history row
        self.run_dir = fs.path_str(run_dir)  # a string: Path would turn gs:// into gs:/
        self.spec = get_model(cfg.model)
        self.io = get_io(self.spec.io)
        self.bundle = bundle if bundle is not None else _build_datasets(cfg)
        # mixed_precision=auto becomes the policy this device runs best (kcolor.training.precision).
        # config.json keeps the value asked for; self.precision is the policy in effect.
        self.precision, reason = resolve_precision(cfg.mixed_precision, self.strategy)
        if verbose:
            print(f"{describe_strategy(self.strategy, cfg.batch_size)}; {reason} -> {self.precision}")
            stream = (self.bundle.info or {}).get("train_stream")
            if self.workers.num_workers > 1 and stream:
                print(f"Training data: {stream}; {self.workers.num_workers} workers")
        self.networks = Networks(cfg, self.spec, strategy, self.precision)
        self.ckpt = RunCheckpoint(
            self.networks, self.run_dir, keep=cfg.keep_checkpoints, workers=self.workers, verbose=verbose
        )
        self.folder = RunFolder(cfg, self.run_dir, self.spec, self.io, chief=self.chief)

    # ----------------------------------------------------------------- setup
    def restore(self):
        self.restored_state = self.ckpt.restore(self.verbose)

    def init_from(self, source_dir):
        """Start the networks from another run's weights (`cfg.init_from`); before the first step only."""
        latest = init_networks_from(self.networks, source_dir)
        if self.verbose:
            print(f"Starting {self.run_dir} from the networks of {latest}")

    def close(self):
        self.ckpt.close()

    def write_static_files(self):
        self.folder.write_static_files(self.networks)

    def _compile(self):
        self.train_fn, self.val_fn = compile_run_steps(
            self.cfg, self.spec.trainer, self.networks, self.io, self.strategy, self.streams
        )

    # ----------------------------------------------------------------- checkpoints
    def save_checkpoint(self, stats=None):
        """Write a checkpoint of the whole run state; the previous one stays latest until it is complete."""
        self.networks.sync_statistics()
        epoch_state = stats.to_state() if stats is not None else resume_lib.empty_epoch()
        wall = self._wall_offset + time.perf_counter() - self._start
        self.ckpt.state.assign(
            resume_lib.encode_state(
                epoch_stats=epoch_state, history_rows=self.history.rows, skipped=self.skipped, wall_time=wall,
                pending_change=self.pending_change,
            )
        )
        self.phases("checkpoint")
        path = self.ckpt.save()
        self._last_save = time.perf_counter()
        if self.verbose > 1:
            print(f"Saved checkpoint {path}")
        return path

    def _nonfinite(self, step, bad):
        name, value = bad
        latest = self.ckpt.latest
        last = f"the last good checkpoint is {latest}" if latest else "no checkpoint was written yet"
        raise resume_lib.NonFiniteLossError(
            f"Non-finite loss at step {step} (epoch {int(self.ckpt.epoch.numpy()) + 1}): {name}={value}; stopped "
            f"without writing anything, {last}. Lower learning_rate, or pass --set on_nonfinite=skip_batch to skip "
            "such batches"
        )

    def _restore_history(self):
        """The history rows the checkpoint holds (a run folder's history.json may be ahead of it)."""
        state = self.restored_state
        if "history" in state:
            return History(state["history"])
        history = History.load(self.run_dir)  # a checkpoint written before the run state existed
        history.truncate(int(self.ckpt.epoch.numpy()))
        return history

    # ----------------------------------------------------------------- loop
    def validate(self):
        if self.val_fn is None:
            return {}
        sums = {}
        for batch in self.streams.val:
            for k, v in self.val_fn(batch).items():
                sums[k] = sums.get(k, 0.0) + float(v)
        count = sums.pop("count", 0.0)
        if not count:
            return {}
        return {f"val_{k}": v / count for k, v in sums.items()}

    def _train_epoch(self, max_steps, stats):
        """Run the current epoch's remaining steps into `stats` (its `_EpochStats`)."""
        cfg, ckpt = self.cfg, self.ckpt
        epoch, done = int(ckpt.epoch.numpy()), int(ckpt.epoch_step.numpy())
        steps_per_epoch = self.streams.steps_per_epoch
        remaining = None if steps_per_epoch is None else max(steps_per_epoch - done, 0)
        if self._train_iter is None or not self.streams.streamed:
            self._train_iter = iter(self.streams.train)  # the stream from the step, or a full pass
        progbar = None
        if self.verbose:
            print(f"Epoch {epoch + 1}/{cfg.epochs}")
            progbar = keras.utils.Progbar(steps_per_epoch, stateful_metrics=["img/s"])
        ran = 0
        every_steps = cfg.checkpoint_every_steps
        every_seconds = 60.0 * cfg.checkpoint_every_minutes if cfg.checkpoint_every_minutes else None
        while remaining is None or ran < remaining:
            if max_steps is not None and int(ckpt.step.numpy()) >= max_steps:
                stats.stopped = True
                break
            batch = next(self._train_iter, None)
            if batch is None:
                break
            t0 = time.perf_counter()
            self._consistent = False  # weights moved, counters not yet: no checkpoint now
            losses = {k: float(v) for k, v in self.train_fn(batch).items()}
            dt = time.perf_counter() - t0
            self.phases("step")
            step = int(ckpt.step.numpy()) + 1
            skipped = losses.pop("skipped", 0.0) > 0
            bad = resume_lib.first_nonfinite(losses)
            if bad is not None and not (skipped and cfg.on_nonfinite == "skip_batch"):
                self._nonfinite(step, bad)
            count = global_count(self.strategy, batch)
            if self._traced:  # the first call traces the step: not throughput
                stats.busy += dt
                stats.images += count
            self._traced = True
            ckpt.step.assign_add(1)
            ckpt.epoch_step.assign_add(1)
            ran += 1
            if skipped:
                self.skipped += 1
                stats.steps += 1  # the batch counts as a step; its losses do not enter the means
                stats.skipped += 1
            else:
                stats.add(losses)
            self._consistent = True
            if step % STEP_LOG_EVERY == 0 and not skipped:
                self.folder.scalars("step", losses, step)
            if progbar is not None and not skipped:
                rate = stats.images / stats.busy if stats.busy > 0 else count / dt
                progbar.update(done + ran, [*losses.items(), ("img/s", rate)])
            at_epoch_end = remaining is not None and ran >= remaining
            due = (every_steps and step % every_steps == 0) or (
                every_seconds and self.workers.any_worker(time.perf_counter() - self._last_save >= every_seconds)
            )
            if due and not at_epoch_end:  # the epoch's end writes its own checkpoint
                self.save_checkpoint(stats)
        if stats.steps == 0 and remaining != 0 and not stats.stopped:
            raise RuntimeError("The training split yielded no batches; check the data source and batch_size")
        return stats

    def _finish_epoch(self, stats):
        """Validate, log, checkpoint and write the run folder's files after an epoch.

        The checkpoint (holding the new history row) is written first; the files after it
        (history, figures, colorizer.keras) are functions of the checkpointed state, and a
        resume at an epoch's end writes them again (`RunFolder.epoch_files_current`).
        """
        cfg, ckpt = self.cfg, self.ckpt
        epoch = int(ckpt.epoch.numpy())
        self.networks.sync_statistics()
        val = self.validate()
        row = {"epoch": epoch + 1, "step": int(ckpt.step.numpy())}
        row.update({f"train_{k}": v for k, v in stats.means().items()})
        row.update(val)
        if stats.skipped or self.skipped:
            row["skipped_batches"] = stats.skipped
        if self.pending_change:
            row["config_change"] = self.pending_change
            self.pending_change = None
        row["images_per_sec"] = stats.images / stats.busy if stats.busy > 0 else None
        row["epoch_time"] = time.perf_counter() - stats.start
        row["wall_time"] = self._wall_offset + time.perf_counter() - self._start
        self._consistent = False
        self.history.append(row)
        ckpt.epoch.assign_add(1)
        ckpt.epoch_step.assign(0)
        self._consistent = True
        numbers = {k: v for k, v in row.items() if k not in ("epoch", "step") and isinstance(v, (int, float))}
        self.folder.scalars("epoch", numbers, int(ckpt.step.numpy()))
        if self.verbose:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in val.items())
            print(f"  validation: {shown or '(no val split)'}")
        if epoch + 1 >= cfg.epochs or (epoch + 1) % max(1, int(cfg.checkpoint_every)) == 0:
            self.save_checkpoint(None)
        self._write_epoch_files(epoch + 1)

    def _write_epoch_files(self, epoch):
        self.folder.write_epoch_files(self.history, epoch, self.networks, int(self.ckpt.step.numpy()), self.phases)

    def _begin(self):
        """Set up the streams, steps, run folder writers and run state before the first epoch."""
        ckpt, state = self.ckpt, self.restored_state
        self.streams = RunStreams(
            self.cfg, self.bundle, self.strategy, step=int(ckpt.step.numpy()), num_workers=self.workers.num_workers
        )
        self._compile()
        self.workers.check_restored_alike(int(ckpt.step.numpy()), self.run_dir)
        self.folder.open(self.bundle)
        self._train_iter, self._traced, self._consistent = None, False, True
        self.history = history = self._restore_history()
        self.skipped = int(state.get("skipped_batches", 0))
        self.pending_change = state.get("pending_change") or self.pending_change
        self._wall_offset = float(state["wall_time"]) if "wall_time" in state else (
            history.rows[-1].get("wall_time", 0.0) if history.rows else 0.0
        )
        self._start = self._last_save = time.perf_counter()
        at_epoch_end = int(ckpt.epoch_step.numpy()) == 0 and int(ckpt.epoch.numpy()) > 0
        if self.chief and ckpt.latest and at_epoch_end and not self.folder.epoch_files_current(history, ckpt.latest):
            self._write_epoch_files(int(ckpt.epoch.numpy()))  # a kill cut them short

    def run(self, max_steps=None):
        cfg, ckpt = self.cfg, self.ckpt
        self._begin()
        step = int(ckpt.step.numpy())
        if max_steps is not None and step >= max_steps and self.verbose:
            print(f"{self.run_dir} is at step {step}, already at or past the step to stop at ({max_steps}): "
                  "nothing to train (a later step goes on from here)")
        stats = _EpochStats.from_state(self.restored_state.get("epoch"))
        stopped = False
        try:
            while int(ckpt.epoch.numpy()) < cfg.epochs:
                hook = self.networks.epoch_hook
                if hook is not None and hook(int(ckpt.epoch.numpy())):
                    self._compile()
                    self._traced = False  # the next call traces again: not throughput
                stats = self._train_epoch(max_steps, stats)
                if stats.stopped:
                    stopped = True
                    break
                self._finish_epoch(stats)
                stats = _EpochStats(start=time.perf_counter())
        except KeyboardInterrupt:
            if self._consistent and self.workers.num_workers == 1:  # a save needs every worker; one was interrupted
                self.save_checkpoint(stats)
                self.folder.save_history(self.history)
                print(f"\nInterrupted: checkpoint saved at step {int(ckpt.step.numpy())}; run the same command to resume.")
            else:
                print(f"\nInterrupted inside a step: kept the last checkpoint {ckpt.latest}.")
            raise
        if stopped:
            self.save_checkpoint(stats)
            if self.chief:
                self.folder.save_history(self.history)
            self.folder.save_colorizer(self.networks.colorizer)
        elif self.chief and not self.folder.has_colorizer():
            self.folder.save_colorizer(self.networks.colorizer)
        self.folder.writer.flush()
        return self._result(stopped)

    def _result(self, stopped):
        history = self.history
        last = history.rows[-1] if history.rows else {}
        return {
            "run_dir": self.run_dir,
            "losses": {k[len("train_") :]: v for k, v in last.items() if k.startswith("train_")},
            "val": {k: v for k, v in last.items() if k.startswith("val_")},
            "history": history.rows,
            "wall_time": time.perf_counter() - self._start,
            "step": int(self.ckpt.step.numpy()),
            "epoch": int(self.ckpt.epoch.numpy()),
            "stopped_early": stopped,
            "skipped_batches": self.skipped,
            "weights_sha256": self.networks.weights_sha256(),
        }


def train(cfg, *, run_dir=None, max_steps=None, verbose=1, bundle=None, hooks=None):
    """Train `cfg` into a run folder; resume it if the folder holds a checkpoint.

    Args:
        cfg: a `TrainConfig`. Recipe fields left as None (learning rate, betas, loss)
            come from the model's registered `defaults` (`kcolor.config.resolve_config`).
        run_dir: the run folder; default `cfg.run_dir`, else `runs/<config>-<model>`.
        max_steps: stop (and checkpoint) once the run's global step reaches this: a run
            resumed at step 200 with `max_steps=250` trains 50 more steps, and one already
            at or past it says so in one line and trains nothing (`kcolor train
            --until-step`).
        verbose: 0 silent, 1 progress bar and one line per epoch, 2 also checkpoints.
        bundle: the data, a `kcolor.data.DataBundle`; default `build_datasets(cfg)`. Pass
            one to build the data once for several runs, or to train on a stream of
            your own (`train`, `val`, `test`: batched datasets of `{"rgb": [B, S, S, 3]}`
            in [0, 1]; `train_from(step, num_workers=1)` for an exact resume).
        hooks: a `kcolor.training.hooks.RunHooks`, called at each phase of the run.

    Returns:
        dict with `run_dir`, `losses` (last epoch's train means), `val` (last
        validation), `history` (rows), `wall_time` (s, this call), `step`, `epoch` and
        `stopped_early`, `skipped_batches` and `weights_sha256` (a digest of every
        network's weights: equal on every worker of a multi-worker run).

    Example:
        result = train(apply_overrides(get_config("sample"), ["epochs=1"]))
        print(result["val"])
    """
    cfg = resolve_config(cfg)
    set_threads(*run_threads(cfg))  # acts before TF's first op; warns when the pools had started
    strategy = make_strategy(cfg.strategy)  # next: multi-worker collectives are set up before any op runs
    chief = is_chief(strategy)
    if cfg.on_nonfinite == "skip_batch" and strategy.num_replicas_in_sync > 1:
        raise ConfigError(
            f"on_nonfinite=skip_batch works on one replica only; strategy={cfg.strategy} has "
            f"{strategy.num_replicas_in_sync} replicas. Use on_nonfinite=stop (the default) or strategy=default"
        )
    keras.utils.set_random_seed(int(cfg.seed))
    run_dir = fs.path_str(run_dir or cfg.run_dir or default_run_dir(cfg))
    cfg = dataclasses.replace(cfg, run_dir=str(run_dir))
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    # A run that starts afresh (no checkpoint of its own, or resume=restart) starts from
    # init_from's weights; its checkpoint is checked here, before any file moves or data loads.
    fresh = cfg.resume == "restart" or not tf.train.latest_checkpoint(fs.join(run_dir, "checkpoints"))
    if cfg.init_from and fresh:
        init_checkpoint(cfg.init_from)
    old_config, changed = resume_lib.check_resumable(run_dir, cfg, move=chief)  # only the chief moves files
    if chief:
        fs.makedirs(run_dir)
    run = _Run(cfg, run_dir, bundle, verbose, strategy, hooks)
    try:
        if cfg.resume != "restart":  # restart: the chief moved the checkpoints aside (a worker may look first)
            run.restore()
        if cfg.init_from and fresh:
            run.init_from(cfg.init_from)
        if changed:  # resume=continue under a changed config: keep the weights, record it
            step, epoch = int(run.ckpt.step.numpy()), int(run.ckpt.epoch.numpy())
            if chief:
                run.pending_change = resume_lib.record_change(
                    run_dir, step=step, epoch=epoch, old=old_config, new=cfg.to_dict(), keys=changed
                )
            else:
                run.pending_change = resume_lib.describe_changes(old_config, cfg.to_dict(), changed)
            if verbose:
                print(f"Continuing {run_dir} under a changed config: {run.pending_change}")
        if chief:
            run.write_static_files()
        result = run.run(max_steps=max_steps)
    finally:
        run.close()
    if verbose:
        losses = ", ".join(f"{k} {v:.4g}" for k, v in result["losses"].items())
        print(f"Run folder: {run_dir}  ({result['wall_time']:.1f} s; {losses})")
    return result


__all__ = ["default_run_dir", "train"]
