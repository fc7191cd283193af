"""TFRecord shards: their format (layout, features, manifest) and reading them back.

This module owns the shard format (`FORMAT_VERSION`, `MANIFEST`, `shard_name`) and the
readers (`read_manifest`, `load_records`, `read_passes`); `kcolor.data.writer` writes
shards. Reading imports no loader of other sources, so `kcolor.data.sources` can
dispatch `records:` here while the writer, which reads any source, sits above both.

Layout of `out_dir/NAME/` (what `kcolor make-records SOURCE --name NAME` writes):

    NAME-train-00000-of-00002.tfrecord   NAME-train-00001-of-00002.tfrecord
    NAME-val-00000-of-00001.tfrecord     NAME-test-00000-of-00001.tfrecord
    manifest.json

Each record is a `tf.train.Example`:

| feature            | single images            | pairs                                |
|--------------------|--------------------------|--------------------------------------|
| `id`               | the image id (bytes)     | the pair id                          |
| `image` / `target` | encoded image            | `target`: the encoded target image   |
| `reference`        |                          | the encoded reference image          |
| `height`, `width`  | stored image size        | target size (`reference_height/width` too) |
| `format`           | `jpeg` or `png`          | per image: `format`, `reference_format` |

`manifest.json` holds the format version, kind (`single` or `pairs`), source, split
fractions and rule, counts per split, the shard list, the image size policy and the
skipped images.

Splits are assigned when writing (by hash of the id, or by the `sample` source's
held-out photos) and the shards of each split are written separately. Reading with the
same fractions uses those shards directly; reading with other fractions re-splits all
records by the same id hash, so a folder, its shards and tfds agree on every id.

Example:
    manifest = read_manifest("tf_records/photos")
    raw = load_records("tf_records/photos", split=(0.8, 0.2, 0.0))
"""

import numpy as np
import tensorflow as tf

from kcolor import fs
from kcolor.data.raw import AUTOTUNE, DataSourceError, RawData, split_index
from kcolor.specs import SPLITS, normalize_split

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def shard_name(name, split, index, total):
    return f"{name}-{split}-{index:05d}-of-{total:05d}.tfrecord"


def read_manifest(path) -> dict:
    """The manifest of a records folder (or of the manifest file itself)."""
    path = fs.path_str(path)
    folder = fs.dirname(path) if path.endswith(".json") else path
    manifest_path = fs.join(folder, MANIFEST)
    if not fs.exists(manifest_path):
        raise DataSourceError(
            f"'{path}' is not a records folder written by kcolor: no {MANIFEST} in {folder}. "
            f"Write one with `kcolor make-records SOURCE --name NAME` (or kcolor.data.write_records)"
        )
    manifest = fs.read_json(manifest_path)
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise DataSourceError(
            f"Records in '{folder}' have format version {version}; this kcolor reads version {FORMAT_VERSION}. "
            f"Rewrite them with `kcolor make-records`"
        )
    manifest["folder"] = folder
    return manifest


def _parser(pairs):
    spec = {"id": tf.io.FixedLenFeature([], tf.string)}
    if pairs:
        spec["target"] = tf.io.FixedLenFeature([], tf.string)
        spec["reference"] = tf.io.FixedLenFeature([], tf.string)
    else:
        spec["image"] = tf.io.FixedLenFeature([], tf.string)

    def parse(serialized):
        example = tf.io.parse_single_example(serialized, spec)
        out = {"id": example["id"], "image": example["target" if pairs else "image"]}
        if pairs:
            out["reference"] = example["reference"]
        return out

    return parse


def _read_shards(files):
    files = tf.constant(files, tf.string)
    ds = tf.data.Dataset.from_tensor_slices(files)
    return ds.interleave(
        tf.data.TFRecordDataset,
        cycle_length=max(1, min(int(files.shape[0]), 16)),
        block_length=1,
        num_parallel_calls=AUTOTUNE,
        deterministic=True,
    )


def read_passes(files, *, pairs=False, cycle_length=1, shuffle_buffer=1, seed=0):
    """An endless stream over the shard `files`, pass after pass, that tf.data's FILE auto-shard splits by file.

    Pass `p` lists `files` in order as `(path, p, k)` (`k`: the shard's index); each
    shard is read whole and shuffled within itself (a buffer of `shuffle_buffer`
    records, the seed fixed by `(seed, p, k)`), and `cycle_length` shards are read at a
    time, one record from each in turn. The reader sits right below the file list, so
    under a multi-worker strategy with `AutoShardPolicy.FILE` each worker reads only its
    own shards (worker `w` of `W`: entries `w, w + W, ...` of the file list, the same
    shards every pass when `W` divides the number of shards) and no record is read twice.

    Elements: the parsed record (`{"id", "image"[, "reference"]}`, encoded bytes) plus
    `"pass"` (int64 `p`) and `"key"` (int64 `k * 2**32 + j` for the `j`-th record of
    shard `k`): a name of the record that does not depend on how the shards were split.
    """
    files = [fs.path_str(f) for f in files]
    if not files:
        raise ValueError("read_passes needs at least one shard file")
    paths = tf.constant(files, tf.string)
    indices = tf.range(len(files), dtype=tf.int64)
    parse = _parser(pairs)
    n_files = len(files)

    def pass_files(p):
        return tf.data.Dataset.from_tensor_slices((paths, indices)).map(lambda f, k: (f, p, k))

    def read(path, p, k):
        # The function's own graph seed: the order depends on (seed, p, k) only, not on the
        # process's global seed.
        tf.random.set_seed(int(seed))
        records = tf.data.TFRecordDataset(path).enumerate()
        records = records.shuffle(int(shuffle_buffer), seed=p * n_files + k + 1, reshuffle_each_iteration=False)
        return records.map(lambda j, r: (r, p, k * 2**32 + j))

    def tagged(record, p, key):
        return {**parse(record), "pass": p, "key": key}

    stream = tf.data.Dataset.range(2**62).flat_map(pass_files)
    stream = stream.interleave(
        read, cycle_length=max(1, int(cycle_length)), block_length=1, num_parallel_calls=AUTOTUNE, deterministic=True
    )
    return stream.map(tagged, num_parallel_calls=AUTOTUNE)


def _parse_id(serialized):
    return tf.io.parse_single_example(serialized, {"id": tf.io.FixedLenFeature([], tf.string)})["id"]


def load_records(path, *, split=(0.6, 0.2, 0.2), pairs=False) -> RawData:
    """Raw per-split datasets of shards written by `write_records`.

    With the fractions the shards were written with (or shards of the `sample` source,
    whose split is by photo) each split reads its own shards; otherwise every record is
    re-split by the hash of its id, after one pass that counts the ids.
    """
    manifest = read_manifest(path)
    kind = manifest["kind"]
    if (kind == "pairs") != bool(pairs):
        want = f"pairs:records:{path}" if kind == "pairs" else f"records:{path}"
        held = "pairs" if kind == "pairs" else "single images"
        raise ValueError(f"The records in '{path}' hold {held}; read them as {want}")
    folder = manifest["folder"]
    fractions = normalize_split(split)
    parse = _parser(kind == "pairs")
    written = tuple(manifest["split"])
    same = manifest.get("split_rule") == "source" or np.allclose(written, fractions, atol=1e-9)
    shard_paths = {s: [fs.join(folder, f) for f in manifest["shards"][s]] for s in SPLITS}
    missing = [p for paths in shard_paths.values() for p in paths if not fs.exists(p)]
    if missing:
        raise DataSourceError(f"Records in '{folder}' are incomplete: missing {', '.join(missing[:5])}")
    splits = {}
    if same:
        counts = dict(manifest["counts"])
        for s in SPLITS:
            if shard_paths[s]:
                splits[s] = _read_shards(shard_paths[s]).map(parse, num_parallel_calls=AUTOTUNE)
            else:
                splits[s] = tf.data.Dataset.from_tensors(parse_empty(kind == "pairs")).take(0)
        rule = "written"
    else:
        every = [p for s in SPLITS for p in shard_paths[s]]
        records = _read_shards(every)
        index = records.map(lambda r: split_index(_parse_id(r), fractions), num_parallel_calls=AUTOTUNE)
        counts = {s: 0 for s in SPLITS}
        for batch in index.batch(8192).as_numpy_iterator():
            for i, n in zip(*np.unique(batch, return_counts=True)):
                counts[SPLITS[int(i)]] += int(n)
        for position, s in enumerate(SPLITS):
            kept = records.filter(lambda r, p=position: tf.equal(split_index(_parse_id(r), fractions), p))
            splits[s] = kept.map(parse, num_parallel_calls=AUTOTUNE)
        rule = "re-split by hash"
    info = {
        "records": fs.absolute(folder),
        "written_from": manifest["source"],
        "written_split": list(written),
        "split_rule": rule,
        "records_skipped_when_written": manifest.get("skipped", 0),
        # The training split's own shards (None when re-split by hash): the pipeline reads
        # them with `read_passes`, which a multi-worker strategy shards by file.
        "train_shards": shard_paths["train"] if same else None,
    }
    return RawData(splits, counts, kind, info, [])


def parse_empty(pairs):
    """An element with the structure records parse to (for empty splits)."""
    out = {"id": tf.constant(""), "image": tf.constant(b"")}
    if pairs:
        out["reference"] = tf.constant(b"")
    return out
