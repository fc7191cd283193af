"""The colorization Turing test: a static page that asks people to pick the real photo, and its score.

The protocol is the one of Richard Zhang, Phillip Isola and Alexei A. Efros, "Colorful
Image Colorization" (ECCV 2016, arXiv:1603.08511), which Paper 002 (Mariana Pérez García,
"Image Colorization Using Conditional Generative Adversarial Networks", Tecnológico de
Monterrey, 2020) says it follows:

- a participant sees the real photo and the model's colorization of the same image side
  by side, in random left/right order, for 1 second (timed here from the moment both
  images are painted, not from when the page asks for them); then both are hidden and
  the participant, with unlimited time, picks the one they think is real;
- 10 practice trials with feedback come first, then 40 scored trials without; each
  participant sees the trials in their own random order (practice still first);
- the images are drawn at random from a split, with a recorded seed;
- each participant does one session only: a second results file with the same
  participant id is left out of the score;
- the fooling rate is the share of scored trials in which the colorization was picked
  (50%: indistinguishable). Paper 002 ran the test twice, on training images (60%) and
  on unseen ones (45.9%); `--split train` and `--split test` give those two pages, and
  the results and the score say which split was shown.

Every number is an option.

    kcolor turing-test runs/unsplash_resnet50-cgan_resnet50 --data folder:~/data/unsplash --n 40 --seed 0 --out turing/
    # send turing/index.html to participants (it works from the file system, offline);
    # each downloads turing-<page>-<id>.json at the end
    kcolor turing-score turing-*.json --out turing/score.json

`build_page` writes `DIR/index.html` with every image inlined (PNG data URIs) and
`DIR/pairs.json` (the page's pairs and settings, without the pixels). The page's id is
`page`, a SHA-256 over the pairs (ids, whether each is practice, and the PNG bytes of the
real and the fake image): results from different pages are never pooled. The images
are `practice + n` positions of the split drawn with the page `seed` (`SAMPLE_RULE`;
`pairs.json` and every results file hold the seed and the positions under `sample`).

The page draws each participant's sides and trial order from the page's `seed` and the
participant id (one mulberry32 stream seeded with `seed XOR FNV-1a(id)`: `SIDE_RULE`,
then `ORDER_RULE`); `session_plan` replays a session in Python. Each pair is shown once
both images have decoded, and its `show_ms` start in the second animation frame after
they are revealed (`ONSET_RULE`). A results file holds `{"format", "page",
"participant", "split", "seed", "page_seed", "order", "sample", "protocol", "source",
"started", "finished", "trials": [{"pair", "index", "fake_side", "choice", "practice",
"ms", "load_ms", "fooled"}]}`, trials in the order shown, where `order` and `index` are
page indices, `choice` is the side picked as real, `ms` the time from the pair's first
paint to the answer and `load_ms` the time from asking for the images to that paint.

`score_results` gives the fooling rate per participant and pooled over them with a 95%
Wilson score interval, practice trials and second sessions excluded. The pooled
interval treats every trial as independent (as Zhang et al.'s pooled rate does);
per-participant rates show the spread between people.

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
CITATION = "Zhang, Isola, Efros, Colorful Image Colorization, 2016, arXiv:1603.08511"
RESULTS_FORMAT = "kcolor-turing-results/2"
SIDES = ("left", "right")
PAGE_SPLITS = ("test", "val", "train")
SAMPLE_RULE = ("numpy.random.default_rng(seed).choice(available, practice + n, replace=False): split positions "
               "in draw order; the first `practice` are the practice pairs")
SIDE_RULE = "mulberry32(page_seed XOR fnv1a(participant)); fake left when < 0.5, per pair in page order"
ORDER_RULE = ("the same mulberry32 stream, after the sides: Fisher-Yates (i from last to 1, j = floor(random() * "
              "(i + 1))) over the practice pairs, then over the scored pairs; practice comes first")
ONSET_RULE = ("show_ms counts from the first paint: both images' decode() resolved, then two "
              "requestAnimationFrame callbacks")
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


def sample_positions(available, count, seed):
    """The split positions a page shows: `count` of `available`, drawn without replacement.

    `numpy.random.default_rng(seed).choice(available, count, replace=False)`, in draw order
    (the first `practice` of them are the practice pairs); see `SAMPLE_RULE`.
    """
    if available < count:
        raise ValueError(f"cannot draw {count} images from {available}")
    return [int(i) for i in np.random.default_rng(seed).choice(available, size=count, replace=False)]


def _colorized_pairs(run, data, split, count, seed, fractions=None):
    """`(pairs, source, positions, available)`: `count` (id, real, fake) drawn at random with
    `seed` from `split` of `data` (split by `fractions`, default the run's), in draw order."""
    import tensorflow as tf

    from kcolor.config import TrainConfig
    from kcolor.data import build_eval_split
    from kcolor.evaluate import predict_rgb

    if run.config is None:
        raise FileNotFoundError(f"{run.run_dir} has no config.json: the Turing test needs the run's config")
    cfg = run.config
    source = data or cfg.data
    set_cfg = TrainConfig(
        model=run.model_name, data=source, image_size=run.image_size, fractions=fractions or cfg.fractions,
        seed=cfg.seed, augment=(), reference_from="pair", cache=False, data_dir=cfg.data_dir, download=cfg.download,
    )
    dataset, available, _ = build_eval_split(set_cfg, split, batch_size=16)
    if available < count:
        raise ValueError(
            f"the {split} split of '{source}' holds {available} images, fewer than practice + n = "
            f"{count}; lower --n or --practice, or use a larger data source"
        )
    positions = sample_positions(available, count, seed)
    wanted, found, offset = set(positions), {}, 0
    for batch in dataset:
        ids = [i.decode("utf-8") for i in batch.pop("id").numpy()]
        rows = [k for k in range(len(ids)) if offset + k in wanted]
        if rows:  # only the drawn images are colorized
            picked = {key: tf.gather(value, rows) for key, value in batch.items()}
            fake = predict_rgb(run, picked, run.image_size).numpy()
            real = tf.clip_by_value(picked["rgb"], 0.0, 1.0).numpy()
            for j, k in enumerate(rows):
                found[offset + k] = (ids[k], real[j], fake[j])
        offset += len(ids)
        if len(found) == count:
            break
    if len(found) < count:  # the split held fewer images than it counted
        raise ValueError(f"the {split} split of '{source}' yielded {offset} of its {available} images")
    return [found[i] for i in positions], source, positions, available


def _page_settings(run_dir, run, source, split, seed, positions, available, protocol):
    """What a page records about itself besides its pairs: source, sampling, rules."""
    return {
        "seed": seed,
        "side_rule": SIDE_RULE,
        "order_rule": ORDER_RULE,
        "protocol": protocol,
        "source": {"run": fs.absolute(run_dir), "model": run.model_name, "data": source, "split": split,
                   "image_size": run.image_size},
        "sample": {"rule": SAMPLE_RULE, "seed": seed, "available": available, "positions": positions},
    }


def build_page(run_dir, *, data=None, split="test", fractions=None, n=PROTOCOL["n"], practice=PROTOCOL["practice"],
               show_ms=PROTOCOL["show_ms"], feedback_ms=PROTOCOL["feedback_ms"], seed=0, display_px=256,
               out_dir="turing"):
    """Write the Turing-test page of a run: `out_dir/index.html` (self-contained) and `pairs.json`.

    Args:
        run_dir: a run folder (`kcolor train`).
        data: the data source of the photos (default: the run's own).
        split: "test" (default; unseen images), "val", or "train" (images the model was
            trained on; Zhang et al. ran the test on both, 60% on training images, 45.9% on
            unseen ones).
        fractions: the train/val/test fractions that split `data` (default: the run's own).
        n: scored trials (Zhang et al.: 40).
        practice: practice trials with feedback, shown first (Zhang et al.: 10).
        show_ms: how long each pair is shown, from its first paint, before it is hidden (Zhang et al.: 1000).
        feedback_ms: how long a practice trial's feedback is shown.
        seed: draws the images from the split (`SAMPLE_RULE`) and, with each participant id,
            that participant's trial order and left/right sides (`ORDER_RULE`, `SIDE_RULE`).
        display_px: the displayed size of each image, in CSS pixels.
        out_dir: where the page goes.

    Returns:
        `{"path", "page", "pairs", "protocol", "source", "sample"}`.
    """
    from kcolor.export.run import load_run
    from kcolor.fs import atomic_write_json, atomic_write_text

    _check_protocol(n, practice, show_ms, feedback_ms, display_px)
    if split not in PAGE_SPLITS:
        raise ValueError(f"Unknown Turing-test split '{split}'. Valid choices: {', '.join(PAGE_SPLITS)}")
    seed = int(seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32). Received: seed={seed}")
    run = load_run(run_dir)
    colorized, source, positions, available = _colorized_pairs(run, data, split, practice + n, seed, fractions)
    pairs = [
        {"pair": pair_id, "practice": k < practice, "real_png": _png(real), "fake_png": _png(fake)}
        for k, (pair_id, real, fake) in enumerate(colorized)
    ]
    digest = page_digest(pairs)
    protocol = {"practice": practice, "n": n, "show_ms": show_ms, "feedback_ms": feedback_ms,
                "onset": ONSET_RULE, "citation": CITATION}
    settings = _page_settings(run_dir, run, source, split, seed, positions, available, protocol)
    config = {
        "page": digest, "results_format": RESULTS_FORMAT, **settings, "display_px": display_px,
        "show_ms": show_ms, "feedback_ms": feedback_ms,
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
        "page": digest, **settings,
        "pairs": [
            {"pair": p["pair"], "practice": p["practice"], "real_sha256": hashlib.sha256(p["real_png"]).hexdigest(),
             "fake_sha256": hashlib.sha256(p["fake_png"]).hexdigest()}
            for p in pairs
        ],
    }
    atomic_write_json(fs.join(out_dir, "pairs.json"), summary)
    return {"path": path, "page": digest, "pairs": len(pairs), "protocol": protocol, "source": settings["source"],
            "sample": settings["sample"]}


def _mulberry32(seed):
    """The page's random stream (mulberry32), for replaying a session in Python."""
    a = seed & 0xFFFFFFFF

    def random():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 2**32

    return random


def fnv1a(text):
    """32-bit FNV-1a of `text`'s UTF-8 bytes (the page hashes participant ids with it)."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def session_plan(page_seed, participant, practice_flags):
    """A participant's session as the page draws it, for replaying or auditing a results file.

    Args:
        page_seed: the page's `seed`.
        participant: the participant id as recorded (the page trims surrounding spaces).
        practice_flags: per page pair, in page order, whether it is a practice pair.

    Returns:
        `{"seed", "fake_side", "order"}`: the session seed (`page_seed XOR fnv1a(id)`), the
        side of the colorization per page pair (page order) and the page indices of the
        pairs in the order shown (`SIDE_RULE`, then `ORDER_RULE`, on one mulberry32 stream).
    """
    seed = (int(page_seed) ^ fnv1a(participant)) & 0xFFFFFFFF
    random = _mulberry32(seed)
    sides = ["left" if random() < 0.5 else "right" for _ in practice_flags]

    def shuffled(indices):
        for i in range(len(indices) - 1, 0, -1):
            j = math.floor(random() * (i + 1))
            indices[i], indices[j] = indices[j], indices[i]
        return indices

    practice = shuffled([i for i, p in enumerate(practice_flags) if p])
    scored = shuffled([i for i, p in enumerate(practice_flags) if not p])
    return {"seed": seed, "fake_side": sides, "order": practice + scored}


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


def _split_of(results):
    """The split a results file's page showed (None for files written before it was recorded)."""
    source = results.get("source")
    return results.get("split") or (source.get("split") if isinstance(source, dict) else None)


def first_sessions(loaded):
    """`(kept, excluded)`: one session per participant id, the earliest, the others set aside.

    `loaded` is `[(path, results)]`. Ids match exactly after trimming surrounding spaces
    (the page trims them too). The earliest session is the one with the smallest `started`
    time where every session of that id has one, else the first given; each excluded
    entry says which file it lost to.
    """
    groups = {}
    for index, (path, results) in enumerate(loaded):
        groups.setdefault(str(results["participant"]).strip(), []).append((index, path, results))
    first = {}
    for participant, sessions in groups.items():
        if all(isinstance(r.get("started"), str) for _, _, r in sessions):
            first[participant] = min(sessions, key=lambda s: (s[2]["started"], s[0]))[0]
        else:
            first[participant] = sessions[0][0]
    kept, excluded = [], []
    for index, (path, results) in enumerate(loaded):
        participant = str(results["participant"]).strip()
        if first[participant] == index:
            kept.append((path, results))
        else:
            excluded.append({"participant": results["participant"], "file": path,
                             "first_session": loaded[first[participant]][0],
                             "reason": "a second session of the same participant (one session per participant)"})
    return kept, excluded


def score_results(paths):
    """Fooling rate per participant and pooled, with 95% Wilson intervals.

    One session counts per participant: a further results file with the same participant
    id is kept out of the rates and listed under `excluded_sessions` (`first_sessions`).
    `split` names the split the page showed ("train": images the model was trained on).

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
    kept, excluded = first_sessions(loaded)
    participants = []
    total_trials = total_fooled = practice_excluded = 0
    for path, results in kept:
        scored = [t for t in results["trials"] if not t["practice"]]
        fooled = sum(t["choice"] == t["fake_side"] for t in scored)
        practice_excluded += len(results["trials"]) - len(scored)
        total_trials += len(scored)
        total_fooled += fooled
        participants.append({"participant": results["participant"], "file": path, **_rate(fooled, len(scored))})
    splits = sorted({_split_of(r) for _, r in loaded}, key=str)  # one page shows one split
    return {
        "page": pages[0],
        "split": splits[0] if len(splits) == 1 else splits,
        "interval": "Wilson score, 95%",
        "participants": participants,
        "pooled": {"participants": len(participants), **_rate(total_fooled, total_trials)},
        "practice_trials_excluded": practice_excluded,
        "excluded_sessions": excluded,
        "protocol": CITATION,
    }


def format_score(report):
    """The score as a plain-text table."""

    def pct(row):
        if row["fooling_rate"] is None:
            return "      -"
        low, high = row["ci95"]
        return f"{100 * row['fooling_rate']:5.1f}%  [{100 * low:5.1f}%, {100 * high:5.1f}%]"

    split = report.get("split")
    shown = {"train": "train split: images the model was trained on", "test": "test split: unseen images",
             "val": "val split: unseen images"}.get(split, f"split {split or 'not recorded'}")
    lines = [f"page {report['page'][:12]} ({shown})",
             f"fooling rate (picked the colorization as real), {report['interval']} interval"]
    width = max([len(str(p["participant"])) for p in report["participants"]] + [len("pooled")])
    for row in report["participants"]:
        lines.append(f"  {str(row['participant']):<{width}}  {row['fooled']:>4}/{row['trials']:<4} {pct(row)}")
    pooled = report["pooled"]
    lines.append(f"  {'pooled':<{width}}  {pooled['fooled']:>4}/{pooled['trials']:<4} {pct(pooled)}")
    lines.append(f"  ({report['practice_trials_excluded']} practice trials excluded)")
    for row in report.get("excluded_sessions", []):
        lines.append(f"  excluded {row['file']}: a second session of participant '{row['participant']}' "
                     f"(one session per participant; {row['first_session']} counts)")
    return "\n".join(lines)


__all__ = [
    "PROTOCOL",
    "build_page",
    "first_sessions",
    "fnv1a",
    "format_score",
    "page_digest",
    "read_results",
    "sample_positions",
    "score_results",
    "session_plan",
    "wilson_interval",
]
