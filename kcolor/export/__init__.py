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

import os

from kcolor import fs
from kcolor.export.parity import BARS_DB, ParityError  # noqa: F401
from kcolor.export.tflite import QUANTIZE

FORMATS = ("savedmodel", "tflite")


def default_export_dir(run_dir, format: str, quantize: str = "none") -> str:
    """`<run_dir>/export/<format>` or `<run_dir>/export/<format>-<quantize>`."""
    name = format if quantize == "none" else f"{format}-{quantize}"
    return fs.join(run_dir, "export", name)


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


def _check_out_dir(out_dir):
    if fs.isdir(out_dir) and fs.listdir(out_dir) and not fs.isfile(fs.join(out_dir, "parity.json")):
        raise ValueError(
            f"Export folder '{out_dir}' is not empty and holds no earlier export (no parity.json); "
            "choose another --out"
        )
    if fs.exists(out_dir) and not fs.isdir(out_dir):
        raise ValueError(f"Export path '{out_dir}' is a file, not a folder; choose another --out")


def _staging_dir(out_dir):
    out_dir = fs.absolute(out_dir)
    parent, name = fs.dirname(out_dir), fs.basename(out_dir)
    fs.makedirs(parent)
    staging = fs.join(parent, f".{name}.staging-{os.getpid()}")
    fs.rmtree(staging)
    fs.makedirs(staging)
    return staging


def _publish(staging, out_dir):
    """Put the finished export in place (one folder rename); an earlier one is removed only after that."""
    old = None
    if fs.exists(out_dir):
        old = f"{fs.absolute(out_dir).rstrip('/')}.old-{os.getpid()}"
        fs.rmtree(old)
        fs.move(out_dir, old)
    fs.move(staging, out_dir, last=("parity.json",))
    if old is not None:
        fs.rmtree(old)


def _reject(staging, out_dir):
    """Keep a failed export beside the good one, for inspection: `<out_dir>.rejected`."""
    rejected = f"{fs.absolute(out_dir).rstrip('/')}.rejected"
    fs.rmtree(rejected)
    fs.move(staging, rejected, last=("parity.json",))
    return rejected


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
    calibration_images=64,
    repeats=10,
):
    """Export a run's colorizer and check it against the Keras model.

    Args:
        run_dir: the run folder (`model.json`, `config.json`, `colorizer.keras`).
        format: `"savedmodel"` or `"tflite"`.
        quantize: TFLite only: `"none"`, `"float16"`, `"dynamic"` or `"int8"`.
        out_dir: export folder; default `<run_dir>/export/<format>[-<quantize>]`.
            The export is built in a staging folder beside it and moves into place only
            once it is complete and meets its parity bar; an earlier export there is
            replaced then, never before. An export below its bar is kept as
            `<out_dir>.rejected` (with its `parity.json`) and the earlier one stays.
        data: read the run's held-out images from this data source instead of the
            one in its config (same syntax as `--set data=`).
        images: check (and calibrate) on these images instead (see
            `kcolor.export.heldout.normalize_images`).
        max_images: held-out images used for parity.
        calibration_images: how many representative samples int8 calibration takes: unaugmented
            crops of the run's TRAINING split at an even stride over its photos, so not the
            held-out images the parity check scores (the val split when the run has no
            training images; `images` when given, which parity then scores too).
        repeats: timed calls per latency figure.

    Returns:
        `{"path": the SavedModel folder or .tflite file, "parity": the parity report}`.

    Raises:
        ParityError: the export's PSNR against Keras is below its bar and no documented
            reason applies (its `parity.json` is in `<out_dir>.rejected`).

    Example:
        export_run("runs/sample-pix2pix", format="savedmodel")
        export_run("runs/sample-pix2pix", format="tflite", quantize="int8")
    """
    from kcolor.export import heldout
    from kcolor.export.run import KerasColorizer, load_run

    _check_choices(format, quantize)
    run = load_run(run_dir)
    out_dir = fs.path_str(out_dir) if out_dir else default_export_dir(run.run_dir, format, quantize)
    batches, data_note = heldout.held_out_batches(run, images=images, data=data, max_images=max_images)
    keras_colorizer = KerasColorizer.from_run(run)
    _check_out_dir(out_dir)
    staging = _staging_dir(out_dir)
    try:
        return _export_into(staging, out_dir, run, keras_colorizer, batches, data_note, format, quantize,
                            images=images, data=data, calibration_images=calibration_images, repeats=repeats)
    finally:
        fs.rmtree(staging)


def _export_into(staging, out_dir, run, keras_colorizer, batches, data_note, format, quantize, *,
                 images, data, calibration_images, repeats):
    from kcolor.export import heldout, parity
    from kcolor.export.savedmodel import SavedModelColorizer, export_savedmodel
    from kcolor.export.tflite import TFLiteColorizer, convert_tflite, op_report
    from kcolor.fs import atomic_write_json

    ops, calibration = None, None
    if format == "savedmodel":
        path = out_dir
        export_savedmodel(run.colorizer, run.io, run.image_size, staging, model_name=run.model_name)
        # parity.json is written into the same folder afterwards; the size is the model's own.
        size = fs.folder_size(staging)
        exported = SavedModelColorizer(staging)
    else:
        representative = None
        if quantize == "int8":
            representative, calibration = heldout.calibration_inputs(
                run, images=images, data=data, count=calibration_images
            )
        blob = convert_tflite(
            run.colorizer, run.io, run.image_size, quantize=quantize, representative=representative
        )
        path = fs.join(out_dir, f"{run.model_name}.tflite")
        staged = fs.join(staging, f"{run.model_name}.tflite")
        fs.write_bytes(staged, blob)
        size = len(blob)
        ops = op_report(model_content=blob)
        if ops["custom_ops"]:
            raise ValueError(f"{run.model_name} converts with non-builtin ops {ops['custom_ops']}; LiteRT cannot run them")
        exported = TFLiteColorizer(staged)

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
    except parity.ParityError as err:
        atomic_write_json(fs.join(staging, "parity.json"), report)
        rejected = _reject(staging, out_dir)
        raise parity.ParityError(f"{err} The export is kept in {rejected}; {out_dir} is unchanged.") from None
    atomic_write_json(fs.join(staging, "parity.json"), report)
    _publish(staging, out_dir)
    return {"path": path, "parity": report}


__all__ = ["FORMATS", "QUANTIZE", "BARS_DB", "ParityError", "default_export_dir", "export_run"]
