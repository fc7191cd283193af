"""Source specs to raw splits: `load_raw` dispatches on the kind; image and pair folders are read here.

A source is named by one string (`cfg.data`, `DATA=` in the Makefile, the first argument
of `kcolor make-records`):

| spec                              | what it reads                                          |
|-----------------------------------|--------------------------------------------------------|
| `sample`                          | crops of the photos inside scikit-image (offline)      |
| `photos[:PATH]`                   | crops of the real-photo corpus (`kcolor fetch-photos`) |
| `folder:PATH`                     | every image file under PATH, recursively (`IMAGE_EXTENSIONS`) |
| `tfds:NAME[:SPLIT]`               | a tensorflow-datasets dataset (all splits, or one)     |
| `records:PATH`                    | TFRecord shards written by `write_records`             |
| `pairs:folder:REF_DIR,TGT_DIR`    | (reference, target) pairs matched by file name         |
| `pairs:records:PATH`              | pair shards written by `write_records`                 |
| `pairs:sample`                    | stereo and overlapping-crop pairs of the sample photos |
| `pairs:photos[:PATH]`             | overlapping-crop pairs of the corpus photos            |

Splits are assigned by a hash of each example's id (`kcolor.data.raw.split_index`), so
a folder, its shards and tfds agree on every id; the `sample` and `photos` sources hold
out whole photos instead (see `kcolor.data.sample` and `kcolor.data.photos`).

This module owns the dispatch (`load_raw`: a spec to the loader of its kind) and the
loaders of image folders and pair folders. The other loaders live in their own
modules (`sample`, `tfds_source`, `records`) and, like this one, return
`kcolor.data.raw.RawData`; they never import this module back.

Example:
    spec = parse_source("pairs:folder:refs,targets")     # the grammar: kcolor.specs
    raw = load_raw(spec, split=(0.8, 0.2, 0.0))
"""

import os

import tensorflow as tf

from kcolor import fs
from kcolor.data import photos, records, sample, tfds_source
from kcolor.data.images import IMAGE_EXTENSIONS
from kcolor.data.raw import AUTOTUNE, DataSourceError, RawData, split_ids
from kcolor.specs import SPLITS, bad_source, parse_source

# --------------------------------------------------------------------------- dispatch


def load_raw(spec, *, split=(0.6, 0.2, 0.2), sizes=None, seed=0, data_dir=None, download=True, validate=True):
    """Raw per-split datasets of `spec`.

    Args:
        spec: a source string or `SourceSpec`.
        split: train/val/test fractions for hash-split sources.
        sizes: {"train": px, "val": px, "test": px}, the size each split will be resized
            to; the `sample` and `photos` sources cut their crops at that size, others use it only to
            decode large JPEGs at reduced scale.
        seed: the `sample` and `photos` sources' crop positions.
        data_dir: tensorflow-datasets data dir (and its `downloads/manual`).
        download: allow tensorflow-datasets to download.
        validate: decode every folder image once and skip (and count) unreadable ones.
            Without it, folder entries that are not readable files (links to nothing,
            folders, pipes, empty files) are still skipped, from their metadata alone.
    """
    spec = parse_source(spec)
    sizes = sizes or {name: 256 for name in SPLITS}
    if spec.kind == "sample":
        return sample.load_sample(pairs=spec.pairs, split=split, sizes=sizes, seed=seed)
    if spec.kind == "photos":
        return photos.load_photos(spec.path, pairs=spec.pairs, split=split, sizes=sizes, seed=seed)
    if spec.kind == "folder":
        if spec.pairs:
            return _load_pair_folders(spec.reference_dir, spec.target_dir, split, validate)
        return _load_folder(spec.path, split, validate)  # folder:~/photos (parse_source expanded it)
    if spec.kind == "records":
        return records.load_records(spec.path, split=split, pairs=spec.pairs)
    if spec.kind == "tfds":
        return tfds_source.load_tfds(spec.name, spec.tfds_split, split=split, data_dir=data_dir, download=download)
    raise bad_source(str(spec), f"unknown kind '{spec.kind}'")


def list_images(root) -> list:
    """Relative POSIX paths of every image entry under `root` (recursive, sorted).

    Extensions are matched case-insensitively; hidden files and folders are ignored; a
    folder named like an image is listed, not searched (`kcolor.data.images.find_entries`),
    so reading it reports it. `root` may be on any TensorFlow filesystem
    (`gs://bucket/photos`; `kcolor.fs`).
    """
    from kcolor.data.images import find_entries

    if not fs.isdir(root):
        raise DataSourceError(f"Image folder '{root}' does not exist or is not a folder")
    return sorted(rel.replace(os.sep, "/") for _, rel in find_entries(root))


def _readable(paths_by_key: dict, count: int, decode=True):
    """`(good positions, {position: ImageReadError})`: which entries all read with the
    pipeline's own decoder (`kcolor.data.images`), and why the others do not.

    Each file is decoded once, in a few threads (Pillow releases the GIL while it
    decodes), so the pipeline never meets a bad one. With `decode=False` only the
    entries' metadata is checked (`check_entry`: no link to nothing, folder, pipe or
    empty file), for a caller that decodes every image itself.
    """
    from concurrent.futures import ThreadPoolExecutor

    from kcolor.data.images import ImageReadError, check_entry, check_image

    if count == 0:
        return [], {}
    keys = sorted(paths_by_key)
    check = check_image if decode else check_entry

    def problem(position):
        try:
            for key in keys:
                check(paths_by_key[key][position])
        except ImageReadError as err:
            return err
        return None

    with ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2))) as pool:
        problems = list(pool.map(problem, range(count)))
    bad = {position: err for position, err in enumerate(problems) if err is not None}
    return [position for position in range(count) if position not in bad], bad


def _split_datasets(columns: dict, ids: list, positions_by_split: dict, reader) -> dict:
    """Datasets of {"id", ...} per split from parallel Python lists (`columns`) and a reader."""
    out = {}
    for name in SPLITS:
        keep = positions_by_split[name]
        tensors = {"id": tf.constant([ids[i] for i in keep], tf.string)}
        for key, values in columns.items():
            tensors[key] = tf.constant([values[i] for i in keep], tf.string)
        ds = tf.data.Dataset.from_tensor_slices(tensors)
        out[name] = ds.map(reader, num_parallel_calls=AUTOTUNE)
    return out


def _read_files(element):
    out = {"id": element["id"], "image": tf.io.read_file(element["image"])}
    if "reference" in element:
        out["reference"] = tf.io.read_file(element["reference"])
    return out


def _load_folder(root, split, validate) -> RawData:
    rel_paths = list_images(root)
    if not rel_paths:
        raise DataSourceError(
            f"Image folder '{root}' holds no images (looked recursively for {', '.join(IMAGE_EXTENSIONS)})"
        )
    full = [fs.join(root, p) for p in rel_paths]
    good, bad = _readable({"image": full}, len(full), decode=validate)
    skipped = [rel_paths[i] for i in sorted(bad)]
    reasons = {rel_paths[i]: (err.reason, str(err)) for i, err in bad.items()}
    ids = [rel_paths[i] for i in good]
    paths = [full[i] for i in good]
    by_split = split_ids(ids, split)
    splits = _split_datasets({"image": paths}, ids, by_split, _read_files)
    counts = {name: len(by_split[name]) for name in SPLITS}
    return RawData(splits, counts, "single", {"folder": fs.absolute(root), "split_rule": "hash"}, skipped, reasons)


def _stem_map(root) -> dict:
    # Pair key: the relative path without its extension, so a.jpg pairs with a.png.
    out = {}
    for rel in list_images(root):
        out.setdefault(os.path.splitext(rel)[0], rel)
    return out


def _load_pair_folders(reference_dir, target_dir, split, validate) -> RawData:
    refs, tgts = _stem_map(reference_dir), _stem_map(target_dir)
    keys = sorted(set(refs) & set(tgts))
    unmatched = sorted(set(refs) ^ set(tgts))
    if not keys:
        raise DataSourceError(
            f"No image pairs: no file name occurs in both '{reference_dir}' ({len(refs)} images) "
            f"and '{target_dir}' ({len(tgts)} images). Pairs are matched by relative path without extension."
        )
    ref_paths = [fs.join(reference_dir, refs[k]) for k in keys]
    tgt_paths = [fs.join(target_dir, tgts[k]) for k in keys]
    good, bad = _readable({"reference": ref_paths, "image": tgt_paths}, len(keys), decode=validate)
    skipped = [keys[i] for i in sorted(bad)]
    reasons = {keys[i]: (err.reason, str(err)) for i, err in bad.items()}
    ids = [keys[i] for i in good]
    by_split = split_ids(ids, split)
    columns = {"image": [tgt_paths[i] for i in good], "reference": [ref_paths[i] for i in good]}
    splits = _split_datasets(columns, ids, by_split, _read_files)
    counts = {name: len(by_split[name]) for name in SPLITS}
    info = {
        "reference_dir": fs.absolute(reference_dir),
        "target_dir": fs.absolute(target_dir),
        "unmatched": len(unmatched),
        "unmatched_examples": unmatched[:10],
        "split_rule": "hash",
    }
    return RawData(splits, counts, "pairs", info, skipped, reasons)
