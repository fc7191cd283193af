"""Loss functions of the training engine, as two extensible tables.

`LOSSES` maps a name to a per-example reconstruction loss `fn(y_true, y_pred) -> [B]`
(the mean over every non-batch axis). Supervised models pick one with `cfg.loss`; a
GAN's reconstruction term (`recon_loss`) comes from the same table. Per-example values
let the steps average correctly over a global batch split across replicas.

`ADV_LOSSES` maps a name to an `AdversarialLoss`, two per-example functions of
discriminator logits: `generator(fake_logits) -> g_gan [B]` and
`discriminator(real_logits, fake_logits) -> (d_real [B], d_fake [B])`. Keeping them
apart lets the GAN step finish the generator's update before it runs the discriminator
on real images.

Paper-specific losses are added by registering into the tables:

    @register_loss("my_loss")
    def my_loss(y_true, y_pred):
        return per_example_mean(tf.abs(y_true - y_pred) ** 3)

    ADV_LOSSES["hinge"] = AdversarialLoss(
        generator=lambda fake: -per_example_mean(fake),
        discriminator=lambda real, fake: (per_example_mean(tf.nn.relu(1 - real)),
                                          per_example_mean(tf.nn.relu(1 + fake))))

Example:
    per_example = get_loss("mse")(target, prediction)     # shape [B]
"""

from typing import Callable, NamedTuple, Optional

import tensorflow as tf

from kcolor.metrics import quality

LOSSES: dict = {}
ADV_LOSSES: dict = {}



def per_example_mean(x):
    """Mean over every axis but the first: `[B, ...] -> [B]`, in float32."""
    x = tf.cast(x, tf.float32)
    return tf.reduce_mean(tf.reshape(x, [tf.shape(x)[0], -1]), axis=1)


def register_loss(name, table=None):
    """Add a loss to `LOSSES` (or to `table`); a name registered twice is an error."""
    table = LOSSES if table is None else table

    def decorator(fn):
        if name in table:
            raise ValueError(f"Loss '{name}' is already registered")
        table[name] = fn
        return fn

    return decorator


def get_loss(name):
    """The per-example loss called `name` (a callable is returned unchanged)."""
    if callable(name):
        return name
    if name not in LOSSES:
        raise ValueError(f"Unknown loss '{name}'. Valid losses: {', '.join(sorted(LOSSES))}")
    return LOSSES[name]


def get_adv_loss(name):
    """The `AdversarialLoss` called `name` (an `AdversarialLoss` is returned unchanged)."""
    if isinstance(name, AdversarialLoss):
        return name
    if name not in ADV_LOSSES:
        raise ValueError(f"Unknown adversarial loss '{name}'. Valid: {', '.join(sorted(ADV_LOSSES))}")
    return ADV_LOSSES[name]


# The reconstruction losses are the metrics of `kcolor.metrics` (one definition each):
# `mse`, `mae` and `1 - ms_ssim` score exactly what `kcolor evaluate` reports.


@register_loss("mse")
def mse(y_true, y_pred):
    """Mean squared error per example: `kcolor.metrics.mse`."""
    return quality.mse(y_pred, y_true)


@register_loss("mae")
def mae(y_true, y_pred):
    """Mean absolute error per example: `kcolor.metrics.mae`."""
    return quality.mae(y_pred, y_true)


LOSSES["l1"] = mae


@register_loss("ms_ssim")
def ms_ssim_loss(y_true, y_pred):
    """1 - `kcolor.metrics.ms_ssim` on images in [0, 1] (the reported metric, as a loss)."""
    return 1.0 - quality.ms_ssim(y_pred, y_true)


@register_loss("mse_ms_ssim")
def mse_ms_ssim_loss(y_true, y_pred):
    """(MSE + (1 - MS-SSIM)) / 2: the two losses averaged (KMHCNet, Hossain)."""
    return 0.5 * (mse(y_true, y_pred) + ms_ssim_loss(y_true, y_pred))


class AdversarialLoss(NamedTuple):
    """An adversarial loss: the generator's and the discriminator's per-example parts.

    `labelled(logits, labels [B]) -> [B]` is the same loss against a given target per
    example (noisy or flipped labels; the GAN step's `real_labels`/`fake_labels`), and
    `output(logits)` reads the discriminator's raw output as the number those labels
    are compared with (a probability for BCE). Both are optional for a custom loss.
    """

    generator: Callable  # fake_logits -> g_gan [B]
    discriminator: Callable  # (real_logits, fake_logits) -> (d_real [B], d_fake [B])
    labelled: Optional[Callable] = None  # (logits, labels [B]) -> [B]
    output: Optional[Callable] = None  # logits -> what the labels are compared with


def _f32(x):
    return tf.cast(x, tf.float32)


def _per_example_labels(labels, logits):
    """Labels `[B]` shaped to broadcast over `logits` `[B, ...]` (one label per image)."""
    labels = _f32(labels)
    return tf.reshape(labels, tf.concat([tf.shape(labels), tf.ones([tf.rank(logits) - 1], tf.int32)], 0))


# Least squares (Mao et al.; Paper 001's "MSE" form): D -> 1 on real, 0 on fake.
ADV_LOSSES["lsgan"] = AdversarialLoss(
    generator=lambda fake: per_example_mean(tf.square(_f32(fake) - 1.0)),
    discriminator=lambda real, fake: (
        per_example_mean(tf.square(_f32(real) - 1.0)),
        per_example_mean(tf.square(_f32(fake))),
    ),
    labelled=lambda logits, labels: per_example_mean(tf.square(_f32(logits) - _per_example_labels(labels, logits))),
    output=_f32,
)

# Binary cross-entropy on logits (Isola; Paper 001's BCE), non-saturating for G:
# -log(sigmoid(x)) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x), computed stably.
ADV_LOSSES["bce"] = AdversarialLoss(
    generator=lambda fake: per_example_mean(tf.nn.softplus(-_f32(fake))),
    discriminator=lambda real, fake: (
        per_example_mean(tf.nn.softplus(-_f32(real))),
        per_example_mean(tf.nn.softplus(_f32(fake))),
    ),
    labelled=lambda logits, labels: per_example_mean(
        tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.broadcast_to(_per_example_labels(labels, logits), tf.shape(logits)), logits=_f32(logits)
        )
    ),
    output=lambda logits: tf.sigmoid(_f32(logits)),
)


__all__ = [
    "ADV_LOSSES",
    "LOSSES",
    "AdversarialLoss",
    "get_adv_loss",
    "get_loss",
    "mae",
    "ms_ssim_loss",
    "mse",
    "per_example_mean",
    "register_loss",
]
