"""The names and text grammars a config is checked against, with no TensorFlow.

`kcolor.config` checks every field before any data is read or any model is built; the
names it checks against live here, one floor below it and above nothing but
`kcolor.fs` and `kcolor.errors` (ARCHITECTURE.md), so that checking a config needs no
TensorFlow and no module of the layers that use the names:

- data sources (`SOURCE_FORMS`, `parse_source` → `SourceSpec`), used by `kcolor.data`;
- splits: the names (`SPLITS`), fractions (`normalize_split`) and their text form on the
  command line (`parse_fractions`);
- augmentations (`AUGMENTATIONS`, `check_augment`), used by `kcolor.data.augment`;
- losses: the reconstruction losses' names (`LOSS_NAMES`) and KMHCNet's composable loss
  grammar (`parse_color_loss_name`), used by `kcolor.training.losses`;
- learning-rate schedules (`LR_SCHEDULE_FORMS`, `parse_lr_schedule`), used by
  `kcolor.training.optimizers`;
- distribution strategies (`STRATEGIES`), used by `kcolor.training.strategy`;
- video colorization's temporal modes and their options (`TEMPORAL_MODES`,
  `check_temporal_options`), used by `kcolor.export.video` and the `colorize` command.

Example:
    parse_source("pairs:folder:~/refs,$DATA/targets")   # SourceSpec(kind="folder", pairs=True, ...)
    parse_fractions("0.6,0.2,0.2")                      # (0.6, 0.2, 0.2)
"""

import dataclasses
from typing import NamedTuple, Optional

from kcolor.fs import expand_path

# --------------------------------------------------------------------------- data sources

SPLITS = ("train", "val", "test")
SOURCE_FORMS = (
    "sample",
    "photos[:PATH]",
    "folder:PATH",
    "tfds:NAME[:split]",
    "records:PATH",
    "pairs:folder:REF_DIR,TGT_DIR",
    "pairs:records:PATH",
    "pairs:sample",
    "pairs:photos[:PATH]",
)

# Sources that cut square crops from a few whole photos at the `seed`, holding out whole
# photos (`kcolor.data.crops`): their examples depend on the seed and the split's size.
CROP_SOURCES = ("sample", "photos")


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """A parsed data source. `str(spec)` gives back the canonical spec string."""

    kind: str  # sample | photos | folder | tfds | records
    pairs: bool = False
    path: Optional[str] = None  # folder / records / photos (None: the default corpus folder)
    reference_dir: Optional[str] = None  # pairs:folder
    target_dir: Optional[str] = None  # pairs:folder
    name: Optional[str] = None  # tfds dataset name
    tfds_split: Optional[str] = None  # tfds split, None: all splits

    def __str__(self):
        prefix = "pairs:" if self.pairs else ""
        if self.kind == "sample" or (self.kind == "photos" and not self.path):
            return prefix + self.kind
        if self.kind == "tfds":
            return f"tfds:{self.name}" + (f":{self.tfds_split}" if self.tfds_split else "")
        if self.kind == "folder" and self.pairs:
            return f"pairs:folder:{self.reference_dir},{self.target_dir}"
        return f"{prefix}{self.kind}:{self.path}"


def bad_source(spec, why):
    return ValueError(
        f"Unknown data source '{spec}' ({why}). Valid forms: {', '.join(SOURCE_FORMS)}"
    )


def parse_source(spec) -> SourceSpec:
    """Parse a data source string (see the module docstring for the valid forms).

    `~` and `$VARS` in its paths are expanded (`kcolor.fs.expand_path`).

    Example:
        parse_source("tfds:oxford_flowers102:train")  # SourceSpec(kind="tfds", ...)
    """
    if isinstance(spec, SourceSpec):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise bad_source(spec, "empty")
    text = spec.strip()
    pairs = text.startswith("pairs:")
    body = text[len("pairs:") :] if pairs else text
    kind, _, rest = body.partition(":")
    if kind == "sample":
        if rest:
            raise bad_source(spec, "'sample' takes no argument")
        return SourceSpec("sample", pairs=pairs)
    if kind == "photos":
        return SourceSpec("photos", pairs=pairs, path=expand_path(rest) if rest else None)
    if kind == "records":
        if not rest:
            raise bad_source(spec, "records needs a folder: records:PATH")
        return SourceSpec("records", pairs=pairs, path=expand_path(rest))
    if kind == "folder" and not pairs:
        if not rest:
            raise bad_source(spec, "folder needs a path: folder:PATH")
        return SourceSpec("folder", path=expand_path(rest))
    if kind == "folder" and pairs:
        parts = rest.split(",")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise bad_source(spec, "pairs:folder needs two folders: pairs:folder:REF_DIR,TGT_DIR")
        return SourceSpec(
            "folder", pairs=True, reference_dir=expand_path(parts[0].strip()), target_dir=expand_path(parts[1].strip())
        )
    if kind == "tfds" and not pairs:
        name, _, split = rest.partition(":")
        if not name:
            raise bad_source(spec, "tfds needs a dataset name: tfds:NAME[:split]")
        return SourceSpec("tfds", name=name, tfds_split=split or None)
    if kind == "tfds" and pairs:
        raise bad_source(spec, "tfds datasets are single images; pairs come from folders, records, sample or photos")
    raise bad_source(spec, f"unknown kind '{kind}'")


# --------------------------------------------------------------------------- splits


def normalize_split(split, *, need_train=False) -> tuple:
    """Train/val/test fractions as a 3-tuple summing to 1 (a 2-tuple means no test split).

    Any split may have no share (an evaluation of a source's every image as test is
    `(0, 0, 1)`); `need_train=True`, what training and the commands that write a training
    set ask for, also refuses a zero train fraction.
    """
    try:
        values = tuple(float(v) for v in split)
    except (TypeError, ValueError):
        raise ValueError(f"split must be 2 or 3 fractions (train, val[, test]). Received: split={split!r}") from None
    if len(values) == 2:
        values = values + (0.0,)
    if len(values) != 3 or any(v < 0 for v in values) or sum(values) <= 0 or (need_train and values[0] <= 0):
        rule = " with train > 0" if need_train else " with a positive sum"
        raise ValueError(
            f"split must be 2 or 3 non-negative fractions (train, val[, test]){rule}. Received: split={split!r}"
        )
    total = sum(values)
    return tuple(v / total for v in values)


def parse_fractions(text, *, option="--fractions", need_train=True) -> tuple:
    """`"0.6,0.2,0.2"` (or `"0.8,0.2"`) → train/val/test fractions, checked by `normalize_split`.

    The one parser of the fractions a user types; the message names `option` and the
    bad value. `need_train=False` (evaluation) accepts a zero train fraction, as in
    `0,0,1`: every image of the source in the test split.
    """
    try:
        values = tuple(float(v) for v in str(text).split(","))
        normalize_split(values, need_train=need_train)
    except ValueError:
        example = "0.6,0.2,0.2" if need_train else "0.6,0.2,0.2 or 0,0,1"
        raise ValueError(f"{option} must be 2 or 3 numbers like {example}. Received: {text}") from None
    return values


# --------------------------------------------------------------------------- augmentations

AUGMENTATIONS = ("hue", "contrast", "flip", "crop")


def check_augment(names, hue_delta=0.1, contrast_range=(0.7, 1.3)) -> tuple:
    """Validate augmentation names and ranges; returns the names as a tuple."""
    if isinstance(names, str):
        names = tuple(n for n in names.replace(";", ",").split(",") if n)
    names = tuple(str(n).strip() for n in (names or ()) if str(n).strip() and str(n).strip() != "none")
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown:
        raise ValueError(f"Unknown augmentation {unknown}. Valid choices: {', '.join(AUGMENTATIONS)} (or none)")
    if "hue" in names and not 0.0 <= float(hue_delta) <= 0.5:
        raise ValueError(f"hue_delta must be in [0, 0.5] (a fraction of a hue turn). Received: hue_delta={hue_delta}")
    if "contrast" in names:
        try:
            lower, upper = (float(v) for v in contrast_range)
        except (TypeError, ValueError):
            raise ValueError(
                f"contrast_range must be two numbers (lower, upper). Received: contrast_range={contrast_range!r}"
            ) from None
        if not 0.0 <= lower < upper:
            raise ValueError(
                f"contrast_range must satisfy 0 <= lower < upper. Received: contrast_range={contrast_range!r}"
            )
    return names


# --------------------------------------------------------------------------- reference modes

# How a reference-guided model gets its reference: the pair's own reference image, or
# the target itself (Paper 000's "cheating" variant).
REFERENCE_MODES = ("pair", "self")


# --------------------------------------------------------------------------- losses

# The names of the losses `kcolor.training.losses.register_loss` registered: the built-in
# four when `kcolor.training.losses` is imported, and any a user adds. The config check
# reads them here, so checking a config imports no training code.
LOSS_NAMES = ["mse", "mae", "ms_ssim", "mse_ms_ssim"]


def add_loss_name(name) -> None:
    """Record a registered loss's name (called by `kcolor.training.losses.register_loss`)."""
    if name not in LOSS_NAMES:
        LOSS_NAMES.append(name)
# "lab": ab only (the author's notebook); "lab3": the full Lab image of KMHCNet's Equation 4.
COLOR_SPACES = ("lab", "lab3", "rgb")
COLOR_BASES = ("mse", "ms_ssim", "mse_ms_ssim")


class ColorLossName(NamedTuple):
    """The parts of a KMHCNet loss name `"<loss>@<space>[+<embedding>[/<layer>][:<weights>]]"`."""

    base: str
    space: str
    embedding: Optional[str] = None
    layer: Optional[str] = None
    weights: str = "imagenet"


def check_color_loss(parts: ColorLossName, embeddings=None) -> ColorLossName:
    """Raise a ValueError naming the bad part of a KMHCNet loss; `embeddings` (names) also checks the embedding."""
    base, space, embedding = parts.base, parts.space, parts.embedding
    if base not in COLOR_BASES:
        raise ValueError(f"Unknown KMHCNet loss {base!r}. Valid choices: {', '.join(COLOR_BASES)}")
    if space not in COLOR_SPACES:
        raise ValueError(f"Unknown loss color space {space!r}. Valid choices: {', '.join(COLOR_SPACES)}")
    if embedding is not None and base == "ms_ssim":
        raise ValueError(
            f"An embedding ({embedding}) changes only the MSE term; use mse or mse_ms_ssim with it, not {base}"
        )
    if embedding is not None and embeddings is not None and embedding not in embeddings:
        raise ValueError(f"Unknown embedding {embedding!r}. Valid embeddings: {', '.join(embeddings)}")
    return parts


def parse_color_loss_name(name, embeddings=None) -> ColorLossName:
    """Split and check (`check_color_loss`) a KMHCNet loss name.

    Example:
        parse_color_loss_name("mse@lab+vgg16/block4_pool:none")
        # ColorLossName(base="mse", space="lab", embedding="vgg16", layer="block4_pool", weights="none")
    """
    head, _, tail = str(name).partition("+")
    base, _, space = head.partition("@")
    embedding, layer, weights = None, None, "imagenet"
    if tail:
        embedding, _, weights_text = tail.partition(":")
        embedding, _, layer = embedding.partition("/")
        layer = layer or None
        weights = weights_text or "imagenet"
    return check_color_loss(ColorLossName(base, space, embedding, layer, weights), embeddings)


# --------------------------------------------------------------------------- learning-rate schedules

LR_SCHEDULE_FORMS = ("piecewise:B1[,B2...]:V0,V1[,...]",)


def parse_lr_schedule(text):
    """`"piecewise:59000:2e-4,2e-5"` → `("piecewise", (59000,), (2e-4, 2e-5))`; None stays None.

    Raises a ValueError naming the bad value and the valid form.
    """
    if text is None:
        return None

    def bad(why):
        return ValueError(
            f"lr_schedule={text!r} is not valid ({why}). Valid: {' or '.join(LR_SCHEDULE_FORMS)}, "
            "e.g. piecewise:59000:2e-4,2e-5 (59k steps at 2e-4, then 2e-5), or none"
        )

    parts = str(text).strip().split(":")
    if parts[0] != "piecewise":
        raise bad(f"unknown kind {parts[0]!r}")
    if len(parts) != 3:
        raise bad("expected piecewise:BOUNDARIES:VALUES")
    try:
        boundaries = tuple(int(b) for b in parts[1].split(","))
        values = tuple(float(v) for v in parts[2].split(","))
    except ValueError:
        raise bad("boundaries must be integers and values numbers") from None
    if len(values) != len(boundaries) + 1:
        raise bad(f"{len(boundaries)} boundaries need {len(boundaries) + 1} values, got {len(values)}")
    if any(b < 1 for b in boundaries) or any(b >= c for b, c in zip(boundaries, boundaries[1:])):
        raise bad("boundaries must be positive and increasing")
    if any(not v > 0 for v in values):
        raise bad("learning rates must be positive")
    return ("piecewise", boundaries, values)


# --------------------------------------------------------------------------- distribution strategies

STRATEGIES = ("auto", "default", "one_device", "mirrored", "multiworker", "multi_worker", "tpu")


# --------------------------------------------------------------------------- video colorization

# How `kcolor colorize` carries colors from frame to frame (`kcolor.export.video`).
TEMPORAL_MODES = ("none", "flow", "reference")
# `--temporal flow`'s blend: the share of the carried-over chroma. Chosen on clips of the
# corpus's VAL photo (EveningGlow: two pans and two zooms, 48 frames at 256x160), with the
# benchmark's autoencoder: the colors' own flicker (E_warp above the gray copy's,
# `kcolor.evaluate_video.excess_warp`) fell to x0.72 / 0.66 / 0.59 / 0.48 / 0.41 of
# `none`'s at 0.6 / 0.7 / 0.8 / 0.9 / 0.95, and PSNR rose by 0.03 to 0.25 dB. 0.8 keeps
# a fifth of each new prediction, so a real change of color (lighting, a new object the
# flow follows) shows within about five frames; higher values calm more and lag longer.
DEFAULT_STRENGTH = 0.8
# Mean absolute difference of consecutive gray frames (0-255 scale) above which a frame
# starts a new scene. Frames of one shot differ on average by a few levels (motion, noise,
# compression); a cut between unrelated shots changes most pixels by tens of levels. 30
# sits between the two: a rule of thumb, not tuned on a data set.
DEFAULT_SCENE_CUT = 30.0


def check_temporal_options(temporal, strength=DEFAULT_STRENGTH, scene_cut=DEFAULT_SCENE_CUT) -> None:
    """Raise ValueError naming a bad `temporal`, `strength` (0 up to, not including, 1) or
    `scene_cut` (above 0, at most 255). A strength of 1 would keep the first frame's chroma
    for ever.

    Example:
        check_temporal_options("flow", 0.6, 30.0)   # fine; "blur" raises, naming none, flow, reference
    """
    if temporal not in TEMPORAL_MODES:
        raise ValueError(f"Unknown temporal mode {temporal!r}. Valid: {', '.join(TEMPORAL_MODES)}")

    def number(value):
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    if not number(strength) or not 0.0 <= strength < 1.0:
        raise ValueError(f"strength must be a number from 0 up to (not including) 1. Received: strength={strength!r}")
    if not number(scene_cut) or not 0.0 < scene_cut <= 255.0:
        raise ValueError(f"scene_cut must be a number above 0, at most 255. Received: scene_cut={scene_cut!r}")
