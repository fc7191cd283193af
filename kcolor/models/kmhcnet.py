"""KMHCNet's networks: U-Net and UNet++ on a pretrained encoder, L in, ab out.

Khandaker Mobashyer Hossain, "KMHCNet: A Gray-Scale Image Colorization Approach Using
ResNet Encoder Based UNet++ Convolutional Autoencoder" (North South University),
Section 3.2 and Equation 1: segmentation_models_pytorch's `Unet` / `UnetPlusPlus` with
one input channel (L) and two output classes (ab), followed by tanh.

    L [H, W, 1] in [-1, 1] -> encoder (5 features, strides 2..32, `kcolor.models.encoders`)
      -> U-Net or UNet++ decoder, channels 256/128/64/32/16 (`kcolor.models.smp_decoders`)
      -> Conv 3x3 -> 2 (with bias) -> tanh = ab / 128

Registered as `unet_enc` and `unetpp_enc` (io `l_ab`): `encoder=` one of resnet18,
resnet34, resnet50, resnet101, resnet152, inception_resnet_v2, efficientnet_b6 (default
resnet34, segmentation_models_pytorch's default encoder). `weights="imagenet"` (the
paper's pretrained encoders; the first conv's RGB kernel is summed over its input
channels for the 1-channel L, as segmentation_models_pytorch does), `weights="none"`
(random, offline), or `weights=PATH` (the ImageNet file already on disk). The image
size must be divisible by 32.

Trainable parameters at 256 px with `weights="none"`, against Table 2 of the paper:

| model   | encoder           | kcolor     | paper   |
|---------|-------------------|------------|---------|
| UNet++  | ResNet18          | 15,964,322 | 15.96 M |
| UNet++  | ResNet34          | 26,072,482 | 26.07 M |
| UNet++  | ResNet50          | 48,979,618 | 48.98 M |
| UNet++  | ResNet101         | 67,971,746 | 67.97 M |
| UNet++  | ResNet152         | 83,615,394 | 83.62 M |
| UNet++  | InceptionResNetV2 | 71,082,562 | 71.08 M |
| UNet++  | EfficientNet-B6   | 43,332,554 | 43.33 M |
| UNet    | InceptionResNetV2 | 62,028,866 | 62.03 M |
| UNet    | ResNet152         | 67,150,754 | 67.15 M |

Every count rounds to the paper's figure (tests/test_kmhcnet.py asserts them).

Speed and memory, one real train step (Adam, loss ms_ssim@lab) at 256x256 batch 4 on a
2-core CPU that was shared with other jobs (load average about 8; the process got 0.3-0.5
of a core, so an idle machine is several times faster), `python -m kcolor.bench
--models unetpp_enc`: UNet++ ResNet50 (KMHCNet 2) 0.059 img/s, peak RSS 3.65 GB;
ResNet34 (4) 0.10 img/s, 2.48 GB; ResNet18 (6) 0.17 img/s, 2.28 GB; ResNet152 (1) 0.034
img/s, 4.58 GB. The largest fits a 24 GB machine at the paper's batch 4 (CPU memory;
GPU memory not measured); a GPU is what makes Table 2's epochs practical.

    kcolor summary unetpp_enc --set encoder=resnet18 --set image_size=256   # builds with weights=none
    make train MODEL=unetpp_enc CONFIG=kmhcnet_4
"""

import keras
from keras import layers

from kcolor.models.encoders import build_encoder, get_encoder_spec
from kcolor.models.options import choice
from kcolor.models.registry import register_model
from kcolor.models.smp_decoders import DECODER_CHANNELS, unet_decoder, unetpp_decoder
from kcolor.models.weights import load_imagenet_encoder_weights, parse_weights

ARCHITECTURES = {"unet": unet_decoder, "unetpp": unetpp_decoder}
DEFAULT_ENCODER = "resnet34"
# Adam 1e-4, the author's notebook (github.com/MobashyerHossain/KMHCNet); the paper names Adam only.
RECIPE = {"learning_rate": 1e-4, "beta_1": 0.9, "beta_2": 0.999, "loss": "ms_ssim"}


def build_kmhcnet(
    input_shape=(256, 256, 1),
    *,
    architecture="unetpp",
    encoder=DEFAULT_ENCODER,
    weights="imagenet",
    decoder_channels=DECODER_CHANNELS,
    name=None,
):
    """U-Net or UNet++ on a pretrained encoder, L → ab/128 through tanh (KMHCNet, Equation 1).

    Args:
        input_shape: `(H, W, 1)`, H and W divisible by 32.
        architecture: "unet" or "unetpp".
        encoder: a name in `kcolor.models.encoders.ENCODERS`.
        weights: "imagenet", None / "none", or the path of the encoder's ImageNet file.
        decoder_channels: five decoder block widths, coarsest first.

    Example:
        model = build_kmhcnet((64, 64, 1), encoder="resnet18", weights="none")
    """
    choice("architecture", architecture, ARCHITECTURES)
    spec = get_encoder_spec(encoder)  # an unknown name fails before anything is built
    height, width = input_shape[0], input_shape[1]
    if height % 32 or width % 32:
        raise ValueError(
            f"{architecture}_enc needs an image size divisible by 32 (five stride-2 levels). "
            f"Received: input_shape={tuple(input_shape)}"
        )
    weights = parse_weights(weights)  # a bad value fails before the build
    inputs = keras.Input(input_shape, name="L")
    backbone = build_encoder(encoder, input_shape)
    load_imagenet_encoder_weights(backbone, spec, weights)
    features = backbone(inputs)  # 5 maps: H/2 .. H/32
    x = ARCHITECTURES[architecture](features, tuple(int(c) for c in decoder_channels))  # (H, W, 16)
    x = layers.Conv2D(2, 3, padding="same", name="head_conv")(x)
    ab = layers.Activation("tanh", name="ab", dtype="float32")(x)
    return keras.Model(inputs, ab, name=name or f"{architecture}_{encoder}")


@register_model("unet_enc", io="l_ab", trainer="supervised", paper="003", defaults=RECIPE, offline={"weights": "none"})
def unet_enc(image_size, *, encoder=DEFAULT_ENCODER, weights="imagenet"):
    """U-Net on a pretrained encoder (KMHCNet's UNet variants): L → ab, tanh."""
    return {"colorizer": build_kmhcnet((image_size, image_size, 1), architecture="unet", encoder=encoder, weights=weights)}


@register_model("unetpp_enc", io="l_ab", trainer="supervised", paper="003", defaults=RECIPE, offline={"weights": "none"})
def unetpp_enc(image_size, *, encoder=DEFAULT_ENCODER, weights="imagenet"):
    """UNet++ on a pretrained encoder (KMHCNet, Hossain): L → ab, tanh."""
    return {
        "colorizer": build_kmhcnet((image_size, image_size, 1), architecture="unetpp", encoder=encoder, weights=weights)
    }


__all__ = ["ARCHITECTURES", "build_kmhcnet", "unet_enc", "unetpp_enc"]
