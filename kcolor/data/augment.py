"""Training augmentation: random hue and contrast shifts, horizontal flips and crops.

Paper 001 (section "Data preprocessing") trains on hue-shifted flowers and tried contrast
shifts; the spine adds flips and crops. Each augmentation is a stateless TensorFlow op
driven by an explicit per-example seed, so a run is repeatable and the ops run in a
parallel `tf.data` map:

| name       | op                                                                      |
|------------|-------------------------------------------------------------------------|
| `crop`     | `stateless_random_crop` of a `size x size` window from a `crop_size(size)` resize |
| `flip`     | `stateless_random_flip_left_right`                                      |
| `hue`      | `stateless_random_hue(max_delta=hue_delta)`: rotate hue by up to ±hue_delta turns |
| `contrast` | `stateless_random_contrast(lower, upper)`, then clipped to [0, 1]       |

They act on the color image (before any gray or Lab input is derived from it), in the
order crop, flip, hue, contrast. For reference pairs the same draw is applied to the
reference and the target, so the pair stays consistent.

Example:
    augment = make_augment(("hue", "flip"), size=64, hue_delta=0.1)
    example = augment({"rgb": rgb_uint8}, seed=tf.constant([1, 2], tf.int64))
"""

import tensorflow as tf

from kcolor.pixels import to_float
from kcolor.specs import check_augment

CROP_MARGIN = 1.125  # crop: resize to 12.5% more than the training size, then crop


def crop_size(size) -> int:
    """The size a training image is resized to before a random `size x size` crop."""
    return max(size + 1, int(round(size * CROP_MARGIN)))


def make_augment(names, *, size, hue_delta=0.1, contrast_range=(0.7, 1.3), image_keys=("rgb",)):
    """A function `(example, seed) -> example` applying `names` to every key in `image_keys`.

    Images come in as uint8 (or float) `[crop_size(size) or size, ..., 3]` and leave as
    float32 `[size, size, 3]` in [0, 1]. `seed` is a shape-[2] integer tensor.
    """
    names = check_augment(names, hue_delta, contrast_range)
    lower, upper = (float(v) for v in contrast_range)

    def augment(example, seed):
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=4)
        out = dict(example)
        for key in image_keys:
            image = to_float(example[key])
            if "crop" in names:
                image = tf.image.stateless_random_crop(image, [size, size, 3], seed=seeds[0])
            if "flip" in names:
                image = tf.image.stateless_random_flip_left_right(image, seed=seeds[1])
            if "hue" in names:
                image = tf.image.stateless_random_hue(image, max_delta=float(hue_delta), seed=seeds[2])
            if "contrast" in names:
                image = tf.image.stateless_random_contrast(image, lower, upper, seed=seeds[3])
            out[key] = tf.ensure_shape(tf.clip_by_value(image, 0.0, 1.0), [size, size, 3])
        return out

    return augment
