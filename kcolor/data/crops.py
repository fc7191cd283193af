"""Square crops of whole photos, for sources that hold out whole photos (`sample`, `photos`).

A source built from a handful of large photos turns each training photo into many
examples and keeps every held-out photo out of training:

- training crops are squares of 100%, 75%, 50% and 35% of the photo's shorter side
  (`TRAIN_SCALES`, in turn) at random positions, half of them mirrored;
- held-out crops (val, test) are the full centre square plus 75% and 50% squares;
- pairs are two overlapping squares of one photo, the second shifted by 15-35% of the
  side and rescaled to 85-100% (`shifted_box`).

Every position comes from `numpy.random.default_rng((seed, photo))` (`photo_rng`), so the
same seed gives the same crops, whatever other photos the source holds. Crops are
resized with `kcolor.pixels.resize` and stored as uint8.

Example:
    examples = single_examples(["a.jpg"], {"b.jpg": "test"}, load, sizes, seed=0,
                               train_crops=48, held_out_crops=16)
    dataset = to_dataset(examples["train"], sizes["train"], pairs=False)
"""

import os

import numpy as np
import tensorflow as tf

from kcolor.specs import SPLITS, normalize_split

TRAIN_SCALES = (1.0, 0.75, 0.5, 0.35)
HELD_OUT_SCALES = (0.75, 0.5)


def photo_rng(seed, filename):
    """A stable per-photo random stream (Python's hash() is salted per process)."""
    return np.random.default_rng((int(seed), sum(ord(c) * (i + 1) for i, c in enumerate(filename))))


def width_height(image):
    return image.shape[1], image.shape[0]


def random_box(rng, width, height, scale):
    side = max(1, int(round(scale * min(width, height))))
    x0 = int(rng.integers(0, width - side + 1))
    y0 = int(rng.integers(0, height - side + 1))
    return (x0, y0, side)


def centre_box(width, height):
    side = min(width, height)
    return ((width - side) // 2, (height - side) // 2, side)


def crop(image, box, size, flip=False):
    """The square `box` = (x0, y0, side) of `image`, resized to `size`, as uint8."""
    from kcolor.pixels import resize, to_uint8

    x0, y0, side = box
    array = to_uint8(resize(image[y0 : y0 + side, x0 : x0 + side], size).numpy())
    return array[:, ::-1] if flip else array


def train_boxes(rng, width, height, count):
    """`count` (box, flip) training crops, cycling through `TRAIN_SCALES`."""
    boxes = []
    for i in range(count):
        scale = TRAIN_SCALES[i % len(TRAIN_SCALES)]
        boxes.append((random_box(rng, width, height, scale), bool(rng.integers(0, 2))))
    return boxes


def held_out_boxes(rng, width, height, count):
    """The centre square, then `count - 1` squares of `HELD_OUT_SCALES`, never mirrored."""
    boxes = [(centre_box(width, height), False)]
    for i in range(count - 1):
        boxes.append((random_box(rng, width, height, HELD_OUT_SCALES[i % len(HELD_OUT_SCALES)]), False))
    return boxes


def shifted_box(rng, box, width, height):
    """A second square overlapping `box`: shifted 15-35% of its side, rescaled 85-100%."""
    x0, y0, side = box
    new_side = max(1, min(int(round(side * rng.uniform(0.85, 1.0))), width, height))
    dx = int(round(side * rng.uniform(0.15, 0.35))) * int(rng.choice((-1, 1)))
    dy = int(round(side * rng.uniform(0.15, 0.35))) * int(rng.choice((-1, 1)))
    nx = int(np.clip(x0 + dx, 0, width - new_side))
    ny = int(np.clip(y0 + dy, 0, height - new_side))
    return (nx, ny, new_side)


def held_out_placement(split):
    """Where the val photos and the test photos go, given the fractions: {"val": split, "test": split}.

    A split with no fraction hands its photos to the other held-out split; with neither,
    held-out photos are not used (None).
    """
    fractions = normalize_split(split)
    has_val, has_test = fractions[1] > 0, fractions[2] > 0
    return {
        "val": "val" if has_val else ("test" if has_test else None),
        "test": "test" if has_test else ("val" if has_val else None),
    }


def stem(filename):
    return os.path.splitext(os.path.basename(filename))[0]


def photo_of(image_id: str) -> str:
    """The photo an example id names: `coffee/crop007` and `coffee/pair003` -> `coffee`, the
    ids `single_examples` and `overlap_pairs` write. An id of another source (no `/`) is its
    own photo."""
    return image_id.split("/", 1)[0]


def single_examples(train, held_out, load, sizes, seed, *, train_crops, held_out_crops):
    """{split: [(id, uint8 crop)]} of single images.

    Args:
        train: the training photos' names, in order.
        held_out: {photo name: the split it goes to, or None}.
        load: a photo name to float RGB (H, W, 3) in [0, 1].
        sizes: {split: crop size in px}.
        train_crops, held_out_crops: crops per photo.
    """
    examples = {name: [] for name in SPLITS}
    for filename in train:
        image = load(filename)
        rng = photo_rng(seed, filename)
        for i, (box, flip) in enumerate(train_boxes(rng, *width_height(image), train_crops)):
            examples["train"].append((f"{stem(filename)}/crop{i:03d}", crop(image, box, sizes["train"], flip)))
    for filename, goes in held_out.items():
        if goes is None:
            continue
        image = load(filename)
        rng = photo_rng(seed, filename)
        for i, (box, _) in enumerate(held_out_boxes(rng, *width_height(image), held_out_crops)):
            examples[goes].append((f"{stem(filename)}/crop{i:03d}", crop(image, box, sizes[goes])))
    return examples


def overlap_pairs(jobs, load, sizes, seed, examples):
    """Append (id, reference, target) pairs of overlapping squares to `examples[split]`.

    `jobs` is [(photo name, split, count)]; training pairs are mirrored at random.
    """
    for filename, goes, count in jobs:
        image = load(filename)
        rng = photo_rng(seed, filename)
        width, height = width_height(image)
        for i in range(count):
            scale = TRAIN_SCALES[1:][i % (len(TRAIN_SCALES) - 1)]  # 75/50/35%: room to shift
            box = random_box(rng, width, height, scale)
            other = shifted_box(rng, box, width, height)
            flip = goes == "train" and bool(rng.integers(0, 2))
            reference = crop(image, box, sizes[goes], flip)
            target = crop(image, other, sizes[goes], flip)
            examples[goes].append((f"{stem(filename)}/pair{i:03d}", reference, target))
    return examples


def to_dataset(rows, size, pairs):
    """A `tf.data.Dataset` of {"id", "image"[, "reference"]} from crop rows."""
    ids = tf.constant([row[0] for row in rows], tf.string)
    empty = np.zeros((0, size, size, 3), np.uint8)
    if pairs:
        references = np.stack([row[1] for row in rows]) if rows else empty
        targets = np.stack([row[2] for row in rows]) if rows else empty
        return tf.data.Dataset.from_tensor_slices({"id": ids, "reference": references, "image": targets})
    images = np.stack([row[1] for row in rows]) if rows else empty
    return tf.data.Dataset.from_tensor_slices({"id": ids, "image": images})
