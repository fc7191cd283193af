"""ViT-I-GAN and ViT-GAN: a 5x5 conv encoder, InceptionV3 fusion, a ConvTranspose decoder,
and a Vision-Transformer discriminator, in Lab.

Paper 004: Tejas Bana, Jatan Loya, Siddhant Kulkarni, "ViT-Inception-GAN for Image
Colourising", 2021, arXiv:2106.06321 (sections 4.1-4.8, 5.2, 6.4).

The generator reads L in [-1, 1] (io `l_ab`, Input `L`) and predicts ab / 128. At
256x256 (the paper's size):

    encoder   5 x [Conv 5x5 same, Conv 5x5 same, AveragePooling 2x2]  (8, 8, 512)
    inception L → [0, 1] → 299x299 → tripled → InceptionV3 logits     (1000,)
    fusion    the 1000-d vector repeated over the 8x8 grid, concat    (8, 8, 1512)
              Conv 1x1 → 512                                           (8, 8, 512)
    decoder   5 x [nearest 2x upsampling, ConvTranspose 3x3]           (256, 256, 2)

`vit_gan` is the same builder with `fusion_inception=False`: the encoder feeds the decoder
directly (no InceptionV3, no fusion conv). The discriminator of both is
`kcolor.models.vit.build_vit_discriminator` on (L, ab) with the paper's Table 1.

No skip connections (`skips=False`, the default), a named reading. Section 4.2 says the
architecture "is inspired by U-Net architecture [23]", whose skip connections join each
encoder stage to the decoder stage of its size, but the generator it then describes is
a chain: "The Luminance channel of the image is given to the Encoder and Feature
Extractor; their outputs are merged in Fusion Layer; this information is passed to the
Decoder" (4.2), and "The decoder takes H/32 x W/32 x 512 volume and applies convolution
and upsampling layers" (4.6); sections 4.3-4.6 name no other input of the decoder, and
the figures of the generator (Figures 1 and 2) are not in the text kcolor reads. kcolor
builds what the text describes: the decoder sees the (fused) H/32 volume only, and U-Net
is read as the inspiration of the encoder-decoder shape. `skips=True` builds the U-Net
reading: after each of the decoder's five upsamplings, the encoder stage of that size
(its second conv, before pooling) is concatenated (`dec{i}_skip`), so each ConvTranspose
reads the encoder's features of its size beside the upsampled ones (output widths unchanged).

Choices where the paper is silent (each an option):
- encoder widths `encoder_filters=(32, 64, 128, 256, 512)`, two 5x5 convs per stage
  (10 in all), each conv → BatchNorm → LeakyReLU 0.2 (section 4.8 uses BatchNorm; the
  encoder's activation is not given, the decoder's LeakyReLU 0.2 is reused);
- decoder widths `decoder_filters=(256, 128, 64, 32)` for the first four ConvTranspose
  layers, each → BatchNorm → LeakyReLU 0.2; the fifth ConvTranspose has 2 filters;
- output activation `output_activation="tanh"` on the fifth layer (ab / 128 lies in
  [-1, 1]); "leaky_relu" follows the paper's text literally, "linear" is the third
  choice;
- the fusion conv is followed by BatchNorm and LeakyReLU 0.2 like the encoder;
- BatchNorm's moving-average momentum `bn_momentum=0.9` (Keras' convention: the share
  of the old value kept each step), which is PyTorch's `BatchNorm2d(momentum=0.1)`
  default, the setting of PyTorch code such as the paper's; Keras' own default is 0.99.
  The moving statistics are what the colorizer uses in inference; with 0.99 they
  average over the last ~100 steps and, on a short run where the weights still move
  fast, lag the weights so far that ViT-GAN's inference-mode output saturated (worse
  than the gray baseline) while its training-mode output was good;
- InceptionV3 is frozen (the paper uses it as a pre-trained feature extractor that
  "does not need training") and runs in inference mode. It reads [0, 1] as the paper
  says (`inception_range="unit"`); keras' ImageNet weights were trained on [-1, 1],
  which `inception_range="imagenet"` gives;
- the reconstruction term: section 4.1 combines "the pixel-level L1 loss with the
  adversarial loss" without a factor, and writes the L1 loss as a sum over the pixels,
  `sum_{i=1}^n |y_t - y_p|`, while its text calls it the mean absolute error and the BCE
  is written as a mean over N. kcolor follows the equation: `recon_weight=1` (the
  unweighted sum) with `recon_reduction="sum"` (L1 summed over each image's H x W x 2
  chroma values, averaged over the batch), so at 256 px the L1 term weighs 131,072 times
  the mean. `recon_reduction="mean"` is the text's MAE reading; `recon_weight=100,
  recon_reduction="mean"` is Pix2Pix's lambda (Isola et al., "Image-to-Image Translation
  with Conditional Adversarial Networks", 2017).

Example:
    nets = build_model("vit_i_gan", 256)                          # the paper's networks
    nets = build_model("vit_gan", 64, vit_patch=16, vit_dim=64, vit_depth=2, vit_heads=4)
    ab = nets["colorizer"](L)                                      # [B, H, W, 2]
"""

import keras
from keras import layers

from kcolor.errors import ConfigError
from kcolor.models.blocks import TORCH_BN_MOMENTUM, conv_bn_act
from kcolor.models.inception import INPUT_SIZE, build_inception_v3
from kcolor.models.options import RECON_REDUCTIONS, choice, positive_int, positive_ints, rate
from kcolor.models.registry import register_model
from kcolor.models.vit import POOLS, build_vit_discriminator
from kcolor.models.weights import parse_weights

DOWNSAMPLING = 32  # five AveragePooling 2x2
ENCODER_FILTERS = (32, 64, 128, 256, 512)
DECODER_FILTERS = (256, 128, 64, 32)
FUSION_FILTERS = 512
OUTPUT_ACTIVATIONS = ("tanh", "leaky_relu", "linear")
INCEPTION_RANGES = ("unit", "imagenet")
INCEPTION_NAME = "inception_v3"
BN_MOMENTUM = TORCH_BN_MOMENTUM  # 0.9: PyTorch's BatchNorm2d(momentum=0.1) in Keras' convention

# Paper 004 section 5.2: Adam 2e-4, beta1 0.5, beta2 0.9, batch 16.
PAPER_DEFAULTS = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.9}
# A small ViT for tests, smoke configs and the notebook's smoke setting (64 px and up).
SMALL_VIT = {"vit_patch": 16, "vit_dim": 64, "vit_depth": 2, "vit_heads": 4, "vit_mlp": 128}


def encoder(x, filters, *, bn_momentum=BN_MOMENTUM, name="enc"):
    """5 stages of two 5x5 convs and an AveragePooling 2x2: (H, W) → (H/32, W/32, filters[-1]).

    Returns `(x, stages)`: the pooled output and each stage's output before its pooling
    (sizes H, H/2, ..., H/16), which `decoder(skips=...)` takes deepest first.
    """
    stages = []
    for i, f in enumerate(filters, start=1):
        x = conv_bn_act(x, f, 5, bn_momentum=bn_momentum, activation="leaky_relu", name=f"{name}{i}a")
        x = conv_bn_act(x, f, 5, bn_momentum=bn_momentum, activation="leaky_relu", name=f"{name}{i}b")
        stages.append(x)  # (H / 2^(i-1), W / 2^(i-1), f)
        x = layers.AveragePooling2D(2, name=f"{name}{i}_pool")(x)  # (H / 2^i, W / 2^i, f)
    return x, stages


def inception_embedding(L, *, weights, inception_range, name=INCEPTION_NAME):
    """InceptionV3's 1000-d pre-softmax output of L ([-1, 1]) mapped to [0, 1], 299 px, tripled."""
    x = layers.Rescaling(0.5, offset=0.5, name="inc_unit")(L)  # [0, 1], as the paper says
    x = layers.Resizing(INPUT_SIZE, INPUT_SIZE, interpolation="bilinear", name="inc_resize")(x)
    x = layers.Concatenate(name="inc_triple")([x, x, x])  # (299, 299, 3)
    if inception_range == "imagenet":
        x = layers.Rescaling(2.0, offset=-1.0, name="inc_imagenet_range")(x)
    net = build_inception_v3(include_top=True, weights=weights, name=name)
    net.trainable = False
    return net(x, training=False)  # (1000,)


def fusion(encoded, embedding, filters, *, bn_momentum=BN_MOMENTUM, name="fusion"):
    """Repeat the embedding over the encoder's grid, concatenate, Conv 1x1 → `filters`."""
    grid_h, grid_w = int(encoded.shape[1]), int(encoded.shape[2])
    e = layers.Reshape((1, 1, int(embedding.shape[-1])), name=f"{name}_vector")(embedding)
    e = layers.UpSampling2D((grid_h, grid_w), interpolation="nearest", name=f"{name}_repeat")(e)
    x = layers.Concatenate(name=f"{name}_concat")([encoded, e])  # (H/32, W/32, 512 + 1000)
    return conv_bn_act(x, filters, 1, bn_momentum=bn_momentum, activation="leaky_relu", name=f"{name}_1x1")  # (H/32, W/32, 512)


def decoder(x, filters, *, output_activation, bn_momentum=BN_MOMENTUM, skips=None, name="dec"):
    """5 x [nearest 2x upsampling, ConvTranspose 3x3]: the last one gives the 2 ab channels.

    `skips`: None (the paper's text: no skip connections), or the encoder's five stage
    outputs deepest first (H/16 ... H), each concatenated after the upsampling to its size.
    """
    def up(x, i):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}{i}_up")(x)
        return layers.Concatenate(name=f"{name}{i}_skip")([x, skips[i - 1]]) if skips else x

    for i, f in enumerate(filters, start=1):
        x = up(x, i)
        x = conv_bn_act(x, f, 3, transpose=True, bn_momentum=bn_momentum, activation="leaky_relu", name=f"{name}{i}")  # (H / 2^(5-i), ..., f)
    i = len(filters) + 1
    x = up(x, i)
    x = layers.Conv2DTranspose(2, 3, padding="same", name=f"{name}{i}_conv")(x)  # (H, W, 2)
    if output_activation == "leaky_relu":
        return layers.LeakyReLU(negative_slope=0.2, name="ab", dtype="float32")(x)
    return layers.Activation(output_activation, name="ab", dtype="float32")(x)


def build_vit_i_gan_generator(
    input_shape=(256, 256, 1),
    *,
    fusion_inception=True,
    weights="imagenet",
    inception_range="unit",
    encoder_filters=ENCODER_FILTERS,
    decoder_filters=DECODER_FILTERS,
    fusion_filters=FUSION_FILTERS,
    output_activation="tanh",
    bn_momentum=BN_MOMENTUM,
    skips=False,
    name=None,
):
    """The ViT-I-GAN generator (or, with `fusion_inception=False`, ViT-GAN's).

    Args:
        input_shape: `(H, W, 1)`, H and W multiples of 32.
        fusion_inception: fuse InceptionV3's embedding (ViT-I-GAN) or not (ViT-GAN).
        weights: InceptionV3's weights, "imagenet", None/"none" (offline) or a file path.
        inception_range: "unit" ([0, 1], the paper) or "imagenet" ([-1, 1]).
        encoder_filters: widths of the 5 encoder stages (2 convs each).
        decoder_filters: widths of the first 4 ConvTranspose layers.
        fusion_filters: width of the fusion's Conv 1x1 (512 in the paper).
        output_activation: "tanh", "leaky_relu" or "linear".
        bn_momentum: every BatchNorm's moving-average momentum, Keras' convention
            (0.9 = PyTorch's default momentum 0.1; Keras' default is 0.99), in [0, 1).
        skips: False (the paper's text: the decoder reads the H/32 volume only) or True
            (U-Net skip connections from each encoder stage; module docstring).
        name: model name; "vit_i_gan_generator" or "vit_gan_generator" by default.

    Example:
        g = build_vit_i_gan_generator((256, 256, 1), weights="imagenet")
        ab = g(L)        # L in [-1, 1], ab / 128
    """
    height, width = int(input_shape[0]), int(input_shape[1])
    if height % DOWNSAMPLING or width % DOWNSAMPLING or height < DOWNSAMPLING or width < DOWNSAMPLING:
        raise ValueError(
            f"vit_i_gan: image {height}x{width} does not halve five times; use a multiple of 32 (32, 64, ..., 256)"
        )
    encoder_filters = positive_ints("encoder_filters", encoder_filters, count=5, owner="vit_i_gan")
    decoder_filters = positive_ints("decoder_filters", decoder_filters, count=4, owner="vit_i_gan")
    fusion_filters = positive_int("fusion_filters", fusion_filters, owner="vit_i_gan")
    choice("output_activation", output_activation, OUTPUT_ACTIVATIONS, owner="vit_i_gan")
    choice("inception_range", inception_range, INCEPTION_RANGES, owner="vit_i_gan")
    bn_momentum = rate("bn_momentum", bn_momentum, owner="vit_i_gan")
    if not isinstance(skips, bool):
        raise ConfigError(f"vit_i_gan: skips must be true or false. Received: skips={skips!r}")
    weights = parse_weights(weights, what="weights (InceptionV3)")
    name = name or ("vit_i_gan_generator" if fusion_inception else "vit_gan_generator")

    L = keras.Input(shape=(height, width, 1), name="L")
    x, stages = encoder(L, encoder_filters, bn_momentum=bn_momentum)  # (H/32, W/32, 512)
    if fusion_inception:
        embedding = inception_embedding(L, weights=weights, inception_range=inception_range)  # (1000,)
        x = fusion(x, embedding, fusion_filters, bn_momentum=bn_momentum)  # (H/32, W/32, 512)
    skip_inputs = stages[::-1] if skips else None  # deepest first: H/16, ..., H
    ab = decoder(
        x, decoder_filters, output_activation=output_activation, bn_momentum=bn_momentum, skips=skip_inputs
    )  # (H, W, 2)
    return keras.Model(L, ab, name=name)


def _networks(
    image_size,
    *,
    fusion_inception,
    weights=None,
    inception_range="unit",
    encoder_filters,
    decoder_filters,
    fusion_filters,
    output_activation,
    bn_momentum,
    skips,
    vit_patch,
    vit_dim,
    vit_depth,
    vit_heads,
    vit_mlp,
    vit_dropout,
    vit_embedding_dropout,
    vit_pool,
    recon_weight,
    recon_reduction,
):
    image_size = int(image_size)
    generator = build_vit_i_gan_generator(
        (image_size, image_size, 1),
        fusion_inception=fusion_inception,
        weights=weights,
        inception_range=inception_range,
        encoder_filters=encoder_filters,
        decoder_filters=decoder_filters,
        fusion_filters=fusion_filters,
        output_activation=output_activation,
        bn_momentum=bn_momentum,
        skips=skips,
    )
    discriminator = build_vit_discriminator(
        (image_size, image_size, 1),
        image_channels=2,
        patch_size=vit_patch,
        dim=vit_dim,
        depth=vit_depth,
        heads=vit_heads,
        mlp_dim=vit_mlp,
        dropout=vit_dropout,
        embedding_dropout=vit_embedding_dropout,
        pool=choice("vit_pool", vit_pool, POOLS, owner="vit_i_gan"),
    )
    return {
        "colorizer": generator,
        "discriminator": discriminator,
        "gan_loss": {
            "adv_loss": "bce",
            "recon_loss": "l1",
            "recon_weight": float(recon_weight),
            "recon_reduction": choice("recon_reduction", recon_reduction, RECON_REDUCTIONS, owner="vit_i_gan"),
        },
    }


@register_model("vit_i_gan", io="l_ab", trainer="gan", paper="004", defaults=PAPER_DEFAULTS, offline={"weights": "none"})
def vit_i_gan(
    image_size,
    *,
    weights="imagenet",
    inception_range="unit",
    encoder_filters=ENCODER_FILTERS,
    decoder_filters=DECODER_FILTERS,
    fusion_filters=FUSION_FILTERS,
    output_activation="tanh",
    bn_momentum=BN_MOMENTUM,
    skips=False,
    vit_patch=32,
    vit_dim=1024,
    vit_depth=6,
    vit_heads=16,
    vit_mlp=2048,
    vit_dropout=0.1,
    vit_embedding_dropout=0.1,
    vit_pool="cls",
    recon_weight=1.0,
    recon_reduction="sum",
):
    """ViT-I-GAN: 5x5 encoder + InceptionV3 fusion + ConvTranspose decoder, ViT discriminator (Paper 004).

    Every default is the paper's setting or the documented choice (module docstring);
    `weights=none` builds offline. Returns `colorizer`, `discriminator` and `gan_loss`
    (L1 + BCE).

    Example:
        nets = vit_i_gan(256)                      # downloads the ImageNet InceptionV3
        nets = vit_i_gan(64, weights="none", vit_patch=16, vit_dim=64, vit_depth=2, vit_heads=4)
    """
    return _networks(
        image_size,
        fusion_inception=True,
        weights=weights,
        inception_range=inception_range,
        encoder_filters=encoder_filters,
        decoder_filters=decoder_filters,
        fusion_filters=fusion_filters,
        output_activation=output_activation,
        bn_momentum=bn_momentum,
        skips=skips,
        vit_patch=vit_patch,
        vit_dim=vit_dim,
        vit_depth=vit_depth,
        vit_heads=vit_heads,
        vit_mlp=vit_mlp,
        vit_dropout=vit_dropout,
        vit_embedding_dropout=vit_embedding_dropout,
        vit_pool=vit_pool,
        recon_weight=recon_weight,
        recon_reduction=recon_reduction,
    )


@register_model("vit_gan", io="l_ab", trainer="gan", paper="004", defaults=PAPER_DEFAULTS)
def vit_gan(
    image_size,
    *,
    encoder_filters=ENCODER_FILTERS,
    decoder_filters=DECODER_FILTERS,
    output_activation="tanh",
    bn_momentum=BN_MOMENTUM,
    skips=False,
    vit_patch=32,
    vit_dim=1024,
    vit_depth=6,
    vit_heads=16,
    vit_mlp=2048,
    vit_dropout=0.1,
    vit_embedding_dropout=0.1,
    vit_pool="cls",
    recon_weight=1.0,
    recon_reduction="sum",
):
    """ViT-GAN: ViT-I-GAN's generator without the InceptionV3 fusion, same ViT discriminator (Paper 004).

    Example:
        nets = vit_gan(64, vit_patch=16, vit_dim=64, vit_depth=2, vit_heads=4)
    """
    return _networks(
        image_size,
        fusion_inception=False,
        encoder_filters=encoder_filters,
        decoder_filters=decoder_filters,
        fusion_filters=FUSION_FILTERS,
        output_activation=output_activation,
        bn_momentum=bn_momentum,
        skips=skips,
        vit_patch=vit_patch,
        vit_dim=vit_dim,
        vit_depth=vit_depth,
        vit_heads=vit_heads,
        vit_mlp=vit_mlp,
        vit_dropout=vit_dropout,
        vit_embedding_dropout=vit_embedding_dropout,
        vit_pool=vit_pool,
        recon_weight=recon_weight,
        recon_reduction=recon_reduction,
    )


__all__ = [
    "BN_MOMENTUM",
    "ENCODER_FILTERS",
    "DECODER_FILTERS",
    "build_vit_i_gan_generator",
    "decoder",
    "encoder",
    "fusion",
    "inception_embedding",
    "vit_gan",
    "vit_i_gan",
]
