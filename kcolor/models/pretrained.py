"""Pretrained encoder weights: `weights="imagenet" | "none" | PATH`, loaded apart from building.

A builder makes its encoder with `weights=None` (so the architecture never needs the
network) and then calls `load_encoder_weights(encoder, weights, IMAGENET_FILES[name])`:

- `"imagenet"`: the file in the Keras cache (`$KERAS_HOME/models`, default
  `~/.keras/models`), downloaded there first if it is missing
  (`kcolor.models.encoders.fetch_weights`). A download that cannot happen fails within
  seconds with `WeightsUnavailable`, saying what to do.
- `"none"` (or None): the random initialisation, offline.
- a path: a weights file of the same architecture (`.weights.h5`, or the legacy `.h5` of
  `keras.applications`, e.g. the ImageNet file copied from a machine with network).

Example:
    encoder = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(224, 224, 3))
    load_encoder_weights(encoder, "imagenet", IMAGENET_FILES["resnet50_notop"])
"""

import dataclasses
import os

from kcolor import fs
from kcolor.errors import KcolorError
from kcolor.models.encoders import DOWNLOAD_TIMEOUT_S, fetch_weights

WEIGHT_CHOICES = ("imagenet", "none", "PATH")


class WeightsUnavailable(KcolorError, FileNotFoundError):
    """Pretrained weights that are neither cached nor downloadable (no network)."""


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    file_name: str
    origin: str


_KERAS_APPS = "https://storage.googleapis.com/tensorflow/keras-applications/"

# The files keras.applications itself downloads (same names and URLs).
IMAGENET_FILES = {
    "resnet50_notop": WeightsFile(
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        _KERAS_APPS + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    ),
}


def parse_weights(weights):
    """`"imagenet"`, None (for None / "none") or an existing file path; anything else raises."""
    if weights is None or (isinstance(weights, str) and weights.lower() in ("none", "null", "")):
        return None
    if not isinstance(weights, str):
        raise ValueError(f"weights must be one of {', '.join(WEIGHT_CHOICES)}. Received: weights={weights!r}")
    if weights.lower() == "imagenet":
        return "imagenet"
    path = os.path.expanduser(weights)
    if not fs.isfile(path):
        raise FileNotFoundError(
            f"weights file '{weights}' does not exist. Valid weights: imagenet, none, or the path of a weights file"
        )
    return path


def imagenet_file(spec, *, timeout=DOWNLOAD_TIMEOUT_S):
    """The local path of `spec` (a `WeightsFile`), downloaded into the Keras cache if needed
    (by `kcolor.models.encoders.fetch_weights`, the one downloader).

    Raises:
        WeightsUnavailable: the file is not cached and cannot be downloaded; the message
            names the file, where to put it and the offline choices.
    """
    try:
        return fetch_weights(spec.origin, timeout=timeout)
    except RuntimeError as err:  # fetch_weights' "cannot download" error
        raise WeightsUnavailable(f"{spec.file_name}: {err}") from None


def load_encoder_weights(encoder, weights, imagenet, *, timeout=DOWNLOAD_TIMEOUT_S):
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
    "imagenet_file",
    "load_encoder_weights",
    "parse_weights",
]
