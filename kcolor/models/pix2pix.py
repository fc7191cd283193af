"""Pix2Pix: a U-Net generator and a PatchGAN discriminator, conditioned on the gray image.

Paper 001 (Sofia Bazzan, "Image Colorization", University of Padova; section 4.6) colorizes flowers with a Pix2Pix in
the form of Isola et al. (2017): an encoder-decoder generator with skip connections
(U-Net) built from Conv-BatchNorm-activation blocks, dropout in the first decoder blocks
as the only noise source (no z), and a PatchGAN discriminator that judges overlapping
patches of the (gray, color) pair. Paper 001 departs from Isola in three places, each an
option here: ReLU instead of LeakyReLU in the encoder, 64x64 or 128x128 patches instead
of 70x70, and an MSE reconstruction loss (with a least-squares or BCE adversarial loss)
instead of L1 + BCE. The generator and the discriminator are the shared blocks
`kcolor.models.unet.build_unet_generator` and `kcolor.models.patchgan`; this module holds
the Pix2Pix recipe: its presets, options and registration.

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

from kcolor.models.options import choice, rate
from kcolor.models.patchgan import PATCH_STACKS, build_patchgan_discriminator
from kcolor.models.registry import register_model
from kcolor.models.unet import ENCODER_ACTIVATIONS, build_unet_generator

ADV_LOSSES = ("lsgan", "bce")
RECON_LOSSES = ("mse", "l1")

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


def resolve_options(preset=None, **options):
    """Merge explicit options over a preset over the small default; validate them.

    Returns a dict with every option set (`num_levels` may stay None: the generator then
    goes down to the smallest size the image allows).
    """
    if preset is not None:
        choice("preset", preset, tuple(PRESETS), owner="pix2pix")
    resolved = dict(_BASE)
    resolved.update(PRESETS.get(preset, {}))
    resolved.update({k: v for k, v in options.items() if v is not None})
    choice("encoder_activation", resolved["encoder_activation"], ENCODER_ACTIVATIONS, owner="pix2pix")
    choice("adv_loss", resolved["adv_loss"], ADV_LOSSES, owner="pix2pix")
    choice("recon_loss", resolved["recon_loss"], RECON_LOSSES, owner="pix2pix")
    choice("patch", int(resolved["patch"]), tuple(PATCH_STACKS), owner="pix2pix")
    for key in ("base_filters", "max_filters", "dropout_levels", "patch"):
        resolved[key] = int(resolved[key])
    for key in ("dropout", "recon_weight"):
        resolved[key] = float(resolved[key])
    rate("dropout", resolved["dropout"], owner="pix2pix")
    if resolved["base_filters"] < 1 or resolved["max_filters"] < resolved["base_filters"]:
        raise ValueError(
            "pix2pix: need 1 <= base_filters <= max_filters. Received: "
            f"base_filters={resolved['base_filters']}, max_filters={resolved['max_filters']}"
        )
    return resolved


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
    generator = build_unet_generator(
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


__all__ = ["PRESETS", "pix2pix", "resolve_options"]
