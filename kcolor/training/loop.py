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
file is written atomically.

Exact resume (`kcolor.training.resume` holds the details): the checkpoint keeps the run
state (the epoch's loss sums, the history rows, skipped batches) and the networks' seed
generators; the training stream restarts at batch `step` (`DataBundle.train_from`).
With `deterministic=true` a run killed anywhere (SIGKILL) and run again ends bitwise
equal to an uninterrupted one on CPU (weights and history.json, timings excepted;
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
before each validation and checkpoint (`_Run.sync_statistics`), so every worker
validates and saves the same weights (`weights_sha256` in the result is equal on all).

A `bundle=` argument (a `kcolor.data.DataBundle` built by the caller) resumes exactly
when its `train_from(step)` gives the batches from `step` on (`build_datasets`' does),
or, without `train_from`, when its `train` split yields the same batches on every pass.
`hooks=` (a `kcolor.training.hooks.RunHooks`) hears each phase of the run: a train
step, a checkpoint write, each end-of-epoch file. `on_nonfinite=skip_batch` needs a
single replica: a conditional update cannot run inside a distributed step, so with more
replicas the run is refused before it starts.

Example:
    cfg = apply_overrides(get_config("sample"), ["model=pix2pix", "epochs=2"])
    result = train(cfg)        # {'run_dir': ..., 'losses': ..., 'val': ..., 'history': ...}
"""

import dataclasses
import hashlib
import json
import math
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from kcolor import fs
from kcolor.config import resolve_config
from kcolor.errors import ConfigError, RunFolderError
from kcolor.models.io import get_io
from kcolor.models.params import count_params
from kcolor.models.registry import get_model
from kcolor.models.saving import save_colorizer
from kcolor.training import resume as resume_lib
from kcolor.training import tb
from kcolor.pictures import grid_image, save_loss_curve, save_sample_grid
from kcolor.training.figures import as_colorized
from kcolor.training.history import History
from kcolor.training.hooks import PhaseCalls
from kcolor.fs import atomic_write_json
from kcolor.training.optimizers import make_optimizer
from kcolor.training.precision import resolve_precision
from kcolor.models.io import feed
from kcolor.training.steps import compile_step, eval_step, gan_step, supervised_step
from kcolor.training.strategy import describe_strategy, is_chief, make_strategy, set_threads

# Loss settings of a GAN whose builder does not return a "gan_loss" entry.
GAN_LOSS_DEFAULTS = {"adv_loss": "bce", "recon_loss": "l1", "recon_weight": 100.0}
STEP_LOG_EVERY = 10  # TensorBoard step scalars every this many steps


def default_run_dir(cfg):
    return fs.join("runs", f"{cfg.config_name}-{cfg.model}")


def _build_datasets(cfg):
    # Imported here: the data floor loads only when a run needs it.
    from kcolor.data import build_datasets

    return build_datasets(cfg)


class _MixedPrecision:
    """Set a Keras dtype policy for building, and put the previous one back."""

    def __init__(self, policy):
        self.policy = policy

    def __enter__(self):
        self.previous = keras.mixed_precision.global_policy()
        if self.policy:
            keras.mixed_precision.set_global_policy(self.policy)

    def __exit__(self, *exc):
        keras.mixed_precision.set_global_policy(self.previous)


def _global_count(strategy, batch):
    """Images in this step over every replica of every worker.

    A worker holds only its own replicas' shares; the global count scales them up,
    which is exact when the batch splits evenly (training batches always do: they are
    batched with drop_remainder, in a multiple of the replicas).
    """
    local = strategy.experimental_local_results(batch["rgb"])
    count = sum(int(v.shape[0]) for v in local)
    return count * int(strategy.num_replicas_in_sync) // max(1, len(local))


def _num_workers(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return 1
    spec = resolver.cluster_spec().as_dict() or {}
    return sum(len(spec.get(job, ())) for job in ("chief", "worker"))


def weights_sha256(models) -> str:
    """SHA-256 of every weight of `models` (a dict of Keras models), in a fixed order.

    Two workers (or two runs) with the same digest hold bitwise the same weights.
    """
    digest = hashlib.sha256()
    for name in sorted(models):
        for variable in models[name].weights:
            digest.update(variable.path.encode())
            digest.update(np.ascontiguousarray(variable.numpy()).tobytes())
    return digest.hexdigest()


def _sample_batch(bundle, n):
    for split in (bundle.val, bundle.test, bundle.train):
        if split is None:
            continue
        batch = next(iter(split.unbatch().take(n).batch(n)), None)
        if batch is not None:
            return batch
    return None


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
    """State of one `train` call; `train` below is the public entry point."""

    def __init__(self, cfg, run_dir, bundle, verbose, strategy, hooks=None):
        self.cfg = cfg
        self.verbose = verbose
        # Made by `train` before any other TensorFlow op: a multi-worker strategy
        # configures the runtime's collectives, which it can only do at start-up.
        self.strategy = strategy
        self.chief = is_chief(strategy)
        self.num_workers = _num_workers(strategy)
        self._sync_fn = None
        self.phases = PhaseCalls(hooks)
        self.restored_state = {}  # what `restore` found; stays empty when nothing is restored
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
            if self.num_workers > 1 and stream:
                print(f"Training data: {stream}; {self.num_workers} workers")
        self._build_networks()
        self._build_checkpoint()

    # ----------------------------------------------------------------- setup
    def _build_networks(self):
        cfg = self.cfg
        with _MixedPrecision(self.precision), self.strategy.scope():
            networks = self.spec.build(cfg.image_size, **cfg.options)
            self.models = {k: v for k, v in networks.items() if isinstance(v, keras.Model)}
            # A model may declare `epoch_hook(completed_epochs) -> bool`, run before each
            # epoch (e.g. freeze an encoder for the first N epochs); True means it changed
            # which weights train, so the train step is traced again. The optimizers below
            # are built on every weight the builder left trainable.
            self.epoch_hook = networks.get("epoch_hook")
            self.colorizer = self.models["colorizer"]
            self.optimizers = {}
            if self.spec.trainer == "gan":
                self.gan_loss = {**GAN_LOSS_DEFAULTS, **dict(networks.get("gan_loss") or {})}
                d_lr = cfg.d_learning_rate if cfg.d_learning_rate is not None else cfg.learning_rate
                rates = {"colorizer": cfg.learning_rate, "discriminator": d_lr}
            else:
                self.gan_loss = None
                rates = {"colorizer": cfg.learning_rate}
            for name, lr in rates.items():
                # lr_schedule drives both networks, except a discriminator given its own rate.
                own_rate = name == "discriminator" and cfg.d_learning_rate is not None
                schedule = None if own_rate else cfg.lr_schedule
                opt = make_optimizer(
                    lr, beta_1=cfg.beta_1, beta_2=cfg.beta_2, mixed_precision=self.precision, lr_schedule=schedule
                )
                opt.build(self.models[name].trainable_variables)  # before tracing, or the step retraces
                self.optimizers[name] = opt
        self.recon_loss = self.gan_loss["recon_loss"] if self.gan_loss else self.cfg.loss

    def _build_checkpoint(self):
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")  # completed epochs
        self.epoch_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch_step")
        # Beside the weights: the run state (this epoch's loss sums, the history rows,
        # skipped batches; kcolor.training.resume) and the networks' random state (Keras
        # seed generators, which a model's own checkpoint leaves out).
        self.state = tf.Variable("", dtype=tf.string, trainable=False, name="run_state")
        seen, seed_states = set(), []
        for model in self.models.values():
            for v in model.variables:
                if "seed_generator_state" in v.path and id(v) not in seen:
                    seen.add(id(v))
                    seed_states.append(v)
        tracked = {f"{k}_optimizer": v for k, v in self.optimizers.items()}
        tracked.update(self.models)
        self.checkpoint = tf.train.Checkpoint(
            step=self.step, epoch=self.epoch, epoch_step=self.epoch_step, run_state=self.state,
            seed_states=seed_states, **tracked
        )
        keep = max(1, int(self.cfg.keep_checkpoints))
        self.manager = tf.train.CheckpointManager(self.checkpoint, fs.join(self.run_dir, "checkpoints"), max_to_keep=keep)
        self.worker_dir = None
        self.save_manager = self.manager
        if not self.chief:
            # Every worker must take part in a save; the others write to a folder of their own.
            resolver = self.strategy.cluster_resolver
            self.worker_dir = tempfile.mkdtemp(prefix=f"kcolor-{resolver.task_type}{resolver.task_id}-")
            self.save_manager = tf.train.CheckpointManager(
                self.checkpoint, fs.join(self.worker_dir, "checkpoints"), max_to_keep=1
            )
            if self.verbose:
                print(
                    f"Task {resolver.task_type}:{resolver.task_id} is not the chief: it writes nothing to the run folder; "
                    f"its share of each checkpoint goes to {self.worker_dir}, deleted after each save"
                )

    def restore(self):
        latest = self.manager.latest_checkpoint
        self.restored_state = {}
        if latest:
            try:
                self.checkpoint.restore(latest).assert_existing_objects_matched()
            except (AssertionError, ValueError, tf.errors.OpError) as err:
                first = str(err).strip().splitlines()[0][:300]
                raise RunFolderError(
                    f"The checkpoint {latest} does not fit this model or kcolor version ({first}); "
                    "use --set resume=restart or another run_dir"
                ) from None
            self.restored_state = resume_lib.decode_state(self.state.numpy().decode("utf-8"), latest)
            if self.verbose:
                print(
                    f"Resuming {self.run_dir} from {fs.basename(latest)}: "
                    f"step {int(self.step.numpy())}, epoch {int(self.epoch.numpy())}"
                )
        return bool(latest)

    def close(self):
        """Delete a non-chief worker's temporary checkpoint folder."""
        if self.worker_dir is not None:
            fs.rmtree(self.worker_dir)

    def _train_stream(self):
        """The training batches from the checkpoint's global step on (exact data position).

        A bundle with `train_from(step)` (`kcolor.data.build_datasets`: each pass fixed by
        (seed, pass)) gives it; without one the train split is repeated and skipped to
        `step`, which is exact when it yields the same batches on every pass.
        """
        step = int(self.step.numpy())
        if self.bundle.train_from is not None:
            return self.bundle.train_from(step, num_workers=self.num_workers)
        return self.bundle.train.repeat().skip(step)

    def _datasets(self):
        cfg = self.cfg
        self._streamed = bool(cfg.steps_per_epoch) or int(self.bundle.train.cardinality().numpy()) > 0
        train = self._train_stream() if self._streamed else self.bundle.train
        self.dist_train = self.strategy.experimental_distribute_dataset(train)
        self.dist_val = None
        if self.bundle.val is not None:
            val = self.bundle.val.take(cfg.val_steps) if cfg.val_steps else self.bundle.val
            self.dist_val = self.strategy.experimental_distribute_dataset(val)
        cardinality = int(self.bundle.train.cardinality().numpy())
        counts = self.bundle.counts or {}
        if cfg.steps_per_epoch:
            self.steps_per_epoch = int(cfg.steps_per_epoch)
        elif cardinality > 0:
            self.steps_per_epoch = cardinality
        elif counts.get("train"):
            self.steps_per_epoch = math.ceil(counts["train"] / cfg.batch_size)
        else:
            self.steps_per_epoch = None  # unknown: one full pass, however long

    def _compile(self):
        cfg = self.cfg
        common = dict(strategy=self.strategy, jit_compile=cfg.jit_compile, io=self.io)
        if self.spec.trainer == "gan":
            self.train_fn = compile_step(
                gan_step,
                element_spec=self.dist_train.element_spec,
                generator=self.colorizer,
                discriminator=self.models["discriminator"],
                g_opt=self.optimizers["colorizer"],
                d_opt=self.optimizers["discriminator"],
                **self.gan_loss,
                **common,
                label_seed=cfg.seed,
                skip_nonfinite=cfg.on_nonfinite == "skip_batch",
            )
        else:
            self.train_fn = compile_step(
                supervised_step,
                element_spec=self.dist_train.element_spec,
                model=self.colorizer,
                optimizer=self.optimizers["colorizer"],
                loss_fn=cfg.loss,
                **common,
                skip_nonfinite=cfg.on_nonfinite == "skip_batch",
            )
        self.val_fn = None
        if self.dist_val is not None:
            self.val_fn = compile_step(
                eval_step,
                element_spec=self.dist_val.element_spec,
                model=self.colorizer,
                loss_fn=self.recon_loss,
                **common,
            )

    # ----------------------------------------------------------------- outputs
    def write_static_files(self):
        cfg = self.cfg
        atomic_write_json(fs.join(self.run_dir, "config.json"), cfg.to_dict())
        info = {
            "model": cfg.model,
            "image_size": cfg.image_size,
            "options": cfg.options,
            "io": self.spec.io,
            "trainer": self.spec.trainer,
            "paper": self.spec.paper,
            "config": cfg.config_name,
            "params": {name: count_params(model) for name, model in self.models.items()},
        }
        if self.gan_loss:
            info["gan_loss"] = self.gan_loss
        atomic_write_json(fs.join(self.run_dir, "model.json"), info)

    def _sync_state(self, stats, history):
        epoch_state = stats.to_state() if stats is not None else resume_lib.empty_epoch()
        wall = self._wall_offset + time.perf_counter() - self._start
        self.state.assign(
            resume_lib.encode_state(
                epoch_stats=epoch_state, history_rows=history.rows, skipped=self.skipped, wall_time=wall,
                pending_change=self.pending_change,
            )
        )

    def save_checkpoint(self, stats=None, history=None):
        """Write a checkpoint of the whole run state; the previous one stays latest until it is complete."""
        self.sync_statistics()
        self._sync_state(stats, history if history is not None else self.history)
        self.phases("checkpoint")
        path = self.save_manager.save(checkpoint_number=int(self.step.numpy()))
        if self.worker_dir is not None:
            fs.rmtree(fs.join(self.worker_dir, "checkpoints"))
        self._last_save = time.perf_counter()
        if self.verbose > 1:
            print(f"Saved checkpoint {path}")
        return path

    def save_colorizer(self):
        if not self.chief:
            return
        save_colorizer(self.colorizer, fs.join(self.run_dir, "colorizer.keras"))  # standard Keras, whole or not at all

    def samples(self):
        batch = self._samples_batch
        if batch is None:
            return None
        inputs = self.io.inputs(batch)
        output = self.colorizer(feed(self.colorizer, inputs), training=False)
        prediction = self.io.to_rgb(tf.cast(output, tf.float32), inputs).numpy()
        gray = batch["rgb"].numpy() @ np.array([0.299, 0.587, 0.114], np.float32)
        colorized = as_colorized(batch["rgb"], inputs, output, self.io)
        return gray[..., None], prediction, batch["rgb"].numpy(), colorized

    def write_figures(self, history, epoch):
        if not self.chief:
            return
        if history.rows:
            title = f"{self.cfg.model} ({self.cfg.config_name})"
            save_loss_curve(history.rows, fs.join(self.run_dir, "loss_curve.png"), title=title)
        sample = self.samples()
        if sample is not None:
            gray, prediction, truth, colorized = sample
            title = f"{self.cfg.model}, epoch {epoch}"
            save_sample_grid(
                gray, prediction, truth, fs.join(self.run_dir, "samples.png"), colorized=colorized, title=title
            )
            grid = grid_image(gray, prediction, truth, colorized)[None]
            with self.writer.as_default(step=int(self.step.numpy())):
                tb.image("samples/gray_prediction_colorized_truth", grid, max_outputs=1)

    # ----------------------------------------------------------------- loop
    def validate(self):
        if self.val_fn is None:
            return {}
        sums = {}
        for batch in self.dist_val:
            for k, v in self.val_fn(batch).items():
                sums[k] = sums.get(k, 0.0) + float(v)
        count = sums.pop("count", 0.0)
        if not count:
            return {}
        return {f"val_{k}": v / count for k, v in sums.items()}

    def _train_epoch(self, max_steps, stats):
        """Run the current epoch's remaining steps into `stats` (its `_EpochStats`)."""
        cfg = self.cfg
        epoch, done = int(self.epoch.numpy()), int(self.epoch_step.numpy())
        remaining = None if self.steps_per_epoch is None else max(self.steps_per_epoch - done, 0)
        if self._train_iter is None or not self._streamed:
            self._train_iter = iter(self.dist_train)  # the stream from the step, or a full pass
        progbar = None
        if self.verbose:
            print(f"Epoch {epoch + 1}/{cfg.epochs}")
            progbar = keras.utils.Progbar(self.steps_per_epoch, stateful_metrics=["img/s"])
        ran = 0
        every_steps = cfg.checkpoint_every_steps
        every_seconds = 60.0 * cfg.checkpoint_every_minutes if cfg.checkpoint_every_minutes else None
        while remaining is None or ran < remaining:
            if max_steps is not None and int(self.step.numpy()) >= max_steps:
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
            step = int(self.step.numpy()) + 1
            skipped = losses.pop("skipped", 0.0) > 0
            bad = resume_lib.first_nonfinite(losses)
            if bad is not None and not (skipped and cfg.on_nonfinite == "skip_batch"):
                self._nonfinite(step, bad)
            count = _global_count(self.strategy, batch)
            if self._traced:  # the first call traces the step: not throughput
                stats.busy += dt
                stats.images += count
            self._traced = True
            self.step.assign_add(1)
            self.epoch_step.assign_add(1)
            ran += 1
            if skipped:
                self.skipped += 1
                stats.steps += 1  # the batch counts as a step; its losses do not enter the means
                stats.skipped += 1
            else:
                stats.add(losses)
            self._consistent = True
            if step % STEP_LOG_EVERY == 0 and not skipped:
                with self.writer.as_default(step=step):
                    for k, v in losses.items():
                        tb.scalar(f"step/{k}", v)
            if progbar is not None and not skipped:
                rate = stats.images / stats.busy if stats.busy > 0 else count / dt
                progbar.update(done + ran, [*losses.items(), ("img/s", rate)])
            at_epoch_end = remaining is not None and ran >= remaining
            due = (every_steps and step % every_steps == 0) or (
                every_seconds and self._any_worker(time.perf_counter() - self._last_save >= every_seconds)
            )
            if due and not at_epoch_end:  # the epoch's end writes its own checkpoint
                self.save_checkpoint(stats)
        if stats.steps == 0 and remaining != 0 and not stats.stopped:
            raise RuntimeError("The training split yielded no batches; check the data source and batch_size")
        return stats

    def sync_statistics(self):
        """Average the networks' float non-trainable weights (BatchNorm moving statistics) over the replicas.

        Keras updates such a weight on every replica from that replica's own share of the
        batch and never reconciles the copies, so under `mirrored` or `multiworker` each
        replica (each worker) drifts to statistics of its own. The loop averages them
        before every validation, checkpoint and save: all workers then validate, save and
        resume with the same weights. (For the moving mean this is the running mean of the
        global batch; the moving variance is the mean of the replicas' variances.)
        """
        if self.strategy.num_replicas_in_sync == 1:
            return
        if self._sync_fn is None:
            seen, variables = set(), []
            for model in self.models.values():
                for v in model.non_trainable_variables:
                    if "float" in str(v.dtype) and id(v) not in seen:
                        seen.add(id(v))
                        variables.append(v)

            def average():
                ctx = tf.distribute.get_replica_context()
                for v in variables:
                    v.assign(ctx.all_reduce(tf.distribute.ReduceOp.MEAN, tf.identity(v.value)))

            self._sync_fn = tf.function(lambda: self.strategy.run(average))
        self._sync_fn()

    def _gather(self, value):
        """`value` (a float) of every replica of every worker, as a numpy array."""
        per_replica = self.strategy.run(lambda: tf.constant([float(value)], tf.float32))
        return self.strategy.gather(per_replica, axis=0).numpy()

    def _any_worker(self, flag):
        """True when `flag` is true on any worker (each worker's clock differs; all must save together)."""
        if self.num_workers == 1:
            return bool(flag)
        return bool(self._gather(1.0 if flag else 0.0).max() > 0.5)

    def _check_workers_restored_alike(self):
        """All workers must continue from the same step (they restore from the run folder)."""
        if self.num_workers == 1:
            return
        steps = self._gather(int(self.step.numpy()))
        if steps.min() != steps.max():
            raise RunFolderError(
                f"The workers restored different steps ({int(steps.min())} to {int(steps.max())}; this one "
                f"{int(self.step.numpy())}) from {self.run_dir}: every worker must read the same run folder (a path "
                "they all share, such as gs://...); use --set resume=restart or another run_dir"
            )

    def _nonfinite(self, step, bad):
        name, value = bad
        latest = self.manager.latest_checkpoint
        last = f"the last good checkpoint is {latest}" if latest else "no checkpoint was written yet"
        raise resume_lib.NonFiniteLossError(
            f"Non-finite loss at step {step} (epoch {int(self.epoch.numpy()) + 1}): {name}={value}; stopped without "
            f"writing anything, {last}. Lower learning_rate, or pass --set on_nonfinite=skip_batch to skip such batches"
        )

    def _finish_epoch(self, stats):
        """Validate, log, checkpoint and write the run folder's files after an epoch.

        The checkpoint (holding the new history row) is written first; the files after it
        (history, figures, colorizer.keras) are functions of the checkpointed state, and a
        resume at an epoch's end writes them again (`_rewrite_epoch_files`).
        """
        cfg = self.cfg
        history = self.history
        epoch = int(self.epoch.numpy())
        self.sync_statistics()
        val = self.validate()
        row = {"epoch": epoch + 1, "step": int(self.step.numpy())}
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
        history.append(row)
        self.epoch.assign_add(1)
        self.epoch_step.assign(0)
        self._consistent = True
        with self.writer.as_default(step=int(self.step.numpy())):
            for k, v in row.items():
                if k not in ("epoch", "step") and isinstance(v, (int, float)):
                    tb.scalar(f"epoch/{k}", v)
        if self.verbose:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in val.items())
            print(f"  validation: {shown or '(no val split)'}")
        if epoch + 1 >= cfg.epochs or (epoch + 1) % max(1, int(cfg.checkpoint_every)) == 0:
            self.save_checkpoint(None)
        self._write_epoch_files(epoch + 1)

    def _write_epoch_files(self, epoch):
        if not self.chief:
            return
        self.phases("history")
        self.history.save(self.run_dir)
        self.phases("figures")
        self.write_figures(self.history, epoch)
        self.phases("colorizer")
        self.save_colorizer()

    def _epoch_files_current(self):
        """Whether the end-of-epoch files match the latest checkpoint (all written after it)."""
        index = self.manager.latest_checkpoint + ".index"
        saved = History.load(self.run_dir).rows if fs.exists(fs.join(self.run_dir, "history.json")) else None
        if saved != json.loads(json.dumps(self.history.rows)):
            return False
        names = ["history.csv", "colorizer.keras"] + (["samples.png"] if self._samples_batch is not None else [])
        paths = [fs.join(self.run_dir, n) for n in names]
        return all(fs.exists(p) and fs.mtime(p) >= fs.mtime(index) for p in paths)

    def _restore_history(self):
        """The history rows the checkpoint holds (a run folder's history.json may be ahead of it)."""
        state = self.restored_state
        if "history" in state:
            return History(state["history"])
        history = History.load(self.run_dir)  # a checkpoint written before the run state existed
        history.truncate(int(self.epoch.numpy()))
        return history

    def run(self, max_steps=None):
        cfg = self.cfg
        self._datasets()
        self._compile()
        self._check_workers_restored_alike()
        if self.chief:
            self.writer = tf.summary.create_file_writer(fs.join(self.run_dir, "tb"))
            self._samples_batch = _sample_batch(self.bundle, max(1, int(cfg.sample_images)))
        else:
            self.writer, self._samples_batch = tf.summary.create_noop_writer(), None
        self._train_iter, self._traced, self._consistent = None, False, True
        state = self.restored_state
        self.history = history = self._restore_history()
        self.skipped = int(state.get("skipped_batches", 0))
        self.pending_change = state.get("pending_change") or getattr(self, "pending_change", None)
        self._wall_offset = float(state["wall_time"]) if "wall_time" in state else (
            history.rows[-1].get("wall_time", 0.0) if history.rows else 0.0
        )
        self._start = self._last_save = time.perf_counter()
        if self.chief and self.manager.latest_checkpoint and int(self.epoch_step.numpy()) == 0 and int(self.epoch.numpy()) > 0:
            if not self._epoch_files_current():
                self._write_epoch_files(int(self.epoch.numpy()))  # a kill cut them short
        stats = _EpochStats.from_state(state.get("epoch"))
        stopped = False
        try:
            while int(self.epoch.numpy()) < cfg.epochs:
                if self.epoch_hook is not None and self.epoch_hook(int(self.epoch.numpy())):
                    self._compile()
                    self._traced = False  # the next call traces again: not throughput
                stats = self._train_epoch(max_steps, stats)
                if stats.stopped:
                    stopped = True
                    break
                self._finish_epoch(stats)
                stats = _EpochStats(start=time.perf_counter())
        except KeyboardInterrupt:
            if self._consistent and self.num_workers == 1:  # a save needs every worker; one was interrupted
                self.save_checkpoint(stats)
                history.save(self.run_dir)
                print(f"\nInterrupted: checkpoint saved at step {int(self.step.numpy())}; run the same command to resume.")
            else:
                print(f"\nInterrupted inside a step: kept the last checkpoint {self.manager.latest_checkpoint}.")
            raise
        if stopped:
            self.save_checkpoint(stats)
            if self.chief:
                history.save(self.run_dir)
            self.save_colorizer()
        elif self.chief and not fs.exists(fs.join(self.run_dir, "colorizer.keras")):
            self.save_colorizer()
        self.writer.flush()
        last = history.rows[-1] if history.rows else {}
        return {
            "run_dir": self.run_dir,
            "losses": {k[len("train_") :]: v for k, v in last.items() if k.startswith("train_")},
            "val": {k: v for k, v in last.items() if k.startswith("val_")},
            "history": history.rows,
            "wall_time": time.perf_counter() - self._start,
            "step": int(self.step.numpy()),
            "epoch": int(self.epoch.numpy()),
            "stopped_early": stopped,
            "skipped_batches": self.skipped,
            "weights_sha256": weights_sha256(self.models),
        }


def train(cfg, *, run_dir=None, max_steps=None, verbose=1, bundle=None, hooks=None):
    """Train `cfg` into a run folder; resume it if the folder holds a checkpoint.

    Args:
        cfg: a `TrainConfig`. Recipe fields left as None (learning rate, betas, loss)
            come from the model's registered `defaults` (`kcolor.config.resolve_config`).
        run_dir: the run folder; default `cfg.run_dir`, else `runs/<config>-<model>`.
        max_steps: stop (and checkpoint) once the global step reaches this.
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
    set_threads(cfg.intra_op_threads, cfg.inter_op_threads)  # acts before TF's first op
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
    old_config, changed = resume_lib.check_resumable(run_dir, cfg, move=chief)  # only the chief moves files
    if chief:
        fs.makedirs(run_dir)
    run = _Run(cfg, run_dir, bundle, verbose, strategy, hooks)
    try:
        if cfg.resume != "restart":  # restart: the chief moved the checkpoints aside (a worker may look first)
            run.restore()
        if changed:  # resume=continue under a changed config: keep the weights, record it
            step, epoch = int(run.step.numpy()), int(run.epoch.numpy())
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


__all__ = ["GAN_LOSS_DEFAULTS", "default_run_dir", "train", "weights_sha256"]
