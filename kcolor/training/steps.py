"""Train and evaluation steps: plain functions of what they touch, compiled by the caller.

Each step is a per-replica function `step(batch, *, networks..., optimizers..., ...) ->
dict of named scalar losses`, written with `tf.GradientTape`. Losses are averaged over
the *global* batch (summed per replica, divided by the global batch size), so
`compile_step` can run a step under any `tf.distribute` strategy with `strategy.run` and
add the replicas' values up with `strategy.reduce(SUM)`.

- `supervised_step`: any model, any loss from `LOSSES`.
- `gan_step`: a conditional GAN (generator + discriminator, two optimizers). Each
  discriminator pass (real, fake) is computed once; the fake pass feeds both networks'
  losses. Options: noisy labels, a generator fed part of the batch; it also reports the
  discriminator's mean outputs on real and fake. `gan_options` checks the options;
  `compile_step` does so before tracing, and traces `gan_update`, the step proper.
- `eval_step`: per-batch sums of the reconstruction loss, MSE and MAE on RGB, for
  validation.

Example:
    step = compile_step(gan_step, strategy=strategy, element_spec=ds.element_spec,
                        generator=g, discriminator=d, g_opt=g_opt, d_opt=d_opt, io=io,
                        adv_loss="bce", recon_loss="l1", recon_weight=100.0)
    losses = step(batch)           # {'total': ..., 'gan': ..., 'recon': ..., 'd_total': ..., 'd_out_real': ...}
"""

import dataclasses
import functools
from collections.abc import Callable

import tensorflow as tf

from kcolor.models.io import feed
from kcolor.models.options import RECON_REDUCTIONS, fraction
from kcolor.training.losses import AdversarialLoss, call_loss, get_adv_loss, get_loss, mae, mse, per_example_mean


def _global_batch_size(batch):
    """Examples in this step summed over replicas (the last batch may be short)."""
    local = tf.shape(batch["rgb"])[0]
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return local
    return ctx.all_reduce(tf.distribute.ReduceOp.SUM, local)


def _average(per_example, global_batch_size):
    return tf.reduce_sum(per_example) / tf.cast(global_batch_size, tf.float32)


def _regularization(model):
    if not model.losses:
        return 0.0
    ctx = tf.distribute.get_replica_context()
    replicas = ctx.num_replicas_in_sync if ctx is not None else 1
    return tf.add_n([tf.cast(x, tf.float32) for x in model.losses]) / replicas


def _snapshot(model, skip_nonfinite):
    """Copies of `model`'s non-trainable state (BatchNorm statistics), to undo a skipped step."""
    if not skip_nonfinite:
        return None
    return [(v, tf.identity(v)) for v in model.non_trainable_variables]


def _apply(optimizer, tape, scaled_loss, variables, skip_nonfinite=False, saved=None):
    # `scaled_loss` is `optimizer.scale_loss(loss)`, computed inside `tape` (a
    # LossScaleOptimizer's scaling must be recorded to reach the gradients).
    grads = tape.gradient(scaled_loss, variables)
    return _apply_grads(optimizer, grads, variables, scaled_loss, skip_nonfinite, saved)


def _apply_grads(optimizer, grads, variables, loss, skip_nonfinite, saved=None):
    """Apply `grads`; with `skip_nonfinite`, not when the loss or a gradient is NaN/Inf.

    Returns 1.0 when the update was skipped, else 0.0 (all replicas agree: the test is
    all-reduced, so no replica updates alone).
    """
    if not skip_nonfinite:
        optimizer.apply_gradients(zip(grads, variables))
        return tf.constant(0.0)
    checks = [tf.reduce_all(tf.math.is_finite(tf.cast(g, tf.float32))) for g in grads if g is not None]
    finite = tf.cast(tf.reduce_all([tf.reduce_all(tf.math.is_finite(tf.cast(loss, tf.float32)))] + checks), tf.float32)
    ctx = tf.distribute.get_replica_context()
    if ctx is not None and ctx.num_replicas_in_sync > 1:
        finite = ctx.all_reduce(tf.distribute.ReduceOp.MIN, finite)

    def update():
        optimizer.apply_gradients(zip(grads, variables))

    def undo():  # the forward pass moved the BatchNorm statistics: put them back
        for variable, value in saved or ():
            variable.assign(value)

    tf.cond(finite > 0.5, update, undo)
    return 1.0 - finite


def supervised_step(batch, *, model, optimizer, loss_fn, io, skip_nonfinite=False):
    """One optimizer step of `model` on `batch` with the per-example loss `loss_fn`.

    Args:
        batch: dict with `rgb` [B, H, W, 3] in [0, 1] (and `reference` for pair data).
        model: the colorizer, called with `io.inputs(batch)`.
        optimizer: a built Keras optimizer of `model.trainable_variables`.
        loss_fn: a name in `LOSSES` (or a ColorLoss name such as "ms_ssim@rgb") or a callable
            `(target, prediction) -> [B]`; a loss with `uses_inputs` also gets `inputs=`.
        io: the model's `IOSpec`.
        skip_nonfinite: leave the weights alone when the loss or a gradient is NaN/Inf,
            and add `"skipped"` (1.0 or 0.0 per replica) to the result.

    Returns:
        `{"loss": ...}`, this replica's share of the global-batch mean.

    Example:
        losses = supervised_step(batch, model=m, optimizer=opt, loss_fn="mse", io=io)
    """
    loss_fn = get_loss(loss_fn)
    inputs = io.inputs(batch)
    target = io.target(batch)
    global_batch = _global_batch_size(batch)
    saved = _snapshot(model, skip_nonfinite)
    with tf.GradientTape() as tape:
        prediction = tf.cast(model(feed(model, inputs), training=True), tf.float32)
        loss = _average(call_loss(loss_fn, target, prediction, inputs), global_batch)
        scaled = optimizer.scale_loss(loss + _regularization(model))
    skipped = _apply(optimizer, tape, scaled, model.trainable_variables, skip_nonfinite, saved)
    return {"loss": loss, "skipped": skipped} if skip_nonfinite else {"loss": loss}


def _label_range(name, value):
    """`(low, high)` with 0 <= low <= high <= 1, or None."""
    if value is None:
        return None
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"gan_step: {name} must be a (low, high) pair or None. Received: {name}={value!r}") from None
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"gan_step: {name} needs 0 <= low <= high <= 1. Received: {name}={value!r}")
    return low, high


def _draw_labels(label_range, count, seed):
    """`count` labels from `U(low, high)`, drawn statelessly from `seed` (shape [2], int64)."""
    low, high = label_range
    if high <= low:
        return tf.fill([count], low)
    return tf.random.stateless_uniform([count], seed=seed, minval=low, maxval=high)


def _label_seeds(label_seed, step):
    """Three stateless seeds for one step's label draws (the generator's, D real, D fake).

    They are a function of `(label_seed, step, replica)` only: a resumed run, whose step
    counter comes back from the checkpoint, draws the same labels as one never stopped,
    and each replica of a distributed step draws its own.
    """
    replica = tf.distribute.get_replica_context()
    replica_id = 0 if replica is None else replica.replica_id_in_sync_group
    base = tf.cast(label_seed, tf.int64) * 1_000_003 + tf.cast(replica_id, tf.int64)
    step = tf.cast(step, tf.int64) * 3
    return [tf.stack([base, step + k]) for k in range(3)]


# gan_step's options: checked by `gan_options`, before a step is traced.
GAN_OPTIONS = ("adv_loss", "recon_loss", "recon_weight", "recon_reduction", "real_labels", "fake_labels",
               "g_fraction")


@dataclasses.dataclass(frozen=True)
class GanOptions:
    """`gan_step`'s options, checked and resolved (what `gan_options` returns)."""

    adv: AdversarialLoss
    recon_fn: Callable
    recon_weight: float
    recon_reduction: str
    real_labels: tuple | None  # (low, high), or None for the loss's own targets
    fake_labels: tuple | None
    g_fraction: float

    @property
    def noisy(self):
        return self.real_labels is not None

    @property
    def output(self):
        """logits -> the number the labels are compared with (`adv.output`, else the logits)."""
        return self.adv.output or _as_float32


def _as_float32(logits):
    return tf.cast(logits, tf.float32)


def gan_options(adv_loss="bce", recon_loss="l1", recon_weight=100.0, recon_reduction="mean", real_labels=None,
                fake_labels=None, g_fraction=1.0) -> GanOptions:
    """Check `gan_step`'s options and resolve the loss names; plain Python, no TensorFlow op.

    Args:
        adv_loss: a name in `ADV_LOSSES` ("bce", "lsgan") or an `AdversarialLoss`.
        recon_loss: a name in `LOSSES` ("l1", "mse", ...) or a callable.
        recon_weight: weight of the reconstruction term (Isola's lambda).
        recon_reduction: "mean" averages the reconstruction loss over each image's
            elements; "sum" sums them (the mean times H x W x C), as a loss written
            `sum_i |y_i - y'_i|` per image does. Both average over the batch.
        real_labels, fake_labels: `(low, high)` label ranges with 0 <= low <= high <= 1,
            both or neither; they need an `adv_loss` with a labelled form.
        g_fraction: share of the batch the generator colorizes, in (0, 1].

    Raises:
        ValueError: naming the option that is wrong.
    """
    adv = get_adv_loss(adv_loss)
    recon_fn = get_loss(recon_loss)
    real_labels = _label_range("real_labels", real_labels)
    fake_labels = _label_range("fake_labels", fake_labels)
    if (real_labels is None) != (fake_labels is None):
        raise ValueError(
            f"gan_step: set both real_labels and fake_labels, or neither. "
            f"Received: real_labels={real_labels}, fake_labels={fake_labels}"
        )
    if real_labels is not None and adv.labelled is None:
        raise ValueError("gan_step: this adversarial loss has no labelled form, so it cannot take noisy labels")
    g_fraction = fraction("g_fraction", g_fraction, owner="gan_step")
    if recon_reduction not in RECON_REDUCTIONS:
        raise ValueError(f"gan_step: recon_reduction={recon_reduction!r} (valid: {', '.join(RECON_REDUCTIONS)})")
    return GanOptions(adv, recon_fn, recon_weight, recon_reduction, real_labels, fake_labels, g_fraction)


def gan_step(
    batch,
    *,
    generator,
    discriminator,
    g_opt,
    d_opt,
    io,
    adv_loss="bce",
    recon_loss="l1",
    recon_weight=100.0,
    recon_reduction="mean",
    real_labels=None,
    fake_labels=None,
    g_fraction=1.0,
    label_seed=0,
    skip_nonfinite=False,
):
    """One step of a conditional GAN: each discriminator pass runs once, for both updates.

    The discriminator takes `{"condition": io.condition(inputs), "image": x}` and returns
    logits of any shape `[B, ...]` (one per patch for a PatchGAN). The generator
    minimises `gan + recon_weight * recon`; the discriminator minimises
    `d_real + d_fake` (Paper 001's form; Isola's 1/2 factor is immaterial under Adam).

    Order: generator forward, discriminator on the fake, the generator's gradients and
    update, then the discriminator on the real images and its update (from the same
    fake pass). The real pass waits for the generator's gradients, so its activations
    never share memory with the generator's.

    Noisy labels (`real_labels`, `fake_labels`, both or neither): each example's target
    is drawn every step from `U(low, high)`, one label per image (shared by all its
    patches), and the losses are `adv_loss`'s labelled form. The generator's target
    for its fakes is a fresh draw from `real_labels`. The ranges fix the convention:
    Paper 002 uses real in U(0, 0.49) and fake in U(0.5, 0.99), so there a low output
    means "real". Without them the loss's own targets apply (real 1, fake 0). The draws
    are stateless, seeded by `(label_seed, d_opt.iterations, replica)`, so a resumed run
    draws exactly the labels an uninterrupted one would.

    `g_fraction` < 1: the generator colorizes only the first `max(1, floor(B *
    g_fraction))` examples of the batch; the discriminator's real pass sees the rest
    (the whole batch if nothing is left). Paper 002's generator is fed half a batch
    (`g_fraction=0.5`), so the discriminator sees half real, half fake.

    The options (`adv_loss` to `g_fraction`) are checked by `gan_options`;
    `compile_step(gan_step, ...)` checks them once, before tracing, and traces
    `gan_update`, the step itself.

    Args:
        batch: dict with `rgb` [B, H, W, 3] in [0, 1].
        generator, discriminator: the two Keras models.
        g_opt, d_opt: their optimizers, built on each one's trainable variables.
        io: the generator's `IOSpec` (what it reads, what it predicts).
        adv_loss, recon_loss, recon_weight, recon_reduction, real_labels, fake_labels,
            g_fraction: see `gan_options`.
        label_seed: seed of the noisy labels' stream (the run's `seed`).
        skip_nonfinite: each network's update is left out when its loss or a gradient
            is NaN/Inf, and `"skipped"` (1.0 when either was) joins the result.

    Returns:
        dict of this replica's shares of `total`, `gan`, `recon` (generator), `d_real`,
        `d_fake`, `d_total` (discriminator), and `d_out_real`, `d_out_fake`: the
        discriminator's mean output on real and fake images, read by `adv_loss.output`
        (a probability for "bce": sigmoid of the logits).

    Example:
        losses = gan_step(batch, generator=g, discriminator=d, g_opt=go, d_opt=do, io=io,
                          real_labels=(0.0, 0.49), fake_labels=(0.5, 0.99), g_fraction=0.5)
    """
    options = gan_options(adv_loss, recon_loss, recon_weight, recon_reduction, real_labels, fake_labels, g_fraction)
    return gan_update(
        batch, generator=generator, discriminator=discriminator, g_opt=g_opt, d_opt=d_opt, io=io, options=options,
        label_seed=label_seed, skip_nonfinite=skip_nonfinite,
    )


@dataclasses.dataclass
class _GanBatch:
    """What the two networks see of one batch: the generator's share and the real pass's."""

    inputs: object
    target: object
    condition: object
    n_fake: object  # global count of the generator's examples
    real_condition: object
    real_target: object
    n_real: object  # global count of the real pass's examples


def _gan_batch(batch, io, g_fraction):
    """Split `batch` between the generator and the discriminator's real pass (`g_fraction`)."""
    fake_batch, real_batch = batch, batch
    if g_fraction < 1.0:
        size = tf.shape(batch["rgb"])[0]
        n_fake = tf.maximum(tf.cast(tf.floor(tf.cast(size, tf.float32) * g_fraction), tf.int32), 1)
        real_start = tf.where(size > n_fake, n_fake, 0)
        fake_batch = {k: v[:n_fake] for k, v in batch.items()}
        real_batch = {k: v[real_start:] for k, v in batch.items()}
    inputs = io.inputs(fake_batch)
    target = io.target(fake_batch)
    condition = io.condition(inputs)
    n_fake_global = _global_batch_size(fake_batch)
    if g_fraction < 1.0:
        real_condition = io.condition(io.inputs(real_batch))
        real_target = io.target(real_batch)
        n_real_global = _global_batch_size(real_batch)
    else:
        real_condition, real_target, n_real_global = condition, target, n_fake_global
    return _GanBatch(inputs, target, condition, n_fake_global, real_condition, real_target, n_real_global)


def gan_update(batch, *, generator, discriminator, g_opt, d_opt, io, options, label_seed=0, skip_nonfinite=False):
    """The step `gan_step` describes, with its options already checked (`options`: a `GanOptions`).

    Example:
        losses = gan_update(batch, generator=g, discriminator=d, g_opt=go, d_opt=do, io=io,
                            options=gan_options("bce", "l1", 100.0))
    """
    adv, recon_fn, recon_weight = options.adv, options.recon_fn, options.recon_weight
    real_labels, fake_labels, noisy = options.real_labels, options.fake_labels, options.noisy
    b = _gan_batch(batch, io, options.g_fraction)
    g_saved, d_saved = _snapshot(generator, skip_nonfinite), _snapshot(discriminator, skip_nonfinite)
    if noisy:
        g_seed, real_seed, fake_seed = _label_seeds(label_seed, d_opt.iterations)
    with tf.GradientTape() as d_tape:
        with tf.GradientTape() as g_tape:
            fake = tf.cast(generator(feed(generator, b.inputs), training=True), tf.float32)
            fake_logits = discriminator({"condition": b.condition, "image": fake}, training=True)
            if noisy:
                g_per_example = adv.labelled(fake_logits, _draw_labels(real_labels, tf.shape(fake)[0], g_seed))
            else:
                g_per_example = adv.generator(fake_logits)
            gan = _average(g_per_example, b.n_fake)
            recon = _average(call_loss(recon_fn, b.target, fake, b.inputs), b.n_fake)
            if options.recon_reduction == "sum":
                recon = recon * tf.cast(tf.reduce_prod(tf.shape(fake)[1:]), tf.float32)
            total = gan + recon_weight * recon + _regularization(generator)
            g_scaled = g_opt.scale_loss(total)
        with d_tape.stop_recording():
            g_vars = generator.trainable_variables
            g_grads = g_tape.gradient(g_scaled, g_vars)
            g_skipped = _apply_grads(g_opt, g_grads, g_vars, g_scaled, skip_nonfinite, g_saved)
        with tf.control_dependencies([g for g in g_grads if g is not None]):
            real_logits = discriminator({"condition": b.real_condition, "image": b.real_target}, training=True)
        if noisy:
            d_real = adv.labelled(real_logits, _draw_labels(real_labels, tf.shape(b.real_target)[0], real_seed))
            d_fake = adv.labelled(fake_logits, _draw_labels(fake_labels, tf.shape(fake)[0], fake_seed))
        else:
            d_real, d_fake = adv.discriminator(real_logits, fake_logits)
        d_real = _average(d_real, b.n_real)
        d_fake = _average(d_fake, b.n_fake)
        d_total = d_real + d_fake + _regularization(discriminator)
        d_scaled = d_opt.scale_loss(d_total)
    d_skipped = _apply(d_opt, d_tape, d_scaled, discriminator.trainable_variables, skip_nonfinite, d_saved)
    d_out_real = _average(per_example_mean(options.output(real_logits)), b.n_real)
    d_out_fake = _average(per_example_mean(options.output(fake_logits)), b.n_fake)
    extra = {"skipped": tf.maximum(g_skipped, d_skipped)} if skip_nonfinite else {}
    return {
        **extra,
        "total": total,
        "gan": gan,
        "recon": recon,
        "d_real": d_real,
        "d_fake": d_fake,
        "d_total": d_total,
        "d_out_real": d_out_real,
        "d_out_fake": d_out_fake,
    }


def eval_step(batch, *, model, io, loss_fn):
    """Sums over `batch` of the model's loss, and of MSE and MAE on RGB, plus the count.

    Returns `{"loss", "mse", "mae", "count"}`; divide the sums over a split by `count`.

    Example:
        sums = eval_step(batch, model=g, io=io, loss_fn="l1")
    """
    loss_fn = get_loss(loss_fn)
    inputs = io.inputs(batch)
    prediction = tf.cast(model(feed(model, inputs), training=False), tf.float32)
    rgb = io.to_rgb(prediction, inputs)
    return {
        "loss": tf.reduce_sum(call_loss(loss_fn, io.target(batch), prediction, inputs)),
        "mse": tf.reduce_sum(mse(batch["rgb"], rgb)),
        "mae": tf.reduce_sum(mae(batch["rgb"], rgb)),
        "count": tf.cast(tf.shape(batch["rgb"])[0], tf.float32),
    }


def bind_step(step_fn, **kwargs):
    """`step_fn` bound to `kwargs`, as a per-replica `batch -> dict`.

    `gan_step`'s options are checked here (`gan_options`), once, so a wrong option
    fails before any tracing, and the traced function is `gan_update`.
    """
    if step_fn is gan_step:
        options = gan_options(**{k: kwargs.pop(k) for k in GAN_OPTIONS if k in kwargs})
        return functools.partial(gan_update, options=options, **kwargs)
    return functools.partial(step_fn, **kwargs)


def distribute(step_fn, strategy, **kwargs):
    """`batch -> dict`: `step_fn(batch, **kwargs)` on every replica, summed over them."""
    per_replica_fn = bind_step(step_fn, **kwargs)

    def run(batch):
        per_replica = strategy.run(per_replica_fn, args=(batch,))
        return {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in per_replica.items()}

    return run


def compile_step(step_fn, *, strategy=None, element_spec=None, jit_compile=False, **kwargs):
    """Wrap `step_fn` (bound to `kwargs`) in one `tf.function` under `strategy`.

    `element_spec` (a dataset's, or a distributed dataset's) becomes the input
    signature, so a short last batch does not retrace. Build the optimizers before the
    first call (`opt.build(variables)`, inside `strategy.scope()`).
    """
    strategy = strategy or tf.distribute.get_strategy()
    run = distribute(step_fn, strategy, **kwargs)
    signature = None if element_spec is None else [element_spec]
    return tf.function(run, input_signature=signature, jit_compile=bool(jit_compile), reduce_retracing=True)


__all__ = [
    "GanOptions",
    "bind_step",
    "compile_step",
    "distribute",
    "eval_step",
    "gan_options",
    "gan_step",
    "gan_update",
    "supervised_step",
]
