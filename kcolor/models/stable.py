"""StableColorizer: reference-image cross-attention on a small U-Net (paper 000).

Paper 000: Anshu Bansal, "Stable Image Colorization via Reference Image
Cross-Attention", Stanford University (no year or identifier given), section 3.3. A gray target (ITU-R 601 luma,
replicated to 3 channels) is colorized with the help of a color *reference* image of
similar content. Everything is RGB in [0, 1], trained with MSE on RGB.

Three networks, all built from `conv -> BatchNorm -> GELU` blocks (exact GELU, the erf
form; Keras' `gelu` activation defaults to `approximate=False`):

| model                   | section | params (torch counting, 256x256)     |
|-------------------------|---------|--------------------------------------|
| `build_ref_encoder`     | 3.3.3   | 65,952                               |
| `build_ref_autoencoder` | 3.3.3   | 131,721                              |
| `build_ref_unet`        | 3.3.1   | 177,132 (baseline, ignores the reference) |
| `build_stable_colorizer`| 3.3.2   | 309,452 (frozen encoder included)    |

"Torch counting" is `kcolor.models.params.count_params(model)["torch"]`: every weight
except BatchNorm moving statistics. The counts pin the layout: 3x3 convolutions and
transposed convolutions with biases, 1x1 adapters with biases, and
`MultiHeadAttention(num_heads=4, key_dim=16)` (model dim 64, biased Q/K/V and output
projections, like `torch.nn.MultiheadAttention(64, 4)`).

Registered models (`kcolor list-models`): `ref_autoencoder` (io `rgb_rgb`), `ref_unet`
and `stable_colorizer` (io `ref_gray3_rgb`: Inputs `gray` and `reference`).
`stable_colorizer` copies its frozen encoder from a trained `ref_autoencoder` run with
`--set encoder_from=RUN_DIR`.

Example:
    from kcolor.models import stable
    model = stable.build_stable_colorizer((64, 64, 3))
    scores = stable.attention_maps(model, {"gray": gray3, "reference": ref})  # [B, 4, Q, K]
"""

import weakref

import keras
import numpy as np

from kcolor.models.blocks import conv_bn_act, unet_up_path
from kcolor.models.registry import register_model
from kcolor.models.weights import load_encoder_from_run

# Stage tables (section 3.3). Every stage halves or doubles height and width.
ENCODER_FILTERS = (32, 32, 64, 64)  # 256 -> 128 -> 64 -> 32 -> 16 px
AUTOENCODER_DECODER_FILTERS = (64, 32, 32, 3)  # 16 -> 32 -> 64 -> 128 -> 256 px
UNET_UP_FILTERS = (64, 32, 32, 32)  # u1..u4, 16 -> 256 px
ATTENTION_HEADS = 4
ATTENTION_DIM = 64  # model dim; each head gets ATTENTION_DIM // ATTENTION_HEADS = 16
DOWNSAMPLING = 2 ** len(ENCODER_FILTERS)

ENCODER_NAME = "ref_encoder"
ATTENTION_LAYER = "attention_mha"

AUTOENCODER_DEFAULTS = {"image_size": 256, "learning_rate": 1e-3, "loss": "mse", "beta_1": 0.9}
COLORIZER_DEFAULTS = {"image_size": 256, "learning_rate": 1e-2, "loss": "mse", "beta_1": 0.9}


# --------------------------------------------------------------------------- blocks


def conv_block(x, filters, *, kernel_size=3, strides=1, transpose=False, name):
    """`Conv2D` (or `Conv2DTranspose`) with bias -> Keras BatchNorm -> exact GELU, all named `name_*`."""
    return conv_bn_act(
        x, filters, kernel_size, strides=strides, transpose=transpose, use_bias=True, fused=False, activation="gelu",
        name=name,
    )


def down_block(x, filters, name):
    """3x3 stride-2 convolution block: halves height and width."""
    return conv_block(x, filters, kernel_size=3, strides=2, name=name)


def up_block(x, filters, name):
    """3x3 stride-2 transposed-convolution block: doubles height and width."""
    return conv_block(x, filters, kernel_size=3, strides=2, transpose=True, name=name)


def adapter_block(x, filters, name):
    """1x1 convolution block that adapts features for the attention module."""
    return conv_block(x, filters, kernel_size=1, strides=1, name=name)


def _check_image_shape(shape, what):
    valid = (
        isinstance(shape, (tuple, list))
        and len(shape) == 3
        and shape[2] == 3
        and all(isinstance(s, (int, np.integer)) and s > 0 and s % DOWNSAMPLING == 0 for s in shape[:2])
    )
    if not valid:
        raise ValueError(
            f"{what} must be (height, width, 3) with height and width positive multiples of "
            f"{DOWNSAMPLING} (four stride-2 blocks). Received: {what}={shape}"
        )
    return tuple(int(s) for s in shape)


# --------------------------------------------------------------------------- builders


def build_ref_encoder(input_shape=(256, 256, 3), *, name=ENCODER_NAME):
    """The reference encoder: 4 x [Conv 3x3 stride 2, BN, GELU], 3 -> 32 -> 32 -> 64 -> 64.

    Paper 000, section 3.3.3: the encoder half of the autoencoder, reused frozen by
    StableColorizer to featurize the reference. 65,952 parameters (torch counting).

    Args:
        input_shape: `(H, W, 3)` RGB in [0, 1]; H and W multiples of 16.
        name: model name (StableColorizer looks the encoder up by it).

    Returns:
        A `keras.Model` mapping `[B, H, W, 3]` to `[B, H/16, W/16, 64]`.

    Example:
        encoder = build_ref_encoder((256, 256, 3))
        features = encoder(images)  # (B, 16, 16, 64)
    """
    input_shape = _check_image_shape(input_shape, "input_shape")
    image = keras.Input(input_shape, name="image")  # (bs, 256, 256, 3)
    x = image
    for i, filters in enumerate(ENCODER_FILTERS, start=1):
        x = down_block(x, filters, f"down{i}")  # (bs, 128|64|32|16, ..., 32|32|64|64)
    return keras.Model(image, x, name=name)


def build_ref_autoencoder(input_shape=(256, 256, 3), *, name="ref_autoencoder"):
    """The RGB autoencoder whose encoder StableColorizer reuses (paper 000, section 3.3.3).

    Encoder (`build_ref_encoder`, nested as the sub-model `ref_encoder`) followed by
    4 x [ConvTranspose 3x3 stride 2, BN, GELU], 64 -> 64 -> 32 -> 32 -> 3, with BN and GELU
    after the last one too (the paper follows every convolution with both). No skip
    connections. 131,721 parameters (torch counting); trained with RGB MSE.

    Args:
        input_shape: `(H, W, 3)`; H and W multiples of 16.
        name: model name.

    Returns:
        A `keras.Model` with one Input named `rgb` (io `rgb_rgb`) returning `[B, H, W, 3]`.

    Example:
        autoencoder = build_ref_autoencoder((256, 256, 3))
        reconstruction = autoencoder({"rgb": images})
    """
    input_shape = _check_image_shape(input_shape, "input_shape")
    rgb = keras.Input(input_shape, name="rgb")  # (bs, 256, 256, 3)
    x = build_ref_encoder(input_shape)(rgb)  # (bs, 16, 16, 64)
    for i, filters in enumerate(AUTOENCODER_DECODER_FILTERS, start=1):
        x = up_block(x, filters, f"up{i}")  # (bs, 32|64|128|256, ..., 64|32|32|3)
    return keras.Model({"rgb": rgb}, x, name=name)


def _up_level(x, skip, filters, *, name):
    """One U-Net up level: concatenate the skip (if any), then the stride-2 transposed-conv block."""
    if skip is not None:
        x = keras.layers.Concatenate(name=f"{name}_concat")([x, skip])
    return up_block(x, filters, name)


def _unet_decoder(gray, bottleneck, skips):
    """Shared U-Net decoder: u1 from the bottleneck, u2..u4 with skips, 1x1 head on [u4, gray]."""
    # (bs, 32, 32, 64), then (bs, 64|128|256, ..., 32)
    x = unet_up_path(bottleneck, [None, *skips], UNET_UP_FILTERS, _up_level, name="up")
    x = keras.layers.Concatenate(name="output_concat")([x, gray])  # (bs, 256, 256, 35)
    # The paper's final 1x1 projection has no BN or activation; io.to_rgb clips to [0, 1].
    return keras.layers.Conv2D(3, 1, name="output_conv")(x)  # (bs, 256, 256, 3)


def _unet_encoder(gray):
    """The U-Net's own down blocks d1..d4; returns (d4, [d3, d2, d1])."""
    downs = []
    x = gray
    for i, filters in enumerate(ENCODER_FILTERS, start=1):
        x = down_block(x, filters, f"down{i}")  # (bs, 128|64|32|16, ..., 32|32|64|64)
        downs.append(x)
    d1, d2, d3, d4 = downs
    return d4, [d3, d2, d1]


def _inputs(input_shape, reference_shape):
    input_shape = _check_image_shape(input_shape, "input_shape")
    reference_shape = _check_image_shape(
        input_shape if reference_shape is None else reference_shape, "reference_shape"
    )
    gray = keras.Input(input_shape, name="gray")  # (bs, 256, 256, 3) luma x 3
    reference = keras.Input(reference_shape, name="reference")  # (bs, 256, 256, 3) RGB
    return gray, reference


def build_ref_unet(input_shape=(256, 256, 3), *, reference_shape=None, name="ref_unet"):
    """The baseline U-Net colorizer of paper 000 (section 3.3.1), 177,132 parameters.

    Four down blocks d1..d4 (32, 32, 64, 64 filters, 3x3 stride 2); u1 = up(d4) -> 64,
    u2 = up([u1, d3]) -> 32, u3 = up([u2, d2]) -> 32, u4 = up([u3, d1]) -> 32 (3x3 stride-2
    transposed convolutions); output = Conv 1x1([u4, gray]) -> 3, no BN or activation.
    It takes the reference image and ignores it, so it has StableColorizer's call
    signature and trains on the same pairs.

    Args:
        input_shape: `(H, W, 3)` of the gray target (luma replicated to 3 channels).
        reference_shape: shape of the (unused) reference; defaults to `input_shape`.
        name: model name.

    Returns:
        A `keras.Model` with Inputs `gray` and `reference` (io `ref_gray3_rgb`) returning
        unbounded RGB `[B, H, W, 3]`.

    Example:
        unet = build_ref_unet((64, 64, 3))
        rgb = unet({"gray": gray3, "reference": ref})
    """
    gray, reference = _inputs(input_shape, reference_shape)
    d4, skips = _unet_encoder(gray)  # (bs, 16, 16, 64)
    out = _unet_decoder(gray, d4, skips)
    return keras.Model({"gray": gray, "reference": reference}, out, name=name)


def build_stable_colorizer(input_shape=(256, 256, 3), *, reference_shape=None, name="stable_colorizer"):
    """StableColorizer (paper 000, section 3.3.2): the baseline U-Net plus reference cross-attention.

    The reference goes through the frozen autoencoder encoder (sub-model `ref_encoder`,
    `trainable=False`, BatchNorm in inference mode) and a 1x1 adapter block (64 -> 64);
    the U-Net's d4 goes through an identical adapter. `MultiHeadAttention` (4 heads,
    model dim 64) takes queries from the d4-adapter tokens and keys/values from the
    reference-adapter tokens. A 1x1 block on the attention output is added to the d4
    adapter output, and that sum is concatenated with the raw d4 (128 channels) as the
    input of u1; the rest is the baseline U-Net. 309,452 parameters, 65,952 of them frozen
    (torch counting). Copy a trained encoder in with `kcolor.models.weights.load_encoder_from_run`.

    Args:
        input_shape: `(H, W, 3)` of the gray target; H and W multiples of 16.
        reference_shape: `(H', W', 3)` of the reference; defaults to `input_shape`.
        name: model name.

    Returns:
        A `keras.Model` with Inputs `gray` and `reference` (io `ref_gray3_rgb`) returning
        unbounded RGB `[B, H, W, 3]`. Its attention layer is named `attention_mha`.

    Example:
        model = build_stable_colorizer((64, 64, 3))
        rgb = model({"gray": gray3, "reference": ref})
    """
    gray, reference = _inputs(input_shape, reference_shape)
    encoder = build_ref_encoder(tuple(reference.shape[1:]), name=ENCODER_NAME)
    encoder.trainable = False  # the paper freezes the autoencoder's encoder

    d4, skips = _unet_encoder(gray)  # (bs, 16, 16, 64)
    ref_features = encoder(reference)  # (bs, 16, 16, 64)
    ref_adapted = adapter_block(ref_features, ATTENTION_DIM, "ref_adapter")  # (bs, 16, 16, 64)
    query_adapted = adapter_block(d4, ATTENTION_DIM, "query_adapter")  # (bs, 16, 16, 64)

    query_tokens = keras.layers.Reshape((-1, ATTENTION_DIM), name="attention_query_tokens")(
        query_adapted
    )  # (bs, 256, 64)
    ref_tokens = keras.layers.Reshape((-1, ATTENTION_DIM), name="attention_ref_tokens")(
        ref_adapted
    )  # (bs, 256, 64)
    # The scores are returned here (and left unused) so that `attention_maps` can read
    # them from this very node: Keras cannot wire a second call of the layer into a model.
    attended, _scores = keras.layers.MultiHeadAttention(
        num_heads=ATTENTION_HEADS, key_dim=ATTENTION_DIM // ATTENTION_HEADS, name=ATTENTION_LAYER
    )(query_tokens, ref_tokens, ref_tokens, return_attention_scores=True)  # (bs, 256, 64)
    attended = keras.layers.Reshape(tuple(query_adapted.shape[1:]), name="attention_grid")(
        attended
    )  # (bs, 16, 16, 64)
    attended = adapter_block(attended, ATTENTION_DIM, "attention_out")  # (bs, 16, 16, 64)
    fused = keras.layers.Add(name="attention_residual")([attended, query_adapted])  # (bs, 16, 16, 64)
    bottleneck = keras.layers.Concatenate(name="bottleneck_concat")([fused, d4])  # (bs, 16, 16, 128)

    out = _unet_decoder(gray, bottleneck, skips)
    return keras.Model({"gray": gray, "reference": reference}, out, name=name)


# --------------------------------------------------------------------------- attention maps

_ATTENTION_MODELS = weakref.WeakKeyDictionary()


def attention_model(colorizer):
    """A model sharing `colorizer`'s layers that returns its attention scores `[B, 4, Q, K]`.

    Built once per colorizer and cached. Q is the number of target tokens
    (H/16 * W/16, row-major), K the number of reference tokens.

    Example:
        scorer = attention_model(model)
        scores = scorer({"gray": gray3, "reference": ref})
    """
    cached = _ATTENTION_MODELS.get(colorizer)
    if cached is not None:
        return cached
    try:
        mha = colorizer.get_layer(ATTENTION_LAYER)
    except ValueError:
        raise ValueError(
            f"Model '{colorizer.name}' has no cross-attention layer '{ATTENTION_LAYER}'. "
            "Valid: a stable_colorizer model"
        ) from None
    outputs = mha.output
    if not isinstance(outputs, (list, tuple)) or len(outputs) != 2:
        raise ValueError(
            f"Layer '{ATTENTION_LAYER}' of model '{colorizer.name}' does not return attention scores; "
            "build the model with build_stable_colorizer"
        )
    scorer = keras.Model(colorizer.input, outputs[1], name=f"{colorizer.name}_attention")
    _ATTENTION_MODELS[colorizer] = scorer
    return scorer


def attention_maps(colorizer, inputs):
    """Cross-attention scores of a StableColorizer: where each target region looks.

    Args:
        colorizer: a `stable_colorizer` model (built, trained or reloaded from `.keras`).
        inputs: dict with `gray` `[B, H, W, 3]` and `reference` `[B, H', W', 3]`, in [0, 1].

    Returns:
        float32 NumPy array `[B, heads, Q, K]`, Q = (H/16)*(W/16) target tokens and
        K = (H'/16)*(W'/16) reference tokens, both row-major; each row sums to 1.

    Example:
        scores = attention_maps(model, {"gray": gray3, "reference": ref})
        heat = scores[0].mean(0)[query].reshape(h_ref // 16, w_ref // 16)
    """
    missing = sorted({"gray", "reference"} - set(inputs))
    if missing:
        raise ValueError(f"attention_maps needs inputs 'gray' and 'reference'; missing {missing}")
    scorer = attention_model(colorizer)
    scores = scorer({"gray": inputs["gray"], "reference": inputs["reference"]}, training=False)
    return np.asarray(keras.ops.convert_to_numpy(scores), dtype=np.float32)


# --------------------------------------------------------------------------- registry


@register_model("ref_autoencoder", io="rgb_rgb", trainer="supervised", paper="000", defaults=AUTOENCODER_DEFAULTS)
def ref_autoencoder(image_size):
    """RGB autoencoder whose frozen encoder StableColorizer reuses (paper 000, 131,721 params)."""
    return {"colorizer": build_ref_autoencoder((image_size, image_size, 3))}


@register_model("ref_unet", io="ref_gray3_rgb", trainer="supervised", paper="000", defaults=COLORIZER_DEFAULTS)
def ref_unet(image_size):
    """Baseline U-Net that takes and ignores the reference (paper 000, 177,132 params)."""
    return {"colorizer": build_ref_unet((image_size, image_size, 3))}


@register_model(
    "stable_colorizer", io="ref_gray3_rgb", trainer="supervised", paper="000", defaults=COLORIZER_DEFAULTS
)
def stable_colorizer(image_size, *, encoder_from=None):
    """U-Net with cross-attention to a frozen-encoded reference image (paper 000, 309,452 params).

    `encoder_from`: a `ref_autoencoder` run folder whose encoder is copied into the frozen
    encoder; None leaves the frozen encoder at its random initialization.
    """
    model = build_stable_colorizer((image_size, image_size, 3))
    if encoder_from is not None:
        load_encoder_from_run(model, encoder_from, encoder_name=ENCODER_NAME)
    return {"colorizer": model}
