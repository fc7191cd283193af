"""Demo settings: a paper's recipe on the real-photo corpus `photos`, long enough to learn.

One set per notebook: `ref_autoencoder_photos_demo`, `ref_unet_photos_demo`,
`stable_photos_demo` (000), `six_models_photos_demo` (001), `cgan_resnet50_photos_demo`,
`cgan_unet_baseline_photos_demo` (002), `kmhcnet_N_photos_demo` for the 16 variants (003),
`vit_gan_photos_demo`, `vit_i_gan_photos_demo` (004). A name is `<model or recipe>_photos_demo`:
it says the data it trains on, as `_smoke` says the CI-sized setting (issue #25); the names
they had before (`flowers_demo`, `unsplash_resnet50_demo`, ... : `RENAMED`) work for one
release, with a message naming the new one.
Every demo trains on `photos` (or `pairs:photos` for the reference-guided models of 000):
crops of the corpus's training photos (128 crops, or 64 pairs, per photo), validated on its
val photos and scored on its whole test photos. The corpus is fetched once (`kcolor
fetch-photos`, `make photos`); after that no demo downloads anything: pretrained encoders
start from random weights (`weights=none`), and each config says what that changes.

The notebooks' `SETTINGS = "demo"` uses these: each runs on a 2-core laptop CPU in at
most about ten minutes per notebook and is meant to show a newcomer that the models learn
(they beat the gray baseline where the paper's models work). `smoke` stays the CI
setting, on the offline `sample` photos; `paper` is the paper's full recipe.

Lengths: each demo was first sized on the offline `sample` photos (336 training crops, 240
pairs) and keeps about that number of optimizer steps, and so about that training time
(each docstring gives both). A demo's length is a number of steps, `epochs` x
`steps_per_epoch` (`*_DEMO_LENGTH`), not a number of passes over the corpus: an epoch is a
fixed number of steps of the endless crop stream, so the demos take as long whatever the
corpus grows to (it went from 9 to 35, then 117 training photos). The lengths were not chosen again on
the corpus's validation photo.

    make photos                   # the corpus, once
    make demo NOTEBOOK=001        # executes notebooks/001_* with SETTINGS="demo" into docs/
    kcolor train --config six_models_photos_demo --set model=unet_residual
"""

import dataclasses

from kcolor.configs.registry import register_alias, register_config
from kcolor.configs import cgan_lab, kmhcnet, vit_i_gan
from kcolor.configs.flowers import flowers_small
from kcolor.configs.stable import ref_autoencoder_smoke, ref_unet_smoke, stable_smoke
from kcolor.models.vit_i_gan import SMALL_VIT

# Paper 002 at 64 px: the paper's widths took 3.4 s (ResNet50 cGAN) and 4.5 s (baseline) a
# step at batch 16 on the shared 2-core CPU; half the widths (a quarter of the work) fit ten minutes.
CGAN_DEMO_LENGTH = (6, 72)  # epochs, steps each: 432 steps of batch 16 (sample: 20 epochs, 420 steps)
CGAN_DEMO_WIDTHS = {
    "cgan_resnet50": {"decoder_filters": (256, 128, 64, 32, 16), "d_base_filters": 32},
    "cgan_unet_baseline": {"base_filters": 32, "max_filters": 256, "d_filters": (32, 64, 128, 256)},
}
FLOWERS_DEMO_LENGTH = (6, 72)  # 432 steps of batch 16 (sample: 20 epochs, 420 steps)
KMHCNET_DEMO_LENGTH = (3, 72)  # 216 steps of batch 16 (sample: 10 epochs, 210 steps)
# 288 and 216 steps of batch 8 (sample: 8 epochs, 336 and 240 steps)
STABLE_DEMO_LENGTH = {"photos": (2, 144), "pairs:photos": (3, 72)}
VIT_DEMO_BATCH = 8
VIT_DEMO_LENGTH = (2, 144)  # 288 steps of batch 8 (sample: 6 epochs, 252 steps)
VIT_DEMO_WIDTHS = {"encoder_filters": (16, 32, 64, 128, 256), "decoder_filters": (128, 64, 32, 16)}


def _photos_demo(cfg, *, image_size, batch_size, length, options=None):
    """`cfg` on the corpus `photos` for `length` = (epochs, steps per epoch): a 60/20/20 split
    (the corpus's own val and test photos), four sample images, one checkpoint (at the end);
    `options` are laid over the config's own."""
    epochs, steps_per_epoch = length
    return dataclasses.replace(
        cfg,
        data="photos",
        image_size=image_size,
        batch_size=batch_size,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        val_steps=None,
        fractions=(0.6, 0.2, 0.2),
        sample_images=4,
        checkpoint_every=epochs,
        keep_checkpoints=1,
        options={**cfg.options, **(options or {})},
    )


@register_config("six_models_photos_demo")
def six_models_photos_demo():
    """Paper 001's laptop recipe (`flowers_small`), any of its six models, on the corpus `photos` at 32 px, 432 steps.

    kcolor train --config six_models_photos_demo --set model=pix2pix

    `--set model=` picks one of the six (`flowers_small`'s default: `unet_residual`). Adam
    1e-3, MSE, hue shift, the narrow widths of `flowers_small`; 6 epochs of 72 steps at
    batch 16 (432 steps, 6,912 crops drawn from the training photos' crops), the whole
    validation split; one checkpoint, at the end (the per-epoch files are written every
    epoch all the same).

    Length: 20 epochs were chosen on the offline `sample` photos (336 crops, 21 steps an
    epoch: 420 steps), on the validation split, for Pix2Pix (one of the two models the
    paper found to work, and the slowest to settle): validation MSE 0.0072 after 12 epochs,
    0.0053 after 20, 0.0062 after 24; at 12 epochs its test PSNR, 13.52 dB, was below the
    gray baseline's 14.09. Those twenty epochs of all six models took 5.7 minutes on an idle
    2-core AMD EPYC (Zen 4), and all six beat the gray baseline. On `photos` about the same
    number of steps is kept; not yet re-chosen on the corpus's val photo.
    """
    return _photos_demo(flowers_small(), image_size=32, batch_size=16, length=FLOWERS_DEMO_LENGTH)


def _stable_demo(cfg):
    """`cfg` (a `*_smoke` config of paper 000) on the corpus: `sample` -> `photos`,
    `pairs:sample` -> `pairs:photos`, for `STABLE_DEMO_LENGTH`; the paper's 80/20 split
    stays, so the val split holds the corpus's val and test photos."""
    data = {"sample": "photos", "pairs:sample": "pairs:photos"}[cfg.data]
    epochs, steps_per_epoch = STABLE_DEMO_LENGTH[data]
    return dataclasses.replace(cfg, data=data, epochs=epochs, steps_per_epoch=steps_per_epoch, val_steps=None)


@register_config("ref_autoencoder_photos_demo")
def ref_autoencoder_photos_demo():
    """Paper 000's autoencoder on the corpus `photos` at 64 px, 288 steps.

    kcolor train --config ref_autoencoder_photos_demo

    2 epochs of 144 steps at batch 8, 288 in all (on the offline `sample` photos it ran 8
    epochs of 42 steps, 336).
    """
    return _stable_demo(ref_autoencoder_smoke())


@register_config("ref_unet_photos_demo")
def ref_unet_photos_demo():
    """Paper 000's baseline U-Net on the corpus's pairs `pairs:photos` at 64 px, 216 steps.

    kcolor train --config ref_unet_photos_demo

    3 epochs of 72 steps at batch 8, 216 in all (on the offline `pairs:sample` it ran 8
    epochs of 30 steps, 240). Validation: the pairs of the corpus's six held-out photos
    (the paper's split has no test part).
    """
    return _stable_demo(ref_unet_smoke())


@register_config("stable_photos_demo")
def stable_photos_demo():
    """StableColorizer on the corpus's pairs `pairs:photos` at 64 px, 216 steps (as `ref_unet_photos_demo`).

    kcolor train --config stable_photos_demo --set encoder_from=runs/ref_autoencoder_photos_demo-ref_autoencoder
    """
    return _stable_demo(stable_smoke())


# --------------------------------------------------------------------------- Paper 002


@register_config("cgan_resnet50_photos_demo")
def cgan_resnet50_photos_demo():
    """Paper 002's ResNet50 cGAN on the corpus `photos` at 64 px, 432 steps, random weights.

    kcolor train --config cgan_resnet50_photos_demo

    The paper's generator (ResNet50 encoder, Conv2D + UpSampling2D decoder to ab) and
    PatchGAN 70 with its noisy labels and half-batch generator, at 64 px with
    `weights=none`: ImageNet weights cannot download offline, so the encoder starts from
    random weights and learns from the corpus's training photos alone. Half the decoder's
    and the PatchGAN's widths (decoder 256..16, PatchGAN from 32 filters; `CGAN_DEMO_WIDTHS`)
    to fit a 2-core CPU. 6 epochs of 72 steps at batch 16, 432 in all.

    The paper's Adam 2e-4 and the length were chosen on the offline `sample` photos (336
    crops, 21 steps an epoch), on their validation split (L1 on ab after the last epoch;
    idle 2-core AMD EPYC, Zen 4):

    | learning rate | epochs | validation L1 | (test PSNR, dB; gray 14.03) |
    |---|---|---|---|
    | 1e-3 | 10 | 0.101 | 13.73 |
    | 1e-3 | 20 | 0.110 | 15.04 |
    | 1e-3 | 30 | 0.104 | 15.30 |
    | 2e-4 | 20 | 0.095 | 16.78 |

    The 20 epochs there (420 steps) are 432 steps on `photos`. At 1e-3 the validation L1 stays near 0.11 from epoch 3 on. One
    checkpoint, at the end (a ResNet50 checkpoint with its Adam state is about 400 MB).
    """
    return _cgan_demo(cgan_lab.unsplash_resnet50(), {"weights": "none", **CGAN_DEMO_WIDTHS["cgan_resnet50"]})


@register_config("cgan_unet_baseline_photos_demo")
def cgan_unet_baseline_photos_demo():
    """Paper 002's baseline cGAN on the corpus `photos` at 64 px, 432 steps.

    kcolor train --config cgan_unet_baseline_photos_demo

    The paper's U-Net generator and sigmoid classifier with its noisy labels and
    half-batch generator, at half Isola et al.'s widths (U-Net 32..256, classifier
    32..256); the rest as `cgan_resnet50_photos_demo`.
    """
    return _cgan_demo(cgan_lab.unsplash_unet_baseline(), CGAN_DEMO_WIDTHS["cgan_unet_baseline"])


def _cgan_demo(cfg, options):
    return _photos_demo(cfg, image_size=64, batch_size=16, length=CGAN_DEMO_LENGTH, options=options)


# --------------------------------------------------------------------------- Paper 003


def kmhcnet_demo(variant):
    """KMHCNet `variant`'s architecture and loss on the corpus `photos`: 32 px, ResNet18, random weights."""
    cfg = dataclasses.replace(kmhcnet.kmhcnet_smoke(variant), learning_rate=1e-3)
    return _photos_demo(cfg, image_size=32, batch_size=16, length=KMHCNET_DEMO_LENGTH)


def _register_kmhcnet(variant):
    def demo():
        return kmhcnet_demo(variant)

    model, encoder, loss, _, _, _ = kmhcnet.VARIANTS[variant]
    epochs, steps = KMHCNET_DEMO_LENGTH
    demo.__doc__ = (
        f"KMHCNet {variant}'s {model} and loss {kmhcnet.smoke_loss(loss)} on the corpus `photos` at 32 px, "
        f"{epochs * steps} steps, ResNet18 with random weights.\n\n"
        f"    kcolor train --config kmhcnet_{variant}_photos_demo\n\n"
        f"The paper's encoder is {encoder}; {epochs} epochs of {steps} steps at batch 16 (on the offline `sample` "
        f"photos: 10 epochs, 210 steps), Adam 1e-3 (the paper's 1e-4 fine-tunes ImageNet encoders; these start "
        f"from random weights).\n"
    )
    register_config(f"kmhcnet_{variant}_photos_demo")(demo)


for _variant in kmhcnet.VARIANTS:
    _register_kmhcnet(_variant)


# --------------------------------------------------------------------------- Paper 004


def _vit_demo(cfg, options):
    cfg = _photos_demo(
        cfg, image_size=64, batch_size=VIT_DEMO_BATCH, length=VIT_DEMO_LENGTH,
        options={**SMALL_VIT, **VIT_DEMO_WIDTHS, **options},
    )
    return dataclasses.replace(cfg, fid_images=None)  # FID on all five test photos, not the paper's 10,000


@register_config("vit_i_gan_photos_demo")
def vit_i_gan_photos_demo():
    """Paper 004's ViT-I-GAN on the corpus `photos` at 64 px, 288 steps, random InceptionV3 weights.

    kcolor train --config vit_i_gan_photos_demo

    The paper's recipe (L1 + BCE, Adam 2e-4 with betas 0.5/0.9) for 2 epochs of 144 steps
    at batch 8, 288 in all (on the offline `sample` photos it ran 6 epochs of 42 steps,
    252), with the smoke setting's small ViT discriminator (`SMALL_VIT`) and half the paper's
    conv widths (`VIT_DEMO_WIDTHS`, fusion conv 256). InceptionV3 runs at 299x299 whatever
    the image size, and is most of the cost: 2.3 s a step at batch 8 on the shared 2-core
    CPU against 0.5 s for ViT-GAN. `weights=none`: the ImageNet weights cannot download
    offline, so its 1000-d vector carries no knowledge of objects.

    Measured on `sample`: at Adam 1e-3 ViT-GAN's training L1 fell, but in inference mode its output
    saturated (validation L1 on ab/128 0.08 after epoch 1, 0.8-1.1 after epochs 2-4: a red
    and magenta image): BatchNorm's moving statistics lag weights that move that fast. The
    paper's 2e-4 is used.
    """
    return _vit_demo(vit_i_gan.unsplash_vit_i_gan(), {"weights": "none", "fusion_filters": 256})


@register_config("vit_gan_photos_demo")
def vit_gan_photos_demo():
    """Paper 004's ViT-GAN on the corpus `photos` at 64 px, 288 steps (as `vit_i_gan_photos_demo`, without the fusion).

    kcolor train --config vit_gan_photos_demo
    """
    return _vit_demo(vit_i_gan.unsplash_vit_gan(), {})


# --------------------------------------------------------------------------- Old names

# Until issue #25 some demo names said other data than they train on (`flowers_demo`,
# `unsplash_*_demo` train on `photos`): every demo is now `<model or recipe>_photos_demo`.
RENAMED = {
    "ref_autoencoder_demo": "ref_autoencoder_photos_demo",
    "ref_unet_demo": "ref_unet_photos_demo",
    "stable_demo": "stable_photos_demo",
    "flowers_demo": "six_models_photos_demo",
    "unsplash_resnet50_demo": "cgan_resnet50_photos_demo",
    "unsplash_unet_baseline_demo": "cgan_unet_baseline_photos_demo",
    **{f"kmhcnet_{variant}_demo": f"kmhcnet_{variant}_photos_demo" for variant in kmhcnet.VARIANTS},
    "vit_i_gan_demo": "vit_i_gan_photos_demo",
    "vit_gan_demo": "vit_gan_photos_demo",
}
for _old, _new in RENAMED.items():
    register_alias(_old, _new)
