"""The default offline experiment.

    make train MODEL=pix2pix            # = kcolor train --config sample --set model=pix2pix
"""

from kcolor.config import TrainConfig, register_config


@register_config("sample")
def sample():
    """Any registered model on the built-in offline `sample` photos, in a few minutes on a CPU.

    kcolor train --config sample --set model=pix2pix
    """
    return TrainConfig(
        model="pix2pix",
        data="sample",
        image_size=64,
        batch_size=16,
        epochs=15,
    )
