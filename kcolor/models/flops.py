"""FLOPs of a Keras model's convolutions and dense layers, and of a GAN train step.

A multiply-add counts 2 FLOPs. Only `Conv2D`, `Conv2DTranspose` and `Dense` layers are
counted (they are nearly all of the arithmetic of a U-Net or a PatchGAN); BatchNorm,
activations, element-wise ops and the optimizer are left out. Per layer:

- `Conv2D`: `2 * H_out * W_out * kh * kw * C_in * C_out` (groups and dilation are not
  used by kcolor's convolution models and are refused);
- `Conv2DTranspose`: `2 * H_in * W_in * kh * kw * C_in * C_out` (each input pixel
  scatters one kernel);
- `Dense`: `2 * (units along the leading axes) * in * out`.

A training pass through a network is its forward pass, the gradients of every weight
(as many FLOPs as the forward pass), and the gradients of every layer's input, except
where nothing upstream needs them: in a network whose input needs no gradient, the
first counted layer's input gradient is skipped. `gan_step_flops` counts
`kcolor.training.gan_step` the way Isola's Pix2Pix is usually counted: the generator's
pass, the discriminator's pass on the fake (its input gradient feeds the generator) and
its pass on the real pair, each discriminator pass once (the step runs a second
input-gradient sweep through the discriminator on the fake, for the discriminator's own
loss, which this count leaves out). For Isola's Pix2Pix at 128x128 this is 18.05 GFLOP
per image.

Example:
    nets = build_model("pix2pix", 128, preset="isola")
    gan_step_flops(nets["colorizer"], nets["discriminator"])["total"] / 1e9   # 18.05
"""

import keras
import numpy as np


def _shape(tensor):
    return tuple(int(d) for d in tensor.shape[1:])


def layer_flops(model):
    """`[(layer name, forward FLOPs per example)]` of `model`'s counted layers, in order.

    Nested models are walked into. Raises ValueError on a grouped or dilated conv.
    """
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            rows.extend(layer_flops(layer))
            continue
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            if getattr(layer, "groups", 1) != 1 or tuple(layer.dilation_rate) != (1, 1):
                raise ValueError(f"layer_flops: {layer.name} is grouped or dilated; only plain convolutions are counted")
            kh, kw = layer.kernel_size
            if isinstance(layer, keras.layers.Conv2DTranspose):
                h, w, c_in = _shape(layer.input)
                flops = 2 * h * w * kh * kw * c_in * layer.filters
            else:
                h, w, c_out = _shape(layer.output)
                c_in = _shape(layer.input)[-1]
                flops = 2 * h * w * kh * kw * c_in * c_out
        elif isinstance(layer, keras.layers.Dense):
            shape = _shape(layer.input)
            flops = 2 * int(np.prod(shape[:-1], dtype=np.int64)) * shape[-1] * layer.units
        else:
            continue
        rows.append((layer.name, int(flops)))
    return rows


def training_pass_flops(model, *, input_needs_gradient=False):
    """FLOPs per example of one training pass: forward, weight gradients, input gradients.

    The first counted layer's input gradient is included only when
    `input_needs_gradient` (the input comes from a network being trained).
    """
    rows = layer_flops(model)
    forward = sum(f for _, f in rows)
    input_grads = forward - (0 if input_needs_gradient or not rows else rows[0][1])
    return {"forward": forward, "weight_grads": forward, "input_grads": input_grads, "total": 2 * forward + input_grads}


def gan_step_flops(generator, discriminator):
    """FLOPs per image of one conditional-GAN train step (see the module doc).

    Returns `{"generator", "discriminator_fake", "discriminator_real", "total",
    "generator_forward", "discriminator_forward"}`.
    """
    g = training_pass_flops(generator)
    d_fake = training_pass_flops(discriminator, input_needs_gradient=True)
    d_real = training_pass_flops(discriminator)
    return {
        "generator": g["total"],
        "discriminator_fake": d_fake["total"],
        "discriminator_real": d_real["total"],
        "total": g["total"] + d_fake["total"] + d_real["total"],
        "generator_forward": g["forward"],
        "discriminator_forward": d_fake["forward"],
    }


__all__ = ["gan_step_flops", "layer_flops", "training_pass_flops"]
