"""The benchmark's report: `results.json` holds every number; `table.md` and `table.png`
are rendered from it alone (`render_table`), so the table can never disagree with it.

Per model `checks` says whether it beats both baselines on PSNR (on its own test set)
and whether its mean colorfulness CF lies within [0.5, 1.5] x the ground truth's, each
with the measured reason when it does not. Every row also has `seen_psnr`, its PSNR on
the training split: where a model loses on the test photos, comparing it with the
baselines' there says whether it learned only the training photos' colors (it beats
them on the photos it saw) or is under-fit within the budget (it loses there too).

Every model row also has `vs_baselines`: against each baseline, photo by photo
(`kcolor.benchmark.paired`), how many test photos it wins and its mean PSNR gain with a
95% bootstrap interval over the photos, so the table says whether a difference is larger
than the spread between photos.
"""

from kcolor import fs, pictures
from kcolor.benchmark import paired
from kcolor.benchmark.baselines import MEAN_CHROMA
from kcolor.benchmark.scoring import SINGLE
from kcolor.evaluate import GRAY_BASELINE, GROUND_TRUTH
from kcolor.fs import atomic_write_json, atomic_write_text

BASELINES = (GRAY_BASELINE, MEAN_CHROMA)
CF_RANGE = (0.5, 1.5)
COLUMNS = ("kind", "paper", "test set", "PSNR (dB)", "photos won (gray, mean chroma)", "gain on gray (dB, 95% CI)",
           "train PSNR (dB)", "SSIM", "CF", "dCF", "FID", "steps", "wall (s)")


def _row(evaluation, name, fid_status):
    """PSNR, SSIM, CF, dCF means and FID of one row of one evaluation."""
    metrics = evaluation["results"][name]
    row = {key: metrics[metric]["mean"] for key, metric in
           (("psnr", "psnr"), ("ssim", "ssim"), ("cf", "colorfulness"), ("dcf", "colorfulness_gap"))
           if metric in metrics}
    row["images"] = evaluation["images"][name]
    fid_rows = evaluation.get("fid", {}).get("rows", {})
    row["fid"] = fid_rows.get(name, fid_status if fid_status != "computed" else None)
    return row


def _seen_reason(row, floor_rows):
    """Why a model loses on the test photos, measured on the training photos."""
    seen = row.get("seen_psnr")
    if seen is None:
        return None
    beaten = [name for name, floor in floor_rows.items() if not seen > floor["seen_psnr"]]
    floors = ", ".join(f"{name} {floor['seen_psnr']:.2f} dB" for name, floor in floor_rows.items())
    verdict = ("under-fit within the budget: it loses to " + " and ".join(beaten) + " even on the photos it trained on"
               if beaten else "it beats both on the photos it trained on: it learned their colors, not general ones")
    return f"on the training photos {seen:.2f} dB ({floors}): {verdict}"


def _checks(row, floor_rows, truth_cf):
    """Beats both baselines on PSNR; mean CF within CF_RANGE x CF(ground truth)."""
    worse = [f"PSNR {row['psnr']:.2f} dB <= {name} {floor['psnr']:.2f} dB"
             for name, floor in floor_rows.items() if not row["psnr"] > floor["psnr"]]
    if worse and _seen_reason(row, floor_rows):
        worse.append(_seen_reason(row, floor_rows))
    low, high = CF_RANGE[0] * truth_cf, CF_RANGE[1] * truth_cf
    cf_ok = low <= row["cf"] <= high
    return {
        "beats_baselines_psnr": not worse,
        "beats_baselines_reason": "; ".join(worse) or None,
        "cf_in_range": cf_ok,
        "cf_reason": None if cf_ok else
        f"CF {row['cf']:.2f} outside [{low:.2f}, {high:.2f}] = [{CF_RANGE[0]}, {CF_RANGE[1]}] x CF(ground truth) {truth_cf:.2f}",
    }


def _test_set(evaluation):
    keys = ("source", "split", "fractions", "image_size", "count", "ids", "digest", "seed", "drop_gray_chroma")
    return {k: evaluation["test_set"][k] for k in keys if k in evaluation["test_set"]}


def _seen_psnr(scored, kind, name):
    seen = scored.get("seen", {}).get(kind)
    return seen["results"][name]["psnr"]["mean"] if seen else None


def build_results(entries, done, scored, *, data, size, batch, steps) -> dict:
    """The contents of `results.json` (see the module docstring)."""
    sets, status = scored["sets"], scored["fid_status"]
    rows = {}
    for kind, evaluation in sets.items():
        suffix = "" if kind == SINGLE else f" ({kind})"
        for name in BASELINES:
            rows[name + suffix] = dict(_row(evaluation, name, status), kind="baseline", test_set=kind,
                                       seen_psnr=_seen_psnr(scored, kind, name))
        truth = evaluation["results"][GROUND_TRUTH]["colorfulness"]["mean"]
        rows[GROUND_TRUTH + suffix] = {"kind": "ground truth", "test_set": kind, "cf": truth,
                                       "images": evaluation["images"][GROUND_TRUTH]}
    for entry in entries:
        kind = scored["set_of"][entry.name]
        evaluation = sets[kind]
        suffix = "" if kind == SINGLE else f" ({kind})"
        row = dict(_row(evaluation, entry.name, status), kind="model", test_set=kind, paper=entry.paper,
                   config=entry.config, data=done[entry.name]["data"], steps=done[entry.name]["steps"],
                   wall_s=done[entry.name]["wall_s"], seconds_per_step=done[entry.name]["seconds_per_step"],
                   seen_psnr=_seen_psnr(scored, kind, entry.name))
        floors = {name: rows[name + suffix] for name in BASELINES}
        row["checks"] = _checks(row, floors, rows[GROUND_TRUTH + suffix]["cf"])
        if "per_image" in evaluation:
            ids, per_image = evaluation["test_set"]["ids"], evaluation["per_image"]
            row["vs_baselines"] = {name: paired.compare(ids, per_image[entry.name]["psnr"], per_image[name]["psnr"])
                                   for name in BASELINES}
        rows[entry.name] = row
    return {
        "data": data,
        "budget": {"image_size": size, "batch_size": batch, "steps": steps, "fractions": list(sets[next(iter(sets))]["test_set"]["fractions"])},
        "test_sets": {kind: _test_set(evaluation) for kind, evaluation in sets.items()},
        "mean_chroma_ab": scored["mean_chroma_ab"],
        "fid": status,
        # A list, so the order survives JSON writers that sort keys.
        "rows": [dict(row, name=name) for name, row in rows.items()],
    }


def _cell(value, digits=2):
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}"


def table_cells(results):
    """(row names, cells) of the table, from `results` alone."""
    names, cells = [], []
    for row in results["rows"]:
        names.append(row["name"])
        cells.append([
            row["kind"], row.get("paper", ""), row["test_set"], _cell(row.get("psnr")), *_paired_cells(row),
            _cell(row.get("seen_psnr")),
            _cell(row.get("ssim"), 4),
            _cell(row.get("cf")), _cell(row.get("dcf")), _cell(row.get("fid")) if row["kind"] != "ground truth" else "–",
            str(row.get("steps", "")), _cell(row.get("wall_s"), 0),
        ])
    return names, cells


def _paired_cells(row):
    """The photos won against each baseline, and the gain on gray with its interval ("" off model rows)."""
    vs = row.get("vs_baselines")
    if not vs:
        return ["", ""]
    won = ", ".join(f"{vs[name]['won']}/{vs[name]['photos']}" for name in BASELINES)
    gray = vs[GRAY_BASELINE]
    interval = gray["ci95_db"]
    gain = f"{gray['gain_db']:+.2f}" + (f" [{interval[0]:+.2f}, {interval[1]:+.2f}]" if interval else "")
    return [won, gain]


def _check_lines(results):
    lines = []
    for row in results["rows"]:
        name = row["name"]
        if row["kind"] != "model":
            continue
        checks = row["checks"]
        psnr = "beats both baselines" if checks["beats_baselines_psnr"] else checks["beats_baselines_reason"]
        cf = "CF in range" if checks["cf_in_range"] else checks["cf_reason"]
        vs = row.get("vs_baselines")
        per_photo = "".join(f"; {paired.describe(vs[base], base)}" for base in BASELINES) if vs else ""
        lines.append(f"- `{name}`: PSNR: {psnr}{per_photo}; {cf}")
    return lines


def render_table(results) -> str:
    """`table.md`: the table, the checks and the test sets, rendered from `results` alone."""
    names, cells = table_cells(results)
    lines = ["| model | " + " | ".join(COLUMNS) + " |", "|" + "---|" * (len(COLUMNS) + 1)]
    lines += ["| " + " | ".join([name, *row]) + " |" for name, row in zip(names, cells)]
    budget = results["budget"]
    lines += ["", f"Budget: `{results['data']}`, {budget['image_size']} px, batch {budget['batch_size']}, "
              f"{budget['steps']} steps per model; split fractions {budget['fractions']}. "
              f"Mean chroma baseline: a, b = {results['mean_chroma_ab'][0]:.2f}, {results['mean_chroma_ab'][1]:.2f} "
              "(training split, CIE Lab). train PSNR: on the training split's crops, the photos the models trained on. "
              "Photos won: test photos on which the model's PSNR, averaged over the photo's crops, is above the "
              "baseline's. Gain on gray: the mean of those per-photo PSNR differences against the gray baseline, with "
              "a 95% bootstrap interval over the test photos; an interval that holds 0 cannot tell the two apart. "
              "dCF = |CF(prediction) - CF(ground truth)| per image, averaged. "
              f"FID: {results['fid']}.", "", "Checks (PSNR above both baselines; mean CF within 0.5-1.5 x the ground truth's):", ""]
    lines += _check_lines(results)
    lines.append("")
    for kind, test_set in sorted(results["test_sets"].items(), reverse=True):  # single, then pairs
        lines.append(f"Test set `{kind}`: `{test_set['source']}`, {test_set['split']} split, {test_set['count']} images "
                     f"at {test_set['image_size']} px, digest `{test_set['digest'][:16]}`.")
    return "\n".join(lines) + "\n"


def write_report(results, out) -> str:
    """Write results.json, then table.md and table.png rendered from it; returns the Markdown."""
    atomic_write_json(fs.join(out, "results.json"), results)
    results = fs.read_json(fs.join(out, "results.json"))  # the tables show what the file holds
    table = render_table(results)
    atomic_write_text(fs.join(out, "table.md"), table)
    names, cells = table_cells(results)
    budget = results["budget"]
    title = (f"kcolor benchmark: {results['data']}, {budget['image_size']} px, batch {budget['batch_size']}, "
             f"{budget['steps']} steps")
    pictures.save_table_figure(names, list(COLUMNS), cells, fs.join(out, "table.png"), title=title)
    return table


README_BEGIN = "<!-- benchmark:begin -->"
README_END = "<!-- benchmark:end -->"


def render_readme(results) -> str:
    """The README's benchmark block: one line on the setting, the table, the checks, from `results` alone."""
    budget = results["budget"]
    models = [row for row in results["rows"] if row["kind"] == "model"]
    passed = [row["name"] for row in models
              if row["checks"]["beats_baselines_psnr"] and row["checks"]["cf_in_range"]]
    wall = sum(row.get("wall_s") or 0 for row in models) / 60
    intro = (f"`kcolor benchmark` on `{results['data']}`: {len(models)} models of the five papers, each "
             f"{budget['steps']} steps at {budget['image_size']} px, batch {budget['batch_size']} "
             f"({wall:.0f} minutes of training in all on a 2-core CPU), scored on the same frozen test split. "
             f"{len(passed)} of {len(models)} pass both checks"
             + (f" ({', '.join(passed)})." if passed else "."))
    return intro + "\n\n" + render_table(results)


STEPS_BEGIN = "<!-- benchmark-steps:begin -->"
STEPS_END = "<!-- benchmark-steps:end -->"


def _psnr_of(results, name):
    """{"psnr", "seen_psnr"} of row `name` of one results file, or None."""
    row = next((r for r in results["rows"] if r["name"] == name), None)
    return None if row is None else {"psnr": row.get("psnr"), "seen_psnr": row.get("seen_psnr"), "cf": row.get("cf")}


def render_steps(runs) -> str:
    """The README's "more steps" table: the same models under several `--steps`, from their results alone.

    `runs` are `results.json` contents of `kcolor benchmark` runs that differ only in their
    steps (same source, size, batch and test set; raises ValueError otherwise). Each model
    of the runs but the default one gets a row per run that trained it: its PSNR on the test
    photos and on the training photos, beside the gray baseline's on the same images.
    """
    runs = sorted(runs, key=lambda r: r["budget"]["steps"])
    setting = {(r["data"], r["budget"]["image_size"], r["budget"]["batch_size"],
                r["test_sets"][SINGLE]["digest"]) for r in runs}
    if len(setting) != 1:
        raise ValueError(f"render_steps needs runs that differ only in --steps. Received settings: {sorted(setting)}")
    names = sorted({row["name"] for r in runs[1:] for row in r["rows"] if row["kind"] == "model"
                    and row["test_set"] == SINGLE})
    lines = ["| model | steps | test PSNR (dB) | gray, test | train PSNR (dB) | gray, train | CF (test) |",
             "|---|---|---|---|---|---|---|"]
    for name in names:
        for r in runs:
            model, gray = _psnr_of(r, name), _psnr_of(r, GRAY_BASELINE)
            if model is not None:
                lines.append(f"| {name} | {r['budget']['steps']} | {model['psnr']:.2f} | {gray['psnr']:.2f} | "
                             f"{_cell(model['seen_psnr'])} | {_cell(gray['seen_psnr'])} | {_cell(model['cf'], 1)} |")
    data, size, batch, digest = setting.pop()
    truth = _psnr_of(runs[0], GROUND_TRUTH) or {}
    low, high = (f * (truth.get("cf") or 0.0) for f in CF_RANGE)
    commands = " and ".join(f"`kcolor benchmark --models {','.join(names)} --steps {r['budget']['steps']}`"
                            for r in runs[1:])
    intro = (f"The same models with more steps ({commands}; "
             f"`{data}`, {size} px, batch {batch}, test set digest `{digest[:16]}`). CF in range: "
             f"{low:.1f} to {high:.1f} ({CF_RANGE[0]} to {CF_RANGE[1]} x the ground truth's {truth.get('cf') or 0.0:.1f}).")
    return intro + "\n\n" + "\n".join(lines) + "\n"
