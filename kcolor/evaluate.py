"""Score trained runs on one frozen test set: a table, a JSON file and picture grids.

The protocol. Every row of one evaluation (each model, the gray baseline, the ground
truth) is scored on exactly the same images, decoded and resized once by the one image
path of `kcolor.data.images`:

- The test set is a data source, a split (`test` by default, or `val`; never changed
  behind your back) and the split fractions. Without `data=`, it is the runs' own: every
  run must have been trained with the same source, fractions and (for `sample`) seed,
  or evaluation stops with one line naming the runs and their sets and asking for
  `--data`. With `data=`, that source is used for every run.
- Images are decoded at one evaluation size (`image_size=`, default the largest of the
  runs' sizes). A model trained at another size sees the images resized to its own size
  with `kcolor.data.images.resize`, and its prediction is resized back the same way.
- `evaluation.json` records the set as `test_set`: `{"source", "split", "fractions",
  "image_size", "count", "ids", "digest"}`, where `digest` is a SHA-256 over the ids and
  the decoded uint8 pixels (targets, and references for pair data). Two evaluations with
  the same digest scored the same pictures. Each row records how many images it scored.
- The gray baseline (the output is the gray input itself) is the floor every model has
  to beat; the ground truth row gives the photos' own colorfulness. Table 1 of Paper 001
  (Sofia Bazzan, "Image Colorization", University of Padova) reports totals over the
  test set; the table here gives both the per-image mean and the total.

Outputs in `out_dir`:
  evaluation.json   every number, per run and per metric (mean, total, count), and `test_set`
  evaluation.md     the comparison table in Markdown
  table.png         the same table rendered as a figure
  grid.png          one row per test image: gray input | each model | ground truth

Example:
    result = evaluate_runs(["runs/flowers-autoencoder", "runs/flowers-unet_residual"])
    print(result["table_markdown"], result["evaluation"]["test_set"]["digest"])
"""

import hashlib
import os

import numpy as np
import tensorflow as tf

from kcolor import color, fs
from kcolor.data.images import resize, to_uint8
from kcolor.errors import KcolorError
from kcolor.metrics import MetricTotals
from kcolor.metrics.fid import FIDSets, format_fid
from kcolor.training.history import atomic_write_json, atomic_write_text

TABLE_METRICS = ("colorfulness", "psnr", "ssim", "ms_ssim", "mse", "mae")
GRAY_BASELINE = "gray baseline"
GROUND_TRUTH = "ground truth"
EVAL_SPLITS = ("test", "val")


class TestSetMismatch(KcolorError, ValueError):
    """The runs were trained on different test sets and no common `--data` was given."""

    __test__ = False  # not a pytest class


def _test_set_key(cfg):
    """What defines a run's own test set: the source, the fractions, and the sample seed."""
    from kcolor.data.sources import normalize_split, parse_source

    spec = parse_source(cfg.data)
    key = {"source": str(spec), "fractions": [round(f, 6) for f in normalize_split(cfg.split)]}
    if spec.kind == "sample":
        key["seed"] = int(cfg.seed)  # the sample source cuts its crops from the seed
    if getattr(cfg, "drop_gray_chroma", 0.0):
        key["drop_gray_chroma"] = float(cfg.drop_gray_chroma)
    return key


def _describe(key):
    extra = f", seed {key['seed']}" if "seed" in key else ""
    return f"{key['source']} split {'/'.join(f'{f:g}' for f in key['fractions'])}{extra}"


def resolve_test_set(runs, *, data=None, fractions=None, seed=None):
    """`(source, fractions, seed)` every run is scored on; raises `TestSetMismatch` when
    the runs' own sets differ and `data` is not given."""
    keys = {run.run_dir: _test_set_key(run.config) for run in runs}
    if data is None:
        distinct = {repr(sorted(k.items())) for k in keys.values()}
        if len(distinct) > 1:
            listed = "; ".join(f"{fs.basename(d)}: {_describe(k)}" for d, k in keys.items())
            raise TestSetMismatch(
                f"The runs were trained on different test sets ({listed}). Pass --data SOURCE "
                f"(and --split-fractions) to score them all on one set"
            )
        first = next(iter(keys.values()))
        return first["source"], tuple(first["fractions"]), first.get("seed", 0)
    all_fractions = {tuple(k["fractions"]) for k in keys.values()}
    if fractions is None:
        fractions = all_fractions.pop() if len(all_fractions) == 1 else (0.6, 0.2, 0.2)
    if seed is None:
        seeds = {run.config.seed for run in runs}
        seed = seeds.pop() if len(seeds) == 1 else 0
    return data, tuple(fractions), int(seed)


def _load_runs(run_dirs):
    from kcolor.export.run import load_run

    runs = []
    for run_dir in run_dirs:
        run = load_run(run_dir)
        if run.config is None:
            raise FileNotFoundError(f"{run_dir} has no config.json: evaluation needs the run's config")
        runs.append(run)
    return runs


def _gray_rgb(rgb):
    return color.rgb_to_gray(rgb, channels=3)


def predict_rgb(run, batch, eval_size):
    """The run's colorization (RGB in [0, 1]) of `batch` given at `eval_size`, back at `eval_size`."""
    from kcolor.training.steps import feed

    size = run.image_size
    if size != eval_size:
        batch = {k: tf.clip_by_value(resize(v, size), 0.0, 1.0) for k, v in batch.items()}
    if run.config.reference == "self" and run.io.uses_reference:
        batch = dict(batch, reference=batch["rgb"])  # the "cheating" variant of Paper 000
    inputs = run.io.inputs(batch)
    output = run.colorizer(feed(run.colorizer, inputs), training=False)
    rgb = run.io.to_rgb(tf.cast(output, tf.float32), inputs)
    if size != eval_size:
        rgb = tf.clip_by_value(resize(rgb, eval_size), 0.0, 1.0)
    return rgb


def _unique_names(run_dirs):
    names, used = [], set()
    for run_dir in run_dirs:
        base = fs.basename(run_dir) or "run"
        name, i = base, 2
        while name in used or name in (GRAY_BASELINE, GROUND_TRUTH):
            name, i = f"{base}-{i}", i + 1
        used.add(name)
        names.append(name)
    return names


def evaluate_runs(
    runs,
    *,
    data=None,
    split="test",
    fractions=None,
    seed=None,
    image_size=None,
    out_dir=None,
    max_images=None,
    grid_rows=6,
    batch_size=16,
    fid=False,
    fid_weights="imagenet",
):
    """Score `runs` (run folders) on one frozen test set; see the module docstring.

    Args:
        runs: run folders written by `kcolor train`.
        data: the data source to score on (default: the runs' own, which must agree).
        split: "test" (default) or "val".
        fractions: train/val/test fractions that split `data` (default: the runs' own
            when they agree, else 0.6/0.2/0.2).
        seed: the `sample` source's crop seed (default: the runs' own when they agree).
        image_size: the evaluation size (default: the largest of the runs' sizes).
        out_dir: where the files go (default `evaluations/<run names>`).
        max_images: score at most this many images (the first ones of the split).
        grid_rows: rows of the picture grid.
        batch_size: images per forward pass.
        fid: also compute FID of each row against the ground truth (`kcolor.metrics.fid`),
            with the image count and the feature network, under `evaluation["fid"]`.
        fid_weights: the FID network's InceptionV3 weights ("imagenet", "none", a path).

    Returns:
        `{"out_dir", "evaluation", "table_markdown"}`.
    """
    from kcolor.config import TrainConfig
    from kcolor.data import build_eval_split
    from kcolor.data.sources import parse_source

    if not runs:
        raise ValueError("evaluate_runs needs at least one run folder")
    if split not in EVAL_SPLITS:
        raise ValueError(f"Unknown evaluation split '{split}'. Valid choices: {', '.join(EVAL_SPLITS)}")
    if max_images is not None and int(max_images) < 1:
        raise ValueError(f"max_images must be >= 1. Received: max_images={max_images}")
    if fid:
        from kcolor.models.weights import parse_weights

        parse_weights(fid_weights, what="fid_weights")
    loaded = _load_runs(runs)
    names = _unique_names(runs)
    source, fractions, seed = resolve_test_set(loaded, data=data, fractions=fractions, seed=seed)
    pairs = parse_source(source).pairs
    for name, run in zip(names, loaded):
        if run.io.uses_reference and not pairs and run.config.reference != "self":
            raise ValueError(
                f"Run '{name}' ({run.model_name}) needs reference pairs, but '{source}' holds single images. "
                f"Pass --data with a pair source: pairs:sample, pairs:folder:REF_DIR,TGT_DIR or pairs:records:PATH"
            )
    eval_size = int(image_size) if image_size else max(run.image_size for run in loaded)
    set_cfg = TrainConfig(
        model=loaded[0].model_name, data=source, image_size=eval_size, split=fractions, seed=seed,
        augment=(), reference="pair", cache=False, data_dir=loaded[0].config.data_dir,
        download=loaded[0].config.download,
        # Already-gray images dropped in training (KMHCNet) are dropped here too.
        drop_gray_chroma=max(float(getattr(run.config, "drop_gray_chroma", 0.0) or 0.0) for run in loaded),
    )
    dataset, available, set_info = build_eval_split(set_cfg, split, batch_size=batch_size)

    if out_dir is None:
        out_dir = os.path.join("evaluations", "+".join(names) if len(names) <= 4 else f"{names[0]}+{len(names) - 1}")
    rows = [*names, GRAY_BASELINE]
    totals = {name: MetricTotals() for name in rows}
    truth_colorfulness = MetricTotals(["colorfulness"])
    grid = {name: [] for name in names}
    grid_gray, grid_truth, grid_ref = [], [], []
    digest = hashlib.sha256()
    ids = []
    fid_sets = FIDSets(fid_weights) if fid else None
    for batch in dataset:
        if max_images is not None and len(ids) >= max_images:
            break
        if max_images is not None:
            batch = {k: v[: max_images - len(ids)] for k, v in batch.items()}
        batch_ids = [i.decode("utf-8", "replace") for i in batch.pop("id").numpy().tolist()]
        truth = batch["rgb"]
        for position, image_id in enumerate(batch_ids):
            digest.update(image_id.encode("utf-8") + b"\0")
            for key in sorted(batch):
                digest.update(to_uint8(batch[key][position].numpy()).tobytes())
        ids.extend(batch_ids)
        gray = _gray_rgb(truth)
        if fid_sets:
            fid_sets.add(GROUND_TRUTH, truth)
            fid_sets.add(GRAY_BASELINE, gray)
        totals[GRAY_BASELINE].update(gray, truth)
        truth_colorfulness.update(truth, truth)
        take = max(0, grid_rows - len(grid_truth))
        for name, run in zip(names, loaded):
            pred = predict_rgb(run, batch, eval_size)
            totals[name].update(pred, truth)
            if fid_sets:
                fid_sets.add(name, pred)
            grid[name].extend(np.asarray(pred[:take]))
        grid_gray.extend(np.asarray(gray[:take]))
        grid_truth.extend(np.asarray(truth[:take]))
        if "reference" in batch:
            grid_ref.extend(np.asarray(batch["reference"][:take]))

    results = {name: totals[name].summary() for name in rows}
    results[GROUND_TRUTH] = truth_colorfulness.summary()
    test_set = {
        "source": source,
        "split": split,
        "fractions": list(fractions),
        "image_size": eval_size,
        "count": len(ids),
        "available": available,
        "skipped_unreadable": set_info["skipped"],
        "ids": ids,
        "digest": digest.hexdigest(),
    }
    if parse_source(source).kind == "sample":
        test_set["seed"] = seed
    if set_cfg.drop_gray_chroma:
        test_set["drop_gray_chroma"] = set_cfg.drop_gray_chroma
    evaluation = {
        "data": source,
        "split": split,
        "test_set": test_set,
        "images": {name: totals[name].count for name in rows} | {GROUND_TRUTH: truth_colorfulness.count},
        "image_sizes": {name: run.image_size for name, run in zip(names, loaded)},
        "reference_modes": {name: run.config.reference for name, run in zip(names, loaded) if run.io.uses_reference},
        "runs": {name: fs.absolute(run.run_dir) for name, run in zip(names, loaded)},
        "results": results,
    }
    table = format_table(results, test_set)
    if fid_sets:
        evaluation["fid"] = fid_sets.summary(GROUND_TRUTH)
        table += "\n\n" + format_fid(evaluation["fid"])
    title = f"{source} — {split} split, {len(ids)} images at {eval_size} px (digest {test_set['digest'][:12]})"
    atomic_write_json(fs.join(out_dir, "evaluation.json"), evaluation)
    atomic_write_text(fs.join(out_dir, "evaluation.md"), f"# Evaluation on {title}\n\n{table}\n")
    save_table_figure(results, fs.join(out_dir, "table.png"), title=title)
    columns = [("gray input", grid_gray)]
    if grid_ref:
        columns.insert(0, ("reference", grid_ref))
    columns += [(name, grid[name]) for name in names] + [(GROUND_TRUTH, grid_truth)]
    save_grid(columns, fs.join(out_dir, "grid.png"))
    return {"out_dir": out_dir, "evaluation": evaluation, "table_markdown": table}


def format_table(results, test_set=None):
    """Markdown: one row per model, each metric as per-image mean and test-set total."""
    header = ["model", "images"]
    for metric in TABLE_METRICS:
        header += [f"{metric} mean", f"{metric} total"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, metrics in results.items():
        counts = [m["count"] for m in metrics.values()]
        cells = [name, str(counts[0]) if counts else "–"]
        for metric in TABLE_METRICS:
            if metric in metrics:
                cells += [_fmt(metrics[metric]["mean"]), _fmt(metrics[metric]["total"])]
            else:
                cells += ["–", "–"]
        lines.append("| " + " | ".join(cells) + " |")
    if test_set is not None:
        lines.append(
            f"\nTest set: `{test_set['source']}`, {test_set['split']} split, {test_set['count']} images at "
            f"{test_set['image_size']} px, digest `{test_set['digest'][:16]}`. 'total' is the sum over the "
            f"images (Table 1 of Paper 001 reports totals)."
        )
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
    from matplotlib.figure import Figure

    rows = list(results)
    cells = [
        [_fmt(results[r][m]["mean"]) if m in results[r] else "–" for m in TABLE_METRICS] for r in rows
    ]
    fig = Figure(figsize=(1.6 * (len(TABLE_METRICS) + 2), 0.5 * (len(rows) + 2)))
    ax = fig.subplots()
    ax.axis("off")
    table = ax.table(cellText=cells, rowLabels=rows, colLabels=[f"{m} (mean)" for m in TABLE_METRICS], loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 1.3)
    if title:
        ax.set_title(title, fontsize=9)
    _save_figure(fig, path)


def save_grid(columns, path):
    """`columns`: list of (title, list of HxWx3 images); one row per image."""
    from matplotlib.figure import Figure

    n_rows = min((len(images) for _, images in columns if images), default=0)
    if n_rows == 0:
        return
    n_cols = len(columns)
    fig = Figure(figsize=(2.0 * n_cols, 2.0 * n_rows))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for c, (title, images) in enumerate(columns):
        for r in range(n_rows):
            ax = axes[r][c]
            ax.imshow(np.clip(images[r], 0.0, 1.0), interpolation="nearest")  # the model's own pixels, as the sample grid draws them
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(title, fontsize=9)
    fig.tight_layout()
    _save_figure(fig, path)


def _save_figure(fig, path):
    from kcolor.training.figures import save_figure

    save_figure(fig, path)
