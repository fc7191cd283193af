"""The networks of one training run and their optimizers, built under the run's strategy.

`Networks(cfg, spec, strategy, precision)` builds the registered model's networks (the
Keras models of `spec.build`; `colorizer` always, `discriminator` for a GAN) under the
`tf.distribute` strategy's scope and the run's Keras dtype policy, then one optimizer
per trained network, built on its trainable weights. The order of these steps is the
order the networks' variables are created in, which seeded runs depend on.

It also keeps the replicas' copies of the networks alike (`sync_statistics`) and gives
a digest of every weight (`weights_sha256`).

Example:
    nets = Networks(cfg, get_model(cfg.model), strategy, "float32")
    nets.colorizer, nets.optimizers["colorizer"], nets.gan_loss
"""

import hashlib

import keras
import numpy as np
import tensorflow as tf

from kcolor.training.optimizers import make_optimizer

# Loss settings of a GAN whose builder does not return a "gan_loss" entry.
GAN_LOSS_DEFAULTS = {"adv_loss": "bce", "recon_loss": "l1", "recon_weight": 100.0}


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


class Networks:
    """One run's Keras models, optimizers and loss settings.

    Attributes:
        models: `{name: keras.Model}` of what the builder returned (`colorizer`, ...).
        colorizer: `models["colorizer"]`.
        optimizers: `{name: optimizer}`: `colorizer`, and `discriminator` for a GAN.
        gan_loss: a GAN's `{adv_loss, recon_loss, recon_weight}`, else None.
        recon_loss: the loss validation reports (`gan_loss["recon_loss"]` or `cfg.loss`).
        epoch_hook: the builder's `epoch_hook(completed_epochs) -> bool`, or None.
    """

    def __init__(self, cfg, spec, strategy, precision):
        self.strategy = strategy
        self._sync_fn = None
        with _MixedPrecision(precision), strategy.scope():
            networks = spec.build(cfg.image_size, **cfg.options)
            self.models = {k: v for k, v in networks.items() if isinstance(v, keras.Model)}
            # A model may declare `epoch_hook(completed_epochs) -> bool`, run before each
            # epoch (e.g. freeze an encoder for the first N epochs); True means it changed
            # which weights train, so the train step is traced again. The optimizers below
            # are built on every weight the builder left trainable.
            self.epoch_hook = networks.get("epoch_hook")
            self.colorizer = self.models["colorizer"]
            self.optimizers = {}
            if spec.trainer == "gan":
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
                    lr, beta_1=cfg.beta_1, beta_2=cfg.beta_2, mixed_precision=precision, lr_schedule=schedule
                )
                opt.build(self.models[name].trainable_variables)  # before tracing, or the step retraces
                self.optimizers[name] = opt
        self.recon_loss = self.gan_loss["recon_loss"] if self.gan_loss else cfg.loss

    def seed_states(self):
        """The networks' Keras seed-generator states (dropout's random state), each once."""
        seen, states = set(), []
        for model in self.models.values():
            for v in model.variables:
                if "seed_generator_state" in v.path and id(v) not in seen:
                    seen.add(id(v))
                    states.append(v)
        return states

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

    def weights_sha256(self) -> str:
        """`weights_sha256` of every network."""
        return weights_sha256(self.models)


__all__ = ["GAN_LOSS_DEFAULTS", "Networks", "weights_sha256"]
