"""Paper 002: a cGAN in Lab with a ResNet50 encoder, and the baseline cGAN it replaced.

Mariana Pérez García, "Image Colorization Using Conditional Generative Adversarial
Networks", Tecnológico de Monterrey (campus Querétaro), 2020. Both models read Lab's L
and predict its ab (io `l_ab`: L / 50 - 1 in, ab / 128 out, tanh), and both train with
`kcolor.training.steps.gan_step`.

`cgan_unet_baseline` (the paper's first attempt, Chapter 3): a U-Net generator and "a
common Sigmoid classifier" discriminator, 256x256, batch 32. Labels with noise in the
paper's own convention: real ab in U(0, 0.49), generated ab in U(0.5, 0.99) (so a low
discriminator output means "real"), and the generator "is first given one half of a
batch". The paper reports that it diverged (the same output for every image by epoch
40-44) and blames the discriminator; it is kept faithful, divergence included.

`cgan_resnet50` (the proposed model): the generator is `keras.applications.ResNet50`
(no top) on 224x224, fed L stacked to three channels, then a decoder of Conv2D and
UpSampling2D layers back to 224x224x2; the discriminator is the shared PatchGAN
(`kcolor.models.patchgan`, Isola et al. 2017, arXiv:1611.07004) judging (L, ab). The
paper trains it in a process "very similar to the previous method", so the noisy labels
and the half-batch generator are its defaults too (options).

Choices where the paper is silent (figures 3.1, 3.2, 3.4 and 3.6 hold the layouts,
which the text does not give), each an option:

| what | chosen | option |
|---|---|---|
| U-Net generator | Isola's unet_256 (64..512, LeakyReLU 0.2 encoder, dropout 0.5 in 3 blocks), the shared `kcolor.models.unet` | `base_filters`, `max_filters` |
| sigmoid classifier | 4 x [Conv 4x4 stride 2, BatchNorm (not on the first), LeakyReLU 0.2], 64..512, then Flatten and Dense(1) | `d_filters` |
| ResNet50 decoder | 5 x [Conv 3x3 + ReLU, UpSampling2D x2] with 512, 256, 128, 64, 32 filters (7 -> 224), then Conv 3x3 -> 2 + tanh | `decoder_filters` |
| PatchGAN | Isola's 70x70 (C64-C128-C256-C512) | `patch`, `d_base_filters` |
| ImageNet preprocessing | on: L to [0, 255] on all three channels, minus the ImageNet BGR means (ResNet50's "caffe" mode) | `imagenet_preprocessing` |
| encoder training | fine-tuned from the first epoch | `freeze_epochs` |
| generator loss | adversarial BCE + 100 x L1 on ab (Isola's and Nazeri et al.'s lambda; the text names only the adversarial loss: `recon_weight=0` is that literal reading) | `recon_weight` |
| discriminator input | (L, ab), the conditional form of Isola | - |

The sigmoid of both discriminators is the one inside the BCE-with-logits loss (the same
function, computed stably): the networks return logits and the GAN step reports the
sigmoid of their mean outputs as `d_out_real` / `d_out_fake`.

Example:
    nets = build_model("cgan_resnet50", 224, weights="none")
    ab = nets["colorizer"](tf.zeros([1, 224, 224, 1]))        # (1, 224, 224, 2)
"""

import keras
from keras import layers

from kcolor.models.blocks import conv_bn_act
from kcolor.models.options import choice, fraction, positive_ints
from kcolor.models.patchgan import PATCH_STACKS, build_patchgan_discriminator
from kcolor.models.registry import register_model
from kcolor.models.unet import build_unet_generator
from kcolor.models.weights import IMAGENET_URLS, load_keras_application_weights, parse_weights

# The paper's label convention (Chapter 3): real ab in [0, 0.49], generated ab in [0.5, 0.99].
PAPER_REAL_LABELS = (0.0, 0.49)
PAPER_FAKE_LABELS = (0.5, 0.99)
RECIPE = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}
# ResNet50's ImageNet preprocessing ("caffe"): BGR pixels in [0, 255] minus these means.
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)
RESNET50_STRIDE = 32


def _gan_loss(recon_weight, label_noise, g_fraction):
    g_fraction = fraction("g_fraction", g_fraction)
    return {
        "adv_loss": "bce",
        "recon_loss": "l1",
        "recon_weight": float(recon_weight),
        "real_labels": PAPER_REAL_LABELS if label_noise else None,
        "fake_labels": PAPER_FAKE_LABELS if label_noise else None,
        "g_fraction": g_fraction,
    }


# --------------------------------------------------------------------------- baseline


def build_sigmoid_classifier(input_shape=(256, 256, 1), *, image_channels=2, filters=(64, 128, 256, 512),
                             name="sigmoid_discriminator"):
    """Paper 002's baseline discriminator: a plain conv classifier, one real/fake score per image.

    `condition` (L / 50 - 1) and `image` (ab / 128) are concatenated; each width in
    `filters` is a Conv 4x4 stride 2 -> BatchNorm (not on the first) -> LeakyReLU(0.2)
    block; Flatten and Dense(1) give one logit per image, whose sigmoid is the paper's
    sigmoid output. At 256x256 with the default widths:

        c1 (128, 128, 64)  c2 (64, 64, 128)  c3 (32, 32, 256)  c4 (16, 16, 512)  out (1,)

    Example:
        d = build_sigmoid_classifier((64, 64, 1), filters=(8, 16))
        logits = d({"condition": L, "image": ab})          # (B, 1)
    """
    filters = positive_ints("d_filters", filters)
    height, width = int(input_shape[0]), int(input_shape[1])
    if height % 2 ** len(filters) or width % 2 ** len(filters):
        raise ValueError(
            f"sigmoid classifier: {len(filters)} stride-2 blocks need a size divisible by {2 ** len(filters)}. "
            f"Received: {height}x{width}"
        )
    condition = keras.Input(shape=tuple(input_shape), name="condition")
    image = keras.Input(shape=(height, width, image_channels), name="image")
    x = layers.Concatenate(name="pair_concat")([condition, image])
    for n, f in enumerate(filters):
        x = conv_bn_act(x, f, 4, strides=2, batchnorm=n > 0, activation="leaky_relu", name=f"c{n + 1}")
    x = layers.Flatten(name="flatten")(x)
    logits = layers.Dense(1, name="out_logit", dtype="float32")(x)
    return keras.Model({"condition": condition, "image": image}, logits, name=name)


@register_model("cgan_unet_baseline", io="l_ab", trainer="gan", paper="002", defaults=RECIPE)
def cgan_unet_baseline(
    image_size,
    *,
    base_filters=64,
    max_filters=512,
    d_filters=(64, 128, 256, 512),
    recon_weight=100.0,
    label_noise=True,
    g_fraction=0.5,
):
    """Paper 002's baseline cGAN in Lab: U-Net generator, sigmoid classifier discriminator.

    Args:
        image_size: S (the paper: 256).
        base_filters, max_filters: the U-Net's first and largest widths (Isola: 64, 512).
        d_filters: the classifier's conv widths, one stride-2 block each.
        recon_weight: weight of the L1 term on ab (0: adversarial loss only).
        label_noise: the paper's noisy labels (real U(0, 0.49), fake U(0.5, 0.99));
            False: BCE with labels real 1, fake 0.
        g_fraction: share of each batch the generator colorizes (the paper: half).

    Example:
        nets = cgan_unet_baseline(256)
        nets["gan_loss"]["real_labels"]          # (0.0, 0.49)
    """
    image_size = int(image_size)
    gan_loss = _gan_loss(recon_weight, label_noise, g_fraction)
    generator = build_unet_generator(
        (image_size, image_size, 1),
        base_filters=int(base_filters),
        max_filters=int(max_filters),
        encoder_activation="leaky_relu",
        dropout=0.5,
        dropout_levels=3,
        output_channels=2,
        input_rescale=False,
        output_activation="tanh",
        input_name="L",
        name="unet_generator",
    )
    discriminator = build_sigmoid_classifier((image_size, image_size, 1), image_channels=2, filters=d_filters)
    return {"colorizer": generator, "discriminator": discriminator, "gan_loss": gan_loss}


# --------------------------------------------------------------------------- ResNet50 cGAN


def build_resnet50_generator(
    input_shape=(224, 224, 1),
    *,
    weights="imagenet",
    imagenet_preprocessing=True,
    decoder_filters=(512, 256, 128, 64, 32),
    name="resnet50_generator",
):
    """ResNet50 encoder (no top) on L stacked to 3 channels, then Conv2D + UpSampling2D to ab.

    The encoder is the nested `keras.applications.ResNet50` model named "resnet50"
    (freeze it with `generator.get_layer("resnet50").trainable = False`). At 224x224:

        L (224, 224, 1) -> stack (224, 224, 3) -> [preprocess] -> resnet50 (7, 7, 2048)
        dec1 conv (7, 7, 512) up (14, 14, 512)   dec2 (28, 28, 256)   dec3 (56, 56, 128)
        dec4 (112, 112, 64)   dec5 (224, 224, 32)   out conv 3x3 + tanh (224, 224, 2)

    Args:
        input_shape: `(S, S, 1)`, S a multiple of 32 (ResNet50's stride), at least 32.
        weights: "imagenet" (downloaded once into the Keras cache), "none", or a path.
        imagenet_preprocessing: map L / 50 - 1 to [0, 255] and subtract the ImageNet BGR
            means, as ResNet50's ImageNet weights expect; False feeds [-1, 1].
        decoder_filters: 5 widths, one [Conv 3x3 + ReLU, UpSampling2D x2] stage each.
        name: model name.

    Example:
        g = build_resnet50_generator((32, 32, 1), weights="none", decoder_filters=(8, 8, 8, 8, 8))
    """
    weights = parse_weights(weights)  # a bad value fails before the build
    decoder_filters = positive_ints("decoder_filters", decoder_filters, count=5)
    size = int(input_shape[0])
    if size != int(input_shape[1]) or size < RESNET50_STRIDE or size % RESNET50_STRIDE:
        raise ValueError(
            f"cgan_resnet50: the image size must be a multiple of {RESNET50_STRIDE} and at least "
            f"{RESNET50_STRIDE} (the paper: 224). Received: {input_shape[0]}x{input_shape[1]}"
        )
    L = keras.Input(shape=(size, size, 1), name="L")
    x = layers.Concatenate(name="l_stack")([L, L, L])  # the paper's L stacked with itself
    if imagenet_preprocessing:
        x = layers.Rescaling(127.5, offset=127.5, name="l_to_pixels")(x)  # [-1, 1] -> [0, 255]
        x = layers.Normalization(mean=IMAGENET_BGR_MEAN, variance=(1.0, 1.0, 1.0), name="imagenet_preprocess")(x)
    encoder = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(size, size, 3))
    load_keras_application_weights(encoder, weights, IMAGENET_URLS["resnet50_notop"])
    x = encoder(x)  # (S/32, S/32, 2048)
    for n, f in enumerate(decoder_filters):
        x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"dec{n + 1}_conv")(x)
        x = layers.UpSampling2D(2, name=f"dec{n + 1}_up")(x)
    x = layers.Conv2D(2, 3, padding="same", name="out_conv")(x)
    ab = layers.Activation("tanh", name="out_tanh", dtype="float32")(x)
    return keras.Model(L, ab, name=name)


def freeze_schedule(encoder, freeze_epochs):
    """An `epoch_hook` for the training loop: `encoder` frozen while fewer than
    `freeze_epochs` epochs are done, trainable after. Returns whether it changed.

    Frozen, the encoder's BatchNorm layers run in inference mode (Keras' fine-tuning
    convention), so their ImageNet statistics are kept.
    """
    freeze_epochs = int(freeze_epochs)

    def epoch_hook(completed_epochs):
        trainable = int(completed_epochs) >= freeze_epochs
        changed = encoder.trainable != trainable
        encoder.trainable = trainable
        return changed

    return epoch_hook


@register_model(
    "cgan_resnet50", io="l_ab", trainer="gan", paper="002", defaults=RECIPE, offline={"weights": "none"}
)
def cgan_resnet50(
    image_size,
    *,
    weights="imagenet",
    imagenet_preprocessing=True,
    decoder_filters=(512, 256, 128, 64, 32),
    freeze_epochs=0,
    patch=70,
    d_base_filters=64,
    recon_weight=100.0,
    label_noise=True,
    g_fraction=0.5,
):
    """Paper 002's cGAN: ResNet50-encoder generator in Lab + PatchGAN on (L, ab).

    Args:
        image_size: S (the paper: 224), a multiple of 32.
        weights: the encoder's weights, "imagenet" (default), "none" or a path.
        imagenet_preprocessing: ResNet50's ImageNet input preprocessing (see
            `build_resnet50_generator`).
        decoder_filters: the decoder's 5 widths.
        freeze_epochs: train with the encoder frozen for this many first epochs, then
            fine-tune it (0: fine-tuned throughout). The training loop runs the returned
            `epoch_hook`.
        patch: the PatchGAN's receptive field (70, 64 or 128).
        d_base_filters: the PatchGAN's first width.
        recon_weight, label_noise, g_fraction: as in `cgan_unet_baseline`.

    Example:
        nets = cgan_resnet50(224, weights="none", freeze_epochs=5)
        nets["epoch_hook"](0)            # True: the encoder is now frozen
    """
    image_size = int(image_size)
    gan_loss = _gan_loss(recon_weight, label_noise, g_fraction)
    choice("patch", int(patch), tuple(PATCH_STACKS), owner="cgan_resnet50")
    if int(freeze_epochs) < 0:
        raise ValueError(f"freeze_epochs must be >= 0. Received: freeze_epochs={freeze_epochs}")
    generator = build_resnet50_generator(
        (image_size, image_size, 1),
        weights=weights,
        imagenet_preprocessing=bool(imagenet_preprocessing),
        decoder_filters=decoder_filters,
    )
    discriminator = build_patchgan_discriminator(
        (image_size, image_size, 1),
        image_channels=2,
        base_filters=int(d_base_filters),
        patch=int(patch),
        rescale_inputs=False,
        name="patchgan_discriminator",
    )
    networks = {"colorizer": generator, "discriminator": discriminator, "gan_loss": gan_loss}
    if int(freeze_epochs) > 0:
        networks["epoch_hook"] = freeze_schedule(generator.get_layer("resnet50"), freeze_epochs)
    return networks


__all__ = [
    "IMAGENET_BGR_MEAN",
    "PAPER_FAKE_LABELS",
    "PAPER_REAL_LABELS",
    "build_resnet50_generator",
    "build_sigmoid_classifier",
    "cgan_resnet50",
    "cgan_unet_baseline",
    "freeze_schedule",
]
