"""Paper 001's recipe on Oxford 102 Flowers, for any of its models (`001_963cd6d85de8f81b.txt`).

Section 3 and 4.1 of the paper: Oxford 102 Flowers (8,189 images, all of tensorflow-
datasets' `oxford_flowers102` splits pooled and re-split 60/20/20 by a hash of the image
id), resized to 128x128, a random hue shift on training images (contrast shift is the
variant the paper found worse: add it with `--set augment=hue,contrast`), values /255,
cached, shuffled with a 1024 buffer; Adam lr 1e-3, 30 epochs, MSE on RGB.

    make train MODEL=unet_residual CONFIG=flowers
    kcolor train --config flowers --set model=resnet_color
    kcolor train --config flowers --set model=deep_cnn --set augment=hue,contrast

The paper states neither the batch size nor the hue range. Chosen: batch 16 (what
every Paper 001 model was measured to train at on a 2-core CPU) and hue shifts drawn
from [-0.1, 0.1] of a turn (±36°). The default model is `unet_residual`, the paper's
best non-adversarial network; `--set model=` picks any of autoencoder, deep_cnn,
unet_residual, resnet_color, densenet_color or pix2pix.

`flowers_smoke` is the same recipe on the built-in offline `sample` photos at 32x32
with a few steps per epoch, for CI and a first look:

    make train MODEL=densenet_color CONFIG=flowers_smoke
    kcolor train --config flowers_smoke --set model=autoencoder
"""

from kcolor.config import TrainConfig, register_config


@register_config("flowers")
def flowers():
    """Paper 001 on Oxford 102 Flowers: 128 px, hue shift, Adam 1e-3, 30 epochs, MSE.

    make train MODEL=unet_residual CONFIG=flowers
    """
    return TrainConfig(
        model="unet_residual",
        data="tfds:oxford_flowers102",
        image_size=128,
        batch_size=16,
        epochs=30,
        learning_rate=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        loss="mse",
        split=(0.6, 0.2, 0.2),
        augment=("hue",),
        hue_delta=0.1,
        contrast_range=(0.7, 1.3),
        shuffle_buffer=1024,
        cache=True,
    )


@register_config("flowers_smoke")
def flowers_smoke():
    """Paper 001's recipe on the offline `sample` photos at 32 px, 2 short epochs (seconds).

    make train MODEL=unet_residual CONFIG=flowers_smoke
    """
    cfg = flowers()
    cfg.data = "sample"
    cfg.image_size = 32
    cfg.batch_size = 8
    cfg.epochs = 2
    cfg.steps_per_epoch = 5
    cfg.val_steps = 2
    cfg.sample_images = 4
    return cfg
