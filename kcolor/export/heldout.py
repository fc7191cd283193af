"""Real images of a run's own data for parity checks and int8 calibration.

Parity is measured on the run's held-out **test** split (its **val** split when the run
has no test split, e.g. 80/20 reference pairs), from `kcolor.data.build_datasets(cfg)`.
Full-int8 calibration uses the **training** split, unaugmented: `count` of its images at
an even stride (`kcolor.data.build_eval_split`'s `spread`), so they span every training
photo, never only the crops of one (the val split, where a run has no training split).
Calibration and measurement never see the same images. Both read the run's own config
(`config.json`); `data=` points an export at another copy of the data (for a run folder
received from elsewhere), and `images=` passes images directly.

Example:
    batches, note = held_out_batches(run, max_images=16)
    samples, note = calibration_inputs(run, count=64)
"""

import dataclasses

import numpy as np
import tensorflow as tf

from kcolor.pixels import resize


def _as_float(x):
    x = tf.convert_to_tensor(x)
    if x.dtype == tf.uint8:
        return tf.cast(x, tf.float32) / 255.0
    return tf.cast(x, tf.float32)


def _fit(x, size):
    x = _as_float(x)
    if x.shape.rank == 3:
        x = x[tf.newaxis]
    if x.shape[-1] == 1:
        x = tf.repeat(x, 3, axis=-1)
    if x.shape[1] != size or x.shape[2] != size:
        x = resize(x, size)
    return tf.clip_by_value(x, 0.0, 1.0).numpy()


def normalize_images(images, io, image_size, *, limit=None) -> list:
    """Turn user images into batch dicts `{"rgb": (B, S, S, 3)[, "reference"]}` in [0, 1].

    Args:
        images: a `tf.data.Dataset` or iterable of RGB arrays ((H, W, 3), (B, H, W, 3),
            uint8 or float in [0, 1]) or of dicts with `"rgb"` (and `"reference"` for
            reference models).
        io: the model's io spec.
        image_size: S; other sizes are resized.
        limit: keep at most this many images.
    """
    batches, count = [], 0
    for item in images:
        if not isinstance(item, dict):
            item = {"rgb": item}
        if "rgb" not in item:
            raise ValueError(f"an image batch dict needs the key 'rgb'; got keys {sorted(item)}")
        batch = {"rgb": _fit(item["rgb"], image_size)}
        if io.uses_reference:
            if "reference" not in item:
                raise ValueError(f"io '{io.name}' needs reference images: give dicts with 'rgb' and 'reference'")
            batch["reference"] = _fit(item["reference"], image_size)
        if limit is not None:
            keep = limit - count
            if keep <= 0:
                break
            batch = {k: v[:keep] for k, v in batch.items()}
        count += len(batch["rgb"])
        batches.append(batch)
    if not batches:
        raise ValueError("no images to check the export with")
    return batches


def _need_config(run):
    if run.config is None:
        raise FileNotFoundError(
            f"{run.run_dir} has no config.json, so its data is unknown; pass images= (or --data SOURCE)"
        )


def _run_config(run, data):
    """The run's config at its own image size, uncached, on `data` when given."""
    cfg = dataclasses.replace(run.config, image_size=run.image_size, cache=False)
    return dataclasses.replace(cfg, data=data) if data else cfg


def _bundle(run, data):
    _need_config(run)
    try:
        from kcolor.data import build_datasets
    except ImportError as err:
        raise ValueError(f"kcolor.data.build_datasets is not available ({err}); pass images= instead") from err
    cfg = _run_config(run, data)
    return build_datasets(cfg), cfg.data


def _training_spread(run, data, count):
    """`(batches, source)`: `count` unaugmented training images at an even stride over the
    split (`build_eval_split(..., spread=count)`); no batches when the split is empty."""
    _need_config(run)
    from kcolor.data import build_eval_split

    cfg = _run_config(run, data)
    try:
        dataset, _, _ = build_eval_split(cfg, "train", batch_size=count, spread=count)
    except ValueError as err:
        if "is empty" in str(err):
            return [], cfg.data
        raise
    return _take(dataset, run.io, run.image_size, count), cfg.data


def _take(dataset, io, image_size, limit):
    if dataset is None:
        return []
    try:
        return normalize_images(dataset, io, image_size, limit=limit)
    except ValueError as err:
        if "no images" in str(err):
            return []
        raise


def held_out_batches(run, *, images=None, data=None, max_images=16):
    """Held-out batches for parity and a note saying where they come from.

    Returns:
        `(batches, note)`: batch dicts as `normalize_images` gives, and e.g.
        `"test split of sample (12 images)"`.
    """
    if images is not None:
        batches = normalize_images(images, run.io, run.image_size, limit=max_images)
        return batches, f"images given by the caller ({sum(len(b['rgb']) for b in batches)})"
    bundle, source = _bundle(run, data)
    for split in ("test", "val"):
        batches = _take(getattr(bundle, split, None), run.io, run.image_size, max_images)
        if batches:
            return batches, f"{split} split of {source} ({sum(len(b['rgb']) for b in batches)} images)"
    raise ValueError(f"the data '{source}' of {run.run_dir} has no test or val images to check the export with")


def calibration_inputs(run, *, images=None, data=None, count=64):
    """Representative model inputs `{name: (1, S, S, C)}` for full-int8 calibration.

    Uses `count` images spread over the training split (the val split when there is
    none), or `images` when given.

    Returns:
        `(samples, note)`: the input dicts and where they come from.
    """
    if images is not None:
        batches = normalize_images(images, run.io, run.image_size, limit=count)
        where = "images given by the caller"
    else:
        batches, source = _training_spread(run, data, count)
        where = f"training split of {source}, spread over its photos"
        if not batches:
            bundle, source = _bundle(run, data)
            batches, where = _take(bundle.val, run.io, run.image_size, count), f"val split of {source}"
        if not batches:
            raise ValueError(f"the data '{source}' of {run.run_dir} has no train or val images to calibrate int8 with")
    samples = []
    for batch in batches:
        tensors = {"rgb": tf.constant(batch["rgb"])}
        if run.io.uses_reference:
            tensors["reference"] = tf.constant(batch["reference"])
        inputs = run.io.inputs(tensors)
        for i in range(len(batch["rgb"])):
            samples.append({name: np.asarray(t[i : i + 1], np.float32) for name, t in inputs.items()})
    return samples, f"{len(samples)} images from the {where}"
