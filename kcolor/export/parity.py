"""Parity of an export against its Keras model, on held-out images of the run's data.

Every export is checked before it is handed over. Two comparisons, both on RGB in
[0, 1] (an `l_ab` model's ab output is turned into RGB with its input L first, so
every model is measured on the same scale):

- **model**: the bare model at its training size S, Keras against the export, on each
  held-out image. `psnr_db` is computed from the mean squared error over all of them;
  `min_image_psnr_db` is the worst single image. This is what the bar applies to.
- **pipeline**: full-resolution colorization of the same images resized to a
  non-square 1.5S x 1.25S, Keras against the export (for a SavedModel: its in-graph
  resize, color conversion and chroma upsampling; for TFLite: the shared Python
  path around the interpreter).

Bars (`BARS_DB`): SavedModel ≥ 60 dB, TFLite float32 ≥ 50, float16 ≥ 40, dynamic and
int8 ≥ 28. Below the bar `check_bar` raises `ParityError`, unless `known_limit` gives
a documented reason, which is then written into `parity.json` beside the numbers.
PSNR of identical outputs is reported as `kcolor.metrics.quality.PSNR_CAP_DB` (200 dB).

Example:
    report = measure_parity(keras_colorizer, exported, batches, format="tflite", quantize="int8")
    check_bar(report)
"""

import dataclasses
from typing import Optional

import numpy as np
import tensorflow as tf

from kcolor.pixels import resize, to_uint8
from kcolor.errors import KcolorError
from kcolor.metrics.quality import array_psnr, psnr_from_mse
from kcolor.models.blocks import all_layers
from kcolor.timing import median_ms

BARS_DB = {
    ("savedmodel", "none"): 60.0,
    ("tflite", "none"): 50.0,
    ("tflite", "float16"): 40.0,
    ("tflite", "dynamic"): 28.0,
    ("tflite", "int8"): 28.0,
}


class ParityError(KcolorError, ValueError):
    """An export whose output differs from the Keras model's by more than its bar allows."""


def known_limit(model, format: str, quantize: str) -> Optional[str]:
    """A documented reason why an export cannot meet its bar, or None.

    Full int8 cannot represent an in-graph Lab conversion: a and b collapse to zero
    (measured on this stack). Colorizers that convert color inside the network (layers from
    `kcolor.color`) are therefore excused from the int8 bar; their other exports are not.
    """
    if format == "tflite" and quantize == "int8":
        color_layers = [
            layer.name for layer in all_layers(model) if type(layer).__module__.startswith("kcolor.color")
        ]
        if color_layers:
            return (
                f"full int8 quantizes the in-graph Lab color conversion (layers {color_layers}), "
                "which int8 cannot represent: a/b collapse towards zero"
            )
    return None


def latency_ms(fn, *, repeats=10, warmup=2) -> float:
    """Median wall time of `fn()` in milliseconds, after `warmup` untimed calls (kcolor's one
    timing helper, `kcolor.timing.median_ms`)."""
    return median_ms(fn, repeats=repeats, warmup=warmup)


@dataclasses.dataclass
class _Accumulator:
    sq_sum: float = 0.0
    count: int = 0
    max_abs: float = 0.0
    per_image: list = dataclasses.field(default_factory=list)

    def add(self, a, b):
        a = np.asarray(a, np.float64)
        b = np.asarray(b, np.float64)
        for x, y in zip(a, b):
            d = x - y
            self.sq_sum += float(np.sum(d * d))
            self.count += d.size
            self.max_abs = max(self.max_abs, float(np.max(np.abs(d))))
            self.per_image.append(array_psnr(x, y))

    def result(self) -> dict:
        mse = self.sq_sum / max(self.count, 1)
        return {
            "psnr_db": round(psnr_from_mse(mse), 3),
            "min_image_psnr_db": round(min(self.per_image), 3) if self.per_image else None,
            "max_abs_diff": float(f"{self.max_abs:.6g}"),
            "mse": float(f"{mse:.6g}"),
            "images": len(self.per_image),
        }


def _batch_inputs(io, batch):
    tensors = {"rgb": tf.convert_to_tensor(batch["rgb"], tf.float32)}
    if io.uses_reference:
        tensors["reference"] = tf.convert_to_tensor(batch["reference"], tf.float32)
    return io.inputs(tensors)


def measure_parity(keras_colorizer, exported, batches, *, format: str, quantize: str, repeats=10, pipeline_images=4):
    """Compare an exported colorizer with its Keras colorizer on held-out batches.

    Args:
        keras_colorizer: `kcolor.export.run.KerasColorizer` of the run.
        exported: the export loaded back (`SavedModelColorizer` or `TFLiteColorizer`).
        batches: list of dicts `{"rgb": (B, S, S, 3)[, "reference": ...]}` in [0, 1].
        format, quantize: what was exported (they pick the bar).
        repeats: timed calls for each latency.
        pipeline_images: how many images also go through the full-resolution path.

    Returns:
        A dict: `model` and `pipeline` comparisons, `latency_ms` (per image at S x S,
        batch 1: `keras`, `export`; and `export_pipeline` at 1.5S x 1.25S), `bar_db`.
    """
    io = keras_colorizer.io
    size = keras_colorizer.image_size
    model_acc = _Accumulator()
    raw_max = 0.0
    for batch in batches:
        inputs = _batch_inputs(io, batch)
        k_out = keras_colorizer.predict(inputs)
        e_out = exported.predict(inputs)
        raw_max = max(raw_max, float(np.max(np.abs(k_out.astype(np.float64) - e_out))))
        model_acc.add(io.to_rgb(tf.constant(k_out), inputs).numpy(), io.to_rgb(tf.constant(e_out), inputs).numpy())

    # Full resolution: a non-square size, so the in-graph/outside resizes are exercised.
    full_size = [int(round(1.5 * size)), int(round(1.25 * size))]
    pipe_acc = _Accumulator()
    uint8_max = 0
    singles = [
        {k: v[i] for k, v in batch.items()} for batch in batches for i in range(len(batch["rgb"]))
    ][:pipeline_images]
    for item in singles:
        full = resize(item["rgb"][None], full_size)[0]
        full = tf.clip_by_value(full, 0.0, 1.0).numpy()
        ref = item.get("reference") if io.uses_reference else None
        k_rgb = keras_colorizer.colorize(full, ref)
        e_rgb = exported.colorize(full, ref)
        pipe_acc.add(k_rgb[None], e_rgb[None])
        if hasattr(exported, "colorize_uint8"):
            # The uint8 serving signature against Keras on the same uint8 pixels.
            full8 = to_uint8(full)
            ref8 = None if ref is None else to_uint8(ref)
            e8 = exported.colorize_uint8(full8, ref8)
            ref_float = None if ref8 is None else ref8 / np.float32(255)
            k8 = to_uint8(keras_colorizer.colorize(full8 / np.float32(255), ref_float))
            uint8_max = max(uint8_max, int(np.max(np.abs(e8.astype(np.int32) - k8))))

    one = {k: v[:1] for k, v in batches[0].items()}
    one_inputs = _batch_inputs(io, one)
    single = singles[0]
    full = tf.clip_by_value(resize(single["rgb"][None], full_size)[0], 0.0, 1.0).numpy()
    ref = single.get("reference") if io.uses_reference else None
    latency = {
        "keras": round(latency_ms(lambda: keras_colorizer.predict(one_inputs), repeats=repeats), 3),
        "export": round(latency_ms(lambda: exported.predict(one_inputs), repeats=repeats), 3),
        "export_pipeline": round(latency_ms(lambda: exported.colorize(full, ref), repeats=max(3, repeats // 2)), 3),
    }
    pipeline = pipe_acc.result()
    pipeline["size"] = full_size
    if hasattr(exported, "colorize_uint8"):
        pipeline["uint8_max_abs_diff_levels"] = uint8_max
    model = model_acc.result()
    model["raw_output_max_abs_diff"] = float(f"{raw_max:.6g}")
    return {
        "format": format,
        "quantize": quantize,
        "bar_db": BARS_DB[(format, quantize)],
        "model": model,
        "pipeline": pipeline,
        "latency_ms": latency,
        "latency_note": f"median of {repeats} calls, batch 1 at {size}x{size} (export_pipeline: full-res "
        f"{full_size[0]}x{full_size[1]} including resize and color conversion)",
    }


def check_bar(report: dict, *, reason: Optional[str] = None) -> dict:
    """Set `bar_met` (and `reason`) in `report`; raise `ParityError` below the bar without a reason.

    The bar applies to the model comparison's PSNR.
    """
    measured = report["model"]["psnr_db"]
    report["bar_met"] = bool(measured >= report["bar_db"])
    if not report["bar_met"]:
        if reason:
            report["reason"] = reason
        else:
            raise ParityError(
                f"{report['format']} ({report['quantize']}) parity {measured:.2f} dB is below the "
                f"{report['bar_db']:.0f} dB bar (max abs diff {report['model']['max_abs_diff']}); "
                "see parity.json in the export folder"
            )
    return report
