"""What every data source hands back: `RawData`, the hash split, and `DataSourceError`.

The ground floor of `kcolor.data`: the loaders (`sources`, `sample`, `tfds_source`,
`records`) build on it and it imports none of them, so a loader never has to import
the module that dispatches to it.

Splits are assigned by a hash of each example's id (a folder's relative path, tfds'
`tfds_id`), so the same image always lands in the same split, whichever source reads
it and on whichever machine: `u = Fingerprint64(id) mod 10^6 / 10^6`, train if
`u < f_train`, val if `u < f_train + f_val`, test otherwise.

A loader returns `RawData`: per split, a `tf.data.Dataset` of `{"id", "image"}` (plus
`"reference"` for pairs), where an image is either encoded bytes or a decoded uint8
array; `kcolor.data.pipeline` decodes, resizes, caches and augments them.

Example:
    split_ids(["a.jpg", "b.jpg", "c.jpg"], (0.6, 0.2, 0.2))  # {"train": [...], "val": [...], "test": [...]}
"""

import dataclasses

import tensorflow as tf

from kcolor.errors import KcolorError
from kcolor.specs import SPLITS, normalize_split

AUTOTUNE = tf.data.AUTOTUNE
_HASH_BUCKETS = 1_000_000


class DataSourceError(KcolorError, RuntimeError):
    """A data source names data that is not there (missing folder, no shards, offline tfds)."""


def split_index(ids, split):
    """Split index (0 train, 1 val, 2 test) of each id, from a stable hash of the id.

    Works eagerly on a list of ids and inside a `tf.data` graph on a string tensor; both
    give the same answer, so shards written by one process split like folders read by
    another.
    """
    fractions = normalize_split(split)
    ids = tf.convert_to_tensor(ids, tf.string)
    bucket = tf.strings.to_hash_bucket_fast(ids, _HASH_BUCKETS)
    u = tf.cast(bucket, tf.float64) / _HASH_BUCKETS
    train_end = fractions[0]
    val_end = fractions[0] + fractions[1]
    index = tf.where(u < train_end, 0, tf.where(u < val_end, 1, 2))
    return tf.cast(index, tf.int32)


def split_ids(ids, split) -> dict:
    """Python list of ids -> {"train": [positions], "val": [...], "test": [...]}."""
    out = {name: [] for name in SPLITS}
    if not ids:
        return out
    for position, index in enumerate(split_index(list(ids), split).numpy().tolist()):
        out[SPLITS[index]].append(position)
    return out


@dataclasses.dataclass
class RawData:
    """Per split: a dataset of {"id", "image"[, "reference"]} (bytes or uint8), its size, notes."""

    splits: dict
    counts: dict
    kind: str  # single | pairs
    info: dict = dataclasses.field(default_factory=dict)
    skipped: list = dataclasses.field(default_factory=list)  # ids/paths that could not be read
    # Why each skipped id was skipped: {id: (reason, message)}, reason from
    # `kcolor.data.images.SKIP_REASONS`, message naming the file.
    skip_reasons: dict = dataclasses.field(default_factory=dict)


__all__ = ["AUTOTUNE", "DataSourceError", "RawData", "split_ids", "split_index"]
