"""Saving a colorizer as a plain Keras file that travels.

A `colorizer.keras` must load with `keras.saving.load_model(path, safe_mode=True)` in a
process that has TensorFlow and Keras but has never imported kcolor. Training-only
speed layers stay in training: `standard_keras` rebuilds the network with each of them
replaced by the Keras layer it stands in for (`FusedBatchNormalization` →
`keras.layers.BatchNormalization`: same config, same weights, same inference maths),
and `save_colorizer` writes that copy, whole or not at all.

A colorizer trained under a mixed-precision policy (`mixed_bfloat16`, `mixed_float16`)
is saved as a float32 model: the copy's layers get the `float32` policy (the variables
were float32 already), so the file computes in float32 wherever it is loaded.

A colorizer may hold no other custom layer; `save_colorizer` refuses one by name, so a
file that would need kcolor to load is never written. (Discriminators are training-only
and stay in checkpoints, where custom layers are fine.)

Example:
    save_colorizer(networks["colorizer"], "runs/x/colorizer.keras")
"""

import os

import keras

from kcolor.models.blocks import all_layers
from kcolor.models.layers import FusedBatchNormalization

# Training-only layer class → the standard Keras class that replaces it when saved.
STANDARD_REPLACEMENTS = {FusedBatchNormalization: keras.layers.BatchNormalization}


def _is_standard(layer) -> bool:
    module = type(layer).__module__
    return module.startswith("keras.") or module == "keras"


def _float32_policy(layer) -> bool:
    policy = getattr(layer, "dtype_policy", None)
    return policy is None or getattr(policy, "name", "float32") == "float32"


def standard_keras(model):
    """`model` with every training-only layer replaced by its standard Keras layer, in float32.

    Returns `model` itself when it has no such layer and every layer has the float32 policy. The copy shares no variables with `model`:
    it holds copies of the current weights (trainable flags kept).

    Raises:
        ValueError: `model` holds a custom layer that has no standard replacement; the
            message names it.
    """
    custom = [
        layer
        for layer in all_layers(model)
        if not _is_standard(layer) and type(layer) not in STANDARD_REPLACEMENTS and not isinstance(layer, keras.Model)
    ]
    if custom:
        names = ", ".join(f"{layer.name} ({type(layer).__module__}.{type(layer).__name__})" for layer in custom)
        raise ValueError(
            f"Colorizer '{model.name}' holds custom layers that a plain Keras install cannot load: {names}. "
            f"Build colorizers from keras.layers (or add a standard replacement in kcolor.models.saving)"
        )
    layers = list(all_layers(model))
    if not any(type(layer) in STANDARD_REPLACEMENTS for layer in layers) and all(map(_float32_policy, layers)):
        return model

    def replace(layer):
        cls = STANDARD_REPLACEMENTS.get(type(layer), layer.__class__)
        config = layer.get_config()
        if not _float32_policy(layer):
            config["dtype"] = "float32"  # a mixed policy does not travel into the saved file
        return cls.from_config(config)

    copy = keras.models.clone_model(model, clone_function=replace, recursive=True)
    copy.set_weights(model.get_weights())
    for source, target in zip(all_layers(model), all_layers(copy)):
        target.trainable = source.trainable
    return copy


def save_colorizer(model, path) -> str:
    """Write `standard_keras(model)` to `path` (a `.keras` file), atomically.

    `path` may be on any TensorFlow filesystem (`gs://`, `ram://`): Keras 3 `model.save`
    zips a remote `.keras` file in memory and writes it with gfile, so no local file is
    made; the temporary file is then renamed into place (`kcolor.fs.atomic_write`).
    """
    from kcolor.fs import atomic_write

    plain = standard_keras(model)
    atomic_write(path, lambda tmp: plain.save(tmp), suffix=".keras")
    return os.fspath(path)


__all__ = ["STANDARD_REPLACEMENTS", "save_colorizer", "standard_keras"]
