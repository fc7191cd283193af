"""Pix2Pix: a U-Net generator and a PatchGAN discriminator, conditioned on the gray image.

Paper 001 (`001_963cd6d85de8f81b.txt`, section 4.6) colorizes flowers with a Pix2Pix in
the form of Isola et al. (2017): an encoder-decoder generator with skip connections
(U-Net) built from Conv-BatchNorm-activation blocks, dropout in the first decoder blocks
as the only noise source (no z), and a PatchGAN discriminator that judges overlapping
patches of the (gray, color) pair. Paper 001 departs from Isola in three places, each an
option here: ReLU instead of LeakyReLU in the encoder, 64x64 or 128x128 patches instead
of 70x70, and an MSE reconstruction loss (with a least-squares or BCE adversarial loss)
instead of L1 + BCE.

Presets (`--set preset=NAME`) fill every option the caller leaves unset:

| preset     | encoder act.    | patch | adversarial | reconstruction | widths      |
|------------|-----------------|-------|-------------|----------------|-------------|
| (none)     | ReLU            | 70    | lsgan       | 100 x MSE      | 32 .. 256   |
| `isola`    | LeakyReLU 0.2   | 70    | bce         | 100 x L1       | 64 .. 512   |
| `paper001` | ReLU            | 64    | lsgan       | 100 x MSE      | 64 .. 512   |

The default (no preset) is a small Paper 001 Pix2Pix that trains in minutes on a CPU.
`isola` is the original architecture: at 256x256 it has 8 levels (7 at 128x128), a
54.4 M-parameter generator and a 2.77 M-parameter 70x70 PatchGAN.

Conventions chosen where the papers are silent:
- the generator reads gray in [0, 1] and rescales it to [-1, 1] (Isola's input range);
  its output is a sigmoid, i.e. Isola's tanh output mapped to [0, 1]
  (sigmoid(x) = (1 + tanh(x / 2)) / 2), so it is RGB in [0, 1] like every kcolor model;
- the innermost encoder block (the 1x1 bottleneck at full depth) has no BatchNorm, as in
  Isola's reference code: batch statistics over a 1x1 map of one image are degenerate;
- convolutions followed by BatchNorm carry no bias, nor do the generator's first and
  innermost convs; the PatchGAN's first conv has one (both as in Isola's reference code);
- Paper 001 gives no weight for its MSE reconstruction term; Isola's lambda = 100 is used.

Example:
    nets = build_model("pix2pix", 128, preset="isola")
    fake = nets["colorizer"]({"gray": tf.zeros([1, 128, 128, 1])})
"""

import keras
import tensorflow as tf
from keras import layers

from kcolor.models.registry import register_model

ENCODER_ACTIVATIONS = ("relu", "leaky_relu")
ADV_LOSSES = ("lsgan", "bce")
RECON_LOSSES = ("mse", "l1")

# PatchGAN layer stacks as (filters as a multiple of base_filters, kernel, stride); the
# last row is the 1-channel output conv. Stride-2 layers use "same" padding, stride-1
# layers pad 1 pixel and convolve "valid" (Isola's padding=1). The receptive field of the
# stack is the patch size, which `patch_receptive_field` computes and the tests assert.
PATCH_STACKS = {
    # Isola's n_layers=3 discriminator: C64-C128-C256-C512, 4x4 kernels.
    70: ((1, 4, 2), (2, 4, 2), (4, 4, 2), (8, 4, 1), (None, 4, 1)),
    # Paper 001's 64x64 patches: the same widths, 3x3 kernels in the 2nd and 3rd layers.
    64: ((1, 4, 2), (2, 3, 2), (4, 3, 2), (8, 4, 1), (None, 4, 1)),
    # Paper 001's 128x128 patches: one more stride-2 layer (as Isola's n_layers=4).
    128: ((1, 4, 2), (2, 3, 2), (4, 3, 2), (8, 3, 2), (8, 4, 1), (None, 4, 1)),
}

_BASE = dict(
    base_filters=32,
    max_filters=256,
    num_levels=None,
    encoder_activation="relu",
    dropout=0.5,
    dropout_levels=3,
    adv_loss="lsgan",
    recon_loss="mse",
    recon_weight=100.0,
    patch=70,
)

PRESETS = {
    "isola": dict(
        base_filters=64,
        max_filters=512,
        encoder_activation="leaky_relu",
        adv_loss="bce",
        recon_loss="l1",
        recon_weight=100.0,
        patch=70,
    ),
    "paper001": dict(
        base_filters=64,
        max_filters=512,
        encoder_activation="relu",
        adv_loss="lsgan",
        recon_loss="mse",
        recon_weight=100.0,
        patch=64,
    ),
}


# --------------------------------------------------------------------------- layers
# A drop-in BatchNormalization that keeps Keras' arithmetic, weights and config and only
# changes how TensorFlow trains it on a CPU: Pix2Pix at 128x128 batch 16 spends about a
# tenth of a step in Keras' BatchNormalization, which it writes as a dozen element-wise
# ops. Inference runs the Keras layer unchanged, so exported graphs hold standard ops.


@keras.saving.register_keras_serializable(package="kcolor")
class FusedBatchNormalization(layers.BatchNormalization):
    """`keras.layers.BatchNormalization` whose training pass is TensorFlow's fused kernel.

    Same arguments, weights and results as the Keras layer (the moving variance is
    updated with the biased batch variance, as Keras does). The fused kernel applies to
    4-D inputs normalised over the last axis with `center` and `scale`; anything else,
    and inference, runs the Keras implementation.

    Example:
        x = FusedBatchNormalization(name="enc2_bn")(x)
    """

    def _fusable(self, inputs, mask):
        return (
            mask is None
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and self.center
            and self.scale
            and not self.renorm
            and not self.synchronized
        )

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, tf.float32)
        y, mean, variance, _, _, _ = tf.raw_ops.FusedBatchNormV3(
            x=x,
            scale=tf.cast(self.gamma, tf.float32),
            offset=tf.cast(self.beta, tf.float32),
            mean=tf.constant([], tf.float32),
            variance=tf.constant([], tf.float32),
            epsilon=float(self.epsilon),
            exponential_avg_factor=1.0,
            data_format="NHWC",
            is_training=True,
        )
        # The kernel reports the unbiased variance; Keras tracks the biased one.
        count = tf.cast(tf.size(x) // tf.shape(x)[-1], tf.float32)
        variance = tf.stop_gradient(variance) * tf.maximum(count - 1.0, 0.0) / tf.maximum(count, 1.0)
        mean = tf.stop_gradient(mean)
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum + variance * (1.0 - momentum))
        return tf.cast(y, self.compute_dtype)

    def get_config(self):
        return super().get_config()


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"pix2pix: unknown {name} {value!r}. Valid choices: {', '.join(map(str, choices))}")
    return value


def patch_receptive_field(stack):
    """Receptive field in pixels of a conv stack of `(filters, kernel, stride)` rows."""
    field, jump = 1, 1
    for _, kernel, stride in stack:
        field += (kernel - 1) * jump
        jump *= stride
    return field


def max_levels(image_size):
    """How many stride-2 levels fit: the number of times `image_size` halves exactly."""
    levels = 0
    while image_size % 2 == 0 and image_size > 1:
        image_size //= 2
        levels += 1
    return levels


def resolve_options(preset=None, **options):
    """Merge explicit options over a preset over the small default; validate them.

    Returns a dict with every option set (`num_levels` may stay None: the generator then
    goes down to the smallest size the image allows).
    """
    if preset is not None:
        _choice("preset", preset, tuple(PRESETS))
    resolved = dict(_BASE)
    resolved.update(PRESETS.get(preset, {}))
    resolved.update({k: v for k, v in options.items() if v is not None})
    _choice("encoder_activation", resolved["encoder_activation"], ENCODER_ACTIVATIONS)
    _choice("adv_loss", resolved["adv_loss"], ADV_LOSSES)
    _choice("recon_loss", resolved["recon_loss"], RECON_LOSSES)
    _choice("patch", int(resolved["patch"]), tuple(PATCH_STACKS))
    for key in ("base_filters", "max_filters", "dropout_levels", "patch"):
        resolved[key] = int(resolved[key])
    for key in ("dropout", "recon_weight"):
        resolved[key] = float(resolved[key])
    if not 0.0 <= resolved["dropout"] < 1.0:
        raise ValueError(f"pix2pix: dropout must be in [0, 1). Received: dropout={resolved['dropout']}")
    if resolved["base_filters"] < 1 or resolved["max_filters"] < resolved["base_filters"]:
        raise ValueError(
            "pix2pix: need 1 <= base_filters <= max_filters. Received: "
            f"base_filters={resolved['base_filters']}, max_filters={resolved['max_filters']}"
        )
    return resolved


def _activation(kind, name):
    if kind == "leaky_relu":
        return layers.LeakyReLU(negative_slope=0.2, name=name)
    return layers.ReLU(name=name)


def down_block(x, filters, *, batchnorm, activation, name):
    """Conv 4x4 stride 2 → [BatchNorm] → activation: halves the size (Isola's Ck).

    Encoder convs carry no bias, as in Isola's reference U-Net (its blocks are built for
    BatchNorm, which makes a bias redundant, and it keeps them bias-free where it skips
    the norm too).
    """
    x = layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=False, name=f"{name}_conv")(x)
    if batchnorm:
        x = FusedBatchNormalization(name=f"{name}_bn")(x)
    return _activation(activation, f"{name}_{activation}")(x)


def skip_deconv(x, skip, filters, *, use_bias, name):
    """ConvTranspose 4x4 stride 2 of the U-Net input `concat([x, skip])` (channel axis).

    Written as the sum of one ConvTranspose per part: the same linear map with the same
    number of weights (the kernel over the concatenation, split by input channel), but
    the concatenated tensor, and its gradient, never exist. At 128x128 batch 16 that
    keeps about 120 MB out of the training step's peak. `skip` None: the innermost
    block, which has no skip.
    """
    y = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=use_bias, name=f"{name}_deconv")(x)
    if skip is None:
        return y
    s = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, name=f"{name}_deconv_skip")(skip)
    return layers.Add(name=f"{name}_sum")([y, s])


def up_block(x, skip, filters, *, dropout, name):
    """ConvTranspose 4x4 stride 2 of [x, skip] → BatchNorm → [Dropout] → ReLU (Isola's CDk)."""
    x = skip_deconv(x, skip, filters, use_bias=False, name=name)
    x = FusedBatchNormalization(name=f"{name}_bn")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_pix2pix_generator(
    input_shape=(256, 256, 1),
    *,
    base_filters=64,
    max_filters=512,
    num_levels=None,
    encoder_activation="leaky_relu",
    dropout=0.5,
    dropout_levels=3,
    output_channels=3,
    name="pix2pix_generator",
):
    """U-Net generator of Pix2Pix (Isola et al. 2017; Paper 001, section 4.6).

    Encoder level i is a stride-2 `down_block` with `min(base_filters * 2**i,
    max_filters)` filters; the decoder mirrors it with `up_block`s, each reading the
    block below together with the encoder output of the same size (the U-Net skip; see
    `skip_deconv`); a final ConvTranspose + sigmoid gives RGB in [0, 1]. Dropout in the
    first `dropout_levels` decoder blocks is the noise source. With the defaults at
    256x256 (Isola's unet_256):

        enc1 (128, 128, 64)  enc2 (64, 64, 128)  enc3 (32, 32, 256)  enc4 (16, 16, 512)
        enc5 (8, 8, 512)     enc6 (4, 4, 512)    enc7 (2, 2, 512)    enc8 (1, 1, 512)
        dec1 (2, 2, 512)  dec2 [dec1, enc7] → (4, 4, 512)  ...  dec7 [dec6, enc2] → (128, 128, 64)
        out [dec7, enc1] → (256, 256, 3)

    Args:
        input_shape: `(H, W, C)` of the `gray` Input; H and W divisible by 2**num_levels.
        base_filters, max_filters: width of the first level, and the cap on widths.
        num_levels: stride-2 levels; None goes down as far as the size halves exactly
            (8 at 256, 7 at 128).
        encoder_activation: "leaky_relu" (Isola, slope 0.2) or "relu" (Paper 001).
        dropout: rate of the decoder dropout; 0 disables it.
        dropout_levels: how many of the first (innermost) decoder blocks get dropout.
        output_channels: 3 for RGB.
        name: model name and layer-name prefix root.

    Example:
        g = build_pix2pix_generator((128, 128, 1), base_filters=32)
        rgb = g(tf.zeros([1, 128, 128, 1]))
    """
    _choice("encoder_activation", encoder_activation, ENCODER_ACTIVATIONS)
    height, width = int(input_shape[0]), int(input_shape[1])
    possible = min(max_levels(height), max_levels(width))
    if num_levels is None:
        num_levels = possible
    num_levels = int(num_levels)
    if not 2 <= num_levels <= possible:
        raise ValueError(
            f"pix2pix generator: num_levels={num_levels} does not fit input {height}x{width}; "
            f"valid: 2..{possible} (each level halves the size exactly)"
        )
    filters = tuple(min(base_filters * 2**i, max_filters) for i in range(num_levels))

    inputs = keras.Input(shape=tuple(input_shape), name="gray")
    x = layers.Rescaling(2.0, offset=-1.0, name="in_rescale")(inputs)  # [0, 1] → [-1, 1]
    skips = []
    for i, f in enumerate(filters):
        # No BatchNorm on the first level (Isola) nor on the innermost one (see module doc).
        batchnorm = 0 < i < num_levels - 1
        x = down_block(x, f, batchnorm=batchnorm, activation=encoder_activation, name=f"enc{i + 1}")
        skips.append(x)
    skip = None  # the innermost level has no skip
    for j, (f, below) in enumerate(zip(reversed(filters[:-1]), reversed(skips[:-1]))):
        x = up_block(x, skip, f, dropout=dropout if j < dropout_levels else 0.0, name=f"dec{j + 1}")
        skip = below  # the encoder output of the size dec{j+1} produced
    x = skip_deconv(x, skip, output_channels, use_bias=True, name="out")
    outputs = layers.Activation("sigmoid", name="out_sigmoid", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def build_patchgan_discriminator(
    input_shape=(256, 256, 1),
    *,
    image_channels=3,
    base_filters=64,
    patch=70,
    name="patchgan_discriminator",
):
    """PatchGAN discriminator on the (condition, image) pair (Isola et al. 2017).

    Two Inputs, `condition` (the gray input, shape `input_shape`) and `image` (a real or
    generated colorization), are rescaled to [-1, 1] and concatenated; a stack of
    Conv-BatchNorm-LeakyReLU(0.2) layers (no BatchNorm on the first) ends in a 1-channel
    conv whose every output is a real/fake logit for one `patch` x `patch` window.
    With `patch=70` at 256x256 (Isola's 70x70 PatchGAN):

        c1 (128, 128, 64)  c2 (64, 64, 128)  c3 (32, 32, 256)  c4 (31, 31, 512)  out (30, 30, 1)

    Args:
        input_shape: `(H, W, C)` of the condition.
        image_channels: channels of the judged image (3 for RGB).
        base_filters: width of the first layer; later layers use the multiples in
            `PATCH_STACKS`.
        patch: receptive field of one output, 70, 64 or 128 pixels.
        name: model name.

    Example:
        d = build_patchgan_discriminator((128, 128, 1), patch=64)
        logits = d({"condition": gray, "image": rgb})
    """
    stack = PATCH_STACKS[_choice("patch", int(patch), tuple(PATCH_STACKS))]
    height, width = int(input_shape[0]), int(input_shape[1])
    condition = keras.Input(shape=tuple(input_shape), name="condition")
    image = keras.Input(shape=(height, width, image_channels), name="image")
    c = layers.Rescaling(2.0, offset=-1.0, name="condition_rescale")(condition)
    i = layers.Rescaling(2.0, offset=-1.0, name="image_rescale")(image)
    x = layers.Concatenate(name="pair_concat")([c, i])
    for n, (mult, kernel, stride) in enumerate(stack[:-1]):
        prefix = f"c{n + 1}"
        batchnorm = n > 0
        if stride == 1:
            x = layers.ZeroPadding2D(1, name=f"{prefix}_pad")(x)
        x = layers.Conv2D(
            base_filters * mult,
            kernel,
            strides=stride,
            padding="same" if stride > 1 else "valid",
            use_bias=not batchnorm,
            name=f"{prefix}_conv",
        )(x)
        if batchnorm:
            x = FusedBatchNormalization(name=f"{prefix}_bn")(x)
        x = layers.LeakyReLU(negative_slope=0.2, name=f"{prefix}_lrelu")(x)
    _, kernel, _ = stack[-1]
    x = layers.ZeroPadding2D(1, name="out_pad")(x)
    logits = layers.Conv2D(1, kernel, padding="valid", name="out_conv", dtype="float32")(x)
    if logits.shape[1] is not None and logits.shape[1] < 1:
        raise ValueError(f"PatchGAN: input {height}x{width} is too small for patch={patch}")
    return keras.Model({"condition": condition, "image": image}, logits, name=name)


@register_model(
    "pix2pix",
    io="gray_rgb",
    trainer="gan",
    paper="001",
    defaults={"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999},
)
def pix2pix(
    image_size,
    *,
    preset=None,
    base_filters=None,
    max_filters=None,
    num_levels=None,
    encoder_activation=None,
    dropout=None,
    dropout_levels=None,
    adv_loss=None,
    recon_loss=None,
    recon_weight=None,
    patch=None,
):
    """Pix2Pix: U-Net generator + PatchGAN on (gray, RGB) (Paper 001, Isola et al. 2017).

    Every option left as None comes from `preset` ("isola", "paper001") or from the small
    default (see the module docstring). Returns the generator as `colorizer`, the
    PatchGAN as `discriminator`, and under `gan_loss` the loss settings the GAN step reads
    (`adv_loss`, `recon_loss`, `recon_weight`).

    Example:
        nets = pix2pix(256, preset="isola")
        nets["gan_loss"]   # {'adv_loss': 'bce', 'recon_loss': 'l1', 'recon_weight': 100.0}
    """
    o = resolve_options(
        preset,
        base_filters=base_filters,
        max_filters=max_filters,
        num_levels=num_levels,
        encoder_activation=encoder_activation,
        dropout=dropout,
        dropout_levels=dropout_levels,
        adv_loss=adv_loss,
        recon_loss=recon_loss,
        recon_weight=recon_weight,
        patch=patch,
    )
    image_size = int(image_size)
    generator = build_pix2pix_generator(
        (image_size, image_size, 1),
        base_filters=o["base_filters"],
        max_filters=o["max_filters"],
        num_levels=o["num_levels"],
        encoder_activation=o["encoder_activation"],
        dropout=o["dropout"],
        dropout_levels=o["dropout_levels"],
        name="pix2pix_generator",
    )
    discriminator = build_patchgan_discriminator(
        (image_size, image_size, 1),
        image_channels=3,
        base_filters=o["base_filters"],
        patch=o["patch"],
        name="patchgan_discriminator",
    )
    return {
        "colorizer": generator,
        "discriminator": discriminator,
        "gan_loss": {
            "adv_loss": o["adv_loss"],
            "recon_loss": o["recon_loss"],
            "recon_weight": o["recon_weight"],
        },
    }


__all__ = [
    "FusedBatchNormalization",
    "PATCH_STACKS",
    "PRESETS",
    "build_patchgan_discriminator",
    "build_pix2pix_generator",
    "max_levels",
    "patch_receptive_field",
    "pix2pix",
    "resolve_options",
    "skip_deconv",
]
