"""Colorize image files at full resolution: `kcolor colorize` and `make colorize`.

The model is a run folder, an exported SavedModel folder, a `.tflite` file or a
`.keras` file (`load_colorizer`). Each input (a file, or every image in a folder,
recursively) is read in whatever mode it has (`kcolor.export.images`), colorized at
its own size (`kcolor.inference`: the model sees a resized copy; its chroma is
upsampled onto the input's own lightness), and written as `<out>/<name>.png`, with
the alpha channel kept. `compare=True` adds `<out>/<name>_compare.png`, the gray
input beside the colorization. A file that cannot be read is reported (`skipped PATH:
why`) and skipped; the others are still written, and `result["summary"]` is the one
line of what was skipped and why (`kcolor.data.images.skip_summary`).

Example:
    result = colorize_paths("runs/sample-pix2pix", ["scans/"], out_dir="colorized", compare=True)
    print(result["written"], result["skipped"])
"""

import sys

import numpy as np

from kcolor import fs
from kcolor import inference
from kcolor.data.images import ImageReadError, find_images, read_image, skip_summary, write_png
from kcolor.pictures import save_image_grid

MODEL_KINDS = "a run folder (model.json + colorizer.keras), a SavedModel folder, a .tflite file or a .keras file"


def load_colorizer(model) -> inference.Colorizer:
    """Load a colorizer from a path (see `MODEL_KINDS`); a `Colorizer` is returned as is."""
    if isinstance(model, inference.Colorizer):
        return model
    from kcolor.export.run import KerasColorizer, is_run_dir

    path = fs.path_str(model)
    if fs.isdir(path):
        if is_run_dir(path):
            return KerasColorizer.from_path(path)
        if fs.isfile(fs.join(path, "saved_model.pb")):
            from kcolor.export.savedmodel import SavedModelColorizer

            return SavedModelColorizer(path)
        raise ValueError(f"Model folder '{path}' is neither a run folder nor a SavedModel. Valid: {MODEL_KINDS}")
    if not fs.exists(path):
        raise FileNotFoundError(f"Model '{path}' does not exist. Valid: {MODEL_KINDS}")
    if path.endswith(".tflite"):
        from kcolor.export.tflite import TFLiteColorizer

        return TFLiteColorizer(path)
    if path.endswith(".keras"):
        return KerasColorizer.from_path(path)
    raise ValueError(f"Model '{path}' is not a model kcolor can run. Valid: {MODEL_KINDS}")


def compare_figure(path, gray, colorized, *, title=""):
    """Write a side-by-side figure: the input in gray | the colorization."""
    h, w = gray.shape[:2]
    panel = (5.0, max(1.5, min(12.0, 5.0 * h / w)))
    columns = [("input (gray)", [gray]), ("colorized", [colorized])]
    return save_image_grid(columns, path, title=title or None, panel=panel, interpolation="antialiased")


def _unique(stem, used):
    candidate, n = stem, 1
    while candidate in used:
        candidate = f"{stem}_{n}"
        n += 1
    used.add(candidate)
    return candidate


def colorize_paths(model, inputs, out_dir="colorized", compare=False, *, reference=None, log=None):
    """Colorize image files and folders at full resolution.

    Args:
        model: a path (see `MODEL_KINDS`) or a loaded `Colorizer`.
        inputs: image files and/or folders (searched recursively).
        out_dir: where the PNGs go (created if needed).
        compare: also write `<name>_compare.png` (input gray | colorized).
        reference: for reference models, a color image file applied to every input.
        log: a `print`-like function for per-file messages (default: stderr).

    Returns:
        `{"written": n, "skipped": n, "outputs": [...], "compare": [...],
        "errors": [{"path", "error", "reason"}], "summary": "skipped 1 of 3 images: 1 truncated"}`.

    Example:
        colorize_paths("exports/pix2pix.tflite", ["photo.jpg"], out_dir="out")
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    colorizer = load_colorizer(model)
    ref_rgb = None
    if reference is not None:
        try:
            ref_rgb = read_image(reference).rgb
        except ImageReadError as err:
            raise ValueError(f"cannot read the reference image: {err}") from err
    colorizer.check_reference(ref_rgb)

    found = find_images(inputs)
    if not found:
        raise ValueError(f"no images found in {list(map(str, inputs))}")
    fs.makedirs(out_dir)
    used, outputs, figures, errors = set(), [], [], []
    for path, stem in found:
        try:
            image = read_image(path)
        except ImageReadError as err:
            errors.append({"path": path, "error": str(err), "reason": err.reason})
            log(f"skipped {err}")
            continue
        rgb = colorizer.colorize(image.rgb, ref_rgb)
        name = _unique(stem, used)
        target = fs.join(out_dir, name + ".png")
        outputs.append(write_png(target, rgb, alpha=image.alpha))
        if compare:
            gray = np.asarray(image.rgb @ np.array([0.299, 0.587, 0.114], np.float32))
            used.add(name + "_compare")
            figures.append(
                compare_figure(fs.join(out_dir, name + "_compare.png"), gray, rgb, title=fs.basename(path))
            )
    return {
        "written": len(outputs),
        "skipped": len(errors),
        "outputs": outputs,
        "compare": figures,
        "errors": errors,
        "summary": skip_summary([e["reason"] for e in errors], len(found)),
        "model": colorizer.source,
        "model_kind": colorizer.kind,
    }
