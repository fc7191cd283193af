"""Paper 002's recipes: the ResNet50 cGAN and the baseline cGAN in Lab, on Unsplash photos.

Mariana Pérez García, "Image Colorization Using Conditional Generative Adversarial
Networks", Tecnológico de Monterrey (campus Querétaro), 2020 (Chapter 3).

    kcolor train --config unsplash_resnet50
    kcolor train --config unsplash_unet_baseline
    kcolor turing-test runs/unsplash_resnet50-cgan_resnet50 --data folder:~/data/unsplash --n 40 --out turing/

Data: the paper used "the unsplash dataset by Wallner E." (its reference [29]: "10k
images from unsplash, 256x256, mostly portraits", FloydHub `emilwallner/datasets/colornet`,
no longer online). kcolor's recipes substitute another release of Unsplash photos, the
Unsplash Lite dataset, which is not mostly portraits: the same source, not the same set.
Any folder of photos works (`--set data=folder:PATH`; images are resized to the training
size). The default is `folder:~/data/unsplash`, the folder Paper 004's Unsplash configs
read too; fill it once as `kcolor.configs.vit_i_gan` says (the one download instruction
for both papers). The split takes 90/5/5 of whatever the folder holds.

What the paper gives, and what was chosen where it is silent:

| field | value | source |
|---|---|---|
| image size | 224 (ResNet50), 256 (baseline) | paper: "rescaled to a size of 224x224"; baseline "256x256" |
| batch | 32 | paper (baseline; the proposed model trains "very similar") |
| optimizer | Adam 2e-4, beta1 0.5, beta2 0.999 | not in the paper: Isola et al. 2017's (arXiv:1611.07004), which it builds on |
| epochs | 181 (ResNet50), 45 (baseline) | its figures: results "at epoch 180" (Fig. 3.7) and "epoch 40 and 44" (Fig. 3.3), numbered from epoch 0 |
| split | 90/5/5 by a hash of the file name | not in the paper (it tests on "images the model had never seen") |
| augmentation | none | none described; the ResNet50 input is "rescaled", not cropped (`--set augment=crop` cuts random 224 crops from a 252 resize instead) |
| encoder weights | ImageNet | paper: "ResNet50 was used as a pre-trained model" |
| labels, half batch | real U(0, 0.49), fake U(0.5, 0.99); G fed half a batch | paper (model options `label_noise`, `g_fraction`) |
| generator loss | adversarial BCE + 100 x L1 on ab (`recon_weight=100`, set in every config's options) | not in the paper, which names only the adversarial loss: the L1 term and its weight are those of Nazeri et al. 2018 ("Image Colorization using Generative Adversarial Networks") and Isola et al. 2017, which it builds on. `recon_weight=0` is the literal, adversarial-only reading |

Every remaining deviation from the paper, and why:
- Data: the paper's set ("10k images from unsplash, 256x256, mostly portraits", Wallner's
  FloydHub upload) is no longer online; the recipes read the Unsplash Lite release, the
  same source but not the same photos, and not mostly portraits.
- Optimizer: not in the paper; Isola et al.'s Adam 2e-4, beta1 0.5, beta2 0.999.
- Epochs: not stated; read from its figures (181 for ResNet50, 45 for the baseline).
- Split: not stated beyond testing on "images the model had never seen"; 90/5/5 by a
  hash of the file name.
- Generator loss: the text names only the adversarial loss; kcolor adds 100 x L1 on ab
  (Nazeri et al. 2018 and Isola et al. 2017, which the paper builds on; `recon_weight=0`
  is the adversarial-only reading).
- Encoder training: ResNet50 is "used as a pre-trained model to extract the image
  embeddings", with no word on freezing; kcolor fine-tunes it from the first epoch
  (`--set freeze_epochs=N` keeps it frozen for the first N epochs).
- Network layouts: the text leaves the generators' and discriminators' layers to its
  figures; kcolor's readings are `kcolor.models.cgan`'s options, named there.

`unsplash_resnet50_smoke` and `unsplash_unet_baseline_smoke` are the same recipes on the
built-in offline `sample` photos at 32 px with random encoder weights (`weights=none`)
and narrow networks, 3 epochs of 3 steps (seconds to a minute on a CPU), one checkpoint:

    kcolor train --config unsplash_resnet50_smoke
"""

from kcolor.config import TrainConfig
from kcolor.configs.registry import register_config

UNSPLASH_DIR = "folder:~/data/unsplash"
SPLIT = (0.9, 0.05, 0.05)
SMOKE_RESNET = {"weights": "none", "decoder_filters": (32, 32, 16, 16, 8), "d_base_filters": 8}
SMOKE_BASELINE = {"base_filters": 8, "max_filters": 32, "d_filters": (8, 16, 32)}
# The generator's loss: adversarial + 100 x L1 (the table above says where 100 comes from).
LOSS = {"recon_weight": 100.0}


def _paper002(model, image_size, epochs, options):
    return TrainConfig(
        model=model,
        data=UNSPLASH_DIR,
        image_size=image_size,
        batch_size=32,
        epochs=epochs,
        learning_rate=2e-4,
        beta_1=0.5,
        beta_2=0.999,
        fractions=SPLIT,
        augment=(),
        options={**LOSS, **options},
    )


def _smoke(cfg, options):
    cfg.data = "sample"
    cfg.image_size = 32
    cfg.batch_size = 8
    cfg.epochs = 3
    cfg.steps_per_epoch = 3
    cfg.val_steps = 1
    cfg.sample_images = 4
    # ResNet50 with its Adam state is about 400 MB a checkpoint: keep one, at the end.
    cfg.checkpoint_every = cfg.epochs
    cfg.keep_checkpoints = 1
    cfg.fractions = (0.6, 0.2, 0.2)
    cfg.options = {**cfg.options, **options}
    return cfg


@register_config("unsplash_resnet50")
def unsplash_resnet50():
    """Paper 002's ResNet50 cGAN: 224 px Lab, ImageNet encoder, PatchGAN, batch 32, Adam 2e-4.

    kcolor train --config unsplash_resnet50
    """
    return _paper002("cgan_resnet50", 224, 181, {"weights": "imagenet"})


@register_config("unsplash_unet_baseline")
def unsplash_unet_baseline():
    """Paper 002's baseline cGAN: 256 px Lab, U-Net + sigmoid classifier, noisy labels, batch 32.

    kcolor train --config unsplash_unet_baseline
    """
    return _paper002("cgan_unet_baseline", 256, 45, {})


@register_config("unsplash_resnet50_smoke")
def unsplash_resnet50_smoke():
    """unsplash_resnet50 on the offline sample photos at 32 px, weights=none, 3 short epochs.

    kcolor train --config unsplash_resnet50_smoke
    """
    return _smoke(unsplash_resnet50(), SMOKE_RESNET)


@register_config("unsplash_unet_baseline_smoke")
def unsplash_unet_baseline_smoke():
    """unsplash_unet_baseline on the offline sample photos at 32 px, narrow nets, 3 short epochs.

    kcolor train --config unsplash_unet_baseline_smoke
    """
    return _smoke(unsplash_unet_baseline(), SMOKE_BASELINE)
