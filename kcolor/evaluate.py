"""Score trained runs on the same test split: a table, a JSON file and picture grids.

`evaluate_runs` loads each run's `colorizer.keras`, colorizes the test split of one data
source (the first run's, or `data=`), and scores every image with `kcolor.metrics`. It
also scores the gray baseline (the output is the gray input itself), the floor every
model has to beat. Table 1 of Paper 001 reports totals over the test set; the table here
gives both the per-image mean and the total.

Outputs in `out_dir`:
  evaluation.json   every number, per run and per metric (mean, total, std, count)
  evaluation.md     the comparison table in Markdown
  table.png         the same table rendered as a figure
  grid.png          one row per test image: gray input | each model | ground truth

Example:
    result = evaluate_runs(["runs/flowers-autoencoder", "runs/flowers-unet_residual"])
    print(result["table_markdown"])
"""

import json
import os

import numpy as np
import tensorflow as tf

from kcolor import color
from kcolor.metrics import MetricTotals
from kcolor.training.history import atomic_write, atomic_write_json, atomic_write_text

TABLE_METRICS = ("colorfulness", "psnr", "ssim", "mse", "mae")
GRAY_BASELINE = "gray baseline"


def load_run(run_dir):
    """Load a run folder: `(colorizer, model_info, cfg)`."""
    import keras

    import kcolor.models  # noqa: F401  (registers the custom layers)
    from kcolor.config import TrainConfig

    paths = {name: os.path.join(run_dir, name) for name in ("colorizer.keras", "model.json", "config.json")}
    for name, path in paths.items():
        if not os.path.exists(path):
            raise FileNotFoundError(f"{run_dir} is not a finished run folder: {name} is missing")
    with open(paths["model.json"]) as f:
        info = json.load(f)
    with open(paths["config.json"]) as f:
        cfg = TrainConfig.from_dict(json.load(f))
    colorizer = keras.saving.load_model(paths["colorizer.keras"], safe_mode=True)
    return colorizer, info, cfg


def _eval_split(bundle):
    if bundle.counts.get("test", 0) > 0:
        return "test", bundle.test
    return "val", bundle.val


def _dataset_for(cfg, data, image_size):
    import dataclasses

    from kcolor.data import build_datasets

    cfg = dataclasses.replace(cfg, data=data, image_size=image_size, augment=())
    bundle = build_datasets(cfg)
    return _eval_split(bundle)


def _gray_rgb(rgb):
    return color.rgb_to_gray(rgb, channels=3)


def _predict(colorizer, io, batch):
    inputs = io.inputs(batch)
    output = colorizer(inputs, training=False)
    return io.to_rgb(tf.cast(output, tf.float32), inputs)


def evaluate_runs(runs, *, data=None, out_dir=None, max_images=None, grid_rows=6):
    """Score `runs` (run folders) on one data source's test split; see the module docstring."""
    from kcolor.models.io import get_io

    if not runs:
        raise ValueError("evaluate_runs needs at least one run folder")
    loaded = [(os.path.basename(os.path.normpath(r)), *load_run(r)) for r in runs]
    data = data or loaded[0][3].data
    names = [name for name, *_ in loaded]
    if out_dir is None:
        out_dir = os.path.join("evaluations", "+".join(names) if len(names) <= 4 else f"{names[0]}+{len(names) - 1}")
    os.makedirs(out_dir, exist_ok=True)

    totals = {name: MetricTotals() for name in names}
    totals[GRAY_BASELINE] = MetricTotals()
    truth_colorfulness = MetricTotals(["colorfulness"])
    grid = {name: [] for name in names}
    grid_gray, grid_truth, grid_ref = [], [], []
    split_name = None
    sizes = {}

    for name, colorizer, info, cfg in loaded:
        io = get_io(info["io"])
        size = int(info["image_size"])
        sizes[name] = size
        split_name, dataset = _dataset_for(cfg, data, size)
        seen = 0
        for batch in dataset:
            if max_images is not None and seen >= max_images:
                break
            if max_images is not None:
                batch = {k: v[: max_images - seen] for k, v in batch.items()}
            truth = batch["rgb"]
            pred = _predict(colorizer, io, batch)
            totals[name].update(pred, truth)
            if name == names[0]:
                # The floor and the ground truth's own colorfulness, once.
                totals[GRAY_BASELINE].update(_gray_rgb(truth), truth)
                truth_colorfulness.update(truth, truth)
            if len(grid[name]) < grid_rows:
                take = grid_rows - len(grid[name])
                grid[name].extend(np.asarray(pred[:take]))
                if name == names[0]:
                    grid_gray.extend(np.asarray(_gray_rgb(truth[:take])))
                    grid_truth.extend(np.asarray(truth[:take]))
                    if "reference" in batch:
                        grid_ref.extend(np.asarray(batch["reference"][:take]))
            seen += int(truth.shape[0])

    results = {name: totals[name].summary() for name in [*names, GRAY_BASELINE]}
    results["ground truth"] = truth_colorfulness.summary()
    evaluation = {
        "data": data,
        "split": split_name,
        "image_sizes": sizes,
        "runs": {name: os.path.abspath(r) for name, r in zip(names, runs)},
        "results": results,
    }
    table = format_table(results)
    atomic_write_json(os.path.join(out_dir, "evaluation.json"), evaluation)
    atomic_write_text(
        os.path.join(out_dir, "evaluation.md"),
        f"# Evaluation on `{data}` ({split_name} split)\n\n{table}\n",
    )
    save_table_figure(results, os.path.join(out_dir, "table.png"), title=f"{data} — {split_name} split")
    columns = [("gray input", grid_gray)]
    if grid_ref:
        columns.insert(0, ("reference", grid_ref))
    columns += [(name, grid[name]) for name in names] + [("ground truth", grid_truth)]
    save_grid(columns, os.path.join(out_dir, "grid.png"))
    return {"out_dir": out_dir, "evaluation": evaluation, "table_markdown": table}


def format_table(results):
    """Markdown: one row per model, each metric as per-image mean and test-set total."""
    header = ["model"]
    for metric in TABLE_METRICS:
        header += [f"{metric} mean", f"{metric} total"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, metrics in results.items():
        cells = [name]
        for metric in TABLE_METRICS:
            if metric in metrics:
                cells += [_fmt(metrics[metric]["mean"]), _fmt(metrics[metric]["total"])]
            else:
                cells += ["–", "–"]
        lines.append("| " + " | ".join(cells) + " |")
    count = next(iter(results.values()))
    n = next(iter(count.values()))["count"] if count else 0
    lines.append(f"\n{n} test images; 'total' is the sum over them (Paper 001, Table 1).")
    return "\n".join(lines)


def _fmt(value):
    if value is None or not np.isfinite(value):
        return "inf" if value is not None and np.isinf(value) else "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.2f}"
    return f"{value:.4f}"


def save_table_figure(results, path, title=""):
    """Render the per-image means as a table figure (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(results)
    cells = [
        [_fmt(results[r][m]["mean"]) if m in results[r] else "–" for m in TABLE_METRICS] for r in rows
    ]
    fig, ax = plt.subplots(figsize=(1.6 * (len(TABLE_METRICS) + 2), 0.5 * (len(rows) + 2)))
    ax.axis("off")
    table = ax.table(cellText=cells, rowLabels=rows, colLabels=[f"{m} (mean)" for m in TABLE_METRICS], loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 1.3)
    if title:
        ax.set_title(title)
    _save_figure(fig, path)
    plt.close(fig)


def save_grid(columns, path):
    """`columns`: list of (title, list of HxWx3 images); one row per image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_rows = min((len(images) for _, images in columns if images), default=0)
    if n_rows == 0:
        return
    n_cols = len(columns)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.0 * n_cols, 2.0 * n_rows), squeeze=False)
    for c, (title, images) in enumerate(columns):
        for r in range(n_rows):
            ax = axes[r][c]
            ax.imshow(np.clip(images[r], 0.0, 1.0))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(title, fontsize=9)
    fig.tight_layout()
    _save_figure(fig, path)
    plt.close(fig)


def _save_figure(fig, path):
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
