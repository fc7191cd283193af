"""Export a trained run to SavedModel or TFLite, checked against Keras; colorize photos.

`export_run` turns a run folder (written by `kcolor train`) into a deployable model
and proves it matches the Keras colorizer on held-out images of the run's own data,
writing the proof to `parity.json` beside the export:

| format       | quantize                       | what you get                                         |
|--------------|--------------------------------|------------------------------------------------------|
| `savedmodel` | `none`                         | uint8 [H, W, C] → uint8 RGB [H, W, 3] at any size,   |
|              |                                | resize and color conversion in-graph (`savedmodel.py`) |
| `tflite`     | `none` `float16` `dynamic` `int8` | the bare colorizer at its training size S, builtin |
|              |                                | ops only, run by LiteRT (`tflite.py`)                 |

It works for every registered model through its io kind (`kcolor.models.io`): no
per-model export code. `kcolor.export.colorize.colorize_paths` colorizes image files
at full resolution with a run folder, a SavedModel folder or a `.tflite` file.

Example:
    result = export_run("runs/sample-pix2pix", format="tflite", quantize="int8")
    print(result["path"], result["parity"]["model"]["psnr_db"])
"""

import json
import os
import shutil

from kcolor.export.parity import BARS_DB, ParityError  # noqa: F401
from kcolor.export.tflite import QUANTIZE

FORMATS = ("savedmodel", "tflite")


def default_export_dir(run_dir, format: str, quantize: str = "none") -> str:
    """`<run_dir>/export/<format>` or `<run_dir>/export/<format>-<quantize>`."""
    name = format if quantize == "none" else f"{format}-{quantize}"
    return os.path.join(os.fspath(run_dir), "export", name)


def _check_choices(format, quantize):
    if format not in FORMATS:
        raise ValueError(f"Unknown export format '{format}'. Valid: {', '.join(FORMATS)}")
    if quantize not in QUANTIZE:
        raise ValueError(f"Unknown quantize '{quantize}'. Valid: {', '.join(QUANTIZE)}")
    if format == "savedmodel" and quantize != "none":
        raise ValueError(
            f"quantize='{quantize}' applies to TFLite only; a SavedModel is float32. "
            "Valid for savedmodel: none (use --format tflite to quantize)"
        )


def _prepare_out_dir(out_dir):
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        if not os.path.isfile(os.path.join(out_dir, "parity.json")):
            raise ValueError(
                f"Export folder '{out_dir}' is not empty and holds no earlier export (no parity.json); "
                "choose another --out"
            )
        shutil.rmtree(out_dir)
    os.makedirs(out_dir, exist_ok=True)


def _versions():
    import tensorflow as tf

    versions = {"tensorflow": tf.__version__}
    try:
        from importlib.metadata import version

        versions["ai_edge_litert"] = version("ai-edge-litert")
    except Exception:  # noqa: BLE001  (LiteRT is optional for SavedModel exports)
        pass
    return versions


def export_run(
    run_dir,
    format="savedmodel",
    quantize="none",
    out_dir=None,
    *,
    data=None,
    images=None,
    max_images=16,
    calibration_images=32,
    repeats=10,
):
    """Export a run's colorizer and check it against the Keras model.

    Args:
        run_dir: the run folder (`model.json`, `config.json`, `colorizer.keras`).
        format: `"savedmodel"` or `"tflite"`.
        quantize: TFLite only: `"none"`, `"float16"`, `"dynamic"` or `"int8"`.
        out_dir: export folder; default `<run_dir>/export/<format>[-<quantize>]`.
            An earlier export there is replaced.
        data: read the run's held-out images from this data source instead of the
            one in its config (same syntax as `--set data=`).
        images: check (and calibrate) on these images instead (see
            `kcolor.export.heldout.normalize_images`).
        max_images: held-out images used for parity.
        calibration_images: representative samples for int8 calibration.
        repeats: timed calls per latency figure.

    Returns:
        `{"path": the SavedModel folder or .tflite file, "parity": the parity report}`.

    Raises:
        ParityError: the export's PSNR against Keras is below its bar and no documented
            reason applies (`parity.json` is still written).

    Example:
        export_run("runs/sample-pix2pix", format="savedmodel")
        export_run("runs/sample-pix2pix", format="tflite", quantize="int8")
    """
    from kcolor.export import heldout, parity
    from kcolor.export.run import KerasColorizer, load_run
    from kcolor.export.savedmodel import SavedModelColorizer, export_savedmodel, folder_size
    from kcolor.export.tflite import TFLiteColorizer, convert_tflite, op_report

    _check_choices(format, quantize)
    run = load_run(run_dir)
    out_dir = os.fspath(out_dir) if out_dir else default_export_dir(run.run_dir, format, quantize)
    batches, data_note = heldout.held_out_batches(run, images=images, data=data, max_images=max_images)
    keras_colorizer = KerasColorizer.from_run(run)
    _prepare_out_dir(out_dir)

    ops, calibration = None, None
    if format == "savedmodel":
        path = export_savedmodel(run.colorizer, run.io, run.image_size, out_dir, model_name=run.model_name)
        # parity.json is written into the same folder afterwards; the size is the model's own.
        size = folder_size(path)
        exported = SavedModelColorizer(path)
    else:
        representative = None
        if quantize == "int8":
            representative, calibration = heldout.calibration_inputs(
                run, images=images, data=data, count=calibration_images
            )
        blob = convert_tflite(
            run.colorizer, run.io, run.image_size, quantize=quantize, representative=representative
        )
        path = os.path.join(out_dir, f"{run.model_name}.tflite")
        with open(path, "wb") as f:
            f.write(blob)
        size = len(blob)
        ops = op_report(path)
        if ops["custom_ops"]:
            raise ValueError(f"{path} holds non-builtin ops {ops['custom_ops']}; LiteRT cannot run them")
        exported = TFLiteColorizer(path)

    report = parity.measure_parity(
        keras_colorizer, exported, batches, format=format, quantize=quantize, repeats=repeats
    )
    report = {
        "model_name": run.model_name,
        "io": run.io.name,
        "image_size": run.image_size,
        "path": path,
        "file_size_bytes": size,
        "file_size_mb": round(size / 1e6, 3),
        "held_out": data_note,
        **report,
        "versions": _versions(),
    }
    if ops is not None:
        report["ops"] = ops
    if calibration:
        report["calibration"] = calibration
    try:
        parity.check_bar(report, reason=parity.known_limit(run.colorizer, format, quantize))
    finally:
        with open(os.path.join(out_dir, "parity.json"), "w") as f:
            json.dump(report, f, indent=2)
    return {"path": path, "parity": report}


__all__ = ["FORMATS", "QUANTIZE", "BARS_DB", "ParityError", "default_export_dir", "export_run"]
