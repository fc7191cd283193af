"""Paper 003's 16 variants: KMHCNet 1-16 (Hossain, "KMHCNet: A Gray-Scale Image
Colorization Approach Using ResNet Encoder Based UNet++ Convolutional Autoencoder",
North South University; Tables 1 and 2).

Each variant is architecture x encoder x loss color space x loss x embedding (Table 1),
trained for the epochs of Table 2, with Adam, on the Kaggle "Image Colorization" data
set by Mario Matos with its already-gray images dropped:

    make train MODEL=unetpp_enc CONFIG=kmhcnet_4
    kcolor train --config kmhcnet_1
    kcolor train --config kmhcnet_4 --set data=folder:/mnt/data/image-colorization
    kcolor evaluate runs/kmhcnet_4-unetpp_enc runs/kmhcnet_6-unetpp_enc --data folder:~/data/image-colorization

| config    | model      | encoder             | loss (kcolor name)       | epochs |
|-----------|------------|---------------------|--------------------------|--------|
| kmhcnet_1 | unetpp_enc | resnet152           | ms_ssim@lab              | 43 |
| kmhcnet_2 | unetpp_enc | resnet50            | ms_ssim@lab              | 39 |
| kmhcnet_3 | unetpp_enc | resnet152           | ms_ssim@rgb              | 38 |
| kmhcnet_4 | unetpp_enc | resnet34            | ms_ssim@lab              | 33 |
| kmhcnet_5 | unetpp_enc | inception_resnet_v2 | ms_ssim@lab              | 27 |
| kmhcnet_6 | unetpp_enc | resnet18            | ms_ssim@lab              | 26 |
| kmhcnet_7 | unetpp_enc | efficientnet_b6     | ms_ssim@lab              | 25 |
| kmhcnet_8 | unetpp_enc | resnet101           | ms_ssim@lab              | 23 |
| kmhcnet_9 | unet_enc   | inception_resnet_v2 | ms_ssim@lab              | 20 |
| kmhcnet_10| unet_enc   | resnet152           | ms_ssim@lab              | 20 |
| kmhcnet_11| unetpp_enc | resnet152           | mse@lab                  | 17 |
| kmhcnet_12| unetpp_enc | resnet152           | mse_ms_ssim@lab+resnet50 | 13 |
| kmhcnet_13| unetpp_enc | resnet50            | ms_ssim@rgb              | 12 |
| kmhcnet_14| unetpp_enc | resnet152           | mse_ms_ssim@lab+vgg16    | 10 |
| kmhcnet_15| unetpp_enc | resnet152           | mse@lab+vgg16            | 10 |
| kmhcnet_16| unetpp_enc | resnet152           | mse@lab+resnet50         | 9  |

The losses are `kcolor.training.losses.ColorLoss` (what each term compares is written
there); the accuracy the paper reports is test MS-SSIM on RGB, which `kcolor evaluate`
reports as `ms_ssim` (`PAPER_TEST_MS_SSIM` holds Table 2's values).

The data. Download https://www.kaggle.com/datasets/mariomatos/image-colorization
(`kaggle datasets download -d mariomatos/image-colorization`, or the web page's
Download button) and unzip it into `~/data/image-colorization` (any layout: the folder
source reads images recursively), or point `--set data=folder:PATH` elsewhere;
`kcolor make-records folder:~/data/image-colorization --name image-colorization` then
`--set data=records:tf_records/image-colorization` reads it faster. Images whose Lab
chroma is below 2 on 99% of the pixels are dropped (`drop_gray_chroma`,
`kcolor.data.gray_filter`); the count is warned and stored in the data info. The
author's notebook kept 10,504 images.

Settings the paper does not give, taken from the author's public notebook
(github.com/MobashyerHossain/KMHCNet, `KMHCNet.ipynb`): 256x256 images, batch 4, Adam
learning rate 1e-4, a 70/20/10 train/validation/test split, no augmentation, ImageNet
encoder weights.

Every remaining deviation from the paper, and why:
- Split: kcolor's hash split of the image ids (70/20/10), not the author's seeded
  random permutation, so the test images differ.
- Learning rate: the author lowered it by hand during training (1e-4, then 1e-5, "after
  some period of stagnancy", Figure 6); the schedule per variant is not published, so
  the learning rate stays 1e-4 (set `lr_schedule` to change it). Adam's epsilon is
  Keras' 1e-7 where the notebook used 1e-5.
- Gray filter: by chroma, not the notebook's "R == G == B everywhere", which
  misses gray photos stored as JPEG color files.
- Range of L: it reaches the model as L / 50 - 1 in [-1, 1]. The paper contradicts itself here: the
  text (Section 3.1) keeps L "between (-1 to 1)", while Equation 2 restores L as
  x * 100 + 50, i.e. from x = (L - 50) / 100 in [-0.5, 0.5], which is also what the
  notebook's code feeds. kcolor follows the text; Equation 2's range is not an option.
- Loss image (Equation 4): the paper writes the loss on the full Lab image G(y), while the notebook's pixel
  terms compare ab only. kcolor follows the notebook (space `@lab`); `@lab3` is
  Equation 4's full Lab image (`--set loss=ms_ssim@lab3`). L is the input and equal in
  output and target, so the two differ only in scale (see `ColorLoss`).
- MSE scale and embeddings: MSE terms are computed on [0, 1] images; the notebook divides a 0-255-scale MSE by
  255 (see ColorLoss). The embedding reads ImageNet-preprocessed images; the notebook
  feeds it raw Lab values. The embeddings are keras.applications' VGG16/ResNet50, not
  torchvision's.
- Encoder weights: ResNet encoders load torchvision's ImageNet weights (as republished by timm), the
  weights segmentation_models_pytorch used; InceptionResNetV2 and EfficientNet-B6 load
  keras.applications' ImageNet weights (segmentation_models_pytorch used Cadene's and
  lukemelas' ports of the same networks, so their numbers differ).

Each variant has a smoke version, `kmhcnet_N_smoke`: the same architecture and loss
on the offline `sample` photos at 32 px, ResNet18 encoder, random weights (encoder and
embedding), two steps — seconds on a CPU:

    kcolor train --config kmhcnet_12_smoke
"""

import dataclasses

from kcolor.config import TrainConfig
from kcolor.configs.registry import register_config

DATA = "folder:~/data/image-colorization"
GRAY_CHROMA = 2.0

# variant: (model, encoder, loss, epochs, Table 2 test MS-SSIM "accuracy", Table 2 trainable parameters)
VARIANTS = {
    1: ("unetpp_enc", "resnet152", "ms_ssim@lab", 43, 0.9439, 83.62e6),
    2: ("unetpp_enc", "resnet50", "ms_ssim@lab", 39, 0.9469, 48.98e6),
    3: ("unetpp_enc", "resnet152", "ms_ssim@rgb", 38, 0.9407, 83.62e6),
    4: ("unetpp_enc", "resnet34", "ms_ssim@lab", 33, 0.9404, 26.07e6),
    5: ("unetpp_enc", "inception_resnet_v2", "ms_ssim@lab", 27, 0.9538, 71.08e6),
    6: ("unetpp_enc", "resnet18", "ms_ssim@lab", 26, 0.9493, 15.96e6),
    7: ("unetpp_enc", "efficientnet_b6", "ms_ssim@lab", 25, 0.9444, 43.33e6),
    8: ("unetpp_enc", "resnet101", "ms_ssim@lab", 23, 0.9551, 67.97e6),
    9: ("unet_enc", "inception_resnet_v2", "ms_ssim@lab", 20, 0.9517, 62.03e6),
    10: ("unet_enc", "resnet152", "ms_ssim@lab", 20, 0.9475, 67.15e6),
    11: ("unetpp_enc", "resnet152", "mse@lab", 17, 0.9303, 83.62e6),
    12: ("unetpp_enc", "resnet152", "mse_ms_ssim@lab+resnet50", 13, 0.9339, 83.62e6),
    13: ("unetpp_enc", "resnet50", "ms_ssim@rgb", 12, 0.9432, 48.98e6),
    14: ("unetpp_enc", "resnet152", "mse_ms_ssim@lab+vgg16", 10, 0.9373, 83.62e6),
    15: ("unetpp_enc", "resnet152", "mse@lab+vgg16", 10, 0.9285, 83.62e6),
    16: ("unetpp_enc", "resnet152", "mse@lab+resnet50", 9, 0.9268, 83.62e6),
}
PAPER_TEST_MS_SSIM = {f"kmhcnet_{v}": row[4] for v, row in VARIANTS.items()}
SMOKE_ENCODER = "resnet18"


def kmhcnet(variant):
    """The TrainConfig of KMHCNet `variant` (1-16), as the paper trained it."""
    if variant not in VARIANTS:
        raise ValueError(f"Unknown KMHCNet variant {variant!r}. Valid variants: 1-{len(VARIANTS)}")
    model, encoder, loss, epochs, _, _ = VARIANTS[variant]
    return TrainConfig(
        model=model,
        data=DATA,
        image_size=256,
        batch_size=4,
        epochs=epochs,
        learning_rate=1e-4,
        beta_1=0.9,
        beta_2=0.999,
        loss=loss,
        fractions=(0.7, 0.2, 0.1),
        augment=(),
        drop_gray_chroma=GRAY_CHROMA,
        options={"encoder": encoder, "weights": "imagenet"},
    )


def smoke_loss(loss):
    """The variant's loss with a randomly initialised embedding (no download)."""
    return loss + ":none" if "+" in loss else loss


def kmhcnet_smoke(variant):
    """Variant `variant`'s architecture and loss, offline: sample photos, 32 px, ResNet18, random weights."""
    cfg = kmhcnet(variant)
    return dataclasses.replace(
        cfg,
        data="sample",
        image_size=32,
        epochs=1,
        steps_per_epoch=2,
        val_steps=1,
        loss=smoke_loss(cfg.loss),
        fractions=(0.6, 0.2, 0.2),
        drop_gray_chroma=GRAY_CHROMA,
        sample_images=4,
        options={"encoder": SMOKE_ENCODER, "weights": "none"},
    )


def _register(variant):
    model, encoder, loss, epochs, accuracy, _ = VARIANTS[variant]

    def paper():
        return kmhcnet(variant)

    def smoke():
        return kmhcnet_smoke(variant)

    paper.__doc__ = (
        f"KMHCNet {variant}: {model} on {encoder}, loss {loss}, {epochs} epochs, Kaggle Image Colorization "
        f"(paper: test MS-SSIM {accuracy:.2%}).\n\n    make train MODEL={model} CONFIG=kmhcnet_{variant}\n"
    )
    smoke.__doc__ = (
        f"Smoke run of KMHCNet {variant}: {model}, ResNet18, loss {smoke_loss(loss)}, sample photos at 32 px.\n\n"
        f"    kcolor train --config kmhcnet_{variant}_smoke\n"
    )
    register_config(f"kmhcnet_{variant}")(paper)
    register_config(f"kmhcnet_{variant}_smoke")(smoke)


for _variant in VARIANTS:
    _register(_variant)
