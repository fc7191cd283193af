"""The U-Net generator of Pix2Pix (Isola et al. 2017, "Image-to-Image Translation with
Conditional Adversarial Networks", arXiv:1611.07004), shared by every model that uses it.

An encoder of stride-2 Conv-BatchNorm-activation blocks (`down_block`, Isola's Ck), a
mirrored decoder of ConvTranspose-BatchNorm-Dropout-ReLU blocks (`up_block`, CDk) each
reading the level below together with the encoder output of the same size (the U-Net
skip, `skip_deconv`), dropout in the innermost decoder blocks as the only noise source.

Conventions chosen where the papers are silent:
- the generator reads gray in [0, 1] and rescales it to [-1, 1] (Isola's input range);
  its output is a sigmoid, i.e. Isola's tanh output mapped to [0, 1]
  (sigmoid(x) = (1 + tanh(x / 2)) / 2), so it is RGB in [0, 1] like every kcolor model.
  Lab models (io `l_ab`) read L / 50 - 1, already in [-1, 1] (`input_rescale=False`),
  and predict ab / 128 with Isola's tanh (`output_activation="tanh"`);
- the innermost encoder block (the 1x1 bottleneck at full depth) has no BatchNorm, as in
  Isola's reference code: batch statistics over a 1x1 map of one image are degenerate;
- convolutions followed by BatchNorm carry no bias, nor do the first and innermost convs.

Example:
    from kcolor.models.unet import build_unet_generator
    g = build_unet_generator((128, 128, 1), base_filters=32)
"""

import keras
from keras import layers

from kcolor.models.blocks import conv_bn_act, unet_up_path
from kcolor.models.layers import FusedBatchNormalization
from kcolor.models.options import choice
from kcolor.shapes import max_levels

ENCODER_ACTIVATIONS = ("relu", "leaky_relu")
OUTPUT_ACTIVATIONS = ("sigmoid", "tanh")


def down_block(x, filters, *, batchnorm, activation, name):
    """Conv 4x4 stride 2 → [BatchNorm] → activation: halves the size (Isola's Ck).

    Encoder convs carry no bias, as in Isola's reference U-Net (its blocks are built for
    BatchNorm, which makes a bias redundant, and it keeps them bias-free where it skips
    the norm too).
    """
    # The activation layer is named after its kind (enc1_leaky_relu, enc1_relu), as saved files have it.
    return conv_bn_act(
        x, filters, 4, strides=2, use_bias=False, batchnorm=batchnorm, activation=activation, act_suffix=activation,
        name=name,
    )


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


def _up_level(x, skip, level, *, name):
    filters, dropout = level
    return up_block(x, skip, filters, dropout=dropout, name=name)


def build_unet_generator(
    input_shape=(256, 256, 1),
    *,
    base_filters=64,
    max_filters=512,
    num_levels=None,
    encoder_activation="leaky_relu",
    dropout=0.5,
    dropout_levels=3,
    output_channels=3,
    input_rescale=True,
    output_activation="sigmoid",
    input_name="gray",
    name="unet_generator",
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
        input_shape: `(H, W, C)` of the Input (named `input_name`); H and W divisible by 2**num_levels.
        base_filters, max_filters: width of the first level, and the cap on widths.
        num_levels: stride-2 levels; None goes down as far as the size halves exactly
            (8 at 256, 7 at 128).
        encoder_activation: "leaky_relu" (Isola, slope 0.2) or "relu" (Paper 001).
        dropout: rate of the decoder dropout; 0 disables it.
        dropout_levels: how many of the first (innermost) decoder blocks get dropout.
        output_channels: 3 for RGB (2 for Lab's ab).
        input_rescale: rescale the input from [0, 1] to [-1, 1] (gray); False for inputs
            already in [-1, 1] (Lab's L / 50 - 1).
        output_activation: "sigmoid" (RGB in [0, 1]) or "tanh" (ab / 128 in [-1, 1]).
        input_name: the Input's name, as the model's io reads it ("gray", or "L" for Lab).
        name: model name and layer-name prefix root.

    Example:
        g = build_unet_generator((128, 128, 1), base_filters=32)
        rgb = g(tf.zeros([1, 128, 128, 1]))
    """
    choice("encoder_activation", encoder_activation, ENCODER_ACTIVATIONS, owner="U-Net generator")
    choice("output_activation", output_activation, OUTPUT_ACTIVATIONS, owner="U-Net generator")
    height, width = int(input_shape[0]), int(input_shape[1])
    possible = min(max_levels(height), max_levels(width))
    if num_levels is None:
        num_levels = possible
    num_levels = int(num_levels)
    if not 2 <= num_levels <= possible:
        raise ValueError(
            f"U-Net generator: num_levels={num_levels} does not fit input {height}x{width}; "
            f"valid: 2..{possible} (each level halves the size exactly)"
        )
    filters = tuple(min(base_filters * 2**i, max_filters) for i in range(num_levels))

    inputs = keras.Input(shape=tuple(input_shape), name=input_name)
    x = inputs
    if input_rescale:
        x = layers.Rescaling(2.0, offset=-1.0, name="in_rescale")(x)  # [0, 1] → [-1, 1]
    skips = []
    for i, f in enumerate(filters):
        # No BatchNorm on the first level (Isola) nor on the innermost one (see module doc).
        batchnorm = 0 < i < num_levels - 1
        x = down_block(x, f, batchnorm=batchnorm, activation=encoder_activation, name=f"enc{i + 1}")
        skips.append(x)
    # dec{j} reads dec{j-1} and the encoder output of its size (dec1, on the innermost level, none).
    rates = [dropout if j < dropout_levels else 0.0 for j in range(num_levels - 1)]
    x = unet_up_path(x, [None, *skips[-2:0:-1]], zip(filters[-2::-1], rates), _up_level, name="dec")
    x = skip_deconv(x, skips[0], output_channels, use_bias=True, name="out")
    outputs = layers.Activation(output_activation, name=f"out_{output_activation}", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


__all__ = [
    "ENCODER_ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "build_unet_generator",
    "down_block",
    "max_levels",
    "skip_deconv",
    "up_block",
]
