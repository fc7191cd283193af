"""Pretrained weights: the `weights` option, the one downloader, and one loader per source.

Every builder makes its networks with random weights (so an architecture never needs the
network) and loads weights as a separate step. The `weights` option of every model with
a pretrained part reads one grammar (`parse_weights`):

- `"imagenet"` (any case): the ImageNet file, from the Keras cache (`$KERAS_HOME/models`,
  default `~/.keras/models`) or downloaded there first by `fetch_weights`. A download
  that cannot happen fails within seconds with `kcolor.errors.DownloadUnavailable`,
  naming the file, its URL and the offline choices;
- None, `"none"`, `"null"` or `""`: the random initialisation, offline;
- a path (`~` expanded, on any TensorFlow filesystem): that same file already on disk, offline.

| loader                                  | source                                                              | used by |
|-----------------------------------------|---------------------------------------------------------------------|---------|
| `load_keras_application_weights`        | a keras.applications file (`.h5`, `.weights.h5`), same architecture | `cgan` (ResNet50), `inception` (InceptionV3: `vit_i_gan`, FID) |
| `load_rebuilt_keras_application_weights`| the same files, into an encoder rebuilt from keras.applications' graph | `encoders`: inception_resnet_v2, efficientnet_b6 |
| `load_torchvision_resnet_weights`       | a torchvision ResNet state dict in safetensors form (timm's)        | `encoders`: resnet18 .. resnet152 |
| `load_imagenet_encoder_weights`         | the `weights` option of an `encoders.ENCODERS` entry (one of the two above) | `kmhcnet` |
| `load_encoder_from_run`                 | the encoder of a trained `ref_autoencoder` run folder               | `stable` (Paper 000) |

When an encoder reads fewer than 3 channels (L alone), its first conv's ImageNet kernel
is adapted as segmentation_models_pytorch does (`adapt_first_kernel`).

Example:
    encoder = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(224, 224, 3))
    load_keras_application_weights(encoder, "imagenet", IMAGENET_URLS["resnet50_notop"])
"""

import json
import os
import socket
import struct
import urllib.parse
from pathlib import Path

import keras
import numpy as np
from keras import layers

from kcolor import fs
from kcolor.errors import DownloadUnavailable, UnknownWeights

DOWNLOAD_TIMEOUT_S = 5.0
# keras.applications' weight files live here (a few under https://storage.googleapis.com/keras-applications/).
KERAS_APPLICATIONS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
# The files keras.applications itself downloads (same names and URLs).
IMAGENET_URLS = {
    "resnet50_notop": KERAS_APPLICATIONS_URL + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "inception_v3": KERAS_APPLICATIONS_URL + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
    "inception_v3_notop": KERAS_APPLICATIONS_URL
    + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
}
# The file a training run writes its colorizer to.
RUN_MODEL_FILE = "colorizer.keras"

# ---------------------------------------------------------------------------- the option


def parse_weights(weights, *, what="weights"):
    """`None` | `"imagenet"` | the expanded path of an existing file; anything else raises.

    Raises:
        UnknownWeights (a ConfigError and a FileNotFoundError): neither "imagenet" nor
            "none" nor an existing file; the message names `what`, the value and the choices.
    """
    if weights is None or (isinstance(weights, str) and weights.lower() in ("none", "null", "")):
        return None
    if isinstance(weights, str) and weights.lower() == "imagenet":
        return "imagenet"
    if isinstance(weights, (str, os.PathLike)) and fs.isfile(fs.expand_path(weights)):
        return fs.expand_path(weights)  # `~` and `$VARS`, as every user path
    raise UnknownWeights(
        f"Unknown {what} {weights!r} (no such file). Valid: 'imagenet' (download), 'none' (random, offline) "
        "or the path of an existing weights file"
    )


# ---------------------------------------------------------------------------- the downloader


def fetch_weights(url, *, cache_dir=None, timeout=DOWNLOAD_TIMEOUT_S):
    """The local path of the file at `url`, downloaded into the Keras cache if missing.

    Checks that the host answers within `timeout` seconds before downloading, so an
    offline machine gets a clear error at once instead of a hanging or retrying fetch.

    Raises:
        DownloadUnavailable: the file is not cached and cannot be downloaded; the message
            names the file, the URL, where to put the file and the offline choices.
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
            f"{fname}: Could not download ImageNet weights from {url} ({type(err).__name__}: {err}). "
            f"Without a network, download that file elsewhere and pass its path (weights=PATH), "
            f"put it at {cached}, or build with weights=none (random initialization)."
        ) from None


def weights_path(weights, imagenet_url, *, timeout=DOWNLOAD_TIMEOUT_S):
    """The file a parsed `weights` value names: the cached (or downloaded) ImageNet file, or the path; None for none."""
    if weights == "imagenet":
        return fetch_weights(imagenet_url, timeout=timeout)
    return weights


# ---------------------------------------------------------------------------- keras.applications files


def load_keras_application_weights(model, weights, imagenet_url, *, timeout=DOWNLOAD_TIMEOUT_S):
    """Load `weights` ("imagenet", "none"/None or a path) into `model`, built by keras.applications.

    `imagenet_url`: the keras.applications file for this architecture (`IMAGENET_URLS`).
    Returns what was loaded: "imagenet", the path, or None (left random).

    Example:
        load_keras_application_weights(resnet50, "imagenet", IMAGENET_URLS["resnet50_notop"])
    """
    weights = parse_weights(weights)
    if weights is not None:
        model.load_weights(weights_path(weights, imagenet_url, timeout=timeout))
    return weights


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


def load_rebuilt_keras_application_weights(encoder, keras_app, path):
    """Copy a keras.applications file into `encoder`, a graph rebuilt from that application's config.

    The weighted layers are matched in order (the rebuild keeps them, and drops the
    input preprocessing, whose Normalization is skipped here). A BatchNorm that
    keras.applications builds without scale gets gamma 1; the first conv's kernel is
    adapted to the encoder's input channels.

    Args:
        encoder: the rebuilt encoder (`kcolor.models.encoders`), named as its table entry.
        keras_app: the keras.applications constructor whose file `path` is.
        path: the local file.
    """
    reference = keras_app(include_top=False, weights=path, input_shape=(None, None, 3))
    theirs = [layer for layer in reference.layers if layer.weights and not isinstance(layer, layers.Normalization)]
    ours = [layer for layer in encoder.layers if layer.weights]
    first_conv = True
    for mine, ref in zip(ours, theirs):
        if type(ref).__name__ != type(mine).__name__ and not isinstance(mine, type(ref)):
            raise ValueError(
                f"{encoder.name}: layer {mine.name} ({type(mine).__name__}) meets {ref.name} ({type(ref).__name__})"
            )
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


# ---------------------------------------------------------------------------- torchvision ResNets


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
    """`{torch tensor name: keras variable}` for a ResNet encoder built by `kcolor.models.encoders`."""
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


def load_torchvision_resnet_weights(encoder, path):
    """Copy a torchvision ResNet state dict (a safetensors file) into a ResNet encoder built here.

    Kernels go from torch's OIHW to Keras' HWIO; the first conv's is adapted to the
    encoder's input channels; tensors the encoder has no use for (`fc.*`) are ignored.
    """
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


def load_imagenet_encoder_weights(encoder, spec, weights):
    """Fill `encoder`, built from `spec` (an `encoders.ENCODERS` entry), with `weights`.

    Args:
        weights: "imagenet" (the entry's file, downloaded once into the Keras cache), a
            path to that same file already on disk, or None / "none" (keep the random init).

    Example:
        load_imagenet_encoder_weights(encoder, get_encoder_spec("resnet34"), "imagenet")
    """
    path = weights_path(parse_weights(weights), spec.imagenet_url)
    if path is None:
        return encoder
    if spec.kind == "torchvision":
        load_torchvision_resnet_weights(encoder, path)
    else:
        load_rebuilt_keras_application_weights(encoder, spec.keras_app(), path)
    return encoder


# ---------------------------------------------------------------------------- a trained run (Paper 000)


def _run_model_file(run_dir):
    path = fs.expand_path(fs.path_str(run_dir))
    if not fs.exists(path):
        raise FileNotFoundError(
            f"encoder_from={run_dir!r} does not exist. Valid: a ref_autoencoder run folder "
            f"(holding {RUN_MODEL_FILE}) or a .keras file"
        )
    if fs.isdir(path):
        path = fs.join(path, RUN_MODEL_FILE)
    elif not path.endswith(".keras"):
        raise FileNotFoundError(
            f"encoder_from must be a ref_autoencoder run folder (holding {RUN_MODEL_FILE}) or a "
            f".keras file. Received: encoder_from={run_dir!r}"
        )
    if not fs.isfile(path):
        raise FileNotFoundError(
            f"encoder_from={run_dir!r}: no trained model at {path!r}. Train the autoencoder first, "
            "e.g. `kcolor train --config ref_autoencoder_coco`, and pass its run folder"
        )
    return path


def _sub_model(model, name):
    try:
        layer = model.get_layer(name)
    except ValueError:
        return None
    return layer if isinstance(layer, keras.Model) else None


def load_encoder_from_run(model, run_dir, *, encoder_name):
    """Copy the encoder of a trained `ref_autoencoder` run (Paper 000) into `model`'s.

    Args:
        model: a model with an `encoder_name` sub-model (e.g. `stable.build_stable_colorizer`).
        run_dir: a `ref_autoencoder` run folder holding `colorizer.keras`, or a `.keras` file.
        encoder_name: the name of the encoder sub-model in both (`stable.ENCODER_NAME`).

    Returns:
        The path of the `.keras` file the weights came from.

    Raises:
        FileNotFoundError: the folder or its `colorizer.keras` is missing.
        ValueError: the file is not a ref_autoencoder, or its encoder does not fit.

    Example:
        load_encoder_from_run(model, "runs/ref_autoencoder_coco-ref_autoencoder", encoder_name="ref_encoder")
    """
    path = _run_model_file(run_dir)
    source = keras.models.load_model(path, compile=False, safe_mode=True)
    source_encoder = _sub_model(source, encoder_name)
    if source_encoder is None:
        raise ValueError(
            f"encoder_from={run_dir!r}: {path!r} holds model '{source.name}', not a ref_autoencoder "
            f"(it has no '{encoder_name}' sub-model). Valid: a run folder of model 'ref_autoencoder'"
        )
    target_encoder = _sub_model(model, encoder_name)
    if target_encoder is None:
        raise ValueError(f"Model '{model.name}' has no '{encoder_name}' sub-model to load weights into")
    src = source_encoder.get_weights()
    dst = target_encoder.get_weights()
    src_shapes = [w.shape for w in src]
    dst_shapes = [w.shape for w in dst]
    if src_shapes != dst_shapes:
        raise ValueError(
            f"encoder_from={run_dir!r}: its encoder weight shapes {src_shapes} do not match "
            f"the colorizer's {dst_shapes}"
        )
    target_encoder.set_weights(src)
    return path


__all__ = [
    "DOWNLOAD_TIMEOUT_S",
    "IMAGENET_URLS",
    "KERAS_APPLICATIONS_URL",
    "RUN_MODEL_FILE",
    "adapt_first_kernel",
    "fetch_weights",
    "load_encoder_from_run",
    "load_imagenet_encoder_weights",
    "load_keras_application_weights",
    "load_rebuilt_keras_application_weights",
    "load_torchvision_resnet_weights",
    "parse_weights",
    "read_safetensors",
    "torchvision_weight_map",
    "weights_path",
]
