"""Parameter counts, including the "torch counting" the papers report.

PyTorch papers count conv/dense weights and biases plus BatchNorm gamma/beta, but not
BatchNorm's running mean/variance. In Keras that is every weight whose path does not
contain `moving`.
"""

import numpy as np


def _size(weight):
    return int(np.prod(weight.shape))


def count_params(model):
    """Return `{"total", "trainable", "non_trainable", "torch"}` parameter counts."""
    total = sum(_size(w) for w in model.weights)
    trainable = sum(_size(w) for w in model.trainable_weights)
    torch = sum(_size(w) for w in model.weights if "moving" not in w.path)
    return {
        "total": total,
        "trainable": trainable,
        "non_trainable": total - trainable,
        "torch": torch,
    }
