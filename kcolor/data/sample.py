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

import numpy as np
import tensorflow as tf

from kcolor.data.raw import DataSourceError, RawData
from kcolor.specs import SPLITS, normalize_split

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

TRAIN_SCALES = (1.0, 0.75, 0.5, 0.35)
HELD_OUT_SCALES = (0.75, 0.5)
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


def _width_height(image):
    return image.shape[1], image.shape[0]


def _photo_rng(seed, filename):
    # A stable per-photo stream (Python's hash() is salted per process).
    return np.random.default_rng((int(seed), sum(ord(c) * (i + 1) for i, c in enumerate(filename))))


def _random_box(rng, width, height, scale):
    side = max(1, int(round(scale * min(width, height))))
    x0 = int(rng.integers(0, width - side + 1))
    y0 = int(rng.integers(0, height - side + 1))
    return (x0, y0, side)


def _centre_box(width, height):
    side = min(width, height)
    return ((width - side) // 2, (height - side) // 2, side)


def _crop(image, box, size, flip=False):
    from kcolor.pixels import resize, to_uint8

    x0, y0, side = box
    array = to_uint8(resize(image[y0 : y0 + side, x0 : x0 + side], size).numpy())
    return array[:, ::-1] if flip else array


def _train_boxes(rng, width, height, count):
    boxes = []
    for i in range(count):
        scale = TRAIN_SCALES[i % len(TRAIN_SCALES)]
        boxes.append((_random_box(rng, width, height, scale), bool(rng.integers(0, 2))))
    return boxes


def _held_out_boxes(rng, width, height, count):
    boxes = [(_centre_box(width, height), False)]
    for i in range(count - 1):
        boxes.append((_random_box(rng, width, height, HELD_OUT_SCALES[i % len(HELD_OUT_SCALES)]), False))
    return boxes


def _shifted_box(rng, box, width, height):
    # A second square overlapping `box`: shifted 15-35% of its side, rescaled 85-100%.
    x0, y0, side = box
    new_side = max(1, min(int(round(side * rng.uniform(0.85, 1.0))), width, height))
    dx = int(round(side * rng.uniform(0.15, 0.35))) * int(rng.choice((-1, 1)))
    dy = int(round(side * rng.uniform(0.15, 0.35))) * int(rng.choice((-1, 1)))
    nx = int(np.clip(x0 + dx, 0, width - new_side))
    ny = int(np.clip(y0 + dy, 0, height - new_side))
    return (nx, ny, new_side)


def _held_out_placement(split):
    """Which split the val photo and the test photo go to, given the fractions."""
    fractions = normalize_split(split)
    has_val, has_test = fractions[1] > 0, fractions[2] > 0
    val_goes = "val" if has_val else ("test" if has_test else None)
    test_goes = "test" if has_test else ("val" if has_val else None)
    return {VAL_PHOTO: val_goes, TEST_PHOTO: test_goes}


def _single_examples(split, sizes, seed):
    examples = {name: [] for name in SPLITS}  # name -> [(id, array)]
    for filename in TRAIN_PHOTOS:
        image = load_photo(filename)
        rng = _photo_rng(seed, filename)
        for i, (box, flip) in enumerate(_train_boxes(rng, *_width_height(image), CROPS_PER_TRAIN_PHOTO)):
            crop = _crop(image, box, sizes["train"], flip)
            examples["train"].append((f"{os.path.splitext(filename)[0]}/crop{i:03d}", crop))
    for filename, goes in _held_out_placement(split).items():
        if goes is None:
            continue
        image = load_photo(filename)
        rng = _photo_rng(seed, filename)
        for i, (box, _) in enumerate(_held_out_boxes(rng, *_width_height(image), CROPS_PER_HELD_OUT_PHOTO)):
            crop = _crop(image, box, sizes[goes])
            examples[goes].append((f"{os.path.splitext(filename)[0]}/crop{i:03d}", crop))
    return examples


def _pair_examples(split, sizes, seed):
    examples = {name: [] for name in SPLITS}  # name -> [(id, reference, target)]
    left, right = (load_photo(f) for f in STEREO_PAIR)
    rng = _photo_rng(seed, "stereo")
    size = sizes["train"]
    for i, (box, flip) in enumerate(_train_boxes(rng, *_width_height(left), PAIRS_PER_TRAIN_PHOTO)):
        reference, target = _crop(left, box, size, flip), _crop(right, box, size, flip)
        examples["train"].append((f"motorcycle/stereo{i:03d}", reference, target))
    jobs = [(f, "train", PAIRS_PER_TRAIN_PHOTO) for f in TRAIN_PHOTOS if f not in STEREO_PAIR]
    jobs += [(f, goes, PAIRS_PER_HELD_OUT_PHOTO) for f, goes in _held_out_placement(split).items() if goes]
    for filename, goes, count in jobs:
        image = load_photo(filename)
        rng = _photo_rng(seed, filename)
        width, height = _width_height(image)
        for i in range(count):
            scale = TRAIN_SCALES[1:][i % (len(TRAIN_SCALES) - 1)]  # 75/50/35%: room to shift
            box = _random_box(rng, width, height, scale)
            other = _shifted_box(rng, box, width, height)
            flip = goes == "train" and bool(rng.integers(0, 2))
            reference = _crop(image, box, sizes[goes], flip)
            target = _crop(image, other, sizes[goes], flip)
            examples[goes].append((f"{os.path.splitext(filename)[0]}/pair{i:03d}", reference, target))
    return examples


def _dataset(rows, size, pairs):
    ids = tf.constant([row[0] for row in rows], tf.string)
    empty = np.zeros((0, size, size, 3), np.uint8)
    if pairs:
        references = np.stack([row[1] for row in rows]) if rows else empty
        targets = np.stack([row[2] for row in rows]) if rows else empty
        return tf.data.Dataset.from_tensor_slices({"id": ids, "reference": references, "image": targets})
    images = np.stack([row[1] for row in rows]) if rows else empty
    return tf.data.Dataset.from_tensor_slices({"id": ids, "image": images})


def load_sample(*, pairs=False, split=(0.6, 0.2, 0.2), sizes=None, seed=0) -> RawData:
    """The `sample` (or `pairs:sample`) source as raw uint8 crops, one size per split."""
    sizes = sizes or {name: 256 for name in SPLITS}
    examples = _pair_examples(split, sizes, seed) if pairs else _single_examples(split, sizes, seed)
    splits = {name: _dataset(examples[name], sizes[name], pairs) for name in SPLITS}
    counts = {name: len(examples[name]) for name in SPLITS}
    placement = _held_out_placement(split)
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
