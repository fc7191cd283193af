"""TFLite export (float32, float16, dynamic-range, full int8) and LiteRT execution.

The `.tflite` file holds the bare colorizer at its training size S, batch 1, with one
signature `predict` whose inputs are the model's Keras Input names (`gray`, `L`,
`rgb`, `reference`) and whose output is `output`. TFLite cannot take the arbitrary
image sizes the SavedModel takes, so the caller resizes: `TFLiteColorizer.colorize`
runs the shared full-resolution path of `kcolor.inference` around the interpreter.

Only TFLite builtin ops are allowed (no Flex/Select TF ops), so the file runs on the
standalone LiteRT interpreter (`ai-edge-litert`). Full int8 calibrates on a
representative sample of the run's own data; its inputs and outputs stay float32 (the
converter adds the quantize/dequantize ops), and the Lab color conversion stays
outside the file, in float, since int8 wipes out a and b (measured: a and b come out all zero).

| quantize  | weights | activations | notes                                 |
|-----------|---------|-------------|---------------------------------------|
| `none`    | float32 | float32     |                                       |
| `float16` | float16 | float32     | weights dequantized at load           |
| `dynamic` | int8    | float32     | int8 kernels where they exist         |
| `int8`    | int8    | int8        | float ops only where no int8 kernel   |

Example:
    blob = convert_tflite(model, io, 256, quantize="int8", representative=batches)
    colorizer = TFLiteColorizer("pix2pix.tflite")
"""

import collections
import os
import tempfile
import warnings

import numpy as np
import tensorflow as tf

from kcolor import fs
from kcolor import inference
from kcolor.models.io import IOSpec

QUANTIZE = ("none", "float16", "dynamic", "int8")
SIGNATURE = "predict"


def _check_quantize(quantize):
    if quantize not in QUANTIZE:
        raise ValueError(f"Unknown quantize '{quantize}'. Valid: {', '.join(QUANTIZE)}")


def convert_tflite(model, io: IOSpec, image_size: int, *, quantize="none", representative=None) -> bytes:
    """Convert a Keras colorizer to a TFLite flatbuffer with builtin ops only.

    Args:
        model: the Keras colorizer (Inputs named as `io` says).
        io: the model's io spec.
        image_size: the training size S; the file takes (1, S, S, C) inputs.
        quantize: one of `QUANTIZE`.
        representative: for `int8`, a non-empty list of input dicts `{name: (1, S, S, C)}`
            from the run's own data.

    Returns:
        The `.tflite` bytes (the caller writes them anywhere, `kcolor.fs`). The conversion
        goes through a SavedModel in a temporary local folder (`tempfile`), removed after.
    """
    from kcolor.export.savedmodel import build_archive

    _check_quantize(quantize)
    if quantize == "int8" and not representative:
        raise ValueError("int8 quantization needs representative inputs from the run's data; got none")
    names = list(io.input_shapes(image_size))
    with tempfile.TemporaryDirectory(prefix="kcolor-tflite-") as tmp:
        # A SavedModel freezes the weights into constants (and folds BatchNorm) on
        # conversion; converting the concrete function directly keeps resource variables.
        build_archive(model, io, image_size, predict_batch=1, serving=False).write_out(tmp, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=[SIGNATURE])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif quantize == "dynamic":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        elif quantize == "int8":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_ops = [
                tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                tf.lite.OpsSet.TFLITE_BUILTINS,
            ]
            samples = [{n: np.asarray(s[n], np.float32) for n in names} for s in representative]

            def representative_dataset():
                yield from samples

            converter.representative_dataset = representative_dataset
        with warnings.catch_warnings():
            # int8 calibration runs TensorFlow's own (deprecated) interpreter internally.
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
            return converter.convert()


def _interpreter(model_path=None, model_content=None, *, num_threads=None, delegates=True):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kwargs = {"num_threads": num_threads or os.cpu_count() or 1}
    if not delegates:
        kwargs["experimental_op_resolver_type"] = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    if model_path is not None:
        return Interpreter(model_path=os.fspath(model_path), **kwargs)
    return Interpreter(model_content=model_content, **kwargs)


def op_report(model_path=None, model_content=None) -> dict:
    """Which ops the file holds and in which precision.

    Returns `{"ops": {OP_NAME: count}, "int8_ops": n, "float_ops": n, "custom_ops": [...]}`;
    an op counts as int8 when its first output is an 8/16-bit integer tensor.
    """
    interp = _interpreter(model_path, model_content, delegates=False)
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    counts = collections.Counter()
    int8_ops = float_ops = 0
    custom = []
    for op in interp._get_ops_details():
        name = op["op_name"]
        counts[name] += 1
        if name == "CUSTOM" or not name.isupper():  # builtin op names are upper case; Flex/custom ones are not
            custom.append(name)
        outputs = [i for i in op["outputs"] if i >= 0]
        if not outputs or name in ("QUANTIZE", "DEQUANTIZE"):
            continue
        dtype = np.dtype(tensors[outputs[0]]["dtype"]) if outputs[0] in tensors else None
        if dtype is not None and dtype.kind in "iu":
            int8_ops += 1
        else:
            float_ops += 1
    return {"ops": dict(sorted(counts.items())), "int8_ops": int8_ops, "float_ops": float_ops, "custom_ops": custom}


class TFLiteColorizer(inference.Colorizer):
    """A `.tflite` colorizer run by the LiteRT interpreter.

    The io kind and training size are read from the `predict` signature: its input
    names and shapes, and the output's channels.

    Example:
        colorizer = TFLiteColorizer("runs/sample-pix2pix/export/tflite-int8/pix2pix.tflite")
        rgb = colorizer.colorize(photo)   # any (H, W, 3) → (H, W, 3)
    """

    kind = "tflite"

    def __init__(self, path, *, num_threads=None):
        path = fs.path_str(path)
        if not fs.isfile(path):
            raise FileNotFoundError(f"TFLite file '{path}' does not exist")
        self.source = path
        self.model_name = os.path.splitext(fs.basename(path))[0]
        try:
            # The file's bytes, read through gfile: a .tflite on gs:// loads like a local one.
            self._interp = _interpreter(model_content=fs.read_bytes(path), num_threads=num_threads)
        except (ValueError, RuntimeError) as err:
            raise ValueError(f"{path}: cannot load as a TFLite model ({err})") from err
        signatures = self._interp.get_signature_list()
        if SIGNATURE not in signatures:
            raise ValueError(
                f"{path} has signatures {sorted(signatures)}; kcolor export writes one named '{SIGNATURE}'"
            )
        self._runner = self._interp.get_signature_runner(SIGNATURE)
        in_details = self._runner.get_input_details()
        out_details = self._runner.get_output_details()
        channels = {name: int(d["shape"][-1]) for name, d in in_details.items()}
        self.input_shapes = {name: tuple(int(v) for v in d["shape"]) for name, d in in_details.items()}
        self.io = inference.infer_io(channels, int(out_details["output"]["shape"][-1]))
        self.image_size = int(next(iter(self.input_shapes.values()))[1])

    def predict(self, inputs: dict) -> np.ndarray:
        arrays = {name: np.asarray(inputs[name], np.float32) for name in self.input_shapes}
        batch = next(iter(arrays.values())).shape[0]
        outputs = []
        for i in range(batch):  # the file has a fixed batch of one
            feed = {name: a[i : i + 1] for name, a in arrays.items()}
            outputs.append(self._runner(**feed)["output"])
        return np.concatenate(outputs, axis=0)
