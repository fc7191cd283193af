"""The training loop: one config in, one run folder out, resumable.

`train(cfg)` builds the data (`kcolor.data.build_datasets`) and the registered model's
networks under the configured `tf.distribute` strategy, then runs epochs of the model's
train step (`supervised_step` or `gan_step`), validating after each. The run folder
(default `runs/<config_name>-<model>`) holds:

| file              | what                                                                |
|-------------------|---------------------------------------------------------------------|
| `config.json`     | the resolved config                                                 |
| `model.json`      | `{model, image_size, options, io, trainer, paper, ...}` for export  |
| `checkpoints/`    | `tf.train.CheckpointManager`: networks, optimizers, step and epoch  |
| `tb/`             | TensorBoard scalars (per step and epoch) and the sample image grid  |
| `history.csv/json`| per epoch: train losses, val losses, images/s, epoch and wall time  |
| `loss_curve.png`  | the history's losses against the epoch                              |
| `samples.png`     | rows of gray input | prediction | ground truth on held-out images    |
| `colorizer.keras` | the trained colorizer (loads in Keras safe mode)                    |

Running the same command again on the same run folder resumes from the last
checkpoint's step and epoch; an interrupt (Ctrl-C) checkpoints before it exits. Every
file is written atomically.

Example:
    cfg = apply_overrides(get_config("sample"), ["model=pix2pix", "epochs=2"])
    result = train(cfg)        # {'run_dir': ..., 'losses': ..., 'val': ..., 'history': ...}
"""

import dataclasses
import json
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from kcolor.config import resolve_config
from kcolor.models.io import get_io
from kcolor.models.params import count_params
from kcolor.models.registry import get_model
from kcolor.models.saving import save_colorizer
from kcolor.training import tb
from kcolor.training.figures import grid_image, save_loss_curve, save_sample_grid
from kcolor.training.history import History, atomic_write_json
from kcolor.training.optimizers import make_optimizer
from kcolor.training.steps import compile_step, eval_step, feed, gan_step, supervised_step
from kcolor.training.strategy import make_strategy, set_threads

# Loss settings of a GAN whose builder does not return a "gan_loss" entry.
GAN_LOSS_DEFAULTS = {"adv_loss": "bce", "recon_loss": "l1", "recon_weight": 100.0}
STEP_LOG_EVERY = 10  # TensorBoard step scalars every this many steps

# What must match for a run folder's checkpoint to be resumed.
_RESUME_KEYS = ("model", "image_size", "options")


def default_run_dir(cfg):
    return Path("runs") / f"{cfg.config_name}-{cfg.model}"


@dataclasses.dataclass
class _Bundle:
    train: tf.data.Dataset
    val: tf.data.Dataset = None
    test: tf.data.Dataset = None
    counts: dict = dataclasses.field(default_factory=dict)


def _as_bundle(datasets):
    if isinstance(datasets, dict):
        return _Bundle(
            datasets["train"], datasets.get("val"), datasets.get("test"), dict(datasets.get("counts") or {})
        )
    return _Bundle(
        datasets.train,
        getattr(datasets, "val", None),
        getattr(datasets, "test", None),
        dict(getattr(datasets, "counts", None) or {}),
    )


def _build_datasets(cfg):
    try:
        from kcolor.data import build_datasets
    except ImportError as err:
        raise RuntimeError(f"kcolor.data.build_datasets is not available ({err}); pass datasets= to train()") from None
    return _as_bundle(build_datasets(cfg))


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


def _check_resumable(run_dir, cfg):
    path = run_dir / "config.json"
    if not path.exists() or not (run_dir / "checkpoints").exists():
        return
    old = json.loads(path.read_text(encoding="utf-8"))
    new = json.loads(json.dumps(cfg.to_dict(), default=list))
    changed = [k for k in _RESUME_KEYS if old.get(k) != new.get(k)]
    if changed:
        detail = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed)
        raise ValueError(
            f"Run folder {run_dir} holds a checkpoint of a different model ({detail}). "
            "Choose another run_dir or delete that folder."
        )


def _local_count(strategy, batch):
    return sum(int(v.shape[0]) for v in strategy.experimental_local_results(batch["rgb"]))


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

    def add(self, losses):
        self.steps += 1
        for k, v in losses.items():
            self.sums[k] = self.sums.get(k, 0.0) + v

    def means(self):
        return {k: v / self.steps for k, v in self.sums.items()} if self.steps else {}


class _Run:
    """State of one `train` call; `train` below is the public entry point."""

    def __init__(self, cfg, run_dir, datasets, verbose):
        self.cfg = cfg
        self.verbose = verbose
        self.run_dir = Path(run_dir)
        self.spec = get_model(cfg.model)
        self.io = get_io(self.spec.io)
        self.bundle = _as_bundle(datasets) if datasets is not None else _build_datasets(cfg)
        self.strategy = make_strategy(cfg.strategy)
        self._build_networks()
        self._build_checkpoint()

    # ----------------------------------------------------------------- setup
    def _build_networks(self):
        cfg = self.cfg
        with _MixedPrecision(cfg.mixed_precision), self.strategy.scope():
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
                    lr, beta_1=cfg.beta_1, beta_2=cfg.beta_2, mixed_precision=cfg.mixed_precision, lr_schedule=schedule
                )
                opt.build(self.models[name].trainable_variables)  # before tracing, or the step retraces
                self.optimizers[name] = opt
        self.recon_loss = self.gan_loss["recon_loss"] if self.gan_loss else self.cfg.loss

    def _build_checkpoint(self):
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")  # completed epochs
        self.epoch_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch_step")
        tracked = {f"{k}_optimizer": v for k, v in self.optimizers.items()}
        tracked.update(self.models)
        self.checkpoint = tf.train.Checkpoint(step=self.step, epoch=self.epoch, epoch_step=self.epoch_step, **tracked)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(self.run_dir / "checkpoints"), max_to_keep=max(1, int(self.cfg.keep_checkpoints))
        )

    def restore(self):
        latest = self.manager.latest_checkpoint
        if latest:
            self.checkpoint.restore(latest).assert_existing_objects_matched()
            if self.verbose:
                print(
                    f"Resuming {self.run_dir} from {Path(latest).name}: "
                    f"step {int(self.step.numpy())}, epoch {int(self.epoch.numpy())}"
                )
        return bool(latest)

    def _datasets(self):
        cfg = self.cfg
        train = self.bundle.train.repeat() if cfg.steps_per_epoch else self.bundle.train
        self.dist_train = self.strategy.experimental_distribute_dataset(train)
        self.dist_val = None
        if self.bundle.val is not None:
            val = self.bundle.val.take(cfg.val_steps) if cfg.val_steps else self.bundle.val
            self.dist_val = self.strategy.experimental_distribute_dataset(val)
        cardinality = int(self.bundle.train.cardinality().numpy())
        if cfg.steps_per_epoch:
            self.steps_per_epoch = int(cfg.steps_per_epoch)
        elif cardinality > 0:
            self.steps_per_epoch = cardinality
        elif self.bundle.counts.get("train"):
            self.steps_per_epoch = math.ceil(self.bundle.counts["train"] / cfg.batch_size)
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
            )
        else:
            self.train_fn = compile_step(
                supervised_step,
                element_spec=self.dist_train.element_spec,
                model=self.colorizer,
                optimizer=self.optimizers["colorizer"],
                loss_fn=cfg.loss,
                **common,
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
        atomic_write_json(self.run_dir / "config.json", cfg.to_dict())
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
        atomic_write_json(self.run_dir / "model.json", info)

    def save_checkpoint(self):
        path = self.manager.save(checkpoint_number=int(self.step.numpy()))
        if self.verbose > 1:
            print(f"Saved checkpoint {path}")
        return path

    def save_colorizer(self):
        save_colorizer(self.colorizer, self.run_dir / "colorizer.keras")  # standard Keras, whole or not at all

    def samples(self):
        batch = self._samples_batch
        if batch is None:
            return None
        inputs = self.io.inputs(batch)
        output = self.colorizer(feed(self.colorizer, inputs), training=False)
        prediction = self.io.to_rgb(tf.cast(output, tf.float32), inputs).numpy()
        gray = batch["rgb"].numpy() @ np.array([0.299, 0.587, 0.114], np.float32)
        return gray[..., None], prediction, batch["rgb"].numpy()

    def write_figures(self, history, epoch):
        if history.rows:
            title = f"{self.cfg.model} ({self.cfg.config_name})"
            save_loss_curve(history.rows, self.run_dir / "loss_curve.png", title=title)
        sample = self.samples()
        if sample is not None:
            gray, prediction, truth = sample
            title = f"{self.cfg.model}, epoch {epoch}"
            save_sample_grid(gray, prediction, truth, self.run_dir / "samples.png", title=title)
            with self.writer.as_default(step=int(self.step.numpy())):
                tb.image("samples/gray_prediction_truth", grid_image(gray, prediction, truth)[None], max_outputs=1)

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

    def _train_epoch(self, max_steps):
        """Run the current epoch's remaining steps; returns its `_EpochStats`."""
        cfg = self.cfg
        epoch, done = int(self.epoch.numpy()), int(self.epoch_step.numpy())
        remaining = None if self.steps_per_epoch is None else max(self.steps_per_epoch - done, 0)
        if self._train_iter is None or not cfg.steps_per_epoch:
            self._train_iter = iter(self.dist_train)  # a full pass, or a repeated stream
        progbar = None
        if self.verbose:
            print(f"Epoch {epoch + 1}/{cfg.epochs}")
            progbar = keras.utils.Progbar(self.steps_per_epoch, stateful_metrics=["img/s"])
        stats = _EpochStats(start=time.perf_counter())
        while remaining is None or stats.steps < remaining:
            if max_steps is not None and int(self.step.numpy()) >= max_steps:
                stats.stopped = True
                break
            batch = next(self._train_iter, None)
            if batch is None:
                break
            t0 = time.perf_counter()
            losses = {k: float(v) for k, v in self.train_fn(batch).items()}
            dt = time.perf_counter() - t0
            count = _local_count(self.strategy, batch)
            if self._traced:  # the first call traces the step: not throughput
                stats.busy += dt
                stats.images += count
            self._traced = True
            self.step.assign_add(1)
            self.epoch_step.assign_add(1)
            stats.add(losses)
            step = int(self.step.numpy())
            if step % STEP_LOG_EVERY == 0:
                with self.writer.as_default(step=step):
                    for k, v in losses.items():
                        tb.scalar(f"step/{k}", v)
            if progbar is not None:
                rate = stats.images / stats.busy if stats.busy > 0 else count / dt
                progbar.update(done + stats.steps, [*losses.items(), ("img/s", rate)])
        if stats.steps == 0 and remaining != 0 and not stats.stopped:
            raise RuntimeError("The training split yielded no batches; check the data source and batch_size")
        return stats

    def _finish_epoch(self, stats, history, wall_offset, start):
        """Validate, log, checkpoint and write the run folder's files after an epoch."""
        cfg = self.cfg
        epoch = int(self.epoch.numpy())
        val = self.validate()
        self.epoch.assign_add(1)
        self.epoch_step.assign(0)
        row = {"epoch": epoch + 1, "step": int(self.step.numpy())}
        row.update({f"train_{k}": v for k, v in stats.means().items()})
        row.update(val)
        row["images_per_sec"] = stats.images / stats.busy if stats.busy > 0 else None
        row["epoch_time"] = time.perf_counter() - stats.start
        row["wall_time"] = wall_offset + time.perf_counter() - start
        history.append(row)
        with self.writer.as_default(step=int(self.step.numpy())):
            for k, v in row.items():
                if k not in ("epoch", "step") and v is not None:
                    tb.scalar(f"epoch/{k}", v)
        if self.verbose:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in val.items())
            print(f"  validation: {shown or '(no val split)'}")
        if epoch + 1 >= cfg.epochs or (epoch + 1) % max(1, int(cfg.checkpoint_every)) == 0:
            self.save_checkpoint()
        history.save(self.run_dir)
        self.write_figures(history, epoch + 1)
        self.save_colorizer()

    def run(self, max_steps=None):
        cfg = self.cfg
        self._datasets()
        self._compile()
        self.writer = tf.summary.create_file_writer(str(self.run_dir / "tb"))
        self._samples_batch = _sample_batch(self.bundle, max(1, int(cfg.sample_images)))
        self._train_iter, self._traced = None, False
        history = History.load(self.run_dir)
        history.truncate(int(self.epoch.numpy()))  # rows after the checkpoint are redone
        wall_offset = history.rows[-1].get("wall_time", 0.0) if history.rows else 0.0
        start = time.perf_counter()
        stopped = False
        try:
            while int(self.epoch.numpy()) < cfg.epochs:
                if self.epoch_hook is not None and self.epoch_hook(int(self.epoch.numpy())):
                    self._compile()
                    self._traced = False  # the next call traces again: not throughput
                stats = self._train_epoch(max_steps)
                if stats.stopped:
                    stopped = True
                    break
                self._finish_epoch(stats, history, wall_offset, start)
        except KeyboardInterrupt:
            self.save_checkpoint()
            history.save(self.run_dir)
            print(f"\nInterrupted: checkpoint saved at step {int(self.step.numpy())}; run the same command to resume.")
            raise
        if stopped:
            self.save_checkpoint()
            history.save(self.run_dir)
            self.save_colorizer()
        elif not (self.run_dir / "colorizer.keras").exists():
            self.save_colorizer()
        self.writer.flush()
        last = history.rows[-1] if history.rows else {}
        return {
            "run_dir": str(self.run_dir),
            "losses": {k[len("train_") :]: v for k, v in last.items() if k.startswith("train_")},
            "val": {k: v for k, v in last.items() if k.startswith("val_")},
            "history": history.rows,
            "wall_time": time.perf_counter() - start,
            "step": int(self.step.numpy()),
            "epoch": int(self.epoch.numpy()),
            "stopped_early": stopped,
        }


def train(cfg, *, run_dir=None, max_steps=None, verbose=1, datasets=None):
    """Train `cfg` into a run folder; resume it if the folder holds a checkpoint.

    Args:
        cfg: a `TrainConfig`. Recipe fields left as None (learning rate, betas, loss)
            come from the model's registered `defaults` (`kcolor.config.resolve_config`).
        run_dir: the run folder; default `cfg.run_dir`, else `runs/<config>-<model>`.
        max_steps: stop (and checkpoint) once the global step reaches this; for tests.
        verbose: 0 silent, 1 progress bar and one line per epoch, 2 also checkpoints.
        datasets: use these instead of `kcolor.data.build_datasets(cfg)`: an object or
            dict with `train`, `val` (optional), `test` (optional) batched tf.data
            datasets of `{"rgb": [B, S, S, 3]}` in [0, 1], and optional `counts`.

    Returns:
        dict with `run_dir`, `losses` (last epoch's train means), `val` (last
        validation), `history` (rows), `wall_time` (s, this call), `step`, `epoch` and
        `stopped_early`.

    Example:
        result = train(apply_overrides(get_config("sample"), ["epochs=1"]))
        print(result["val"])
    """
    cfg = resolve_config(cfg)
    set_threads(cfg.intra_op_threads, cfg.inter_op_threads)  # acts before TF's first op
    keras.utils.set_random_seed(int(cfg.seed))
    run_dir = Path(run_dir or cfg.run_dir or default_run_dir(cfg))
    cfg = dataclasses.replace(cfg, run_dir=str(run_dir))
    _check_resumable(run_dir, cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(cfg, run_dir, datasets, verbose)
    run.restore()
    run.write_static_files()
    result = run.run(max_steps=max_steps)
    if verbose:
        losses = ", ".join(f"{k} {v:.4g}" for k, v in result["losses"].items())
        print(f"Run folder: {run_dir}  ({result['wall_time']:.1f} s; {losses})")
    return result


__all__ = ["GAN_LOSS_DEFAULTS", "default_run_dir", "train"]
