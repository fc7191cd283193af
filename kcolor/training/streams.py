"""A training run's data streams and the compiled steps that consume them.

`RunStreams` distributes a `kcolor.data.DataBundle` under the run's strategy: the
training stream from the checkpoint's global step on (so a resumed run reads the
batches an uninterrupted one would), the validation split (`val_steps` batches of it),
and the number of steps an epoch has. `compile_run_steps` compiles the model's train
step (`gan_step` or `supervised_step`) and `eval_step` for those streams.

Example:
    streams = RunStreams(cfg, bundle, strategy, step=0, num_workers=1)
    train_fn, val_fn = compile_run_steps(cfg, spec.trainer, networks, io, strategy, streams)
"""

import math

from kcolor.training.steps import compile_step, eval_step, gan_step, supervised_step


def train_stream(bundle, step, num_workers):
    """The training batches from global batch `step` on (exact data position).

    A bundle with `train_from(step)` (`kcolor.data.build_datasets`: each pass fixed by
    (seed, pass)) gives it; without one the train split is repeated and skipped to
    `step`, which is exact when it yields the same batches on every pass.
    """
    if bundle.train_from is not None:
        return bundle.train_from(step, num_workers=num_workers)
    return bundle.train.repeat().skip(step)


class RunStreams:
    """The distributed train and val datasets of a run, and its steps per epoch.

    Attributes:
        train: the distributed training dataset: the endless stream from the step when
            `streamed`, else one pass of the train split (iterated anew each epoch).
        val: the distributed validation dataset, or None.
        streamed: whether `train` is the endless stream.
        steps_per_epoch: `cfg.steps_per_epoch`, else one pass of the train split, else
            None (unknown: one full pass, however long).
    """

    def __init__(self, cfg, bundle, strategy, *, step, num_workers):
        self.streamed = bool(cfg.steps_per_epoch) or int(bundle.train.cardinality().numpy()) > 0
        train = train_stream(bundle, step, num_workers) if self.streamed else bundle.train
        self.train = strategy.experimental_distribute_dataset(train)
        self.val = None
        if bundle.val is not None:
            val = bundle.val.take(cfg.val_steps) if cfg.val_steps else bundle.val
            self.val = strategy.experimental_distribute_dataset(val)
        cardinality = int(bundle.train.cardinality().numpy())
        counts = bundle.counts or {}
        if cfg.steps_per_epoch:
            self.steps_per_epoch = int(cfg.steps_per_epoch)
        elif cardinality > 0:
            self.steps_per_epoch = cardinality
        elif counts.get("train"):
            self.steps_per_epoch = math.ceil(counts["train"] / cfg.batch_size)
        else:
            self.steps_per_epoch = None


def compile_run_steps(cfg, trainer, networks, io, strategy, streams):
    """`(train_fn, val_fn)`: the run's compiled train step and eval step (None without a val split)."""
    common = {"strategy": strategy, "jit_compile": cfg.jit_compile, "io": io}
    if trainer == "gan":
        train_fn = compile_step(
            gan_step,
            element_spec=streams.train.element_spec,
            generator=networks.colorizer,
            discriminator=networks.models["discriminator"],
            g_opt=networks.optimizers["colorizer"],
            d_opt=networks.optimizers["discriminator"],
            **networks.gan_loss,
            **common,
            label_seed=cfg.seed,
            skip_nonfinite=cfg.on_nonfinite == "skip_batch",
        )
    else:
        train_fn = compile_step(
            supervised_step,
            element_spec=streams.train.element_spec,
            model=networks.colorizer,
            optimizer=networks.optimizers["colorizer"],
            loss_fn=cfg.loss,
            **common,
            skip_nonfinite=cfg.on_nonfinite == "skip_batch",
        )
    val_fn = None
    if streams.val is not None:
        val_fn = compile_step(
            eval_step,
            element_spec=streams.val.element_spec,
            model=networks.colorizer,
            loss_fn=networks.recon_loss,
            **common,
        )
    return train_fn, val_fn


__all__ = ["RunStreams", "compile_run_steps", "train_stream"]
