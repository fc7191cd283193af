"""The PatchGAN discriminator (Isola et al. 2017, "Image-to-Image Translation with
Conditional Adversarial Networks", arXiv:1611.07004), shared by every model that uses it.

It judges overlapping patches of a (condition, image) pair: every output is a real/fake
logit for one `patch` x `patch` window of the input.

Example:
    from kcolor.models.patchgan import build_patchgan_discriminator
    d = build_patchgan_discriminator((128, 128, 1), patch=64)
"""

import keras
from keras import layers

from kcolor.models.blocks import conv_bn_act
from kcolor.models.options import choice

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


def patch_receptive_field(stack):
    """Receptive field in pixels of a conv stack of `(filters, kernel, stride)` rows."""
    field, jump = 1, 1
    for _, kernel, stride in stack:
        field += (kernel - 1) * jump
        jump *= stride
    return field


def build_patchgan_discriminator(
    input_shape=(256, 256, 1),
    *,
    image_channels=3,
    base_filters=64,
    patch=70,
    rescale_inputs=True,
    name="patchgan_discriminator",
):
    """PatchGAN discriminator on the (condition, image) pair (Isola et al. 2017).

    Two Inputs, `condition` (the gray input, shape `input_shape`) and `image` (a real or
    generated colorization), are brought to [-1, 1] and concatenated; a stack of
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
        rescale_inputs: rescale both inputs from [0, 1] to [-1, 1] (gray and RGB); False
            for inputs already in [-1, 1] (Lab's L / 50 - 1 and ab / 128).
        name: model name.

    Example:
        d = build_patchgan_discriminator((128, 128, 1), patch=64)
        logits = d({"condition": gray, "image": rgb})
    """
    stack = PATCH_STACKS[choice("patch", int(patch), tuple(PATCH_STACKS), owner="PatchGAN")]
    height, width = int(input_shape[0]), int(input_shape[1])
    condition = keras.Input(shape=tuple(input_shape), name="condition")
    image = keras.Input(shape=(height, width, image_channels), name="image")
    c, i = condition, image
    if rescale_inputs:
        c = layers.Rescaling(2.0, offset=-1.0, name="condition_rescale")(c)
        i = layers.Rescaling(2.0, offset=-1.0, name="image_rescale")(i)
    x = layers.Concatenate(name="pair_concat")([c, i])
    for n, (mult, kernel, stride) in enumerate(stack[:-1]):
        x = conv_bn_act(
            x,
            base_filters * mult,
            kernel,
            strides=stride,
            padding="same" if stride > 1 else 1,
            batchnorm=n > 0,
            activation="leaky_relu",
            name=f"c{n + 1}",
        )
    _, kernel, _ = stack[-1]
    x = layers.ZeroPadding2D(1, name="out_pad")(x)
    logits = layers.Conv2D(1, kernel, padding="valid", name="out_conv", dtype="float32")(x)
    if logits.shape[1] is not None and logits.shape[1] < 1:
        raise ValueError(f"PatchGAN: input {height}x{width} is too small for patch={patch}")
    return keras.Model({"condition": condition, "image": image}, logits, name=name)


__all__ = ["PATCH_STACKS", "build_patchgan_discriminator", "patch_receptive_field"]
