"""InceptionV3 (keras.applications) built offline, with its weights loaded separately.

Two users: Paper 004's generator fuses InceptionV3's 1000-d pre-softmax output, and
`kcolor.metrics.fid` reads its 2048-d pool features. Both build the architecture with
`weights=None` and then load the weights (`kcolor.models.weights`), so the same builder runs
offline (`weights=None`, random weights) or with a local weights file.

`weights` reads `kcolor.models.weights.parse_weights`' grammar:
- `"imagenet"`: keras.applications' ImageNet weights, downloaded once into the Keras
  cache (`~/.keras/models/`) by `kcolor.models.weights.fetch_weights`. Without network
  this fails within seconds (`kcolor.errors.DownloadUnavailable`) with a message saying
  how to build offline;
- `None` / `"none"`: random initial weights (offline; features not comparable with any
  published number);
- a path to a Keras weights file of the same architecture (`.h5` or `.weights.h5`).

Example:
    from kcolor.models.inception import build_inception_v3
    net = build_inception_v3(include_top=True, weights=None)      # logits, [B, 1000]
"""

import keras

from kcolor.models.weights import IMAGENET_URLS, load_keras_application_weights, parse_weights

INPUT_SIZE = 299


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
    load_keras_application_weights(net, weights, IMAGENET_URLS["inception_v3" if include_top else "inception_v3_notop"])
    return net


def weights_label(weights):
    """How outputs name the network: e.g. 'keras.applications InceptionV3 (imagenet)'."""
    weights = parse_weights(weights)
    kind = "random weights=None" if weights is None else ("imagenet" if weights == "imagenet" else f"file {weights}")
    return f"keras.applications InceptionV3 ({kind})"


__all__ = ["INPUT_SIZE", "build_inception_v3", "weights_label"]
