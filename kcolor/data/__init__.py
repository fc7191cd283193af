"""kcolor's data layer: sources, deterministic splits, augmentation, TFRecord shards.

One config field, `cfg.data`, names where the images come from (`sample`, `folder:PATH`,
`tfds:NAME[:split]`, `records:PATH`, or reference pairs `pairs:folder:REF,TGT`,
`pairs:records:PATH`, `pairs:sample`); `build_datasets(cfg)` turns it into batched,
prefetched `tf.data` pipelines of `{"rgb": [B, S, S, 3]}` (plus `"reference"` for pairs)
in [0, 1], augmented on the training split only. `write_records` stores any source as
sharded TFRecords with a manifest (`kcolor make-records`).

Modules, each importing only those listed above it:
    images       decode / resize / convert one image; finding and checking image files
    raw          `RawData`, `DataSourceError`, the hash split (`split_index`, `split_ids`)
    sample       the offline `sample` photos and pairs from scikit-image
    tfds_source  tensorflow-datasets, failing fast when offline
    records      the shard format and reading shards (`load_records`, `read_manifest`)
    sources      `load_raw`: a source spec to raw splits; image folders, pair folders
    writer       `write_records`: any source to shards
    videos       first/last frame pairs of videos (`make_pairs`), written by `writer`
    augment      hue, contrast, flip and crop augmentation
    gray_filter  dropping already-gray images (`drop_gray`)
    pipeline     `build_datasets`, `build_eval_split` and `DataBundle`

Example:
    bundle = build_datasets(get_config("sample"))
    write_records("folder:my_photos", "my_photos", image_size=256)
"""

from kcolor.data.pipeline import DataBundle, build_datasets, build_eval_split  # noqa: F401
from kcolor.data.records import load_records, read_manifest  # noqa: F401
from kcolor.data.raw import DataSourceError, split_index  # noqa: F401
from kcolor.data.sources import load_raw  # noqa: F401
from kcolor.data.writer import write_records  # noqa: F401

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
