"""The built-in offline `sample` data: crops of the color photos that ship with scikit-image.

scikit-image installs a `data` folder with a handful of real color photos. kcolor uses
nine of them (the gray ones, the logo, the synthetic color wheel and the chessboards
are left out) and turns them into a small but real training set without any network:

| split | photos                                                        | examples        |
|-------|---------------------------------------------------------------|-----------------|
| train | astronaut, hubble_deep_field, ihc, motorcycle_left,           | 48 crops each:  |
|       | motorcycle_right, retina, rocket                              | 336             |
| val   | chelsea (the cat)                                             | 16 crops        |
| test  | coffee (the cup)                                              | 16 crops        |

Whole photos are held out, so the validation and test images (and the sample grid
drawn from them) show scenes the model never saw. Training crops are squares of 100%,
75%, 50% and 35% of the photo's shorter side at random positions, half of them
mirrored; held-out crops are the full centre square plus 75% and 50% squares. Every
position comes from `numpy.random.default_rng((seed, photo))`, so the same seed gives
the same crops. When a config has no val (or test) fraction, the held-out photo of that
split goes to the other held-out split.

`pairs:sample` gives (reference, target) pairs a user can check by eye:

- the stereo pair: the same square taken from `motorcycle_left` (reference) and
  `motorcycle_right` (target): two views of one scene, 40 pairs;
- two overlapping squares of one photo (shifted by 15-35% of their side, slightly
  rescaled) for astronaut, hubble_deep_field, ihc, retina and rocket: 40 pairs each;
- chelsea (val) and coffee (test): 16 overlapping-crop pairs each.

Example:
    raw = load_sample(pairs=False, sizes={"train": 64, "val": 64, "test": 64})
    raw.counts   # {"train": 336, "val": 16, "test": 16}
"""

import functools
import os

from kcolor.data.crops import (
    crop,
    held_out_placement,
    overlap_pairs,
    photo_rng,
    single_examples,
    to_dataset,
    train_boxes,
    width_height,
)
from kcolor.data.raw import DataSourceError, RawData
from kcolor.specs import SPLITS

TRAIN_PHOTOS = (
    "astronaut.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "retina.jpg",
    "rocket.jpg",
)
VAL_PHOTO = "chelsea.png"
TEST_PHOTO = "coffee.png"
STEREO_PAIR = ("motorcycle_left.png", "motorcycle_right.png")

CROPS_PER_TRAIN_PHOTO = 48
CROPS_PER_HELD_OUT_PHOTO = 16
PAIRS_PER_TRAIN_PHOTO = 40
PAIRS_PER_HELD_OUT_PHOTO = 16


def data_dir() -> str:
    """scikit-image's installed `data` folder."""
    import skimage

    return os.path.join(os.path.dirname(skimage.__file__), "data")


@functools.lru_cache(maxsize=None)
def load_photo(filename):
    """One bundled photo as float32 RGB (H, W, 3) in [0, 1], read by `kcolor.data.images` (cached)."""
    from kcolor.data.images import read_image

    path = os.path.join(data_dir(), filename)
    if not os.path.exists(path):
        raise DataSourceError(
            f"The sample photo '{filename}' is missing from scikit-image's data folder {data_dir()}; "
            f"reinstall scikit-image or use another source (folder:PATH, tfds:NAME, records:PATH)"
        )
    rgb = read_image(path).rgb
    rgb.setflags(write=False)  # shared by the cache
    return rgb


def _held_out(split):
    """{photo: the split it goes to}: the val photo and the test photo, given the fractions."""
    placement = held_out_placement(split)
    return {VAL_PHOTO: placement["val"], TEST_PHOTO: placement["test"]}


def _pair_examples(split, sizes, seed):
    examples = {name: [] for name in SPLITS}  # name -> [(id, reference, target)]
    left, right = (load_photo(f) for f in STEREO_PAIR)
    rng = photo_rng(seed, "stereo")
    size = sizes["train"]
    for i, (box, flip) in enumerate(train_boxes(rng, *width_height(left), PAIRS_PER_TRAIN_PHOTO)):
        reference, target = crop(left, box, size, flip), crop(right, box, size, flip)
        examples["train"].append((f"motorcycle/stereo{i:03d}", reference, target))
    jobs = [(f, "train", PAIRS_PER_TRAIN_PHOTO) for f in TRAIN_PHOTOS if f not in STEREO_PAIR]
    jobs += [(f, goes, PAIRS_PER_HELD_OUT_PHOTO) for f, goes in _held_out(split).items() if goes]
    return overlap_pairs(jobs, load_photo, sizes, seed, examples)


def load_sample(*, pairs=False, split=(0.6, 0.2, 0.2), sizes=None, seed=0) -> RawData:
    """The `sample` (or `pairs:sample`) source as raw uint8 crops, one size per split."""
    sizes = sizes or {name: 256 for name in SPLITS}
    if pairs:
        examples = _pair_examples(split, sizes, seed)
    else:
        examples = single_examples(TRAIN_PHOTOS, _held_out(split), load_photo, sizes, seed,
                                   train_crops=CROPS_PER_TRAIN_PHOTO, held_out_crops=CROPS_PER_HELD_OUT_PHOTO)
    splits = {name: to_dataset(examples[name], sizes[name], pairs) for name in SPLITS}
    counts = {name: len(examples[name]) for name in SPLITS}
    placement = _held_out(split)
    info = {
        "split_rule": "source",
        "photos": {
            "train": [os.path.splitext(f)[0] for f in TRAIN_PHOTOS],
            "val": [os.path.splitext(f)[0] for f, goes in placement.items() if goes == "val"],
            "test": [os.path.splitext(f)[0] for f, goes in placement.items() if goes == "test"],
        },
        "photo_dir": data_dir(),
    }
    # The whole photos behind each split, for figures at full resolution (`photo_paths`).
    info["photo_paths"] = {
        name: [os.path.join(data_dir(), f) for f in TRAIN_PHOTOS + tuple(placement)
               if os.path.splitext(f)[0] in info["photos"][name]]
        for name in SPLITS
    }
    return RawData(splits, counts, "pairs" if pairs else "single", info, [])
