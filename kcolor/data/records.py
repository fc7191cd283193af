"""TFRecord shards: `write_records` turns any source into shards, `load_records` reads them.

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

Encoding: a JPEG file is stored as its original bytes (no second lossy pass); PNG files
are stored as they are (lossless, 16-bit and alpha kept); GIF, BMP and decoded arrays
(the `sample` crops) are encoded as PNG, losslessly. With `image_size`, each image's
shorter side is first shrunk to `image_size` (aspect kept, never enlarged); a resized
JPEG is re-encoded as JPEG quality 95, anything else as PNG.

Splits are assigned when writing (by hash of the id, or by the `sample` source's
held-out photos) and the shards of each split are written separately. Reading with the
same fractions uses those shards directly; reading with other fractions re-splits all
records by the same id hash, so a folder, its shards and tfds agree on every id.

Writing is atomic: each shard is written under a temporary name and renamed when
complete; an old `manifest.json` is removed first and the new one written last, so a
reader never sees a half-written set. `out_dir` may be on any TensorFlow filesystem
(`gs://bucket/records`, `ram://`): every file goes through `tf.io.gfile` (`kcolor.fs`).
`manifest.json` holds the format version, kind (`single` or `pairs`), source, split
fractions and rule, counts per split, the shard list, the image size policy and the
skipped images.

An entry that cannot be read (a truncated or corrupt file, a link to nothing, a folder
or a pipe named like an image, an image over `kcolor.data.images.MAX_IMAGE_PIXELS`) is
skipped with one line naming it and why; the others are all written, the manifest
counts the skipped ones by reason (`skipped_reasons`), and the run ends with one line
`make-records NAME: wrote N examples (...) to FOLDER; skipped K of M images: ...`.

Example:
    manifest = write_records("folder:photos", "photos", split=(0.8, 0.2, 0.0))
    raw = load_records("tf_records/photos", split=(0.8, 0.2, 0.0))
"""

import collections
import datetime
import math
import os
import sys
import time

import numpy as np
import tensorflow as tf

from kcolor import fs
from kcolor import pixels
from kcolor.data import images
from kcolor.data.raw import AUTOTUNE, DataSourceError, RawData, split_index
from kcolor.data.sources import load_raw
from kcolor.specs import SPLITS, normalize_split, parse_source

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TARGET_SHARD_BYTES = 64 * 2**20  # about 64 MB per shard
JPEG_QUALITY = 95


def shard_name(name, split, index, total):
    return f"{name}-{split}-{index:05d}-of-{total:05d}.tfrecord"


# --------------------------------------------------------------------------- writing


def _bytes(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int(value):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


class _Encoder:
    """Decodes one image to check it, and returns the bytes to store, its format and size."""

    def __init__(self, image_size):
        self.image_size = image_size
        if image_size:
            self._shrink = tf.function(
                lambda rgb: pixels.to_uint8(pixels.resize_shorter_side(rgb, image_size)),
                input_signature=[tf.TensorSpec([None, None, 3], tf.float32)],
            )

    def __call__(self, value, label="<bytes>"):
        """`value`: encoded bytes or a uint8 [H, W, 3] array -> (bytes, format, height, width).

        Raises `kcolor.data.images.ImageReadError` (its message starts with `label`) for
        bytes that do not decode.
        """
        if isinstance(value, (bytes, np.bytes_)):
            data = bytes(value)
            fmt = images.image_format(data)
            rgb = images.decode(data, label=label).rgb  # the pipeline's own decoder: what it reads back
            if not self.image_size and fmt in ("jpeg", "png"):
                return data, fmt, int(rgb.shape[0]), int(rgb.shape[1])
            image = self._shrink(tf.constant(rgb)) if self.image_size else pixels.to_uint8(tf.constant(rgb))
        else:
            fmt = "array"
            image = tf.convert_to_tensor(np.asarray(value, np.uint8))
            if self.image_size:
                image = self._shrink(pixels.to_float(image))
        if fmt == "jpeg":
            encoded, out_fmt = tf.io.encode_jpeg(image, quality=JPEG_QUALITY), "jpeg"
        else:
            encoded, out_fmt = tf.io.encode_png(image), "png"
        return encoded.numpy(), out_fmt, int(image.shape[0]), int(image.shape[1])


class _Progress:
    def __init__(self, name, total, enabled):
        self.name, self.total, self.enabled = name, total, enabled
        self.done, self.start, self.last = 0, time.time(), 0.0

    def step(self, split, skipped):
        self.done += 1
        now = time.time()
        if self.enabled and (now - self.last > 0.5 or self.done == self.total):
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            sys.stderr.write(
                f"\rmake-records {self.name}: {self.done}/{self.total} images ({split}), "
                f"{skipped} skipped, {rate:.0f} img/s"
            )
            sys.stderr.flush()

    def close(self):
        if self.enabled:
            sys.stderr.write("\n")


def _num_shards(count, avg_bytes, requested):
    if count == 0:
        return 0
    if requested:
        return max(1, min(int(requested), count))
    return max(1, min(count, math.ceil(count * avg_bytes / TARGET_SHARD_BYTES)))


def _estimate_bytes(value):
    if isinstance(value, (bytes, np.bytes_)):
        return len(value)
    return int(np.asarray(value).nbytes) // 2  # PNG of a photo: about half the raw size


class _ShardWriter:
    """One split's shards: example i of `total` goes to shard `i * n // total`; each shard
    is written under a temporary name and renamed when it is complete."""

    def __init__(self, folder, name, split, total, n_shards):
        self.folder, self.name, self.split = folder, name, split
        self.total, self.n_shards = total, n_shards
        self.index, self.writer, self.tmp_path = -1, None, None
        self.names = []

    def _final(self, index):
        return shard_name(self.name, self.split, index, self.n_shards)

    def _advance_to(self, index):
        while self.index < index:
            self._finish()
            self.index += 1
            self.tmp_path = fs.join(self.folder, f".{self._final(self.index)}.tmp-{os.getpid()}")
            self.writer = tf.io.TFRecordWriter(self.tmp_path)

    def _finish(self):
        if self.writer is not None:
            self.writer.close()
            fs.rename(self.tmp_path, fs.join(self.folder, self._final(self.index)), overwrite=True)
            self.names.append(self._final(self.index))
            self.writer = None

    def write(self, position, serialized):
        self._advance_to(min(position * self.n_shards // self.total, self.n_shards - 1))
        self.writer.write(serialized)

    def close(self) -> list:
        # Shards left empty (their images were all unreadable) still exist: the names promise N.
        self._advance_to(self.n_shards - 1)
        self._finish()
        return self.names


def _example(element, encoded, pairs) -> bytes:
    data, fmt, height, width = encoded["image"]
    feature = {
        "id": _bytes(element["id"]),
        "target" if pairs else "image": _bytes(data),
        "height": _int(height),
        "width": _int(width),
        "format": _bytes(fmt.encode()),
    }
    if pairs:
        ref_data, ref_fmt, ref_height, ref_width = encoded["reference"]
        feature.update(
            reference=_bytes(ref_data),
            reference_height=_int(ref_height),
            reference_width=_int(ref_width),
            reference_format=_bytes(ref_fmt.encode()),
        )
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


class _Stats:
    """Stored formats and the range of stored image sizes."""

    def __init__(self):
        self.formats = {}
        self.heights, self.widths = [], []

    def add(self, encoded):
        for _, fmt, height, width in encoded.values():
            self.formats[fmt] = self.formats.get(fmt, 0) + 1
            self.heights.append(height)
            self.widths.append(width)

    def sizes(self):
        if not self.heights:
            return {"min_height": None, "min_width": None, "max_height": None, "max_width": None}
        return {
            "min_height": min(self.heights),
            "min_width": min(self.widths),
            "max_height": max(self.heights),
            "max_width": max(self.widths),
        }


def _remove_leftovers(folder, name):
    manifest_path = fs.join(folder, MANIFEST)
    if fs.exists(manifest_path):
        fs.remove(manifest_path)  # readers must not pair an old manifest with new shards
    for leftover in fs.listdir(folder):  # temporary files of an interrupted earlier write
        if leftover.startswith((f".{name}-", f".{MANIFEST}")) and ".tmp-" in leftover:
            fs.remove(fs.join(folder, leftover))


def write_records(
    source_spec,
    name,
    out_dir="tf_records",
    *,
    split=(0.6, 0.2, 0.2),
    num_shards=None,
    image_size=None,
    seed=0,
    data_dir=None,
    verbose=True,
) -> dict:
    """Write `source_spec` as sharded TFRecords to `out_dir/name/`; returns the manifest.

    Args:
        source_spec: any source string (see `kcolor.data.parse_source`), single or pairs.
        name: the dataset name (folder and shard prefix).
        out_dir: parent folder, local or on any TensorFlow filesystem (`gs://...`).
        split: train/val/test fractions, assigned by a hash of each image id.
        num_shards: shards per split; default: about 64 MB per shard.
        image_size: shrink each image's shorter side to this many pixels before encoding
            (None keeps the originals; the `sample` source then cuts 256 px crops).
        seed: crop positions of the `sample` source.
        data_dir: tensorflow-datasets data dir, for `tfds:` sources.
        verbose: print progress to stderr.

    Example:
        write_records("sample", "sample", image_size=128)
        # tf_records/sample/sample-train-00000-of-00001.tfrecord, ..., manifest.json
    """
    spec = parse_source(source_spec)
    if not name or "/" in name or os.sep in name or name.startswith("."):
        raise ValueError(f"Records name must be a plain folder name. Received: name={name!r}")
    fractions = normalize_split(split)
    sample_size = int(image_size) if image_size else 256
    raw = load_raw(
        spec,
        split=fractions,
        sizes={s: sample_size for s in SPLITS},
        seed=seed,
        data_dir=data_dir,
        validate=False,  # every image is decoded while writing; failures are counted there
    )
    folder = fs.join(out_dir, name)
    fs.makedirs(folder)
    _remove_leftovers(folder, name)

    encoder = _Encoder(int(image_size) if image_size else None)
    pairs = raw.kind == "pairs"
    image_keys = ("image", "reference") if pairs else ("image",)
    progress = _Progress(name, sum(raw.counts.values()) + len(raw.skipped), verbose)
    progress.done = len(raw.skipped)  # refused by the source before any reading
    counts, shards, skipped, stats = {}, {}, list(raw.skipped), _Stats()
    # (reason, message) per skipped entry: the source's refusals (links to nothing,
    # folders, pipes, empty files), then the images that do not decode below.
    why = [raw.skip_reasons.get(item, ("corrupt", f"{item}: unreadable")) for item in raw.skipped]
    if verbose:
        for _, message in why:
            sys.stderr.write(f"skipped {message}\n")
    for split_name in SPLITS:
        counts[split_name], shards[split_name] = 0, []
        total = raw.counts[split_name]
        writer = None
        for position, element in enumerate(raw.splits[split_name].as_numpy_iterator()):
            if writer is None:
                avg_bytes = sum(_estimate_bytes(element[k]) for k in image_keys)
                writer = _ShardWriter(folder, name, split_name, total, _num_shards(total, avg_bytes, num_shards))
            example_id = element["id"].decode("utf-8", "replace")
            try:
                encoded = {
                    k: encoder(element[k], example_id if k == "image" or not pairs else f"{example_id} ({k})")
                    for k in image_keys
                }
            except (tf.errors.OpError, ValueError) as err:
                skipped.append(example_id)
                if isinstance(err, images.ImageReadError):
                    why.append((err.reason, str(err)))
                else:
                    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
                    why.append(("corrupt", f"{example_id}: {first}"))
                if verbose:
                    sys.stderr.write(f"\nskipped {why[-1][1]}\n")
            else:
                writer.write(position, _example(element, encoded, pairs))
                counts[split_name] += 1
                stats.add(encoded)
            progress.step(split_name, len(skipped))
        if writer is not None:
            shards[split_name] = writer.close()
    progress.close()

    listed = {f for names in shards.values() for f in names}
    for stale in fs.listdir(folder):
        if stale.startswith(f"{name}-") and stale.endswith(".tfrecord") and stale not in listed:
            fs.remove(fs.join(folder, stale))

    manifest = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "kind": raw.kind,
        "source": str(spec),
        "split": list(fractions),
        "split_rule": raw.info.get("split_rule", "hash"),
        "counts": counts,
        "shards": shards,
        "image_size": {
            "shorter_side": int(image_size) if image_size else None,
            "sample_crop": sample_size if spec.kind == "sample" else None,
            **stats.sizes(),
        },
        "encoding": stats.formats,
        "features": (
            ["id", "target", "reference", "height", "width", "format"]
            + ["reference_height", "reference_width", "reference_format"]
            if pairs
            else ["id", "image", "height", "width", "format"]
        ),
        "skipped": len(skipped),
        "skipped_examples": skipped[:50],
        "skipped_reasons": dict(collections.Counter(reason for reason, _ in why)),
        "seed": seed,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    from kcolor.fs import atomic_write_json

    atomic_write_json(fs.join(folder, MANIFEST), manifest)
    if verbose:
        line = images.skip_summary([reason for reason, _ in why], sum(counts.values()) + len(skipped),
                                   "pairs" if pairs else "images")
        sys.stderr.write(
            f"make-records {name}: wrote {sum(counts.values())} examples "
            f"(train {counts['train']}, val {counts['val']}, test {counts['test']}) to {folder}; {line}\n"
        )
    return manifest


# --------------------------------------------------------------------------- reading


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
