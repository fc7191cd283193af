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

from kcolor import color
from kcolor.metrics import quality
from kcolor.specs import ColorLossName, add_loss_name, check_color_loss, parse_color_loss_name

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
        if table is LOSSES:
            add_loss_name(name)
        return fn

    return decorator


def get_loss(name):
    """The per-example loss called `name` (a callable is returned unchanged)."""
    if callable(name):
        return name
    if isinstance(name, str) and "@" in name:  # a KMHCNet ColorLoss: "ms_ssim@rgb", "mse@lab+vgg16"
        return parse_color_loss(name)
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


# ---------------------------------------------------------------------------- KMHCNet's composable losses

_EMBEDDING_NETWORKS: dict = {}


class ColorLoss:
    """A loss of an L → ab model on ab (Lab) or on RGB, optionally on perceptual features.

    KMHCNet (Hossain, Section 3.3, Equations 4-8): the model's ab, joined with the input
    L, is compared with the target either in Lab or in RGB after the differentiable
    Lab → RGB of `kcolor.color`; the loss is MSE, 1 - MS-SSIM, or their average; with an
    embedding (VGG16 or ResNet50, frozen, ImageNet weights) the MSE term compares the
    network's features of output and target instead of their pixels.

    Images each term sees, all in [0, 1] (the range `kcolor.metrics.ms_ssim` needs):
    - space "lab": ab / 128 mapped to [0, 1] by (ab + 1) / 2 (the author's notebook
      compares ab * 128 + 128 at data range 255, the same up to 256/255);
    - space "lab3": the full Lab image G(y) that Equation 4 names, L / 100 joined to the
      ab above. The paper and the notebook disagree here (Equation 4 compares Lab images,
      the notebook's pixel terms ab only); kcolor's default, "lab", follows the notebook.
      L is the model's input, equal in output and target, so "lab3" only rescales the
      terms: its MSE is 2/3 of "lab"'s, and its MS-SSIM averages in a perfect L channel;
    - space "rgb": `color.lab_normalized_to_rgb(L, ab)`, clipped to [0, 1] as Kornia's
      `lab_to_rgb` (the paper's converter) clips.
    The MS-SSIM term is `1 - kcolor.metrics.ms_ssim` on those pixels, the metric itself.

    With an embedding, as the author's notebook computes it: the embedding network reads
    G(y) of Equation 4 (the RGB image, or in space "lab" the Lab image as a 3-channel
    image: L / 100 and (a, b) mapped to [0, 1]), scaled to [0, 255] and preprocessed
    the ImageNet "caffe" way its weights expect; the MSE term is the mean squared
    difference of tanh(features); the MS-SSIM term stays on pixels (the features are
    1/32 of the image size, too small for five scales). An embedding therefore needs
    an MSE term: `ms_ssim` with an embedding is refused.

    Deviation: the MSE term is on the [0, 1] images above. The author's notebook divides
    an MSE on its own pixel scale by 255: in space "lab" its pixels (ab * 128 + 128) are
    256 times ours, so its MSE term is 256**2 / 255, about 257 times ours (in space "rgb",
    on 0-255 pixels, 255**2 / 255 = 255 times), and weighs that much more against the
    MS-SSIM term in the averaged loss `mse_ms_ssim`.

    Build one by name with `get_loss("<loss>@<space>[+<embedding>[/<layer>][:<weights>]]")`:

        get_loss("ms_ssim@lab")                  # KMHCNet 1, 2, 4-10
        get_loss("ms_ssim@rgb")                  # KMHCNet 3, 13
        get_loss("mse@lab")                      # KMHCNet 11
        get_loss("mse_ms_ssim@lab+resnet50")     # KMHCNet 12
        get_loss("mse@lab+vgg16/block4_pool:none")   # another layer, random weights (offline)

    The call is `loss(y_true, y_pred, inputs=...) -> [B]` (`uses_inputs`: the steps pass
    the model's inputs, whose `L` the RGB conversion needs).
    """

    uses_inputs = True

    def __init__(self, base="ms_ssim", space="lab", embedding=None, layer=None, weights="imagenet"):
        from kcolor.models.encoders import EMBEDDINGS

        check_color_loss(ColorLossName(base, space, embedding, layer, weights), embeddings=tuple(EMBEDDINGS))
        self.base, self.space, self.embedding, self.layer, self.weights = base, space, embedding, layer, weights
        self._network = None

    def __repr__(self):
        return f"ColorLoss(base={self.base!r}, space={self.space!r}, embedding={self.embedding!r})"

    def network(self):
        """The frozen embedding network, built once (outside any traced function)."""
        if self._network is None and self.embedding is not None:
            from kcolor.models.encoders import build_embedding

            key = (self.embedding, self.layer, self.weights)
            if key not in _EMBEDDING_NETWORKS:  # one frozen network per (embedding, layer, weights)
                with tf.init_scope():  # build eagerly even when first called inside a tf.function
                    _EMBEDDING_NETWORKS[key] = build_embedding(self.embedding, layer=self.layer, weights=self.weights)
            self._network = _EMBEDDING_NETWORKS[key]
        return self._network

    def pixels(self, ab, L):
        """The [0, 1] image each pixel term compares."""
        if self.space == "lab":
            return (ab + 1.0) * 0.5
        if self.space == "lab3":
            return _lab_image(ab, L)
        return color.lab_normalized_to_rgb(L, ab)

    def _embedding_input(self, ab, L):
        image = color.lab_normalized_to_rgb(L, ab) if self.space == "rgb" else _lab_image(ab, L)
        import keras

        return keras.applications.vgg16.preprocess_input(image * 255.0)  # caffe: BGR minus means

    def features(self, ab, L):
        return tf.tanh(tf.cast(self.network()(self._embedding_input(ab, L), training=False), tf.float32))

    def __call__(self, y_true, y_pred, inputs=None):
        y_true = tf.cast(y_true, tf.float32)
        y_pred = tf.cast(y_pred, tf.float32)
        L = None
        if self.space != "lab" or self.embedding is not None:
            if not inputs or "L" not in inputs:
                raise ValueError(f"{self!r} needs the model's input L (an l_ab model); got inputs {inputs!r}")
            L = tf.cast(inputs["L"], tf.float32)
        terms = []
        if self.base in ("mse", "mse_ms_ssim"):
            if self.embedding is None:
                terms.append(quality.mse(self.pixels(y_pred, L), self.pixels(y_true, L)))
            else:
                terms.append(per_example_mean(tf.square(self.features(y_pred, L) - self.features(y_true, L))))
        if self.base in ("ms_ssim", "mse_ms_ssim"):
            terms.append(1.0 - quality.ms_ssim(self.pixels(y_pred, L), self.pixels(y_true, L)))
        return terms[0] if len(terms) == 1 else 0.5 * (terms[0] + terms[1])


def _lab_image(ab, L):
    """The Lab image in [0, 1]: L / 100 (L arrives as L / 50 - 1) joined to (ab + 1) / 2."""
    return tf.concat([(L + 1.0) * 0.5, (ab + 1.0) * 0.5], axis=-1)


_COLOR_LOSSES: dict = {}


def parse_color_loss(name):
    """`"<loss>@<space>[+<embedding>[/<layer>][:<weights>]]"` → a `ColorLoss` (one per name)."""
    if name not in _COLOR_LOSSES:
        _COLOR_LOSSES[name] = ColorLoss(*parse_color_loss_name(name))
    return _COLOR_LOSSES[name]


def call_loss(loss_fn, y_true, y_pred, inputs):
    """`loss_fn(y_true, y_pred)`, passing the model's `inputs` to a loss that uses them."""
    if getattr(loss_fn, "uses_inputs", False):
        return loss_fn(y_true, y_pred, inputs=inputs)
    return loss_fn(y_true, y_pred)


__all__ = [
    "ADV_LOSSES",
    "LOSSES",
    "AdversarialLoss",
    "ColorLoss",
    "call_loss",
    "parse_color_loss",
    "get_adv_loss",
    "get_loss",
    "mae",
    "ms_ssim_loss",
    "mse",
    "per_example_mean",
    "register_loss",
]
