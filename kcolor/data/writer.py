"""`write_records`: any data source to sharded TFRecords with a manifest (`kcolor make-records`).

This module owns writing: it reads the source through `kcolor.data.sources.load_raw`
(any kind, `records:` included), decodes and encodes every image, and writes the
shards and `manifest.json` in the format `kcolor.data.records` defines and reads.
It sits above both, so that neither of them imports it.

Encoding: a JPEG file is stored as its original bytes (no second lossy pass); PNG files
are stored as they are (lossless, 16-bit and alpha kept); GIF, BMP and decoded arrays
(the `sample` crops) are encoded as PNG, losslessly. With `image_size`, each image's
shorter side is first shrunk to `image_size` (aspect kept, never enlarged); a resized
JPEG is re-encoded as JPEG quality 95, anything else as PNG.

Writing is atomic: each shard is written under a temporary name and renamed when
complete; an old `manifest.json` is removed first and the new one written last, so a
reader never sees a half-written set. `out_dir` may be on any TensorFlow filesystem
(`gs://bucket/records`, `ram://`): every file goes through `tf.io.gfile` (`kcolor.fs`).

An entry that cannot be read (a truncated or corrupt file, a link to nothing, a folder
or a pipe named like an image, an image over `kcolor.data.images.MAX_IMAGE_PIXELS`) is
skipped with one line naming it and why; the others are all written, the manifest
counts the skipped ones by reason (`skipped_reasons`), and the run ends with one line
`make-records NAME: wrote N examples (...) to FOLDER; skipped K of M images: ...`.

Example:
    manifest = write_records("folder:photos", "photos", split=(0.8, 0.2, 0.0))
"""

import collections
import datetime
import math
import os
import sys

import numpy as np
import tensorflow as tf

from kcolor import fs
from kcolor import pixels
from kcolor.data import images
from kcolor.data.records import FORMAT_VERSION, MANIFEST, shard_name
from kcolor.data.sources import load_raw
from kcolor.specs import CROP_SOURCES, SPLITS, normalize_split, parse_source
from kcolor.timing import Progress

TARGET_SHARD_BYTES = 64 * 2**20  # about 64 MB per shard
JPEG_QUALITY = 95


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
        source_spec: any source string (see `kcolor.specs.parse_source`), single or pairs.
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

    run = _Run(raw, folder, name, _Encoder(int(image_size) if image_size else None), num_shards, verbose)
    for split_name in SPLITS:
        run.write_split(split_name)
    run.progress.close()
    _remove_stale_shards(folder, name, run.shards)

    manifest = _manifest(run, spec, fractions, image_size, sample_size, seed)
    fs.atomic_write_json(fs.join(folder, MANIFEST), manifest)
    if verbose:
        run.print_summary()
    return manifest


class _Run:
    """One `write_records` call: writes the splits' shards, counting what is written and
    skipped (and why), with the progress line on stderr when `verbose`."""

    def __init__(self, raw, folder, name, encoder, num_shards, verbose):
        self.raw, self.folder, self.name, self.encoder = raw, folder, name, encoder
        self.num_shards, self.verbose = num_shards, verbose
        self.pairs = raw.kind == "pairs"
        self.image_keys = ("image", "reference") if self.pairs else ("image",)
        total = sum(raw.counts.values()) + len(raw.skipped)
        self.progress = Progress(f"make-records {name}", total, unit="images", rate_unit="img", enabled=verbose)
        self.progress.done = len(raw.skipped)  # refused by the source before any reading
        self.counts, self.shards, self.skipped, self.stats = {}, {}, list(raw.skipped), _Stats()
        # (reason, message) per skipped entry: the source's refusals (links to nothing,
        # folders, pipes, empty files), then the images that do not decode (`_skip`).
        self.why = [raw.skip_reasons.get(item, ("corrupt", f"{item}: unreadable")) for item in raw.skipped]
        if verbose:
            for _, message in self.why:
                sys.stderr.write(f"skipped {message}\n")

    def write_split(self, split_name):
        """Encode and write every example of one split to its shards."""
        self.counts[split_name], self.shards[split_name] = 0, []
        total = self.raw.counts[split_name]
        writer = None
        for position, element in enumerate(self.raw.splits[split_name].as_numpy_iterator()):
            if writer is None:  # the shard count needs the size of a first example
                avg_bytes = sum(_estimate_bytes(element[k]) for k in self.image_keys)
                n_shards = _num_shards(total, avg_bytes, self.num_shards)
                writer = _ShardWriter(self.folder, self.name, split_name, total, n_shards)
            encoded = self._encode(element)
            if encoded is not None:
                writer.write(position, _example(element, encoded, self.pairs))
                self.counts[split_name] += 1
                self.stats.add(encoded)
            self.progress.step(f"{split_name}, {len(self.skipped)} skipped")
        if writer is not None:
            self.shards[split_name] = writer.close()

    def _encode(self, element):
        """`{key: (bytes, format, height, width)}` of the element's images, or None when one
        does not decode (then the element is counted as skipped, with its reason)."""
        example_id = element["id"].decode("utf-8", "replace")
        try:
            return {
                k: self.encoder(element[k], example_id if k == "image" or not self.pairs else f"{example_id} ({k})")
                for k in self.image_keys
            }
        except (tf.errors.OpError, ValueError) as err:
            self._skip(example_id, err)
            return None

    def _skip(self, example_id, err):
        self.skipped.append(example_id)
        if isinstance(err, images.ImageReadError):
            self.why.append((err.reason, str(err)))
        else:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            self.why.append(("corrupt", f"{example_id}: {first}"))
        if self.verbose:
            self.progress.interrupt()  # the message goes on its own line
            sys.stderr.write(f"skipped {self.why[-1][1]}\n")

    def print_summary(self):
        """The run's last line: what was written where, and what was skipped and why."""
        counts, written = self.counts, sum(self.counts.values())
        line = images.skip_summary([reason for reason, _ in self.why], written + len(self.skipped),
                                   "pairs" if self.pairs else "images")
        sys.stderr.write(
            f"make-records {self.name}: wrote {written} examples "
            f"(train {counts['train']}, val {counts['val']}, test {counts['test']}) to {self.folder}; {line}\n"
        )


def _remove_stale_shards(folder, name, shards):
    """Remove shards of this name that this write did not list (an earlier, larger write's)."""
    listed = {f for names in shards.values() for f in names}
    for stale in fs.listdir(folder):
        if stale.startswith(f"{name}-") and stale.endswith(".tfrecord") and stale not in listed:
            fs.remove(fs.join(folder, stale))


def _manifest(run, spec, fractions, image_size, sample_size, seed) -> dict:
    raw = run.raw
    return {
        "format_version": FORMAT_VERSION,
        "name": run.name,
        "kind": raw.kind,
        "source": str(spec),
        "split": list(fractions),
        "split_rule": raw.info.get("split_rule", "hash"),
        "counts": run.counts,
        "shards": run.shards,
        "image_size": {
            "shorter_side": int(image_size) if image_size else None,
            "sample_crop": sample_size if spec.kind in CROP_SOURCES else None,
            **run.stats.sizes(),
        },
        "encoding": run.stats.formats,
        "features": (
            ["id", "target", "reference", "height", "width", "format"]
            + ["reference_height", "reference_width", "reference_format"]
            if run.pairs
            else ["id", "image", "height", "width", "format"]
        ),
        "skipped": len(run.skipped),
        "skipped_examples": run.skipped[:50],
        "skipped_reasons": dict(collections.Counter(reason for reason, _ in run.why)),
        "seed": seed,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
