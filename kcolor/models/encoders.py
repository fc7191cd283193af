"""Pretrained encoders for U-Net-style decoders: one table, five skips at strides 2 to 32.

`ENCODERS` maps an encoder name to how it is built and where its five skip features
are. `build_encoder(name, input_shape)` returns a Keras model whose outputs are those
features, finest first (strides 2, 4, 8, 16, 32);
`kcolor.models.weights.load_imagenet_encoder_weights(encoder, get_encoder_spec(name),
weights)` fills it with ImageNet weights. Building never touches the network, so every
encoder builds offline (`weights=None`); loading is a separate step.

| name                | built as                                         | skip features (stride 2 .. 32)                                   |
|---------------------|--------------------------------------------------|------------------------------------------------------------------|
| resnet18, resnet34  | torchvision ResNet, basic blocks (written here)  | conv1_relu, conv2_blockN_out, conv3_..., conv4_..., conv5_..._out |
| resnet50/101/152    | torchvision ResNet, bottleneck blocks (here)     | the same, last block of each stage                               |
| inception_resnet_v2 | keras.applications, rebuilt: "same" padding, BatchNorm scale | inputs of the 1st and 2nd MaxPooling2D, block35_10_ac, block17_20_ac, conv_7b_ac |
| efficientnet_b6     | keras.applications without preprocessing, top_conv, top_bn | stem_activation, block2f_add, block3f_add, block5h_add, block7c_add |

Choices, and why (the parameter counts of KMHCNet, Hossain, "KMHCNet: A Gray-Scale
Image Colorization Approach Using ResNet Encoder Based UNet++ Convolutional
Autoencoder", Table 2, were made with segmentation_models_pytorch, whose encoders these
reproduce):
- The ResNets are torchvision's (He et al. 2016, arXiv:1512.03385, in torchvision's v1.5
  form: the stride of a bottleneck block is on its 3x3 conv), convolutions without bias,
  zero padding written out as torchvision pads (3 for the stem, 1 for 3x3 convs),
  BatchNorm with torch's epsilon 1e-5 and momentum 0.1 (Keras momentum 0.9). Layer
  names follow keras.applications (`conv2_block1_1_conv`, `conv4_block6_out`), so
  `summary()` and skip lookups read like keras' ResNet50. keras.applications' ResNets
  carry a bias on every conv (26,560 more parameters for ResNet50, 52,672 for
  ResNet101, 75,712 for ResNet152) and put the stride on the first 1x1 conv; with them
  the counts would be 0.03-0.12% off, bias-free they are exact.
- InceptionResNetV2 (Szegedy et al. 2016, arXiv:1602.07261) is keras.applications'
  graph rebuilt from its config with every "valid" padding made "same" (feature sizes
  128/64/32/16/8 at 256 px, as segmentation_models_pytorch pads it) and BatchNorm
  `scale=True` (torch BatchNorm always has a scale). Its first two skips are found by
  structure, the inputs of its first two MaxPooling2D layers, because keras names those
  layers automatically (`activation_3`) and the names change from build to build.
- EfficientNet-B6 (Tan & Le 2019, arXiv:1905.11946) is keras.applications' graph
  without its input Rescaling/Normalization (the encoder reads its input as given, as
  segmentation_models_pytorch's does) and without top_conv/top_bn, which no skip uses
  (keeping them adds 3.08%).

ImageNet weights (`weights="imagenet"`): ResNets from torchvision's ImageNet-1k weights
as republished in safetensors form by timm (`timm/resnet50.tv_in1k` on the Hugging Face
hub; the same tensors segmentation_models_pytorch loads), InceptionResNetV2 and
EfficientNet-B6 from keras.applications' ImageNet files. When the encoder reads fewer
than 3 channels (L alone), the first conv's ImageNet kernel is summed over its RGB
input channels, as segmentation_models_pytorch does for `in_channels=1`
(`patch_first_conv`): for a gray image replicated to RGB the response is unchanged.
`weights=PATH` loads that same file from disk (offline). A download that cannot happen
fails within seconds, naming the URL and the offline choices (`kcolor.models.weights`
parses, downloads and loads; `kcolor.errors.DownloadUnavailable` when offline).

`EMBEDDINGS` / `build_embedding` are the frozen ImageNet feature networks (VGG16,
ResNet50 from keras.applications) of KMHCNet's perceptual losses
(`kcolor.training.losses.ColorLoss`).

Example:
    encoder = build_encoder("resnet34", (256, 256, 1))   # outputs: 5 feature maps
    load_imagenet_encoder_weights(encoder, get_encoder_spec("resnet34"), "imagenet")
"""

import dataclasses
import json
from typing import Callable

import keras
from keras import layers

from kcolor.models.blocks import TORCH_BN_EPSILON, TORCH_BN_MOMENTUM, conv_bn_act
from kcolor.models.options import choice
from kcolor.models.weights import KERAS_APPLICATIONS_URL, IMAGENET_URLS, parse_weights, weights_path

# ---------------------------------------------------------------------------- ResNets


def torch_conv_bn(x, filters, kernel, stride, *, activation="relu", name):
    """torchvision's bias-free conv (`padding=kernel // 2`) → BatchNorm (torch's eps, momentum) → [ReLU].

    Layers `{name}_conv` (after `{name}_conv_pad` when a strided conv pads), `{name}_bn`,
    `{name}_relu`, as keras.applications' ResNets name them.
    """
    return conv_bn_act(
        x,
        filters,
        kernel,
        strides=stride,
        padding="same" if stride == 1 else kernel // 2,
        bn_epsilon=TORCH_BN_EPSILON,
        bn_momentum=TORCH_BN_MOMENTUM,
        activation=activation,
        pad_suffix="conv_pad",
        name=name,
    )


def basic_block(x, filters, stride, name):
    """torchvision's BasicBlock: 3x3 conv-BN-ReLU, 3x3 conv-BN, plus the (projected) input."""
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = torch_conv_bn(x, filters, 1, stride, activation=None, name=name + "_0")
    y = torch_conv_bn(x, filters, 3, stride, name=name + "_1")
    y = torch_conv_bn(y, filters, 3, 1, activation=None, name=name + "_2")
    y = layers.Add(name=name + "_add")([shortcut, y])
    return layers.ReLU(name=name + "_out")(y)


def bottleneck_block(x, filters, stride, name):
    """torchvision's Bottleneck (v1.5): 1x1, 3x3 with the stride, 1x1 to 4x filters."""
    out_filters = 4 * filters
    shortcut = x
    if stride != 1 or x.shape[-1] != out_filters:
        shortcut = torch_conv_bn(x, out_filters, 1, stride, activation=None, name=name + "_0")
    y = torch_conv_bn(x, filters, 1, 1, name=name + "_1")
    y = torch_conv_bn(y, filters, 3, stride, name=name + "_2")
    y = torch_conv_bn(y, out_filters, 1, 1, activation=None, name=name + "_3")
    y = layers.Add(name=name + "_add")([shortcut, y])
    return layers.ReLU(name=name + "_out")(y)


def build_resnet(input_shape, *, blocks, block="basic", name="resnet"):
    """A torchvision ResNet without its pooling and classifier, in keras.applications' names.

    Args:
        input_shape: `(H, W, C)`.
        blocks: blocks per stage, e.g. `(2, 2, 2, 2)` (ResNet18), `(3, 4, 6, 3)` (ResNet34/50).
        block: "basic" (ResNet18/34) or "bottleneck" (ResNet50/101/152).

    Example:
        resnet18 = build_resnet((224, 224, 3), blocks=(2, 2, 2, 2), name="resnet18")
    """
    choice("block", block, ("basic", "bottleneck"), owner="build_resnet")
    if len(blocks) != 4:
        raise ValueError(f"build_resnet: blocks must give 4 stages. Received: blocks={blocks}")
    block_fn = basic_block if block == "basic" else bottleneck_block
    inputs = keras.Input(input_shape, name="input")
    x = torch_conv_bn(inputs, 64, 7, 2, name="conv1")  # stride 2, 64 channels
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)  # after a ReLU, zeros pad like torch's -inf
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)  # stride 4
    for stage, (count, filters) in enumerate(zip(blocks, (64, 128, 256, 512))):
        for index in range(count):
            stride = 2 if stage > 0 and index == 0 else 1
            x = block_fn(x, filters, stride, f"conv{stage + 2}_block{index + 1}")
    return keras.Model(inputs, x, name=name)


def _resnet_skips(blocks):
    return ("conv1_relu",) + tuple(f"conv{stage + 2}_block{count}_out" for stage, count in enumerate(blocks))


# ---------------------------------------------------------------------------- keras.applications, rebuilt


@keras.saving.register_keras_serializable(package="kcolor")
class ResidualScale(layers.Layer):
    """`inputs[0] + scale * inputs[1]`: InceptionResNetV2's scaled residual, serializable.

    keras.applications' own layer for this (`CustomScaleLayer`) is not registered, so a
    rebuilt InceptionResNetV2 would not reload from a `.keras` file in safe mode.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def _history(node_arg):
    return node_arg["config"]["keras_history"]


def _node_inputs(layer_config):
    """The `keras_history` entries that feed a layer in a functional config."""
    found = []

    def walk(value):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                found.append(_history(value))
            else:
                for v in value.values():
                    walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    walk(layer_config.get("inbound_nodes", []))
    return found


def _drop_layers(config, drop):
    """Remove single-input layers from a functional config, wiring their input through."""
    by_name = {layer["name"]: layer for layer in config["layers"]}
    replacement = {}
    for name in drop:
        (source,) = _node_inputs(by_name[name])
        replacement[name] = source
    for layer in config["layers"]:
        for history in _node_inputs(layer):
            while history[0] in replacement:
                history[:] = list(replacement[history[0]])
    config["layers"] = [layer for layer in config["layers"] if layer["name"] not in drop]
    return config


def _rebuild(base, *, input_shape, skips, edit=None, drop=(), custom_objects=None, name):
    """A keras.applications model rebuilt from its edited config, cut at its skip layers."""
    config = json.loads(json.dumps(base.get_config()))
    input_layer = config["layers"][0]
    input_layer["config"]["batch_shape"] = [None, *input_shape]
    for layer in config["layers"]:
        if edit is not None:
            edit(layer)
    config = _drop_layers(config, drop)
    skips = skips(config) if callable(skips) else skips
    rebuilt = keras.Model.from_config(config, custom_objects=custom_objects)  # consumes `config`
    outputs = [rebuilt.get_layer(s).output for s in skips]
    return keras.Model(rebuilt.inputs, outputs, name=name), tuple(skips)


def _same_padding_scaled_bn(layer):
    cfg = layer["config"]
    if cfg.get("padding") == "valid":
        cfg["padding"] = "same"
    if layer["class_name"] == "BatchNormalization":
        cfg["scale"] = True


def _inception_skips(config):
    pools = [layer for layer in config["layers"] if layer["class_name"] == "MaxPooling2D"]
    first_two = [_node_inputs(pool)[0][0] for pool in pools[:2]]
    return (*first_two, "block35_10_ac", "block17_20_ac", "conv_7b_ac")


def build_inception_resnet_v2(input_shape, name="inception_resnet_v2"):
    base = keras.applications.InceptionResNetV2(include_top=False, weights=None, input_shape=(None, None, input_shape[-1]))
    return _rebuild(
        base,
        input_shape=input_shape,
        skips=_inception_skips,
        edit=_same_padding_scaled_bn,
        custom_objects={"CustomScaleLayer": ResidualScale},
        name=name,
    )


EFFICIENTNET_B6_SKIPS = ("stem_activation", "block2f_add", "block3f_add", "block5h_add", "block7c_add")


def build_efficientnet_b6(input_shape, name="efficientnet_b6"):
    base = keras.applications.EfficientNetB6(include_top=False, weights=None, input_shape=(None, None, input_shape[-1]))
    preprocessing = [layer.name for layer in base.layers if isinstance(layer, (layers.Rescaling, layers.Normalization))]
    return _rebuild(base, input_shape=input_shape, skips=EFFICIENTNET_B6_SKIPS, drop=preprocessing, name=name)


# ---------------------------------------------------------------------------- the table


@dataclasses.dataclass(frozen=True)
class EncoderSpec:
    """How one encoder is built (`build(input_shape, name) -> (model, skips)`) and weighted."""

    build: Callable
    imagenet_url: str
    kind: str  # "torchvision" (safetensors of a torch state dict) or "keras" (keras.applications .h5)
    keras_app: Callable = None  # the keras.applications constructor its ImageNet file fits


_TIMM_HUB = "https://huggingface.co/timm/{}.tv_in1k/resolve/main/model.safetensors"


def _resnet_entry(blocks, block, hub_name):
    def build(input_shape, name):
        model = build_resnet(input_shape, blocks=blocks, block=block, name=name)
        skips = _resnet_skips(blocks)
        return keras.Model(model.inputs, [model.get_layer(s).output for s in skips], name=name), skips

    return EncoderSpec(build=build, imagenet_url=_TIMM_HUB.format(hub_name), kind="torchvision")


ENCODERS = {
    "resnet18": _resnet_entry((2, 2, 2, 2), "basic", "resnet18"),
    "resnet34": _resnet_entry((3, 4, 6, 3), "basic", "resnet34"),
    "resnet50": _resnet_entry((3, 4, 6, 3), "bottleneck", "resnet50"),
    "resnet101": _resnet_entry((3, 4, 23, 3), "bottleneck", "resnet101"),
    "resnet152": _resnet_entry((3, 8, 36, 3), "bottleneck", "resnet152"),
    "inception_resnet_v2": EncoderSpec(
        build=build_inception_resnet_v2,
        imagenet_url=KERAS_APPLICATIONS_URL
        + "inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        kind="keras",
        keras_app=lambda: keras.applications.InceptionResNetV2,
    ),
    "efficientnet_b6": EncoderSpec(
        build=build_efficientnet_b6,
        imagenet_url="https://storage.googleapis.com/keras-applications/efficientnetb6_notop.h5",
        kind="keras",
        keras_app=lambda: keras.applications.EfficientNetB6,
    ),
}


def get_encoder_spec(name):
    return ENCODERS[choice("encoder", name, ENCODERS, valid="encoders")]


def build_encoder(name, input_shape):
    """The encoder `name` on `input_shape`, outputs = its 5 skip features (strides 2..32).

    Example:
        encoder = build_encoder("resnet18", (64, 64, 1))
        [t.shape for t in encoder.outputs]   # 32, 16, 8, 4, 2 px
    """
    model, _ = get_encoder_spec(name).build(tuple(input_shape), name)
    return model


# ---------------------------------------------------------------------------- perceptual embeddings

# Frozen ImageNet networks whose features a perceptual loss compares. The default layers
# are what KMHCNet's author used (torchvision's `children()[:-2]`): VGG16's convolutional
# part up to its last max pool, ResNet50 up to its last stage.
EMBEDDINGS = {
    "vgg16": {
        "build": lambda: keras.applications.VGG16,
        "layer": "block5_pool",
        "url": KERAS_APPLICATIONS_URL + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    },
    "resnet50": {
        "build": lambda: keras.applications.ResNet50,
        "layer": "conv5_block3_out",
        "url": IMAGENET_URLS["resnet50_notop"],
    },
}


def build_embedding(name, *, layer=None, weights="imagenet"):
    """A frozen VGG16 or ResNet50 (keras.applications) cut at `layer`, reading RGB in [0, 255] caffe-style.

    Args:
        name: "vgg16" or "resnet50".
        layer: the output layer; default block5_pool (VGG16) / conv5_block3_out (ResNet50).
        weights: "imagenet" (downloaded once), a path to keras.applications' no-top
            ImageNet file, or None / "none" (random, for offline tests).

    The input is what `keras.applications.vgg16.preprocess_input` returns (both networks
    use the same "caffe" preprocessing: BGR, ImageNet channel means subtracted).

    Example:
        features = build_embedding("vgg16", weights="none")(preprocessed)
    """
    entry = EMBEDDINGS[choice("embedding", name, EMBEDDINGS, valid="embeddings")]
    layer = layer or entry["layer"]
    path = weights_path(parse_weights(weights), entry["url"])
    base = entry["build"]()(include_top=False, weights=path, input_shape=(None, None, 3))
    names = [l.name for l in base.layers]
    if layer not in names:
        raise ValueError(f"{name} has no layer {layer!r}. Valid layers: {', '.join(names[1:])}")
    model = keras.Model(base.inputs, base.get_layer(layer).output, name=f"{name}_{layer}")
    model.trainable = False
    return model


__all__ = [
    "ENCODERS",
    "EMBEDDINGS",
    "EncoderSpec",
    "build_embedding",
    "ResidualScale",
    "basic_block",
    "bottleneck_block",
    "build_encoder",
    "build_resnet",
    "get_encoder_spec",
    "torch_conv_bn",
]
