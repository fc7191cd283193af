"""Paper 001's five supervised colorizers: autoencoder, deep CNN, residual U-Net, ResNet, DenseNet.

Paper 001 (Sofia Bazzan and Diletta Pasin, "Image Colorization", University of Padova;
no year or identifier given) trains six networks on
Oxford 102 Flowers: gray 128x128 in, RGB in [0, 1] out through a sigmoid, MSE loss,
Adam 1e-3. This module builds the five that are not GANs, layer by layer from the
paper's Section 4 (the sixth, Pix2Pix, is `kcolor.models.pix2pix`). Each is registered
with io `gray_rgb`: one Keras Input named `gray` (ITU-R 601 luma, 1 channel, [0, 1]).

The paper gives layer types and order but few widths. Where it is silent, the builder's
docstring says what was chosen, and the choice is the option's default, so
`--set key=value` changes it. Two widths the paper does state (the 256-filter 1x1
convolutions that open the ResNet and the DenseNet) are kept as options, but their
defaults are smaller: both networks run at full 128x128 resolution throughout, and at
256 channels the activations a training step keeps for backpropagation do not fit a
CPU machine's memory at batch 16 (see each builder). The `flowers` config builds the
paper's 256 (`kcolor.configs.flowers`); `flowers_small` the narrow defaults.

Choices shared by every model (the paper does not state them):
- kernels are 3x3 where the paper names none (the DenseNet's 4x4 is the paper's own);
- LeakyReLU uses Keras's default negative slope, 0.3 (the paper, written with Keras, gives none);
- convolutions followed by BatchNorm carry no bias (BatchNorm's beta replaces it);
- the sigmoid is a separate float32 layer, so mixed precision keeps the output in float32.

Example:
    model = build_unet_residual((128, 128, 1))
    rgb = model(gray_batch)                       # (B, 128, 128, 3) in [0, 1]
"""

import keras
from keras import layers

from kcolor.models.blocks import conv_bn_act, unet_up_path, upsample_concat
from kcolor.models.options import fraction, positive_int, positive_ints
from kcolor.models.registry import register_model

LEAKY_SLOPE = 0.3  # keras.layers.LeakyReLU's default

# The recipe Section 4.1 gives "for this architecture and all the future ones".
PAPER_DEFAULTS = {"image_size": 128, "learning_rate": 1e-3, "beta_1": 0.9, "loss": "mse"}


# --------------------------------------------------------------------------- checks


def _gray_input(input_shape, *, divisor=1):
    """The `gray` Input; spatial sizes, when known, must be divisible by `divisor`."""
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[-1] != 1:
        raise ValueError(
            f"input_shape must be (height, width, 1): a one-channel gray image. Received: input_shape={input_shape}"
        )
    for size in shape[:2]:
        if size is not None and (size < divisor or size % divisor):
            raise ValueError(
                f"input height and width must be multiples of {divisor} (the model halves them "
                f"{divisor.bit_length() - 1} times). Received: input_shape={input_shape}"
            )
    return keras.Input(shape=shape, name="gray")


# --------------------------------------------------------------------------- blocks


def unit(x, filters, kernel_size=3, *, activation="leaky_relu", padding="same", name):
    """Conv (no bias) → Keras BatchNorm → LeakyReLU 0.3, ReLU or nothing: the unit every model here repeats."""
    return conv_bn_act(
        x, filters, kernel_size, padding=padding, fused=False, activation=activation, negative_slope=LEAKY_SLOPE, name=name
    )


def rgb_head(x, *, kernel_size=3, name="head"):
    """Conv → 3 channels, then a float32 sigmoid: RGB in [0, 1]."""
    x = layers.Conv2D(3, kernel_size, padding="same", name=f"{name}_conv")(x)
    return layers.Activation("sigmoid", dtype="float32", name=f"{name}_sigmoid")(x)


def residual_conv_block(x, filters, *, name):
    """Two 3x3 conv-BN layers with an identity (or 1x1 projection) shortcut, then LeakyReLU."""
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = unit(x, filters, 1, padding="valid", activation=None, name=f"{name}_proj")
    y = unit(x, filters, 3, name=f"{name}_1")
    y = unit(y, filters, 3, activation=None, name=f"{name}_2")
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{name}_out")(y)


def residual_up_block(x, skip, width, *, name):
    """One level of the residual U-Net's up path: 2x UpSampling2D, concatenation with `skip`, a residual block."""
    return residual_conv_block(upsample_concat(x, [skip], name=name), width, name=name)


def residual_layer(x, *, name):
    """Section 4.4's "Residual Layer": x + Conv1x1(LReLU(Conv1x1(LReLU(BN(x)))))."""
    filters = x.shape[-1]
    y = layers.BatchNormalization(name=f"{name}_bn")(x)
    y = layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{name}_lrelu1")(y)
    y = layers.Conv2D(filters, 1, name=f"{name}_conv1")(y)
    y = layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"{name}_lrelu2")(y)
    y = layers.Conv2D(filters, 1, name=f"{name}_conv2")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def dense_layer(x, growth_rate, bottleneck, *, name):
    """Section 4.5's dense unit: [Conv 1x1, Conv 4x4], each → BN → ReLU, concatenated to its input."""
    y = unit(x, bottleneck * growth_rate, 1, activation="relu", name=f"{name}_1")
    y = unit(y, growth_rate, 4, activation="relu", name=f"{name}_2")
    return layers.Concatenate(name=f"{name}_concat")([x, y])


# --------------------------------------------------------------------------- builders


def build_autoencoder(input_shape=(128, 128, 1), *, filters=(16, 32, 64), convs_per_set=3, name="autoencoder"):
    """Convolutional autoencoder of Paper 001, Section 4.1.

    Encoder: one set of `convs_per_set` x [Conv 3x3, BatchNorm, LeakyReLU] per entry of
    `filters`, each set followed by MaxPooling2D. Decoder: the mirror image, UpSampling2D
    before each set, widths reversed. Then Conv 3 + sigmoid.

    The paper gives "three sets of three" convolutions and their order but no widths, and
    does not say whether the last set is pooled too. Chosen: widths (16, 32, 64), doubling
    like the residual U-Net's from its 16-filter stem, and a pool after every set, so the
    decoder's three upsamplings mirror three poolings and a 128x128 input passes through
    a 16x16 bottleneck. Twice those widths takes three times the CPU time per training
    step (128x128, batch 16).

    Args:
        input_shape: (H, W, 1); H and W multiples of 2 ** len(filters).
        filters: width of each encoder set (the decoder uses them reversed).
        convs_per_set: convolutions per set (3 in the paper).
        name: model name.

    Example:
        model = build_autoencoder((128, 128, 1))
        rgb = model(gray)                           # (B, 128, 128, 3) in [0, 1]
    """
    filters = positive_ints("filters", filters)
    convs_per_set = positive_int("convs_per_set", convs_per_set)
    inputs = _gray_input(input_shape, divisor=2 ** len(filters))

    # Encoder, for filters=(16, 32, 64) at 128 px:
    #   enc1 (B, 128, 128, 16) → pool (B, 64, 64, 16)
    #   enc2 (B, 64, 64, 32)   → pool (B, 32, 32, 32)
    #   enc3 (B, 32, 32, 64)   → pool (B, 16, 16, 64)
    x = inputs
    for i, width in enumerate(filters, start=1):
        for j in range(1, convs_per_set + 1):
            x = unit(x, width, 3, name=f"enc{i}_{j}")
        x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)

    # Decoder: dec1 (B, 32, 32, 64), dec2 (B, 64, 64, 32), dec3 (B, 128, 128, 16).
    for i, width in enumerate(reversed(filters), start=1):
        x = layers.UpSampling2D(2, name=f"dec{i}_up")(x)
        for j in range(1, convs_per_set + 1):
            x = unit(x, width, 3, name=f"dec{i}_{j}")

    outputs = rgb_head(x)  # (B, 128, 128, 3)
    return keras.Model(inputs, outputs, name=name)


def build_deep_cnn(input_shape=(128, 128, 1), *, filters=(32, 64), convs_per_stage=3, name="deep_cnn"):
    """Deep CNN of Paper 001, Section 4.2.

    Six [Conv 3x3, BatchNorm, LeakyReLU] layers at full resolution, in stages of three.
    After every stage its output is concatenated with the stage's input (a skip that
    carries the earlier, lower-level features forward: the gray input after stage 1, the
    stage-1 features and the gray input after stage 2). Then Conv 3 + sigmoid.

    The paper gives six layers, skips "after every set of three" and no widths. Chosen:
    32 filters in the first stage, 64 in the second.

    Args:
        input_shape: (H, W, 1).
        filters: width of each stage (two stages in the paper).
        convs_per_stage: convolutions per stage (3 in the paper).
        name: model name.

    Example:
        model = build_deep_cnn((128, 128, 1))
        rgb = model(gray)                           # (B, 128, 128, 3) in [0, 1]
    """
    filters = positive_ints("filters", filters)
    convs_per_stage = positive_int("convs_per_stage", convs_per_stage)
    inputs = _gray_input(input_shape)

    # stage1: (B, 128, 128, 32) ⊕ gray → (B, 128, 128, 33)
    # stage2: (B, 128, 128, 64) ⊕ stage1 → (B, 128, 128, 97)
    x = inputs
    for i, width in enumerate(filters, start=1):
        y = x
        for j in range(1, convs_per_stage + 1):
            y = unit(y, width, 3, name=f"stage{i}_{j}")
        x = layers.Concatenate(name=f"stage{i}_skip")([y, x])

    outputs = rgb_head(x)  # (B, 128, 128, 3)
    return keras.Model(inputs, outputs, name=name)


def build_unet_residual(input_shape=(128, 128, 1), *, filters=(16, 32, 64, 128, 256), name="unet_residual"):
    """Residual U-Net of Paper 001, Section 4.3.

    Stem: BatchNorm → Conv 3x3 with 16 filters, linear → LeakyReLU (as the paper says).
    Down path: a residual block (two Conv 3x3-BN with a shortcut, LeakyReLU) per level,
    then MaxPooling2D. Bottleneck: one residual block. Up path: UpSampling2D 2x,
    concatenation with the level's skip, a residual block. Tail: Conv 3x3 (linear) →
    BatchNorm → LeakyReLU, then Conv 3x3 to 3 channels + sigmoid.

    The paper fixes the 16-filter stem but not the depth or the widths. Chosen: widths
    doubling from the stem's 16 over four poolings, (16, 32, 64, 128) down and 256 at
    the 8x8 bottleneck of a 128x128 input; the tail keeps filters[0] channels.

    Args:
        input_shape: (H, W, 1); H and W multiples of 2 ** (len(filters) - 1).
        filters: width per level, highest resolution first; the last is the bottleneck.
        name: model name.

    Example:
        model = build_unet_residual((128, 128, 1))
        rgb = model(gray)                           # (B, 128, 128, 3) in [0, 1]
    """
    filters = positive_ints("filters", filters, min_count=2)
    inputs = _gray_input(input_shape, divisor=2 ** (len(filters) - 1))

    x = layers.BatchNormalization(name="stem_bn")(inputs)
    x = layers.Conv2D(16, 3, padding="same", name="stem_conv")(x)
    x = layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="stem_lrelu")(x)  # (B, 128, 128, 16)

    # Down, filters=(16, 32, 64, 128, 256) at 128 px:
    #   down1 (B, 128, 128, 16) → (B, 64, 64, 16)
    #   down2 (B, 64, 64, 32)   → (B, 32, 32, 32)
    #   down3 (B, 32, 32, 64)   → (B, 16, 16, 64)
    #   down4 (B, 16, 16, 128)  → (B, 8, 8, 128)
    skips = []
    for i, width in enumerate(filters[:-1], start=1):
        x = residual_conv_block(x, width, name=f"down{i}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"down{i}_pool")(x)

    x = residual_conv_block(x, filters[-1], name="bottleneck")  # (B, 8, 8, 256)

    # Up: up1 (B, 16, 16, 128), up2 (B, 32, 32, 64), up3 (B, 64, 64, 32), up4 (B, 128, 128, 16)
    x = unet_up_path(x, skips[::-1], filters[-2::-1], residual_up_block, name="up")

    x = unit(x, filters[0], 3, name="tail")  # (B, 128, 128, 16)
    outputs = rgb_head(x)  # (B, 128, 128, 3)
    return keras.Model(inputs, outputs, name=name)


def build_resnet_color(input_shape=(128, 128, 1), *, filters=16, num_layers=20, name="resnet_color"):
    """ResNet of Paper 001, Section 4.4.

    BatchNorm → Conv 1x1 with `filters` filters, linear → `num_layers` x Residual Layer
    [BatchNorm, LeakyReLU, Conv 1x1, LeakyReLU, Conv 1x1] + identity → BatchNorm →
    LeakyReLU → Conv 3x3 to 3 channels + sigmoid. Every layer runs at full resolution.

    The paper states 20 residual layers and a 256-filter opening convolution. Everything
    before the last 3x3 convolution is 1x1, so this model maps each pixel's gray value to
    features on its own and only the head sees a 3x3 neighbourhood. All of it runs at
    full resolution, so memory and time grow with the width: a training step on a
    128x128 batch of 16 peaked at 2.6 GB at 16 channels and 4.4 GB at 32, about 0.11 GB
    more per channel, which puts the paper's 256 near 29 GB. The default width is 16: a
    per-pixel mapping of one gray value needs little width. `filters=256` builds the
    paper's width, for a small batch on a large machine.

    Args:
        input_shape: (H, W, 1).
        filters: width of the opening convolution and of every residual layer (paper: 256).
        num_layers: number of residual layers (paper: 20).
        name: model name.

    Example:
        model = build_resnet_color((128, 128, 1))
        rgb = model(gray)                           # (B, 128, 128, 3) in [0, 1]
    """
    filters = positive_int("filters", filters)
    num_layers = positive_int("num_layers", num_layers)
    inputs = _gray_input(input_shape)

    x = layers.BatchNormalization(name="stem_bn")(inputs)
    x = layers.Conv2D(filters, 1, name="stem_conv")(x)  # (B, 128, 128, 16)
    for i in range(1, num_layers + 1):
        x = residual_layer(x, name=f"res{i}")  # (B, 128, 128, 16)
    x = layers.BatchNormalization(name="head_bn")(x)
    x = layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="head_lrelu")(x)
    outputs = rgb_head(x)  # (B, 128, 128, 3)
    return keras.Model(inputs, outputs, name=name)


def build_densenet_color(
    input_shape=(128, 128, 1),
    *,
    stem_filters=32,
    num_layers=4,
    growth_rate=12,
    bottleneck=4,
    compression=0.5,
    head_filters=32,
    name="densenet_color",
):
    """DenseNet of Paper 001, Section 4.5.

    Conv 1x1 stem → `num_layers` densely connected units, each [Conv 1x1 → BN → ReLU,
    Conv 4x4 → BN → ReLU] whose `growth_rate` output channels are concatenated to
    everything before them → transition Conv 1x1 that compresses the channels by
    `compression` → Conv 1x1 + BN + ReLU → Conv 3x3 to 3 channels + sigmoid. All at full
    resolution (the paper keeps the spatial size; there is no pooling).

    The paper states the 1x1 and 4x4 kernels, BN + ReLU after each convolution, and a
    256-filter stem, but no unit count or growth rate. Chosen: 4 units with Huang et al.'s
    growth rate 12 and DenseNet-BC's 1x1 bottleneck of 4 x growth rate, compression 0.5
    and a 32-filter head. The stem is 32 wide by default: the dense concatenations keep
    every unit's input at full resolution, and at 256 channels a batch of 16 at 128x128
    holds 268 MB or more per concatenated tensor. `stem_filters=256` builds the paper's
    width. A 4x4 "same" convolution pads one pixel before and two after.

    Args:
        input_shape: (H, W, 1).
        stem_filters: width of the opening 1x1 convolution (paper: 256).
        num_layers: dense units.
        growth_rate: channels each unit adds.
        bottleneck: the units' 1x1 convolution has bottleneck * growth_rate filters.
        compression: the transition keeps this fraction of the channels, in (0, 1].
        head_filters: width of the final Conv 1x1 + BN + ReLU.
        name: model name.

    Example:
        model = build_densenet_color((128, 128, 1))
        rgb = model(gray)                           # (B, 128, 128, 3) in [0, 1]
    """
    stem_filters = positive_int("stem_filters", stem_filters)
    num_layers = positive_int("num_layers", num_layers)
    growth_rate = positive_int("growth_rate", growth_rate)
    bottleneck = positive_int("bottleneck", bottleneck)
    head_filters = positive_int("head_filters", head_filters)
    compression = fraction("compression", compression)
    inputs = _gray_input(input_shape)

    x = layers.Conv2D(stem_filters, 1, name="stem_conv")(inputs)  # (B, 128, 128, 32)
    for i in range(1, num_layers + 1):
        x = dense_layer(x, growth_rate, bottleneck, name=f"dense{i}")  # (B, 128, 128, 32 + 12 i)
    channels = max(1, int(x.shape[-1] * compression))
    x = layers.Conv2D(channels, 1, name="transition_conv")(x)  # (B, 128, 128, 40)
    x = unit(x, head_filters, 1, activation="relu", name="head_1x1")  # (B, 128, 128, 32)
    outputs = rgb_head(x)  # (B, 128, 128, 3)
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- registry


def _square(image_size):
    size = positive_int("image_size", image_size)
    return (size, size, 1)


@register_model("autoencoder", io="gray_rgb", trainer="supervised", paper="001", defaults=PAPER_DEFAULTS)
def autoencoder(image_size, *, filters=(16, 32, 64), convs_per_set=3):
    """Paper 001 §4.1 convolutional autoencoder: 3 sets of 3 Conv-BN-LeakyReLU, MaxPool / UpSampling."""
    return {"colorizer": build_autoencoder(_square(image_size), filters=filters, convs_per_set=convs_per_set)}


@register_model("deep_cnn", io="gray_rgb", trainer="supervised", paper="001", defaults=PAPER_DEFAULTS)
def deep_cnn(image_size, *, filters=(32, 64), convs_per_stage=3):
    """Paper 001 §4.2 deep CNN: 6 Conv-BN-LeakyReLU at full resolution, a concatenation skip every 3."""
    return {"colorizer": build_deep_cnn(_square(image_size), filters=filters, convs_per_stage=convs_per_stage)}


@register_model("unet_residual", io="gray_rgb", trainer="supervised", paper="001", defaults=PAPER_DEFAULTS)
def unet_residual(image_size, *, filters=(16, 32, 64, 128, 256)):
    """Paper 001 §4.3 U-Net with residual blocks, MaxPool down, 2x UpSampling up, skips."""
    return {"colorizer": build_unet_residual(_square(image_size), filters=filters)}


@register_model("resnet_color", io="gray_rgb", trainer="supervised", paper="001", defaults=PAPER_DEFAULTS)
def resnet_color(image_size, *, filters=16, num_layers=20):
    """Paper 001 §4.4 ResNet: Conv 1x1 stem, 20 residual layers of 1x1 convs, Conv 3x3 head."""
    return {"colorizer": build_resnet_color(_square(image_size), filters=filters, num_layers=num_layers)}


@register_model("densenet_color", io="gray_rgb", trainer="supervised", paper="001", defaults=PAPER_DEFAULTS)
def densenet_color(
    image_size, *, stem_filters=32, num_layers=4, growth_rate=12, bottleneck=4, compression=0.5, head_filters=32
):
    """Paper 001 §4.5 DenseNet: Conv 1x1 stem, dense [Conv 1x1, Conv 4x4] units, transition, head."""
    return {
        "colorizer": build_densenet_color(
            _square(image_size),
            stem_filters=stem_filters,
            num_layers=num_layers,
            growth_rate=growth_rate,
            bottleneck=bottleneck,
            compression=compression,
            head_filters=head_filters,
        )
    }
