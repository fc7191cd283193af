"""InceptionV3 (keras.applications) built offline, with its weights loaded separately.

Two users: Paper 004's generator fuses InceptionV3's 1000-d pre-softmax output, and
`kcolor.metrics.fid` reads its 2048-d pool features. Both build the architecture with
`weights=None` and then call `load_inception_weights`, so the same builder runs
offline (`weights=None`, random weights) or with a local weights file.

`weights` is one of:
- `"imagenet"`: keras.applications' ImageNet weights, downloaded once into the Keras
  cache (`~/.keras/models/`) by `kcolor.models.pretrained`. Without network this fails
  within seconds (`WeightsUnavailable`) with a message saying how to build offline;
- `None` / `"none"`: random initial weights (offline; features not comparable with any
  published number);
- a path to a Keras weights file of the same architecture (`.h5` or `.weights.h5`).

Example:
    from kcolor.models.inception import build_inception_v3
    net = build_inception_v3(include_top=True, weights=None)      # logits, [B, 1000]
"""

import os

import keras

from kcolor import fs

INPUT_SIZE = 299
_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
# (file name, md5) of keras.applications' InceptionV3 weights, with and without the top.
_WEIGHT_FILES = {
    True: "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
    False: "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
}


def parse_weights(weights, *, what="weights"):
    """`None` | `"imagenet"` | an existing file path; anything else raises naming the choices."""
    if weights is None or (isinstance(weights, str) and weights.lower() in ("none", "null", "")):
        return None
    if weights == "imagenet":
        return "imagenet"
    if isinstance(weights, (str, os.PathLike)) and fs.isfile(os.path.expanduser(str(weights))):
        return os.path.expanduser(str(weights))
    raise ValueError(
        f"Unknown {what} {weights!r}. Valid: 'imagenet' (download), 'none' (random, offline) "
        "or the path of an existing Keras weights file"
    )


def imagenet_weights_file(include_top):
    """keras.applications' ImageNet file, from the Keras cache or downloaded there by
    kcolor's one downloader (`kcolor.models.pretrained.imagenet_file`); offline it raises
    `WeightsUnavailable` within seconds, naming the file and the offline choices."""
    from kcolor.models.pretrained import WeightsFile, imagenet_file

    fname = _WEIGHT_FILES[bool(include_top)]
    return imagenet_file(WeightsFile(fname, _URL + fname))


def load_inception_weights(model, weights, *, include_top):
    """Load `weights` (see the module docstring) into an InceptionV3 built by this module."""
    weights = parse_weights(weights)
    if weights is None:
        return model
    path = imagenet_weights_file(include_top) if weights == "imagenet" else weights
    model.load_weights(path)
    return model


def build_inception_v3(*, include_top, weights=None, pooling=None, name="inception_v3"):
    """keras.applications.InceptionV3 on 299x299x3 inputs in [-1, 1], weights loaded after.

    With `include_top` the output is the 1000-d logits (no softmax); without it and
    `pooling="avg"`, the 2048-d pool features.
    """
    weights = parse_weights(weights)
    net = keras.applications.InceptionV3(
        include_top=include_top,
        weights=None,
        input_shape=(INPUT_SIZE, INPUT_SIZE, 3),
        pooling=pooling,
        classifier_activation=None,
        name=name,
    )
    return load_inception_weights(net, weights, include_top=include_top)


def weights_label(weights):
    """How outputs name the network: e.g. 'keras.applications InceptionV3 (imagenet)'."""
    weights = parse_weights(weights)
    kind = "random weights=None" if weights is None else ("imagenet" if weights == "imagenet" else f"file {weights}")
    return f"keras.applications InceptionV3 ({kind})"


__all__ = ["INPUT_SIZE", "build_inception_v3", "imagenet_weights_file", "load_inception_weights", "parse_weights", "weights_label"]
