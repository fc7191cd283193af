"""Scoring the benchmark's runs with `kcolor.evaluate.evaluate_runs`, plus its baselines.

Single-image models are scored on the test split of `<data>` (`<out>/evaluation/`).
A reference model (Paper 000) needs a color reference per image, which single images do
not have, so it is scored on the test split of `pairs:<data>` (`<out>/evaluation-pairs/`)
with both baselines again on those same images; each row says which set it was scored on.

Models are scored as `kcolor colorize` delivers them: their chroma on the gray input's own
lightness (`evaluate_runs(as_colorized=True)`), like both baselines, so a model that
predicts RGB is not charged for its lightness errors, which a user never sees.

Every set is scored again on the training split (`<out>/evaluation-train/`, without
FID), on `SEEN_IMAGES` of its crops taken at an even stride so that they span every
training photo (all 128 crops per photo would take longer than the training): a model
that loses to a baseline on the unseen test photos but beats it on the photos it trained
on has learned those photos' colors, not general ones; one that loses on both is
under-fit within the budget. The report gives that as the measured reason.

FID needs InceptionV3 ImageNet weights. They are tried first (a missing download fails
within seconds, `kcolor.errors.DownloadUnavailable`); without them the FID status is
"unavailable offline", never a number from random weights.
"""

from kcolor import fs
from kcolor.benchmark import baselines, roster

SINGLE, PAIRS = "single", "pairs"
FID_NOT_ASKED = "not computed (--no-fid)"
FID_OFFLINE = "unavailable offline"
SEEN_IMAGES = 160  # training-split crops scored per set, spread over every training photo


def fid_status(fid):
    """(weights usable, status): "computed" when ImageNet InceptionV3 loads, else why not."""
    if not fid:
        return False, FID_NOT_ASKED
    from kcolor.errors import DownloadUnavailable
    from kcolor.metrics.fid import InceptionFeatures

    try:
        InceptionFeatures("imagenet")  # built once per process; evaluate reuses it
    except DownloadUnavailable:
        return False, FID_OFFLINE
    return True, "computed"


def _chroma_config(data, size, batch):
    """The config whose train split gives the mean chroma: the source's own images."""
    from kcolor.config import TrainConfig

    return TrainConfig(data=data, image_size=size, batch_size=batch, fractions=roster.FRACTIONS, augment=(), cache=False)


def score(entries, *, data, size, batch, out, fid=False):
    """Evaluate every row's run on the frozen test split(s) and on the training split; returns
    `{"mean_chroma_ab", "fid_status", "sets": {SINGLE|PAIRS: evaluation}, "seen": {the same on
    the training split}, "set_of": {model: set}}`."""
    from kcolor.evaluate import evaluate_runs

    ab = baselines.training_mean_chroma(_chroma_config(data, size, batch))
    extra = {baselines.MEAN_CHROMA: baselines.mean_chroma_baseline(ab)}
    use_fid, status = fid_status(fid)
    groups = {SINGLE: [e for e in entries if not e.pairs], PAIRS: [e for e in entries if e.pairs]}
    sets, seen, set_of = {}, {}, {}
    for kind, group in groups.items():
        if not group:
            continue
        folder = "evaluation" if kind == SINGLE else "evaluation-pairs"
        for split, fid_here, into in (("test", use_fid, sets), ("train", False, seen)):
            result = evaluate_runs(
                [fs.join(out, "runs", e.name) for e in group],
                data=roster.entry_data(group[0], data),
                split=split,
                fractions=roster.FRACTIONS,
                image_size=size,
                batch_size=batch,
                out_dir=fs.join(out, folder if split == "test" else f"{folder}-train"),
                fid=fid_here,
                fid_images="all" if fid_here else None,  # every row on its whole test set, whatever a config asks
                baselines=extra,
                as_colorized=True,
                max_images=None if split == "test" else SEEN_IMAGES,
                spread=split == "train",
            )
            into[kind] = result["evaluation"]
        set_of.update({e.name: kind for e in group})
    return {"mean_chroma_ab": [float(v) for v in ab], "fid_status": status, "sets": sets, "seen": seen,
            "set_of": set_of}
