"""InceptionV3 (keras.applications) built offline, with its weights loaded separately.

Two users: Paper 004's generator fuses InceptionV3's 1000-d pre-softmax output, and
`kcolor.metrics.fid` reads its 2048-d pool features. Both build the architecture with
`weights=None` and then call `load_inception_weights`, so the same builder runs
offline (`weights=None`, random weights) or with a local weights file.

`weights` is one of:
- `"imagenet"`: keras.applications' ImageNet weights, downloaded once into
  `~/.keras/models/`. Without network this fails within seconds (a socket timeout
  bounds the wait) with a message saying how to build offline;
- `None` / `"none"`: random initial weights (offline; features not comparable with any
  published number);
- a path to a Keras weights file of the same architecture (`.h5` or `.weights.h5`).

Example:
    from kcolor.models.inception import build_inception_v3
    net = build_inception_v3(include_top=True, weights=None)      # logits, [B, 1000]
"""

import os
import socket

import keras

INPUT_SIZE = 299
_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
# (file name, md5) of keras.applications' InceptionV3 weights, with and without the top.
_WEIGHT_FILES = {
    True: ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5", "9a0d58056eeedaa3f26cb7ebd46da564"),
    False: ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "bcbd6486424b2319ff4ef7d526e38f63"),
}
DOWNLOAD_TIMEOUT_S = 20.0


def parse_weights(weights, *, what="weights"):
    """`None` | `"imagenet"` | an existing file path; anything else raises naming the choices."""
    if weights is None or (isinstance(weights, str) and weights.lower() in ("none", "null", "")):
        return None
    if weights == "imagenet":
        return "imagenet"
    if isinstance(weights, (str, os.PathLike)) and os.path.isfile(os.path.expanduser(str(weights))):
        return os.path.expanduser(str(weights))
    raise ValueError(
        f"Unknown {what} {weights!r}. Valid: 'imagenet' (download), 'none' (random, offline) "
        "or the path of an existing Keras weights file"
    )


def imagenet_weights_file(include_top):
    """Download (or find in the Keras cache) the ImageNet weights; fail fast offline."""
    fname, md5 = _WEIGHT_FILES[bool(include_top)]
    cached = os.path.join(os.path.expanduser("~"), ".keras", "models", fname)
    if os.path.isfile(cached):
        return cached
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return keras.utils.get_file(fname, _URL + fname, cache_subdir="models", file_hash=md5)
    except Exception as err:  # noqa: BLE001 - any failure means: no weights, say what to do
        raise RuntimeError(
            f"Could not download the ImageNet InceptionV3 weights ({_URL + fname}): {err}. "
            f"Without network, build with weights=none (--set weights=none; random weights), or put "
            f"{fname} in ~/.keras/models/ or pass weights=PATH to a local copy."
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


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
