"""The building blocks several papers share: conv-BatchNorm-activation, the U-Net up path, the layer walker.

`conv_bn_act` is the one convolution unit of every model here: a `Conv2D` (or
`Conv2DTranspose`), then BatchNorm, then an activation, each optional where a paper
leaves it out. A unit named `name` makes the layers `{name}_conv`, `{name}_bn` and
`{name}_{act}` (`relu`, `lrelu`, `gelu`), plus `{name}_pad` when it pads explicitly;
`act_suffix` and `pad_suffix` keep the few papers whose saved files spell these
differently.

Who uses it, and with what:

| paper: module                   | BatchNorm                        | activation            | conv bias        |
|---------------------------------|----------------------------------|-----------------------|------------------|
| 000: `stable`                   | Keras                            | GELU                  | yes              |
| 001: `flowers`                  | Keras                            | LeakyReLU 0.3, ReLU, none | no           |
| 001, 002: `unet` encoder        | fused, not on the outer levels   | LeakyReLU 0.2, ReLU   | no               |
| 001, 002: `patchgan`            | fused, not on the first layer    | LeakyReLU 0.2         | without BN only  |
| 002: `cgan` sigmoid classifier  | fused, not on the first layer    | LeakyReLU 0.2         | without BN only  |
| 003: `encoders`, `smp_decoders` | fused, torch's eps and momentum  | ReLU, none            | no               |
| 004: `vit_i_gan`                | fused                            | LeakyReLU 0.2         | no               |

Example:
    from kcolor.models.blocks import conv_bn_act
    x = conv_bn_act(x, 64, 3, activation="leaky_relu", name="enc1")   # enc1_conv, enc1_bn, enc1_lrelu
"""

from keras import layers

from kcolor.models.layers import FusedBatchNormalization
from kcolor.models.options import choice

# torch's BatchNorm2d defaults (eps 1e-5, momentum 0.1); Keras counts momentum the other way.
TORCH_BN_EPSILON = 1e-5
TORCH_BN_MOMENTUM = 0.9
# keras.layers.BatchNormalization's defaults.
KERAS_BN_EPSILON = 1e-3
KERAS_BN_MOMENTUM = 0.99

ACTIVATIONS = ("relu", "leaky_relu", "gelu")
_ACT_SUFFIXES = {"relu": "relu", "leaky_relu": "lrelu", "gelu": "gelu"}


def activation_layer(kind, *, negative_slope=0.2, name):
    """The Keras layer of `kind` ("relu", "leaky_relu" with `negative_slope`, or "gelu", exact)."""
    choice("activation", kind, ACTIVATIONS, owner="activation_layer")
    if kind == "relu":
        return layers.ReLU(name=name)
    if kind == "leaky_relu":
        return layers.LeakyReLU(negative_slope=negative_slope, name=name)
    return layers.Activation("gelu", name=name)


def conv_bn_act(
    x,
    filters,
    kernel_size,
    *,
    name,
    strides=1,
    transpose=False,
    padding="same",
    use_bias=None,
    batchnorm=True,
    fused=True,
    bn_epsilon=KERAS_BN_EPSILON,
    bn_momentum=KERAS_BN_MOMENTUM,
    activation="relu",
    negative_slope=0.2,
    act_suffix=None,
    pad_suffix="pad",
):
    """Conv (or ConvTranspose) → [BatchNorm] → [activation], named `{name}_*`.

    Args:
        x: the input tensor.
        filters, kernel_size, strides: of the convolution.
        name: the prefix of every layer the unit makes.
        transpose: a `Conv2DTranspose` instead of a `Conv2D`.
        padding: "same", "valid", or an int n: n zero pixels on every side
            (`ZeroPadding2D`, named `{name}_{pad_suffix}`) and then a "valid" conv,
            as torch's `padding=n`.
        use_bias: the conv's bias; None: a bias only without BatchNorm (whose beta
            would make it redundant).
        batchnorm: put BatchNorm after the conv.
        fused: `FusedBatchNormalization` (TensorFlow's fused kernel in training, same
            weights and results) rather than `keras.layers.BatchNormalization`.
        bn_epsilon, bn_momentum: BatchNorm's; Keras' defaults unless given
            (`TORCH_BN_EPSILON`, `TORCH_BN_MOMENTUM` for torch's).
        activation: "relu", "leaky_relu", "gelu" or None (no activation layer).
        negative_slope: LeakyReLU's slope.
        act_suffix: the activation layer's suffix; None: relu, lrelu or gelu.
        pad_suffix: the padding layer's suffix.

    Returns:
        The unit's output tensor.

    Example:
        y = conv_bn_act(x, 32, 3, strides=2, padding=1, activation=None, name="c2")   # c2_pad, c2_conv, c2_bn
    """
    if isinstance(padding, int):
        if padding:
            x = layers.ZeroPadding2D(padding, name=f"{name}_{pad_suffix}")(x)
        padding = "valid"
    if use_bias is None:
        use_bias = not batchnorm
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=f"{name}_conv")(x)
    if batchnorm:
        norm = FusedBatchNormalization if fused else layers.BatchNormalization
        x = norm(epsilon=bn_epsilon, momentum=bn_momentum, name=f"{name}_bn")(x)
    if activation is None:
        return x
    suffix = act_suffix or _ACT_SUFFIXES.get(activation, activation)
    return activation_layer(activation, negative_slope=negative_slope, name=f"{name}_{suffix}")(x)


def upsample_concat(x, skips=(), *, name):
    """Nearest 2x `UpSampling2D` (`{name}_up`), then `Concatenate` (`{name}_concat`) with `skips`, if any.

    The merge step of a U-Net decoder that up-samples before it convolves: Paper 001's
    residual U-Net (`flowers`) and segmentation_models_pytorch's U-Net and UNet++
    decoders of KMHCNet (`smp_decoders`).

    Example:
        x = upsample_concat(x, [skip], name="up1")      # up1_up, up1_concat
    """
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    if skips:
        x = layers.Concatenate(name=f"{name}_concat")([x, *skips])
    return x


def unet_up_path(x, skips, levels, block, *, name):
    """The up path (decoder loop) of a U-Net: one `block` per level, from the bottleneck up.

    Level i (counted from 1) is `x = block(x, skips[i - 1], levels[i - 1], name=f"{name}{i}")`:
    each block reads the level below it and the encoder features its level merges (None
    where it merges none). What a level holds, a width or a width and a dropout rate, is
    the block's business, and so is how it merges and up-samples: after an up-sampling
    (`upsample_concat`: `flowers`, `smp_decoders`) or in a transposed convolution of the
    concatenation (`unet` for Pix2Pix and Paper 002's baseline, `stable`).

    Args:
        x: the bottleneck.
        skips: one entry per level (a tensor, a list of tensors, or None), coarsest first.
        levels: one entry per level, handed to `block` as it is.
        block: `block(x, skip, level, *, name) -> tensor`.
        name: prefix of the level names.

    Example:
        x = unet_up_path(d4, [None, d3, d2, d1], (64, 32, 32, 32), up_level, name="up")   # up1 .. up4
    """
    levels, skips = list(levels), list(skips)
    if len(levels) != len(skips):
        raise ValueError(
            f"unet_up_path: {len(levels)} levels but {len(skips)} skips; give one skip (or None) per level"
        )
    for i, (level, skip) in enumerate(zip(levels, skips), start=1):
        x = block(x, skip, level, name=f"{name}{i}")
    return x


def all_layers(model):
    """Every layer of `model`, nested models and their layers included: depth first, last layer first.

    The order depends only on the model's structure, so a model and its clone walk in step.

    Used by `kcolor.models.saving` (the layers a saved colorizer replaces or refuses) and
    `kcolor.export.parity` (the in-graph color layers int8 cannot represent).

    Example:
        names = [layer.name for layer in all_layers(model)]
    """
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        yield layer
        stack.extend(getattr(layer, "layers", []) or [])


__all__ = [
    "ACTIVATIONS",
    "KERAS_BN_EPSILON",
    "KERAS_BN_MOMENTUM",
    "TORCH_BN_EPSILON",
    "TORCH_BN_MOMENTUM",
    "activation_layer",
    "all_layers",
    "conv_bn_act",
    "unet_up_path",
    "upsample_concat",
]
