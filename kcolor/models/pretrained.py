"""Pretrained encoder weights: `weights="imagenet" | "none" | PATH`, loaded apart from building.

A builder makes its encoder with `weights=None` (so the architecture never needs the
network) and then calls `load_encoder_weights(encoder, weights, IMAGENET_FILES[name])`:

- `"imagenet"`: the file in the Keras cache (`$KERAS_HOME/models`, default
  `~/.keras/models`), downloaded there first if it is missing. A download that cannot
  happen fails within `timeout` seconds with `WeightsUnavailable`, saying what to do.
- `"none"` (or None): the random initialisation, offline.
- a path: a weights file of the same architecture (`.weights.h5`, or the legacy `.h5` of
  `keras.applications`, e.g. the ImageNet file copied from a machine with network).

Example:
    encoder = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(224, 224, 3))
    load_encoder_weights(encoder, "imagenet", IMAGENET_FILES["resnet50_notop"])
"""

import dataclasses
import os
import socket
from urllib.parse import urlparse

import keras

WEIGHT_CHOICES = ("imagenet", "none", "PATH")


class WeightsUnavailable(FileNotFoundError):
    """Pretrained weights that are neither cached nor downloadable (no network)."""


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    file_name: str
    origin: str
    file_hash: str


_KERAS_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"

# The files keras.applications itself downloads (same names, URLs and MD5 hashes).
IMAGENET_FILES = {
    "resnet50_notop": WeightsFile(
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        _KERAS_APPS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "4d473c1dd8becc155b73f8504c6f6626",
    ),
}


def cache_dir():
    """Keras' download cache root: `$KERAS_HOME`, else `~/.keras`."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def parse_weights(weights):
    """`"imagenet"`, None (for None / "none") or an existing file path; anything else raises."""
    if weights is None or (isinstance(weights, str) and weights.lower() in ("none", "null", "")):
        return None
    if not isinstance(weights, str):
        raise ValueError(f"weights must be one of {', '.join(WEIGHT_CHOICES)}. Received: weights={weights!r}")
    if weights.lower() == "imagenet":
        return "imagenet"
    path = os.path.expanduser(weights)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"weights file '{weights}' does not exist. Valid weights: imagenet, none, or the path of a weights file"
        )
    return path


def _reachable(url, timeout):
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def imagenet_file(spec, *, timeout=5.0):
    """The local path of `spec` (a `WeightsFile`), downloading it into the Keras cache if needed.

    Raises:
        WeightsUnavailable: the file is not cached and its host cannot be reached within
            `timeout` seconds.
    """
    root = cache_dir()
    cached = os.path.join(root, "models", spec.file_name)
    if os.path.isfile(cached):
        return cached
    if not _reachable(spec.origin, timeout):
        raise WeightsUnavailable(
            f"ImageNet weights '{spec.file_name}' are not in {os.path.dirname(cached)} and "
            f"{urlparse(spec.origin).hostname} cannot be reached (no network?). Build offline with "
            f"--set weights=none, or download {spec.origin} on a machine with network and either copy it to "
            f"{cached} or pass --set weights=PATH"
        )
    return keras.utils.get_file(
        spec.file_name, spec.origin, cache_subdir="models", cache_dir=root, file_hash=spec.file_hash
    )


def load_encoder_weights(encoder, weights, imagenet, *, timeout=5.0):
    """Load `weights` ("imagenet", "none"/None or a path) into the built `encoder`.

    Returns what was loaded: "imagenet", the path, or None (left random).
    """
    weights = parse_weights(weights)
    if weights is None:
        return None
    path = imagenet_file(imagenet, timeout=timeout) if weights == "imagenet" else weights
    encoder.load_weights(path)
    return weights


__all__ = [
    "IMAGENET_FILES",
    "WEIGHT_CHOICES",
    "WeightsFile",
    "WeightsUnavailable",
    "cache_dir",
    "imagenet_file",
    "load_encoder_weights",
    "parse_weights",
]
