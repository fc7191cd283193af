"""SavedModel export: full-resolution colorization inside one TensorFlow graph.

The exported folder is a plain TensorFlow SavedModel. Loading and calling it needs
TensorFlow only (no kcolor, no custom layers): resizing, color conversion and chroma
upsampling (`kcolor.inference`) are traced into the graph next to the model.

Signatures:

| name              | inputs                                               | outputs                         |
|-------------------|------------------------------------------------------|---------------------------------|
| `serving_default` | `image`: uint8 [H, W, C], C = 1, 3 (4: alpha dropped) | `colorized`: uint8 [H, W, 3]    |
|                   | `reference`: uint8 [h, w, C] (reference models only)  |                                 |
| `colorize_float`  | the same, float32 in [0, 1]                          | `colorized`: float32 [H, W, 3]  |
| `predict`         | the model's own inputs at S x S, float32, by name     | `output`: the raw model output  |
| `preprocess`      | as `serving_default`                                 | the model's inputs at S x S that the in-graph path feeds it |
| `metadata`        | none                                                 | `model`, `io`, `image_size`     |

Example (in a process that never imports kcolor):
    m = tf.saved_model.load("runs/sample-pix2pix/export/savedmodel")
    rgb = m.signatures["serving_default"](image=tf.constant(gray_uint8))["colorized"]
"""

import numpy as np
import tensorflow as tf

from kcolor import fs
from kcolor import inference
from kcolor.models.io import IOSpec, get_io

SIGNATURES = ("serving_default", "colorize_float", "predict", "preprocess", "metadata")


def _image_spec(dtype, name):
    return tf.TensorSpec([None, None, None], dtype, name=name)


def _model_input_specs(io: IOSpec, image_size: int, batch):
    return [
        tf.TensorSpec([batch, *shape], tf.float32, name=name)
        for name, shape in io.input_shapes(image_size).items()
    ]


def build_archive(model, io: IOSpec, image_size: int, *, model_name: str = "", predict_batch=None, serving=True):
    """A `keras.export.ExportArchive` holding the colorizer and the four signatures.

    Args:
        model: the Keras colorizer; its Inputs are named as `io` says.
        io: the model's io spec.
        image_size: the model's training size S.
        model_name: the registry name written into the `metadata` signature.
        predict_batch: fixed batch size of the `predict` signature (None: any). TFLite
            conversion uses 1.
        serving: False writes the `predict` signature only (what TFLite conversion reads).

    Returns:
        The archive; call `.write_out(path)` to save it.
    """
    import keras

    inference.check_colorizer_inputs(model, io)
    names = list(io.input_shapes(image_size))

    def predict_fn(inputs):
        return inference.call_colorizer(model, inputs, training=False)

    def colorize(image, reference=None):
        rgb = inference.to_float_rgb(image)
        ref = inference.to_float_rgb(reference) if reference is not None else None
        return inference.colorize_rgb(rgb, predict_fn, io, image_size, ref)

    if io.uses_reference:

        def serve(image, reference):
            return {"colorized": inference.to_uint8(colorize(image, reference))}

        def serve_float(image, reference):
            return {"colorized": colorize(image, reference)}

        def preprocess(image, reference):
            return inference.prepare(inference.to_float_rgb(image), io, image_size, inference.to_float_rgb(reference))

        uint8_specs = [_image_spec(tf.uint8, "image"), _image_spec(tf.uint8, "reference")]
        float_specs = [_image_spec(tf.float32, "image"), _image_spec(tf.float32, "reference")]
    else:

        def serve(image):
            return {"colorized": inference.to_uint8(colorize(image))}

        def serve_float(image):
            return {"colorized": colorize(image)}

        def preprocess(image):
            return inference.prepare(inference.to_float_rgb(image), io, image_size)

        uint8_specs = [_image_spec(tf.uint8, "image")]
        float_specs = [_image_spec(tf.float32, "image")]

    def predict(*tensors):
        return {"output": tf.cast(predict_fn(dict(zip(names, tensors))), tf.float32)}

    def metadata():
        return {
            "model": tf.constant(model_name),
            "io": tf.constant(io.name),
            "image_size": tf.constant(image_size, tf.int32),
        }

    # No archive.track(model): each endpoint tracks the variables it uses, and tracking the
    # model as well stores every weight twice (as Keras and as TF variables).
    archive = keras.export.ExportArchive()
    if serving:
        archive.add_endpoint("serving_default", tf.function(serve), input_signature=uint8_specs)
        archive.add_endpoint("colorize_float", tf.function(serve_float), input_signature=float_specs)
        archive.add_endpoint("preprocess", tf.function(preprocess), input_signature=uint8_specs)
    archive.add_endpoint(
        "predict", tf.function(predict), input_signature=_model_input_specs(io, image_size, predict_batch)
    )
    if serving:
        archive.add_endpoint("metadata", tf.function(metadata), input_signature=[])
    return archive


def export_savedmodel(model, io: IOSpec, image_size: int, path, *, model_name: str = "") -> str:
    """Write the colorizer as a SavedModel folder at `path` (see the module docstring).

    `path` may be on any TensorFlow filesystem (`tf.saved_model.save` writes through gfile).
    """
    path = fs.path_str(path)
    build_archive(model, io, image_size, model_name=model_name).write_out(path, verbose=False)
    return path


class SavedModelColorizer(inference.Colorizer):
    """A colorizer loaded from an exported SavedModel folder.

    `colorize` runs the in-graph full-resolution path (`colorize_float`), `predict`
    the bare model at S x S.

    Example:
        colorizer = SavedModelColorizer("runs/sample-pix2pix/export/savedmodel")
        rgb = colorizer.colorize(photo)      # (H, W, 3) float32 → (H, W, 3)
    """

    kind = "savedmodel"

    def __init__(self, path):
        path = fs.path_str(path)
        if not fs.isfile(fs.join(path, "saved_model.pb")):
            raise FileNotFoundError(f"{path} is not a SavedModel folder (no saved_model.pb)")
        self.source = path
        self._loaded = tf.saved_model.load(path)
        missing = [s for s in SIGNATURES if s not in self._loaded.signatures]
        if missing:
            raise ValueError(
                f"SavedModel {path} lacks the signatures {missing}; it was not written by kcolor export "
                f"(expected: {', '.join(SIGNATURES)})"
            )
        meta = {k: v.numpy() for k, v in self._loaded.signatures["metadata"]().items()}
        self.io = get_io(meta["io"].decode())
        self.image_size = int(meta["image_size"])
        self.model_name = meta["model"].decode()
        self._predict = self._loaded.signatures["predict"]
        self._colorize = self._loaded.signatures["colorize_float"]

    def predict(self, inputs: dict) -> np.ndarray:
        feed = {name: tf.convert_to_tensor(inputs[name], tf.float32) for name in self.io.input_shapes(1)}
        return self._predict(**feed)["output"].numpy()

    def colorize(self, rgb, reference=None, *, frames=False) -> np.ndarray:
        """The in-graph path; for `frames` (a clip's frames, one size) the bare model with
        `inference.Colorizer`'s XLA-compiled Lab conversion, which is faster per frame."""
        if frames:
            return super().colorize(rgb, reference, frames=True)
        self.check_reference(reference)
        feed = {"image": tf.convert_to_tensor(rgb, tf.float32)}
        if self.io.uses_reference:
            feed["reference"] = tf.convert_to_tensor(reference, tf.float32)
        return self._colorize(**feed)["colorized"].numpy()

    def colorize_uint8(self, image, reference=None) -> np.ndarray:
        """The `serving_default` signature: uint8 [H, W, C] → uint8 [H, W, 3]."""
        self.check_reference(reference)
        feed = {"image": tf.convert_to_tensor(image, tf.uint8)}
        if self.io.uses_reference:
            feed["reference"] = tf.convert_to_tensor(reference, tf.uint8)
        return self._loaded.signatures["serving_default"](**feed)["colorized"].numpy()
