"""A model against a baseline, photo by photo: how many test photos it wins, and a
bootstrap interval for its mean PSNR gain.

A test split holds several crops of each whole photo (ids `photo/crop007`,
`kcolor.data.crops.photo_of`; a source without photos counts each image as one). Crops of
one photo are not independent draws, so the comparison counts photos: a photo's score is
the mean over its crops, the gain is model minus baseline per photo, and the 95%
interval of the mean gain comes from resampling the photos with replacement (percentile
bootstrap, `RESAMPLES` draws from a fixed seed, so the same scores always give the same
interval). An interval that holds zero says the test photos cannot tell the two apart.

Example:
    compare(["a/crop0", "a/crop1", "b/crop0"], [21.0, 22.0, 19.0], [20.0, 20.0, 20.0])
    # {"photos": 2, "won": 1, "gain_db": 0.25, "ci95_db": [-1.0, 1.5]}
"""

import numpy as np

from kcolor.data.crops import photo_of

RESAMPLES = 2000
SEED = 0


def per_photo(ids, values) -> dict:
    """`{photo: mean of its images' values}`, photos in order of first appearance."""
    if len(ids) != len(values):
        raise ValueError(f"per_photo needs one value per id. Received {len(ids)} ids and {len(values)} values")
    groups = {}
    for image_id, value in zip(ids, values):
        groups.setdefault(photo_of(image_id), []).append(float(value))
    return {photo: float(np.mean(group)) for photo, group in groups.items()}


def compare(ids, model, baseline, *, resamples=RESAMPLES, seed=SEED) -> dict:
    """Per-photo comparison of per-image scores `model` and `baseline` (same images, same order).

    Returns `{"photos", "won" (photos where the model scores higher), "gain_db" (mean
    per-photo gain), "ci95_db" ([low, high], or None with a single photo)}`.
    """
    ours, theirs = per_photo(ids, model), per_photo(ids, baseline)
    gains = np.array([ours[photo] - theirs[photo] for photo in ours])
    if not np.all(np.isfinite(gains)):
        raise ValueError(f"compare: a photo's score is not finite (gains {gains.tolist()})")
    interval = None
    if gains.size > 1:
        draws = np.random.default_rng(seed).integers(0, gains.size, size=(resamples, gains.size))
        means = gains[draws].mean(axis=1)
        interval = [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]
    return {"photos": int(gains.size), "won": int((gains > 0).sum()), "gain_db": float(gains.mean()),
            "ci95_db": interval}


def describe(comparison, baseline) -> str:
    """One phrase: `won 9 of 16 test photos against gray baseline, +0.26 dB (95% CI -0.10 to +0.61)`."""
    text = (f"won {comparison['won']} of {comparison['photos']} test photos against {baseline}, "
            f"{comparison['gain_db']:+.2f} dB")
    interval = comparison["ci95_db"]
    if interval is None:
        return text + " (one photo: no interval)"
    return text + f" (95% CI {interval[0]:+.2f} to {interval[1]:+.2f})"
