"""kcolor's data layer: sources, deterministic splits, augmentation, TFRecord shards.

One config field, `cfg.data`, names where the images come from (`sample`, `folder:PATH`,
`tfds:NAME[:split]`, `records:PATH`, or reference pairs `pairs:folder:REF,TGT`,
`pairs:records:PATH`, `pairs:sample`); `build_datasets(cfg)` turns it into batched,
prefetched `tf.data` pipelines of `{"rgb": [B, S, S, 3]}` (plus `"reference"` for pairs)
in [0, 1], augmented on the training split only. `write_records` stores any source as
sharded TFRecords with a manifest (`kcolor make-records`).

Modules:
    sources      source specs (`parse_source`), hash splits, image folders, pair folders
    sample       the offline `sample` photos and pairs from scikit-image
    tfds_source  tensorflow-datasets, failing fast when offline
    records      `write_records` / reading shards
    images       decode / resize / convert one image
    augment      hue, contrast, flip and crop augmentation
    pipeline     `build_datasets` and `DataBundle`

Example:
    bundle = build_datasets(get_config("sample"))
    write_records("folder:my_photos", "my_photos", image_size=256)
"""

from kcolor.data.pipeline import DataBundle, build_datasets, build_eval_split  # noqa: F401
from kcolor.data.records import load_records, read_manifest, write_records  # noqa: F401
from kcolor.data.raw import DataSourceError, split_index  # noqa: F401
from kcolor.data.sources import load_raw  # noqa: F401

__all__ = [
    "DataBundle",
    "DataSourceError",
    "build_datasets",
    "build_eval_split",
    "load_raw",
    "load_records",
    "read_manifest",
    "split_index",
    "write_records",
]
