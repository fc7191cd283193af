"""The `photos` source: kcolor's real-photo corpus, natural color photographs on disk.

The corpus is the natural color photographs that installable packages ship, and nothing
else (no illustrations, logos, microscopy or astronomy): the color photos of
scikit-image, the sample photos of scikit-learn, the photographs among Debian's
`plasma-workspace-wallpapers`, the five photographs of Debian's `palapeli-data` (a
jigsaw game's puzzles), and the photographs of Debian's `tuxpaint-data` (Tux Paint's
templates and two NOAA starter backgrounds), and the photographs of Debian's
`gcompris-qt-data` (GCompris' animals and monuments, read from inside its Qt resource files
by `kcolor.data.qt_resources`). `photos_manifest.json` (beside this module)
lists every photo: its package and version, its path inside the package, author, licence
(from the package's copyright file), SHA-256, size, what it shows, and its split. Whole photos are
split into train, val and test by the manifest, so the test photos are never seen in
training and the test set is frozen with the file digests. GCompris' photographs were split
by their SHA-256: sorted by it, every 10th went to test and every 10th from the 6th to val;
the other packages' splits were set by hand when they joined, and no photo has moved since.

`kcolor fetch-photos` (`make photos`, `kcolor.data.photo_fetch.fetch_photos`) puts the
corpus in a plain folder with `manifest.json` beside the photos. The source reads it:

| spec           | the folder                                                      |
|----------------|-----------------------------------------------------------------|
| `photos`       | `$KCOLOR_PHOTOS`, or `~/.kcolor/photos` (`default_root`)       |
| `photos:PATH`  | PATH                                                            |
| `pairs:photos` | overlapping-crop (reference, target) pairs of the same photos   |

Examples are crops, as for `sample` (`kcolor.data.crops`): `TRAIN_CROPS` random squares
of 100/75/50/35% of each training photo's shorter side, half mirrored; `HELD_OUT_CROPS`
squares of each val and test photo (the centre square first). A photo that is missing or
whose bytes do not match its SHA-256 is skipped and counted, never read.

Example:
    raw = load_photos(default_root(), sizes={"train": 64, "val": 64, "test": 64})
    raw.counts, raw.info["photo_paths"]["test"]
"""

import collections
import hashlib
import json
import math
import os

from kcolor import fs
from kcolor.data.crops import TRAIN_SCALES, held_out_placement, overlap_pairs, single_examples, to_dataset
from kcolor.data.raw import DataSourceError, RawData
from kcolor.specs import SPLITS

MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "photos_manifest.json")
MANIFEST_NAME = "manifest.json"
TRAIN_CROPS = 128
HELD_OUT_CROPS = 16
TRAIN_PAIRS = 64
# Cutting the crops is most of a load (about 30 s for the 144-photo corpus at 64 px on a
# 2-core CPU: 15,000 antialiased resizes), so one process keeps the last few crop sets and
# a second load of the same photos (same SHA-256s, splits, sizes, seed) reuses them:
# `kcolor benchmark` loads the corpus once per model and again to score.
_CROPS = collections.OrderedDict()
KEPT_CROP_SETS = 2  # single crops and pairs: about 190 MB each at 64 px


def default_root() -> str:
    """Where `photos` lives: `$KCOLOR_PHOTOS`, else `~/.kcolor/photos`."""
    return fs.expand_path(os.environ.get("KCOLOR_PHOTOS") or "~/.kcolor/photos")


def read_manifest(path=MANIFEST) -> dict:
    """The corpus manifest: {"packages": {id: {...}}, "photos": [{name, package, path, sha256, split, ...}]}."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def photo_filename(row) -> str:
    """The file name of a manifest row in the corpus folder: its name and its extension."""
    return row["name"] + os.path.splitext(row["path"])[1].lower()


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_folder(root, manifest=None, *, items="photos"):
    """`(good, bad)`: {name: path} of the files of `manifest[items]` present with the right
    SHA-256, and {name: reason} of the others ("missing", or "bad checksum": not the
    manifest's SHA-256). `items` is "photos" here, "clips" for `kcolor.data.clips`."""
    manifest = manifest or read_manifest()
    good, bad = {}, {}
    for row in manifest[items]:
        path = os.path.join(root, photo_filename(row))
        if not os.path.isfile(path):
            bad[row["name"]] = "missing"
        elif sha256_file(path) != row["sha256"]:
            bad[row["name"]] = "bad checksum"
        else:
            good[row["name"]] = path
    return good, bad


def _no_corpus(root):
    return DataSourceError(
        f"No photo corpus in {root} (no {MANIFEST_NAME} there). Run `kcolor fetch-photos` "
        f"(or `make photos`) to download it, or pass the folder that holds it as photos:PATH."
    )


def load_photos(root=None, *, pairs=False, split=(0.6, 0.2, 0.2), sizes=None, seed=0) -> RawData:
    """The `photos` (or `pairs:photos`) source in `root` as raw uint8 crops, one size per split.

    The manifest's split decides where each photo goes; `split` only says which held-out
    splits exist (a config without a test fraction puts the test photos in val).
    """
    root = fs.expand_path(root or default_root())
    manifest_path = os.path.join(root, MANIFEST_NAME)
    if not os.path.isfile(manifest_path):
        raise _no_corpus(root)
    manifest = read_manifest(manifest_path)
    good, bad = check_folder(root, manifest)
    if not good:
        raise DataSourceError(f"None of the {len(bad)} photos in {root} is readable ({_reasons(bad)}); "
                              f"run `kcolor fetch-photos --out {root}` to fetch them again.")
    sizes = sizes or {name: 256 for name in SPLITS}
    placement = held_out_placement(split)
    goes = {row["name"]: (row["split"] if row["split"] == "train" else placement[row["split"]])
            for row in manifest["photos"] if row["name"] in good}
    digests = {row["name"]: row["sha256"] for row in manifest["photos"]}
    key = (pairs, seed, tuple(sorted(sizes.items())), tuple(sorted((n, digests[n], g) for n, g in goes.items())))
    examples = _cached_examples(key, lambda: _examples(goes, good, pairs, sizes, seed))
    info = {
        "split_rule": "source",
        "photos": {name: [p for p, g in goes.items() if g == name] for name in SPLITS},
        "photo_paths": {name: [good[p] for p, g in goes.items() if g == name] for name in SPLITS},
        "photo_dir": root,
    }
    skipped = sorted(bad)
    return RawData(
        {name: to_dataset(examples[name], sizes[name], pairs) for name in SPLITS},
        {name: len(examples[name]) for name in SPLITS},
        "pairs" if pairs else "single",
        info,
        skipped,
        {name: (bad[name], f"photo '{name}' in {root}: {bad[name]}") for name in skipped},
    )


def _cached_examples(key, make):
    """`make()`, or the crops an earlier call with the same `key` made (read only)."""
    if key in _CROPS:
        _CROPS.move_to_end(key)
        return _CROPS[key]
    examples = make()
    _CROPS[key] = examples
    while len(_CROPS) > KEPT_CROP_SETS:
        _CROPS.popitem(last=False)
    return examples


def _reasons(bad):
    return ", ".join(f"{name}: {why}" for name, why in sorted(bad.items()))


def _examples(goes, paths, pairs, sizes, seed):
    from kcolor.data.images import read_image
    from kcolor.pixels import resize_shorter_side

    # Crops are cut from the photo shrunk to twice what the smallest crop needs (a 35%
    # square still has two source pixels per output pixel): the same crops, 10x faster.
    working_side = 2 * int(math.ceil(max(sizes.values()) / min(TRAIN_SCALES)))

    def load(name):
        return resize_shorter_side(read_image(paths[name]).rgb, working_side).numpy()

    train = [name for name, g in goes.items() if g == "train"]
    held_out = {name: g for name, g in goes.items() if g != "train"}
    if not pairs:
        return single_examples(train, held_out, load, sizes, seed, train_crops=TRAIN_CROPS,
                               held_out_crops=HELD_OUT_CROPS)
    jobs = [(name, "train", TRAIN_PAIRS) for name in train]
    jobs += [(name, g, HELD_OUT_CROPS) for name, g in held_out.items() if g]
    return overlap_pairs(jobs, load, sizes, seed, {name: [] for name in SPLITS})
