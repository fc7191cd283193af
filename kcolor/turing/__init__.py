"""The colorization Turing test: a static page that asks people to pick the real photo, and its score.

The protocol is Zhang, Isola, Efros, "Colorful Image Colorization", 2016
(arXiv:1603.08511), which Paper 002 (Mariana Pérez García, "Image Colorization Using
Conditional Generative Adversarial Networks", Tecnológico de Monterrey, 2020) uses to
score its model: a participant sees the real photo and the model's colorization of the
same image side by side, in random left/right order, for 1 second; then both are hidden
and the participant, with unlimited time, picks the one they think is real. 10 practice
trials with feedback come first, then 40 scored trials without. The fooling rate is
the share of scored trials in which the colorization was picked (50%: indistinguishable;
the paper reports 60% on training images and 45.9% on unseen ones). Every number is an
option.

    kcolor turing-test runs/unsplash_resnet50-cgan_resnet50 --data folder:~/data/unsplash --n 40 --out turing/
    # send turing/index.html to participants (it works from the file system, offline);
    # each downloads turing-<page>-<id>.json at the end
    kcolor turing-score turing-*.json --out turing/score.json

`build_page` writes `DIR/index.html` with every image inlined (PNG data URIs) and
`DIR/pairs.json` (the page's pairs and settings, without the pixels). The page's id is
`page`, a SHA-256 over the pairs (ids, whether each is practice, and the PNG bytes of the
real and the fake image): results from different pages are never pooled.

The page draws the left/right order per participant from the page's `seed` and the
participant id (mulberry32 seeded with `seed XOR FNV-1a(id)`); the seed used is in the
results. A results file holds `{"page", "participant", "seed", "protocol", "trials":
[{"pair", "fake_side", "choice", "practice", "ms", "fooled"}]}`, where `choice` is the
side picked as real and `ms` the time from the pair's onset to the answer.

`score_results` gives the fooling rate per participant and pooled over them with a 95%
Wilson score interval, practice trials excluded. The pooled interval treats every
trial as independent (as Zhang et al.'s pooled rate does); per-participant rates show
the spread between people.

Example:
    page = build_page("runs/sample-cgan_resnet50", data="sample", n=40, out_dir="turing")
    report = score_results(["turing-3f2a...-ana.json", "turing-3f2a...-ben.json"])
    report["pooled"]["fooling_rate"], report["pooled"]["ci95"]
"""

import base64
import hashlib
import io as _io
import json
import math
import os
from importlib import resources

import numpy as np

from kcolor import fs

PROTOCOL = {"practice": 10, "n": 40, "show_ms": 1000, "feedback_ms": 1000}
RESULTS_FORMAT = "kcolor-turing-results/1"
SIDES = ("left", "right")
SIDE_RULE = "mulberry32(page_seed XOR fnv1a(participant)); fake left when < 0.5, per trial in page order"
Z95 = 1.959963984540054  # the 97.5% standard normal quantile


# --------------------------------------------------------------------------- the page


def _png(rgb):
    from PIL import Image

    from kcolor.pixels import to_uint8

    buffer = _io.BytesIO()
    Image.fromarray(to_uint8(np.asarray(rgb))).save(buffer, format="PNG")
    return buffer.getvalue()


def page_digest(pairs):
    """SHA-256 (hex) naming a page: its pairs' ids, practice flags and PNG bytes, in order."""
    h = hashlib.sha256()
    for pair in pairs:
        h.update(json.dumps([pair["pair"], bool(pair["practice"])]).encode("utf-8"))
        h.update(hashlib.sha256(pair["real_png"]).digest())
        h.update(hashlib.sha256(pair["fake_png"]).digest())
    return h.hexdigest()


def _check_protocol(n, practice, show_ms, feedback_ms, display_px):
    checks = (("n", n, 1), ("practice", practice, 0), ("show_ms", show_ms, 1), ("feedback_ms", feedback_ms, 0),
              ("display_px", display_px, 16))
    for name, value, low in checks:
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}. Received: {name}={value!r}")


def _colorized_pairs(run, data, split, count, fractions=None):
    """`count` (id, real, fake) of `split` of `data` (split by `fractions`, default the run's), in split order."""
    import tensorflow as tf

    from kcolor.config import TrainConfig
    from kcolor.data import build_eval_split
    from kcolor.evaluate import predict_rgb

    if run.config is None:
        raise FileNotFoundError(f"{run.run_dir} has no config.json: the Turing test needs the run's config")
    cfg = run.config
    source = data or cfg.data
    set_cfg = TrainConfig(
        model=run.model_name, data=source, image_size=run.image_size, split=fractions or cfg.split,
        seed=cfg.seed, augment=(), reference="pair", cache=False, data_dir=cfg.data_dir, download=cfg.download,
    )
    dataset, available, _ = build_eval_split(set_cfg, split, batch_size=16)
    if available < count:
        raise ValueError(
            f"the {split} split of '{source}' holds {available} images, fewer than practice + n = "
            f"{count}; lower --n or --practice, or use a larger data source"
        )
    pairs = []
    for batch in dataset:
        ids = [i.decode("utf-8") for i in batch.pop("id").numpy()]
        fake = predict_rgb(run, batch, run.image_size).numpy()
        real = tf.clip_by_value(batch["rgb"], 0.0, 1.0).numpy()
        pairs.extend(zip(ids, real, fake))
        if len(pairs) >= count:
            break
    return pairs[:count], source


def build_page(run_dir, *, data=None, split="test", fractions=None, n=PROTOCOL["n"], practice=PROTOCOL["practice"],
               show_ms=PROTOCOL["show_ms"], feedback_ms=PROTOCOL["feedback_ms"], seed=0, display_px=256,
               out_dir="turing"):
    """Write the Turing-test page of a run: `out_dir/index.html` (self-contained) and `pairs.json`.

    Args:
        run_dir: a run folder (`kcolor train`).
        data: the data source of the photos (default: the run's own).
        split: "test" (default; unseen images) or "val".
        fractions: the train/val/test fractions that split `data` (default: the run's own).
        n: scored trials (Zhang et al.: 40).
        practice: practice trials with feedback, shown first (Zhang et al.: 10).
        show_ms: how long each pair is shown before it is hidden (Zhang et al.: 1000).
        feedback_ms: how long a practice trial's feedback is shown.
        seed: the page seed of the per-participant left/right order.
        display_px: the displayed size of each image, in CSS pixels.
        out_dir: where the page goes.

    Returns:
        `{"path", "page", "pairs", "protocol", "source"}`.
    """
    from kcolor.export.run import load_run
    from kcolor.fs import atomic_write_json, atomic_write_text

    _check_protocol(n, practice, show_ms, feedback_ms, display_px)
    seed = int(seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32). Received: seed={seed}")
    run = load_run(run_dir)
    colorized, source = _colorized_pairs(run, data, split, practice + n, fractions)
    pairs = [
        {"pair": pair_id, "practice": k < practice, "real_png": _png(real), "fake_png": _png(fake)}
        for k, (pair_id, real, fake) in enumerate(colorized)
    ]
    digest = page_digest(pairs)
    protocol = {"practice": practice, "n": n, "show_ms": show_ms, "feedback_ms": feedback_ms,
                "citation": "Zhang, Isola, Efros, Colorful Image Colorization, 2016, arXiv:1603.08511"}
    described = {"run": fs.absolute(run_dir), "model": run.model_name, "data": source, "split": split,
                 "image_size": run.image_size}
    config = {
        "page": digest,
        "seed": seed,
        "side_rule": SIDE_RULE,
        "protocol": protocol,
        "source": described,
        "display_px": display_px,
        "show_ms": show_ms,
        "feedback_ms": feedback_ms,
        "pairs": [
            {
                "pair": p["pair"],
                "practice": p["practice"],
                "real": "data:image/png;base64," + base64.b64encode(p["real_png"]).decode("ascii"),
                "fake": "data:image/png;base64," + base64.b64encode(p["fake_png"]).decode("ascii"),
            }
            for p in pairs
        ],
    }
    template = resources.files("kcolor.turing").joinpath("page.html").read_text(encoding="utf-8")
    blob = json.dumps(config).replace("</", "<\\/")  # safe inside <script>
    html = template.replace("__KCOLOR_CONFIG__", blob)
    path = fs.join(out_dir, "index.html")  # the folders are made by the atomic writer
    atomic_write_text(path, html)
    summary = {
        "page": digest,
        "seed": seed,
        "side_rule": SIDE_RULE,
        "protocol": protocol,
        "source": described,
        "pairs": [
            {"pair": p["pair"], "practice": p["practice"], "real_sha256": hashlib.sha256(p["real_png"]).hexdigest(),
             "fake_sha256": hashlib.sha256(p["fake_png"]).hexdigest()}
            for p in pairs
        ],
    }
    atomic_write_json(fs.join(out_dir, "pairs.json"), summary)
    return {"path": path, "page": digest, "pairs": len(pairs), "protocol": protocol, "source": described}


# --------------------------------------------------------------------------- the score


def wilson_interval(k, n, z=Z95):
    """Wilson score interval `(low, high)` of a binomial proportion k/n (None for n = 0)."""
    if n == 0:
        return None
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _rate(fooled, trials):
    ci = wilson_interval(fooled, trials)
    return {
        "trials": trials,
        "fooled": fooled,
        "fooling_rate": fooled / trials if trials else None,
        "ci95": list(ci) if ci else None,
    }


def read_results(path):
    """One results file, checked: raises ValueError naming the file and the bad field."""
    path = fs.path_str(path)
    if not fs.isfile(path):
        raise FileNotFoundError(f"Results file '{path}' does not exist")
    try:
        results = fs.read_json(path)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not JSON ({err})") from None
    if not isinstance(results, dict):
        raise ValueError(f"{path} does not hold a results object")
    for key in ("page", "participant", "trials"):
        if key not in results:
            raise ValueError(f"{path} has no '{key}' (a results file holds page, participant, trials)")
    if not isinstance(results["trials"], list):
        raise ValueError(f"{path}: 'trials' must be a list")
    for i, trial in enumerate(results["trials"]):
        bad = [k for k in ("fake_side", "choice") if trial.get(k) not in SIDES]
        if bad or not isinstance(trial.get("practice"), bool) or "pair" not in trial:
            raise ValueError(
                f"{path} trial {i} is malformed ({trial!r}); each trial needs pair, "
                f"fake_side and choice in {SIDES}, practice true/false"
            )
    return results


def score_results(paths):
    """Fooling rate per results file (participant) and pooled, with 95% Wilson intervals.

    Raises:
        ValueError: no files, a malformed file, or files from different pages.
    """
    if not paths:
        raise ValueError("turing-score needs at least one results file")
    loaded = [(os.fspath(p), read_results(p)) for p in paths]
    pages = sorted({r["page"] for _, r in loaded})
    if len(pages) > 1:
        by_page = "; ".join(f"{os.path.basename(p)}: {r['page'][:12]}" for p, r in loaded)
        raise ValueError(
            f"the results come from {len(pages)} different pages ({by_page}); "
            "score each page's results separately"
        )
    participants = []
    total_trials = total_fooled = practice_excluded = 0
    for path, results in loaded:
        scored = [t for t in results["trials"] if not t["practice"]]
        fooled = sum(t["choice"] == t["fake_side"] for t in scored)
        practice_excluded += len(results["trials"]) - len(scored)
        total_trials += len(scored)
        total_fooled += fooled
        participants.append({"participant": results["participant"], "file": path, **_rate(fooled, len(scored))})
    return {
        "page": pages[0],
        "interval": "Wilson score, 95%",
        "participants": participants,
        "pooled": {"participants": len(participants), **_rate(total_fooled, total_trials)},
        "practice_trials_excluded": practice_excluded,
        "protocol": "Zhang, Isola, Efros, Colorful Image Colorization, 2016, arXiv:1603.08511",
    }


def format_score(report):
    """The score as a plain-text table."""

    def pct(row):
        if row["fooling_rate"] is None:
            return "      -"
        low, high = row["ci95"]
        return f"{100 * row['fooling_rate']:5.1f}%  [{100 * low:5.1f}%, {100 * high:5.1f}%]"

    lines = [f"page {report['page'][:12]}  fooling rate (picked the colorization as real), {report['interval']} interval"]
    width = max([len(str(p["participant"])) for p in report["participants"]] + [len("pooled")])
    for row in report["participants"]:
        lines.append(f"  {str(row['participant']):<{width}}  {row['fooled']:>4}/{row['trials']:<4} {pct(row)}")
    pooled = report["pooled"]
    lines.append(f"  {'pooled':<{width}}  {pooled['fooled']:>4}/{pooled['trials']:<4} {pct(pooled)}")
    lines.append(f"  ({report['practice_trials_excluded']} practice trials excluded)")
    return "\n".join(lines)


__all__ = [
    "PROTOCOL",
    "build_page",
    "format_score",
    "page_digest",
    "read_results",
    "score_results",
    "wilson_interval",
]
