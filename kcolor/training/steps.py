"""Train and evaluation steps: plain functions of what they touch, compiled by the caller.

Each step is a per-replica function `step(batch, *, networks..., optimizers..., ...) ->
dict of named scalar losses`, written with `tf.GradientTape`. Losses are averaged over
the *global* batch (summed per replica, divided by the global batch size), so
`compile_step` can run a step under any `tf.distribute` strategy with `strategy.run` and
add the replicas' values up with `strategy.reduce(SUM)`.

- `supervised_step`: any model, any loss from `LOSSES`.
- `gan_step`: a conditional GAN (generator + discriminator, two optimizers). Each
  discriminator pass (real, fake) is computed once; the fake pass feeds both networks'
  losses.
- `eval_step`: per-batch sums of the reconstruction loss, MSE and MAE on RGB, for
  validation.

Example:
    step = compile_step(gan_step, strategy=strategy, element_spec=ds.element_spec,
                        generator=g, discriminator=d, g_opt=g_opt, d_opt=d_opt, io=io,
                        adv_loss="bce", recon_loss="l1", recon_weight=100.0)
    losses = step(batch)           # {'total': ..., 'gan': ..., 'recon': ..., 'd_total': ...}
"""

import functools

import tensorflow as tf

from kcolor.training.losses import get_adv_loss, get_loss, mae, mse


def feed(model, inputs):
    """Arrange an `io.inputs` dict the way `model` was built: a tensor, list or dict.

    Functional models built on one Input take the tensor itself (a one-key dict works
    but makes Keras warn), several Inputs take their own structure, matched by name.
    """
    try:
        structure = model.input  # a functional model's Input structure
    except (AttributeError, ValueError):
        return inputs
    if structure is None or isinstance(structure, dict):
        return inputs
    if isinstance(structure, (list, tuple)):
        return type(structure)(inputs[t.name] for t in structure)
    return inputs[structure.name]


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


def _apply(optimizer, tape, scaled_loss, variables):
    # `scaled_loss` is `optimizer.scale_loss(loss)`, computed inside `tape` (a
    # LossScaleOptimizer's scaling must be recorded to reach the gradients).
    grads = tape.gradient(scaled_loss, variables)
    optimizer.apply_gradients(zip(grads, variables))


def supervised_step(batch, *, model, optimizer, loss_fn, io):
    """One optimizer step of `model` on `batch` with the per-example loss `loss_fn`.

    Args:
        batch: dict with `rgb` [B, H, W, 3] in [0, 1] (and `reference` for pair data).
        model: the colorizer, called with `io.inputs(batch)`.
        optimizer: a built Keras optimizer of `model.trainable_variables`.
        loss_fn: a name in `LOSSES` or a callable `(target, prediction) -> [B]`.
        io: the model's `IOSpec`.

    Returns:
        `{"loss": ...}`, this replica's share of the global-batch mean.

    Example:
        losses = supervised_step(batch, model=m, optimizer=opt, loss_fn="mse", io=io)
    """
    loss_fn = get_loss(loss_fn)
    inputs = io.inputs(batch)
    target = io.target(batch)
    global_batch = _global_batch_size(batch)
    with tf.GradientTape() as tape:
        prediction = tf.cast(model(feed(model, inputs), training=True), tf.float32)
        loss = _average(loss_fn(target, prediction), global_batch)
        scaled = optimizer.scale_loss(loss + _regularization(model))
    _apply(optimizer, tape, scaled, model.trainable_variables)
    return {"loss": loss}


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

    Args:
        batch: dict with `rgb` [B, H, W, 3] in [0, 1].
        generator, discriminator: the two Keras models.
        g_opt, d_opt: their optimizers, built on each one's trainable variables.
        io: the generator's `IOSpec` (what it reads, what it predicts).
        adv_loss: a name in `ADV_LOSSES` ("bce", "lsgan") or an `AdversarialLoss`.
        recon_loss: a name in `LOSSES` ("l1", "mse", ...) or a callable.
        recon_weight: weight of the reconstruction term (Isola's lambda).

    Returns:
        dict of this replica's shares of `total`, `gan`, `recon` (generator) and
        `d_real`, `d_fake`, `d_total` (discriminator).

    Example:
        losses = gan_step(batch, generator=g, discriminator=d, g_opt=go, d_opt=do, io=io)
    """
    adv = get_adv_loss(adv_loss)
    recon_fn = get_loss(recon_loss)
    inputs = io.inputs(batch)
    target = io.target(batch)
    condition = io.condition(inputs)
    global_batch = _global_batch_size(batch)
    with tf.GradientTape() as d_tape:
        with tf.GradientTape() as g_tape:
            fake = tf.cast(generator(feed(generator, inputs), training=True), tf.float32)
            fake_logits = discriminator({"condition": condition, "image": fake}, training=True)
            gan = _average(adv.generator(fake_logits), global_batch)
            recon = _average(recon_fn(target, fake), global_batch)
            total = gan + recon_weight * recon + _regularization(generator)
            g_scaled = g_opt.scale_loss(total)
        with d_tape.stop_recording():
            g_vars = generator.trainable_variables
            g_grads = g_tape.gradient(g_scaled, g_vars)
            g_opt.apply_gradients(zip(g_grads, g_vars))
        with tf.control_dependencies([g for g in g_grads if g is not None]):
            real_logits = discriminator({"condition": condition, "image": target}, training=True)
        d_real, d_fake = adv.discriminator(real_logits, fake_logits)
        d_real = _average(d_real, global_batch)
        d_fake = _average(d_fake, global_batch)
        d_total = d_real + d_fake + _regularization(discriminator)
        d_scaled = d_opt.scale_loss(d_total)
    _apply(d_opt, d_tape, d_scaled, discriminator.trainable_variables)
    return {"total": total, "gan": gan, "recon": recon, "d_real": d_real, "d_fake": d_fake, "d_total": d_total}


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
        "loss": tf.reduce_sum(loss_fn(io.target(batch), prediction)),
        "mse": tf.reduce_sum(mse(batch["rgb"], rgb)),
        "mae": tf.reduce_sum(mae(batch["rgb"], rgb)),
        "count": tf.cast(tf.shape(batch["rgb"])[0], tf.float32),
    }


def distribute(step_fn, strategy, **kwargs):
    """`batch -> dict`: `step_fn(batch, **kwargs)` on every replica, summed over them."""
    per_replica_fn = functools.partial(step_fn, **kwargs)

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


__all__ = ["compile_step", "distribute", "eval_step", "feed", "gan_step", "supervised_step"]
