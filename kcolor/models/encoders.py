"""Pretrained encoders for U-Net-style decoders: one table, five skips at strides 2 to 32.

`ENCODERS` maps an encoder name to how it is built and where its five skip features
are. `build_encoder(name, input_shape)` returns a Keras model whose outputs are those
features, finest first (strides 2, 4, 8, 16, 32); `load_encoder_weights(encoder, name,
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
fails within seconds, naming the URL and the offline choices.

`EMBEDDINGS` / `build_embedding` are the frozen ImageNet feature networks (VGG16,
ResNet50 from keras.applications) of KMHCNet's perceptual losses
(`kcolor.training.losses.ColorLoss`). `fetch_weights` is the one downloader of
pretrained files (`kcolor.models.pretrained` uses it too); offline it raises
`DownloadUnavailable`.

Example:
    encoder = build_encoder("resnet34", (256, 256, 1))   # outputs: 5 feature maps
    load_encoder_weights(encoder, "resnet34", "imagenet")
"""

import dataclasses
import json
import os
import socket
import struct
import urllib.parse
from pathlib import Path
from typing import Callable

import keras
import numpy as np
from keras import layers

from kcolor import fs
from kcolor.errors import KcolorError
from kcolor.models.blocks import TORCH_BN_EPSILON, TORCH_BN_MOMENTUM, conv_bn_act
from kcolor.models.options import choice

DOWNLOAD_TIMEOUT_S = 5.0

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
_KERAS_APPS = "https://storage.googleapis.com/"  # keras.applications' weight files live here


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
        imagenet_url=_KERAS_APPS
        + "tensorflow/keras-applications/inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        kind="keras",
        keras_app=lambda: keras.applications.InceptionResNetV2,
    ),
    "efficientnet_b6": EncoderSpec(
        build=build_efficientnet_b6,
        imagenet_url=_KERAS_APPS + "keras-applications/efficientnetb6_notop.h5",
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


# ---------------------------------------------------------------------------- weights


class DownloadUnavailable(KcolorError, FileNotFoundError, RuntimeError):
    """A weights file that is neither cached nor downloadable (no network): the CLI prints it in one line."""


def fetch_weights(url, *, cache_dir=None, timeout=DOWNLOAD_TIMEOUT_S):
    """The local path of the file at `url`, downloaded into the Keras cache if missing.

    Checks that the host answers within `timeout` seconds before downloading, so an
    offline machine gets a clear error at once instead of a hanging or retrying fetch.
    """
    fname = os.path.basename(urllib.parse.urlparse(url).path)
    if "huggingface.co/timm/" in url:  # every timm file is called model.safetensors
        fname = url.split("/timm/")[1].split("/")[0] + ".safetensors"
    cache_dir = Path(cache_dir or os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    cached = cache_dir / "models" / fname
    if cached.exists():
        return str(cached)
    host = urllib.parse.urlparse(url).hostname
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return keras.utils.get_file(fname, url, cache_dir=str(cache_dir), cache_subdir="models")
    except Exception as err:  # DNS failure, refused, timeout, HTTP error
        raise DownloadUnavailable(
            f"Could not download ImageNet weights from {url} ({type(err).__name__}: {err}). "
            f"Without a network, download that file elsewhere and pass its path (weights=PATH), "
            f"put it at {cached}, or build with weights=none (random initialization)."
        ) from None


def read_safetensors(path):
    """A safetensors file as `{name: numpy array}` (the format is a JSON header + raw bytes)."""
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    data = fs.read_bytes(path)  # local or on any TensorFlow filesystem
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_size])
    body = memoryview(data)[8 + header_size :]
    tensors = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if info["dtype"] not in dtypes:
            raise ValueError(f"{path}: tensor {key} has unsupported dtype {info['dtype']}")
        start, end = info["data_offsets"]
        array = np.frombuffer(body[start:end], dtype=dtypes[info["dtype"]])
        tensors[key] = array.reshape(info["shape"]).astype(np.float32)
    return tensors


def _torch_name(layer_name):
    """keras-style ResNet layer name → torchvision state-dict prefix (None: no weights)."""
    if layer_name == "conv1_conv":
        return "conv1"
    if layer_name == "conv1_bn":
        return "bn1"
    if not layer_name.startswith("conv") or "_block" not in layer_name:
        return None
    stage, rest = layer_name[4:].split("_block", 1)
    parts = rest.split("_")
    if len(parts) != 3 or parts[2] not in ("conv", "bn"):
        return None  # _add, _out, _relu, _pad: no weights
    block, index, kind = parts
    prefix = f"layer{int(stage) - 1}.{int(block) - 1}."
    if index == "0":
        return prefix + ("downsample.0" if kind == "conv" else "downsample.1")
    return prefix + f"{kind}{index}"


def torchvision_weight_map(encoder):
    """`{torch tensor name: keras variable}` for a ResNet encoder built here."""
    mapping = {}
    for layer in encoder.layers:
        prefix = _torch_name(layer.name)
        if prefix is None or not layer.weights:
            continue
        if isinstance(layer, layers.Conv2D):
            mapping[prefix + ".weight"] = layer.kernel
        else:
            mapping[prefix + ".weight"] = layer.gamma
            mapping[prefix + ".bias"] = layer.beta
            mapping[prefix + ".running_mean"] = layer.moving_mean
            mapping[prefix + ".running_var"] = layer.moving_variance
    return mapping


def adapt_first_kernel(kernel, channels):
    """An RGB first-conv kernel `[h, w, 3, out]` for `channels` inputs, as segmentation_models_pytorch does.

    One channel: the sum over R, G and B. Two: the first two. More than three: the RGB
    kernel repeated, scaled by 3 / channels.
    """
    if kernel.shape[2] == channels:
        return kernel
    if channels == 1:
        return kernel.sum(axis=2, keepdims=True)
    if channels < 3:
        return kernel[:, :, :channels]
    reps = -(-channels // 3)
    return np.concatenate([kernel] * reps, axis=2)[:, :, :channels] * (3.0 / channels)


def _load_torchvision(encoder, path):
    tensors = read_safetensors(path)
    mapping = torchvision_weight_map(encoder)
    missing = sorted(set(mapping) - set(tensors))
    if missing:
        raise ValueError(f"{path} is not a torchvision ResNet state dict for {encoder.name}: missing {missing[:5]}")
    for key, variable in mapping.items():
        value = tensors[key]
        if value.ndim == 4:  # torch OIHW → Keras HWIO
            value = value.transpose(2, 3, 1, 0)
            if key == "conv1.weight":
                value = adapt_first_kernel(value, variable.shape[2])
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{path}: {key} has shape {value.shape}, {variable.path} wants {variable.shape}")
        variable.assign(value)


def _load_keras(encoder, name, path):
    reference = get_encoder_spec(name).keras_app()(include_top=False, weights=path, input_shape=(None, None, 3))
    theirs = [layer for layer in reference.layers if layer.weights and not isinstance(layer, layers.Normalization)]
    ours = [layer for layer in encoder.layers if layer.weights]
    first_conv = True
    for mine, ref in zip(ours, theirs):
        if type(ref).__name__ != type(mine).__name__ and not isinstance(mine, type(ref)):
            raise ValueError(f"{name}: layer {mine.name} ({type(mine).__name__}) meets {ref.name} ({type(ref).__name__})")
        values = {w.path.rsplit("/", 1)[-1]: w.numpy() for w in ref.weights}
        for variable in mine.weights:
            key = variable.path.rsplit("/", 1)[-1]
            if key == "gamma" and key not in values:  # keras' BatchNorm without scale: gamma 1
                variable.assign(np.ones(variable.shape, np.float32))
                continue
            value = values[key]
            if first_conv and key == "kernel":
                value = adapt_first_kernel(value, variable.shape[2])
                first_conv = False
            variable.assign(value)


def load_encoder_weights(encoder, name, weights):
    """Fill `encoder` (built by `build_encoder(name, ...)`) with `weights`.

    Args:
        weights: "imagenet" (downloaded once into the Keras cache), a path to the same
            ImageNet file already on disk, or None / "none" (keep the random init).

    Example:
        load_encoder_weights(encoder, "efficientnet_b6", "~/weights/efficientnetb6_notop.h5")
    """
    spec = get_encoder_spec(name)
    if weights is None or str(weights).lower() == "none":
        return encoder
    if weights == "imagenet":
        path = fetch_weights(spec.imagenet_url)
    else:
        path = os.path.expanduser(str(weights))
        if not fs.isfile(path):
            raise ValueError(
                f"weights must be 'imagenet', 'none' or the path of an existing weights file. Received: weights={weights!r}"
            )
    if spec.kind == "torchvision":
        _load_torchvision(encoder, path)
    else:
        _load_keras(encoder, name, path)
    return encoder


# ---------------------------------------------------------------------------- perceptual embeddings

# Frozen ImageNet networks whose features a perceptual loss compares. The default layers
# are what KMHCNet's author used (torchvision's `children()[:-2]`): VGG16's convolutional
# part up to its last max pool, ResNet50 up to its last stage.
EMBEDDINGS = {
    "vgg16": {
        "build": lambda: keras.applications.VGG16,
        "layer": "block5_pool",
        "url": _KERAS_APPS
        + "tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    },
    "resnet50": {
        "build": lambda: keras.applications.ResNet50,
        "layer": "conv5_block3_out",
        "url": _KERAS_APPS
        + "tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
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
    if weights is None or str(weights).lower() == "none":
        path = None
    elif weights == "imagenet":
        path = fetch_weights(entry["url"])
    else:
        path = os.path.expanduser(str(weights))
        if not fs.isfile(path):
            raise ValueError(
                f"Embedding weights must be 'imagenet', 'none' or an existing file. Received: weights={weights!r}"
            )
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
    "DownloadUnavailable",
    "EncoderSpec",
    "build_embedding",
    "ResidualScale",
    "adapt_first_kernel",
    "basic_block",
    "bottleneck_block",
    "build_encoder",
    "build_resnet",
    "fetch_weights",
    "get_encoder_spec",
    "load_encoder_weights",
    "read_safetensors",
    "torchvision_weight_map",
]
