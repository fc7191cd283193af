"""Score trained runs on one frozen test set: a table, a JSON file and picture grids.

The protocol. Every row of one evaluation (each model, the gray baseline, the ground
truth) is scored on exactly the same images, decoded and resized once by the one image
path of `kcolor.data.images`:

- The test set is a data source, a split (`test` by default, `val`, or `train`, the
  images the runs were trained on, which Paper 004's Table 2 scores; never changed
  behind your back) and the split fractions. Without `data=`, it is the runs' own: every
  run must have been trained with the same source, fractions and (for `sample`) seed,
  or evaluation stops with one line naming the runs and their sets and asking for
  `--data`. With `data=`, that source is used for every run. A split the fractions give
  no share (the test split of fractions 0.96/0.04/0) is refused before any image is
  read; `fractions=(0, 0, 1)` (`--fractions 0,0,1`) scores every image of a source
  split by hash (a folder, a tfds split such as `tfds:coco/2017:test`) as test, and
  every held-out photo of `sample` and `photos` (which keep their training photos).
- Images are decoded at one evaluation size (`image_size=`, default the largest of the
  runs' sizes). A model trained at another size sees the images resized to its own size
  with `kcolor.pixels.resize`, and its prediction is resized back the same way.
- `evaluation.json` records the set as `test_set`: `{"source", "split", "fractions",
  "image_size", "count", "ids", "digest"}`, where `digest` is a SHA-256 over the ids and
  the decoded uint8 pixels (targets, and references for pair data). Two evaluations with
  the same digest scored the same pictures. Each row records how many images it scored.
- The gray baseline (the output is the gray input itself) is the floor every model has
  to beat; the ground truth row gives the photos' own colorfulness. A caller may add
  baselines of its own (`baselines={name: fn(batch) -> rgb}`), scored like the gray one.
- FID (`fid=True`) is computed on the first `fid_images` images of the scored set, in
  its frozen order (the order of `ids`), while the other metrics score all of them:
  `fid_images` is the argument when given (`"all"`: every scored image), else the
  runs' config field `fid_images` (None: every image), which must agree. The FID
  summary records `count` (the images FID saw), `requested` and `offered` (the images
  scored); a set smaller than the request gives FID on what there is, with a warning.
- Besides the metrics of `kcolor.metrics`, every row has `colorfulness_gap` (dCF):
  |CF(prediction) - CF(ground truth)| per image, as DDColor (Kang et al., ICCV 2023)
  reports it, so a washed-out model cannot hide behind a good PSNR. Table 1 of Paper 001
  (Sofia Bazzan, "Image Colorization", University of Padova) reports totals over the
  test set; the table here gives both the per-image mean and the total.

Outputs in `out_dir`:
  evaluation.json   every number, per run and per metric (mean, total, count), `test_set`,
                    and `per_image` (each row's PSNR per image, in the order of the test set's ids)
  evaluation.md     the comparison table in Markdown
  table.png         the same table rendered as a figure
  grid.png          one row per test image: gray input | each model | ground truth

`evaluate_runs` goes in three steps: checks (`_check_arguments`, then `_plan` loads the
runs and settles the test set; every bad argument or run is refused before an image is
read), scoring (`_score`), and writing (`_evaluation`, `_write_outputs`).

Example:
    result = evaluate_runs(["runs/flowers-autoencoder", "runs/flowers-unet_residual"])
    print(result["table_markdown"], result["evaluation"]["test_set"]["digest"])
"""

import dataclasses
import hashlib
import os
from typing import Optional

import numpy as np
import tensorflow as tf

from kcolor import color, fs, pictures
from kcolor.pixels import resize, to_uint8
from kcolor.errors import KcolorError
from kcolor.metrics import MetricTotals
from kcolor.metrics.fid import FIDSets, format_fid
from kcolor.fs import atomic_write_json, atomic_write_text

TABLE_METRICS = ("colorfulness", "psnr", "ssim", "ms_ssim", "mse", "mae")
GRAY_BASELINE = "gray baseline"
GROUND_TRUTH = "ground truth"
EVAL_SPLITS = ("test", "val", "train")


class TestSetMismatch(KcolorError, ValueError):
    """The runs were trained on different test sets and no common `--data` was given."""

    __test__ = False  # not a pytest class


def _test_set_key(cfg):
    """What defines a run's own test set: the source, the fractions, and the sample seed."""
    from kcolor.specs import CROP_SOURCES, normalize_split, parse_source

    spec = parse_source(cfg.data)
    key = {"source": str(spec), "fractions": [round(f, 6) for f in normalize_split(cfg.fractions)]}
    if spec.kind in CROP_SOURCES:
        key["seed"] = int(cfg.seed)  # sample and photos cut their crops from the seed
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
                f"(and --fractions) to score them all on one set"
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


def resolve_fid_images(runs, names, fid_images=None):
    """The number of images FID is computed on (None: every scored image).

    `fid_images` when given ("all" means every image), else the runs' own config field
    `fid_images`, which must agree (a `ValueError` names each run's value).
    """
    if fid_images == "all":
        return None
    if fid_images is not None:
        return int(fid_images)
    own = {name: getattr(run.config, "fid_images", None) for name, run in zip(names, runs)}
    if len(set(own.values())) > 1:
        listed = ", ".join(f"{name}: {'all' if n is None else n}" for name, n in own.items())
        raise ValueError(
            f"The runs' configs ask FID for different numbers of images (fid_images: {listed}). "
            "Pass --fid-images N (or all) to compute every row's FID on one count"
        )
    return next(iter(own.values()))


def check_split_share(source, fractions, split, whose="--fractions"):
    """Refuse `split` when `fractions` give it no share: it would be empty whatever `source` holds.

    `records:` sources are left to `build_eval_split` (records written from `sample`
    keep their own splits whatever the fractions). `whose` says where the fractions
    came from, for the message.
    """
    from kcolor.specs import SPLITS, normalize_split, parse_source

    if split not in SPLITS or parse_source(source).kind == "records":
        return
    if normalize_split(fractions)[SPLITS.index(split)] == 0:
        shown = "/".join(f"{float(f):g}" for f in fractions)
        raise ValueError(
            f"The {split} split of '{source}' would be empty: the fractions {shown} ({whose}) give it no share. "
            f"Pass --fractions with a {split} share (--fractions 0,0,1 scores every image of the source as test), "
            "or another --split"
        )


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


def predict_rgb(run, batch, eval_size, as_colorized=False):
    """The run's colorization (RGB in [0, 1]) of `batch` given at `eval_size`, back at `eval_size`.

    `as_colorized`: what `kcolor colorize` delivers, the predicted chroma laid on the gray
    input's own lightness (`kcolor.inference.transfer_chroma`), instead of the model's raw
    output (which, for models that predict RGB, also carries their lightness errors).
    """
    from kcolor.models.io import feed

    size, truth = run.image_size, batch["rgb"]
    if size != eval_size:
        batch = {k: tf.clip_by_value(resize(v, size), 0.0, 1.0) for k, v in batch.items()}
    if run.config.reference_from == "self" and run.io.uses_reference:
        batch = dict(batch, reference=batch["rgb"])  # the "cheating" variant of Paper 000
    inputs = run.io.inputs(batch)
    output = run.colorizer(feed(run.colorizer, inputs), training=False)
    if as_colorized:
        from kcolor.inference import output_to_ab

        ab = output_to_ab(output, inputs, run.io)
        ab = resize(ab, eval_size) if size != eval_size else ab
        return color.lab_normalized_to_rgb(color.rgb_to_lab_normalized(_gray_rgb(truth))[0], ab)
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
    spread=False,
    grid_rows=6,
    batch_size=16,
    fid=False,
    fid_weights="imagenet",
    fid_images=None,
    baselines=None,
    as_colorized=False,
):
    """Score `runs` (run folders) on one frozen test set; see the module docstring.

    Args:
        runs: run folders written by `kcolor train`.
        data: the data source to score on (default: the runs' own, which must agree).
        split: "test" (default), "val", or "train" (the images the runs trained on).
        fractions: train/val/test fractions that split `data` (default: the runs' own
            when they agree, else 0.6/0.2/0.2); `(0, 0, 1)`: every image is test.
        seed: the `sample` and `photos` sources' crop seed (default: the runs' own when they agree).
        image_size: the evaluation size (default: the largest of the runs' sizes).
        out_dir: where the files go (default `evaluations/<run names>`).
        max_images: score at most this many images (the first ones of the split).
        spread: take the `max_images` images at an even stride over the whole split
            instead of the first ones, so a cap on a large split (the training photos'
            crops) still covers every photo.
        grid_rows: rows of the picture grid.
        batch_size: images per forward pass.
        fid: also compute FID of each row against the ground truth (`kcolor.metrics.fid`),
            with the image count and the feature network, under `evaluation["fid"]`.
        fid_weights: the FID network's InceptionV3 weights ("imagenet", "none", a path).
        fid_images: FID on the first N scored images (an int), on every one ("all"),
            or, None (default), on the runs' config field `fid_images` (which must agree).
        baselines: more baseline rows, `{name: fn(batch) -> RGB [B, S, S, 3] in [0, 1]}`,
            each called on every batch `{"rgb"[, "reference"]}` of the test set.
        as_colorized: score each model's chroma laid on the gray input's lightness, as
            `kcolor colorize` delivers it (`predict_rgb`), instead of its raw output.

    Returns:
        `{"out_dir", "evaluation", "table_markdown"}`.
    """
    _check_arguments(runs, split, image_size, max_images, batch_size, out_dir, fid, fid_weights)
    _check_test_set_arguments(data, fractions, split, fid, fid_images)
    plan = _plan(runs, data=data, split=split, fractions=fractions, seed=seed, image_size=image_size, out_dir=out_dir)
    plan.fid_images = resolve_fid_images(plan.runs, plan.names, fid_images) if fid else None
    plan.baselines = dict(baselines or {})
    plan.as_colorized = bool(as_colorized)
    taken = [n for n in plan.baselines if n in (*plan.names, GRAY_BASELINE, GROUND_TRUTH)]
    if taken:
        raise ValueError(f"Baseline names {taken} are already row names; rows: {[*plan.names, GRAY_BASELINE, GROUND_TRUTH]}")
    # Arguments and runs are checked; the work starts here. What only the data can tell (a
    # missing source, an empty split) `build_eval_split` refuses before any image is scored.
    from kcolor.data import build_eval_split

    dataset, available, set_info = build_eval_split(
        plan.set_cfg, split, batch_size=batch_size, spread=max_images if spread else None)
    fid_sets = FIDSets(fid_weights, limit=plan.fid_images) if fid else None
    scores = _score(plan, dataset, max_images, grid_rows, fid_sets)
    evaluation = _evaluation(plan, scores, available, set_info)
    table = _write_outputs(plan, scores, evaluation)
    return {"out_dir": plan.out_dir, "evaluation": evaluation, "table_markdown": table}


# --------------------------------------------------------------------------- checks


def _check_arguments(runs, split, image_size, max_images, batch_size, out_dir, fid, fid_weights):
    """Refuse the arguments that are wrong whatever the runs hold, before anything is read."""
    if not runs:
        raise ValueError("evaluate_runs needs at least one run folder")
    if split not in EVAL_SPLITS:
        raise ValueError(f"Unknown evaluation split '{split}'. Valid choices: {', '.join(EVAL_SPLITS)}")
    if image_size and int(image_size) < 1:  # None (or 0): the largest of the runs' sizes
        raise ValueError(f"image_size must be a positive number of pixels. Received: image_size={image_size}")
    if max_images is not None and int(max_images) < 1:
        raise ValueError(f"max_images must be >= 1. Received: max_images={max_images}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1. Received: batch_size={batch_size}")
    if out_dir is not None and fs.exists(out_dir) and not fs.isdir(out_dir):
        raise ValueError(f"out_dir must be a folder; '{out_dir}' is a file. Received: out_dir={out_dir!r}")
    if fid:
        from kcolor.models.weights import parse_weights

        parse_weights(fid_weights, what="fid_weights")


def _check_test_set_arguments(data, fractions, split, fid, fid_images):
    """Refuse a `fid_images` that is not a count or "all", or that comes without `fid`, and,
    when both `data` and `fractions` are given, a split they leave empty."""
    if fid_images is not None:
        if not fid:
            raise ValueError(
                f"fid_images is the number of images FID is computed on; it needs fid=True (--fid). "
                f"Received: fid_images={fid_images!r}"
            )
        is_count = isinstance(fid_images, int) and not isinstance(fid_images, bool) and fid_images >= 1
        if not is_count and fid_images != "all":
            raise ValueError(f"fid_images must be a positive number of images or 'all'. Received: fid_images={fid_images!r}")
    if data is not None and fractions is not None:
        check_split_share(data, fractions, split)


@dataclasses.dataclass
class _Plan:
    """What one evaluation scores, settled before any image is read."""

    runs: list  # loaded runs (`kcolor.export.run.load_run`)
    names: list  # their row names, unique
    source: str
    split: str
    fractions: tuple
    seed: int
    eval_size: int
    set_cfg: object  # the TrainConfig the test set is built from
    out_dir: str
    baselines: dict = dataclasses.field(default_factory=dict)  # name -> fn(batch) -> rgb
    as_colorized: bool = False  # score chroma on the input's lightness (`predict_rgb`)
    fid_images: Optional[int] = None  # FID on the first N scored images; None: all of them


def _plan(run_dirs, *, data, split, fractions, seed, image_size, out_dir) -> _Plan:
    """Load the runs and settle the test set; refuses runs that cannot be scored on it
    (`TestSetMismatch`, a run that needs reference pairs on single images)."""
    from kcolor.config import TrainConfig
    from kcolor.specs import parse_source

    loaded = _load_runs(run_dirs)
    names = _unique_names(run_dirs)
    given = fractions is not None
    source, fractions, seed = resolve_test_set(loaded, data=data, fractions=fractions, seed=seed)
    agree = len({tuple(_test_set_key(run.config)["fractions"]) for run in loaded}) == 1
    check_split_share(source, fractions, split, "--fractions" if given else ("the runs' own" if agree else "the default"))
    pairs = parse_source(source).pairs
    for name, run in zip(names, loaded):
        if run.io.uses_reference and not pairs and run.config.reference_from != "self":
            raise ValueError(
                f"Run '{name}' ({run.model_name}) needs reference pairs, but '{source}' holds single images. "
                f"Pass --data with a pair source: pairs:sample, pairs:folder:REF_DIR,TGT_DIR or pairs:records:PATH"
            )
    eval_size = int(image_size) if image_size else max(run.image_size for run in loaded)
    set_cfg = TrainConfig(
        model=loaded[0].model_name, data=source, image_size=eval_size, fractions=fractions, seed=seed,
        augment=(), reference_from="pair", cache=False, data_dir=loaded[0].config.data_dir,
        download=loaded[0].config.download,
        # Already-gray images dropped in training (KMHCNet) are dropped here too.
        drop_gray_chroma=max(float(getattr(run.config, "drop_gray_chroma", 0.0) or 0.0) for run in loaded),
    )
    if out_dir is None:
        out_dir = os.path.join("evaluations", "+".join(names) if len(names) <= 4 else f"{names[0]}+{len(names) - 1}")
    return _Plan(loaded, names, source, split, fractions, seed, eval_size, set_cfg, out_dir)


# --------------------------------------------------------------------------- scoring


def _score(plan, dataset, max_images, grid_rows, fid_sets):
    """Score every run and the gray baseline on the first `max_images` images of `dataset`."""
    scores = _Scores(plan, grid_rows, fid_sets)
    for batch in dataset:
        if max_images is not None and len(scores.ids) >= max_images:
            break
        if max_images is not None:
            batch = {k: v[: max_images - len(scores.ids)] for k, v in batch.items()}
        scores.add(batch)
    return scores


class _Scores:
    """Running totals of every row over the batches scored so far, the test set's ids and
    digest, the first `grid_rows` images of each column, and the FID features."""

    def __init__(self, plan, grid_rows, fid_sets):
        self.plan, self.grid_rows, self.fid_sets = plan, grid_rows, fid_sets
        self.rows = [*plan.names, GRAY_BASELINE, *plan.baselines]
        self.totals = {name: MetricTotals() for name in self.rows}
        self.truth_colorfulness = MetricTotals(["colorfulness"])
        self.grid = {name: [] for name in [*plan.names, *plan.baselines]}
        self.grid_gray, self.grid_truth, self.grid_ref = [], [], []
        self.digest = hashlib.sha256()
        self.ids = []

    def add(self, batch):
        """Score one batch `{"id", "rgb"[, "reference"]}` with every run and the gray baseline."""
        batch = dict(batch)
        batch_ids = [i.decode("utf-8", "replace") for i in batch.pop("id").numpy().tolist()]
        truth = batch["rgb"]
        for position, image_id in enumerate(batch_ids):
            self.digest.update(image_id.encode("utf-8") + b"\0")
            for key in sorted(batch):
                self.digest.update(to_uint8(batch[key][position].numpy()).tobytes())
        self.ids.extend(batch_ids)
        gray = _gray_rgb(truth)
        if self.fid_sets:
            self.fid_sets.add(GROUND_TRUTH, truth)
            self.fid_sets.add(GRAY_BASELINE, gray)
        self.totals[GRAY_BASELINE].update(gray, truth)
        self.truth_colorfulness.update(truth, truth)
        take = max(0, self.grid_rows - len(self.grid_truth))
        for name, run in zip(self.plan.names, self.plan.runs):
            pred = predict_rgb(run, batch, self.plan.eval_size, self.plan.as_colorized)
            self.totals[name].update(pred, truth)
            if self.fid_sets:
                self.fid_sets.add(name, pred)
            self.grid[name].extend(np.asarray(pred[:take]))
        for name, baseline in self.plan.baselines.items():
            pred = baseline(batch)
            self.totals[name].update(pred, truth)
            if self.fid_sets:
                self.fid_sets.add(name, pred)
            self.grid[name].extend(np.asarray(pred[:take]))
        self.grid_gray.extend(np.asarray(gray[:take]))
        self.grid_truth.extend(np.asarray(truth[:take]))
        if "reference" in batch:
            self.grid_ref.extend(np.asarray(batch["reference"][:take]))

    def results(self) -> dict:
        results = {name: self.totals[name].summary() for name in self.rows}
        truth_cf = self.truth_colorfulness.values()["colorfulness"]
        for name in self.rows:
            gap = np.abs(self.totals[name].values()["colorfulness"] - truth_cf)  # dCF, per image
            results[name]["colorfulness_gap"] = {
                "mean": float(gap.mean()) if gap.size else float("nan"), "total": float(gap.sum()), "count": int(gap.size)
            }
        results[GROUND_TRUTH] = self.truth_colorfulness.summary()
        return results

    def grid_columns(self) -> list:
        """The picture grid's columns: (reference |) gray input | each run | ground truth."""
        columns = [("gray input", self.grid_gray)]
        if self.grid_ref:
            columns.insert(0, ("reference", self.grid_ref))
        rows = [*self.plan.names, *self.plan.baselines]
        return columns + [(name, self.grid[name]) for name in rows] + [(GROUND_TRUTH, self.grid_truth)]


# --------------------------------------------------------------------------- writing


def _evaluation(plan, scores, available, set_info) -> dict:
    """The contents of `evaluation.json`: the test set, every row's numbers, and FID if asked for."""
    from kcolor.specs import CROP_SOURCES, parse_source

    test_set = {
        "source": plan.source,
        "split": plan.split,
        "fractions": list(plan.fractions),
        "image_size": plan.eval_size,
        "count": len(scores.ids),
        "available": available,
        "skipped_unreadable": set_info["skipped"],
        "ids": scores.ids,
        "digest": scores.digest.hexdigest(),
    }
    if parse_source(plan.source).kind in CROP_SOURCES:
        test_set["seed"] = plan.seed
    if plan.set_cfg.drop_gray_chroma:
        test_set["drop_gray_chroma"] = plan.set_cfg.drop_gray_chroma
    named = list(zip(plan.names, plan.runs))
    evaluation = {
        "data": plan.source,
        "split": plan.split,
        "test_set": test_set,
        "images": {name: scores.totals[name].count for name in scores.rows}
        | {GROUND_TRUTH: scores.truth_colorfulness.count},
        "image_sizes": {name: run.image_size for name, run in named},
        "reference_modes": {name: run.config.reference_from for name, run in named if run.io.uses_reference},
        "runs": {name: fs.absolute(run.run_dir) for name, run in named},
        "scored": "as colorized (predicted chroma on the gray input's lightness)" if plan.as_colorized
        else "raw model output",
        "results": scores.results(),
        # Per image, in the order of test_set["ids"]: what a per-photo comparison needs.
        "per_image": {name: {"psnr": [round(float(v), 4) for v in scores.totals[name].values()["psnr"]]}
                      for name in scores.rows},
    }
    if scores.fid_sets:
        evaluation["fid"] = scores.fid_sets.summary(GROUND_TRUTH)
    return evaluation


def _write_outputs(plan, scores, evaluation) -> str:
    """Write evaluation.json, evaluation.md, table.png and grid.png; returns the Markdown table."""
    results, test_set, out_dir = evaluation["results"], evaluation["test_set"], plan.out_dir
    table = format_table(results, test_set)
    if "fid" in evaluation:
        table += "\n\n" + format_fid(evaluation["fid"])
    title = (f"{plan.source} — {plan.split} split, {test_set['count']} images at {plan.eval_size} px "
             f"(digest {test_set['digest'][:12]})")
    atomic_write_json(fs.join(out_dir, "evaluation.json"), evaluation)
    atomic_write_text(fs.join(out_dir, "evaluation.md"), f"# Evaluation on {title}\n\n{table}\n")
    save_table_figure(results, fs.join(out_dir, "table.png"), title=title)
    pictures.save_image_grid(scores.grid_columns(), fs.join(out_dir, "grid.png"))
    return table


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
    rows = list(results)
    cells = [[_fmt(results[r][m]["mean"]) if m in results[r] else "–" for m in TABLE_METRICS] for r in rows]
    pictures.save_table_figure(rows, [f"{m} (mean)" for m in TABLE_METRICS], cells, path, title=title)
