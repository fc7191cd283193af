"""The files of a run folder besides its checkpoints, written by the run's chief alone.

| file              | written                                                            |
|-------------------|--------------------------------------------------------------------|
| `config.json`     | at the start of each `train` call: the resolved config              |
| `model.json`      | at the start: model, image size, options, io, trainer, parameters  |
| `tb/`             | TensorBoard: step and epoch scalars (by the loop), the sample grid |
| `history.csv/json`| after each epoch                                                   |
| `loss_curve.png`  | after each epoch                                                   |
| `samples.png`     | after each epoch: gray input, prediction, as colorized, truth      |
| `colorizer.keras` | after each epoch and when the run stops                            |

The end-of-epoch files are functions of the checkpoint written just before them, so a
resume that finds them older than the latest checkpoint, or a history that differs
from the checkpoint's, writes them again (`epoch_files_current`). Every file is written
atomically. On a worker that is not the chief every method writes nothing and the
TensorBoard writer is a no-op one.

Example:
    folder = RunFolder(cfg, run_dir, spec, io, chief=True)
    folder.open(bundle)
    folder.write_epoch_files(history, epoch=1, networks=nets, step=21, phases=PhaseCalls())
"""

import json

import numpy as np
import tensorflow as tf

from kcolor import fs
from kcolor.fs import atomic_write_json
from kcolor.models.io import feed
from kcolor.models.params import count_params
from kcolor.models.saving import save_colorizer
from kcolor.pictures import grid_image, save_loss_curve, save_sample_grid
from kcolor.training import tb
from kcolor.training.figures import as_colorized
from kcolor.training.history import History


def sample_batch(bundle, n):
    """The first `n` images of the val split (else test, else train) as one batch, or None."""
    for split in (bundle.val, bundle.test, bundle.train):
        if split is None:
            continue
        batch = next(iter(split.unbatch().take(n).batch(n)), None)
        if batch is not None:
            return batch
    return None


class RunFolder:
    """Writes a run folder's config, model card, history, figures, TensorBoard and colorizer."""

    def __init__(self, cfg, run_dir, spec, io, *, chief):
        self.cfg = cfg
        self.run_dir = run_dir
        self.spec = spec
        self.io = io
        self.chief = chief
        self.writer = None
        self.samples_batch = None

    def write_static_files(self, networks):
        """`config.json` and `model.json` (what export reads to rebuild the model)."""
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
            "params": {name: count_params(model) for name, model in networks.models.items()},
        }
        if networks.gan_loss:
            info["gan_loss"] = networks.gan_loss
        atomic_write_json(fs.join(self.run_dir, "model.json"), info)

    def open(self, bundle):
        """Open the TensorBoard writer and take the sample images from `bundle`."""
        if self.chief:
            self.writer = tf.summary.create_file_writer(fs.join(self.run_dir, "tb"))
            self.samples_batch = sample_batch(bundle, max(1, int(self.cfg.sample_images)))
        else:
            self.writer, self.samples_batch = tf.summary.create_noop_writer(), None

    def scalars(self, prefix, values, step):
        """TensorBoard scalars `<prefix>/<name>` at `step`."""
        with self.writer.as_default(step=step):
            for k, v in values.items():
                tb.scalar(f"{prefix}/{k}", v)

    def save_history(self, history):
        history.save(self.run_dir)

    def save_colorizer(self, colorizer):
        if not self.chief:
            return
        save_colorizer(colorizer, fs.join(self.run_dir, "colorizer.keras"))  # standard Keras, whole or not at all

    def has_colorizer(self):
        return fs.exists(fs.join(self.run_dir, "colorizer.keras"))

    def write_epoch_files(self, history, epoch, networks, step, phases):
        """History, figures and `colorizer.keras` after `epoch`; `phases` hears each start."""
        if not self.chief:
            return
        phases("history")
        self.save_history(history)
        phases("figures")
        self.write_figures(history, epoch, networks.colorizer, step)
        phases("colorizer")
        self.save_colorizer(networks.colorizer)

    def epoch_files_current(self, history, latest_checkpoint):
        """Whether the end-of-epoch files match the latest checkpoint (all written after it)."""
        index = latest_checkpoint + ".index"
        saved = History.load(self.run_dir).rows if fs.exists(fs.join(self.run_dir, "history.json")) else None
        if saved != json.loads(json.dumps(history.rows)):
            return False
        names = ["history.csv", "colorizer.keras"] + (["samples.png"] if self.samples_batch is not None else [])
        paths = [fs.join(self.run_dir, n) for n in names]
        return all(fs.exists(p) and fs.mtime(p) >= fs.mtime(index) for p in paths)

    def samples(self, colorizer):
        """The sample images' `(gray, prediction, truth, as colorized)`, or None without samples."""
        batch = self.samples_batch
        if batch is None:
            return None
        inputs = self.io.inputs(batch)
        output = colorizer(feed(colorizer, inputs), training=False)
        prediction = self.io.to_rgb(tf.cast(output, tf.float32), inputs).numpy()
        gray = batch["rgb"].numpy() @ np.array([0.299, 0.587, 0.114], np.float32)
        colorized = as_colorized(batch["rgb"], inputs, output, self.io)
        return gray[..., None], prediction, batch["rgb"].numpy(), colorized

    def write_figures(self, history, epoch, colorizer, step):
        """`loss_curve.png`, `samples.png` and the sample grid in TensorBoard at `step`."""
        if not self.chief:
            return
        if history.rows:
            title = f"{self.cfg.model} ({self.cfg.config_name})"
            save_loss_curve(history.rows, fs.join(self.run_dir, "loss_curve.png"), title=title)
        sample = self.samples(colorizer)
        if sample is not None:
            gray, prediction, truth, colorized = sample
            title = f"{self.cfg.model}, epoch {epoch}"
            save_sample_grid(
                gray, prediction, truth, fs.join(self.run_dir, "samples.png"), colorized=colorized, title=title
            )
            grid = grid_image(gray, prediction, truth, colorized)[None]
            with self.writer.as_default(step=step):
                tb.image("samples/gray_prediction_colorized_truth", grid, max_outputs=1)


__all__ = ["RunFolder", "sample_batch"]
