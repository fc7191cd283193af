"""Demo settings: a paper's recipe on the built-in offline data, long enough to learn.

The notebooks' `SETTINGS = "demo"` uses these: each runs on a 2-core laptop CPU in at
most about ten minutes per notebook, with no download, and is meant to show a newcomer
that the models learn (they beat the gray baseline where the paper's models work).
`smoke` stays the CI setting; `paper` is the paper's full recipe.

    make demo NOTEBOOK=001        # executes notebooks/001_* with SETTINGS="demo" into docs/
    kcolor train --config flowers_demo --set model=unet_residual
"""

import dataclasses

from kcolor.config import register_config
from kcolor.configs.flowers import flowers_small
from kcolor.configs.stable import ref_autoencoder_sample, ref_unet_sample, stable_sample


@register_config("flowers_demo")
def flowers_demo():
    """Paper 001's laptop recipe (`flowers_small`) on the offline `sample` photos at 32 px, 12 full epochs.

    kcolor train --config flowers_demo --set model=pix2pix

    Adam 1e-3, MSE, hue shift, the narrow widths of `flowers_small`; 336 training crops
    per epoch at batch 16 (21 steps), the whole validation split.
    """
    return dataclasses.replace(
        flowers_small(), data="sample", image_size=32, batch_size=16, epochs=12, sample_images=4
    )


def _stable_demo(cfg):
    return dataclasses.replace(cfg, epochs=8, steps_per_epoch=None, val_steps=None)


@register_config("ref_autoencoder_demo")
def ref_autoencoder_demo():
    """Paper 000's autoencoder on the offline sample photos at 64 px, 8 full epochs.

    kcolor train --config ref_autoencoder_demo
    """
    return _stable_demo(ref_autoencoder_sample())


@register_config("ref_unet_demo")
def ref_unet_demo():
    """Paper 000's baseline U-Net on the offline sample pairs at 64 px, 8 full epochs.

    kcolor train --config ref_unet_demo
    """
    return _stable_demo(ref_unet_sample())


@register_config("stable_demo")
def stable_demo():
    """StableColorizer on the offline sample pairs at 64 px, 8 full epochs.

    kcolor train --config stable_demo --set encoder_from=runs/ref_autoencoder_demo-ref_autoencoder
    """
    return _stable_demo(stable_sample())
