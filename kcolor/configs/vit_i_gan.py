"""Paper 004's recipes: ViT-I-GAN and ViT-GAN on Unsplash, ViT-I-GAN on COCO.

Tejas Bana, Jatan Loya, Siddhant Kulkarni, "ViT-Inception-GAN for Image Colourising",
2021, arXiv:2106.06321 (sections 4.1, 5.1, 5.2 and 6.4).

Unsplash (section 5): 10,500 Unsplash photos, 10,000 for training and 500 for
validation and comparison; 256x256 Lab; L1 + BCE; Adam 2e-4, beta1 0.5, beta2 0.9;
batch 16; 50 epochs; no augmentation is described (none is used).

The loss (section 4.1) is "the pixel-level L1 loss" combined with "the adversarial
loss", with no weight, and its L1 is written as a sum over the pixels. Every config here
sets it explicitly: `recon_weight=1` with `recon_reduction="sum"` (`LOSS`). The text's
"mean absolute error" reading is `--set recon_reduction=mean`; Pix2Pix's lambda
(Isola et al. 2017) is `recon_weight=100` with `recon_reduction=mean`.

    kcolor train --config unsplash_vit_i_gan
    kcolor train --config unsplash_vit_gan
    kcolor evaluate runs/unsplash_vit_gan-vit_gan runs/unsplash_vit_i_gan-vit_i_gan --split val --fid

The photos are read from `folder:~/data/unsplash` (any folder of images works:
`--set data=folder:PATH`). The paper says only "the Unsplash dataset, which is publicly
available"; kcolor uses the Unsplash Lite release. The one download instruction for both
Paper 002's and Paper 004's Unsplash configs: download the Unsplash Lite dataset
(https://unsplash.com/data, github.com/unsplash/datasets: `photos.tsv*` lists 25,000
photos), and fetch the first 10,500 `photo_image_url` entries with `?w=512` appended
into `~/data/unsplash/` (training resizes them to each recipe's size). The split is 10,000/500 of 10,500 by a hash of the file name
(`split=(0.952, 0.048, 0)`), so the comparison set is the `val` split. Table 2 of the
paper reports FID "on 10k images", the training images; `--split val` scores the 500.

COCO (section 6.4): COCO 2017 train (118,287 images, tensorflow-datasets
`coco/2017`), beta2 0.999, 59k steps at 2e-4 then 118k steps at 2e-5
(`lr_schedule="piecewise:59000:2e-4,2e-5"`), 177k steps in all: 24 epochs of 7,375
steps (one epoch is about one pass at batch 16). 4% of the train split is held out
for validation; the paper's FID set (COCO validation images) is scored with
`kcolor evaluate RUN --data tfds:coco/2017:validation --fid`.

    kcolor train --config coco_vit_i_gan

`vit_i_gan_smoke` and `vit_gan_smoke` are the same recipe on the offline `sample`
photos at 64 px, with random InceptionV3 weights (`weights=none`), a small ViT (patch
16, dim 64, 2 blocks, 4 heads, MLP 128) and narrow convs, a few steps (seconds):

    kcolor train --config vit_i_gan_smoke
"""

from kcolor.config import TrainConfig
from kcolor.configs.registry import register_config
from kcolor.models.vit_i_gan import SMALL_VIT

UNSPLASH_DIR = "folder:~/data/unsplash"
UNSPLASH_SPLIT = (0.952, 0.048, 0.0)  # 10,000 / 500 of 10,500 photos
# The paper's hybrid loss: L1 summed over each image's pixels + BCE, unweighted.
LOSS = {"recon_weight": 1.0, "recon_reduction": "sum"}
SMOKE_WIDTHS = {"encoder_filters": (8, 16, 16, 32, 32), "decoder_filters": (32, 16, 16, 8)}


def _unsplash(model):
    return TrainConfig(
        model=model,
        data=UNSPLASH_DIR,
        image_size=256,
        batch_size=16,
        epochs=50,
        learning_rate=2e-4,
        beta_1=0.5,
        beta_2=0.9,
        split=UNSPLASH_SPLIT,
        augment=(),
        options=dict(LOSS),
    )


@register_config("unsplash_vit_i_gan")
def unsplash_vit_i_gan():
    """Paper 004: ViT-I-GAN on 10,500 Unsplash photos, 256 px, Adam 2e-4 (0.5, 0.9), batch 16, 50 epochs.

    kcolor train --config unsplash_vit_i_gan
    """
    cfg = _unsplash("vit_i_gan")
    cfg.options = {**cfg.options, "weights": "imagenet"}
    return cfg


@register_config("unsplash_vit_gan")
def unsplash_vit_gan():
    """Paper 004: ViT-GAN (no Inception fusion) on the same Unsplash recipe.

    kcolor train --config unsplash_vit_gan
    """
    return _unsplash("vit_gan")


@register_config("coco_vit_i_gan")
def coco_vit_i_gan():
    """Paper 004: ViT-I-GAN on COCO 2017, beta2 0.999, 59k steps at 2e-4 then 118k at 2e-5.

    kcolor train --config coco_vit_i_gan
    """
    cfg = _unsplash("vit_i_gan")
    cfg.data = "tfds:coco/2017:train"
    cfg.split = (0.96, 0.04, 0.0)
    cfg.beta_2 = 0.999
    cfg.lr_schedule = "piecewise:59000:2e-4,2e-5"
    cfg.epochs = 24
    cfg.steps_per_epoch = 7375  # 24 x 7,375 = 177,000 steps = 59k + 118k
    cfg.options = {**cfg.options, "weights": "imagenet"}
    return cfg


def _smoke(cfg):
    cfg.data = "sample"
    cfg.image_size = 64
    cfg.batch_size = 4
    cfg.epochs = 2
    cfg.steps_per_epoch = 3
    cfg.val_steps = 1
    cfg.split = (0.6, 0.2, 0.2)
    cfg.sample_images = 4
    cfg.options = {**cfg.options, **SMALL_VIT, **SMOKE_WIDTHS}
    return cfg


@register_config("vit_i_gan_smoke")
def vit_i_gan_smoke():
    """Paper 004's ViT-I-GAN recipe offline: sample photos, 64 px, weights=none, small ViT (seconds).

    kcolor train --config vit_i_gan_smoke
    """
    cfg = _smoke(unsplash_vit_i_gan())
    cfg.options.update(weights="none", fusion_filters=32)
    return cfg


@register_config("vit_gan_smoke")
def vit_gan_smoke():
    """Paper 004's ViT-GAN recipe offline: sample photos, 64 px, small ViT (seconds).

    kcolor train --config vit_gan_smoke
    """
    return _smoke(unsplash_vit_gan())
