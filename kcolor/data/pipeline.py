"""`build_datasets(cfg)`: one config in, train/val/test `tf.data` pipelines out.

Every source goes through the same small per-example functions:

    raw split (ids + encoded bytes or uint8 crops)          kcolor.data.sources / sample / records / tfds_source
      -> decode, resize to a square, store as uint8          (parallel map; kcolor.data.images)
      -> cache                                               (cfg.cache; uint8 keeps it 4x smaller than float)
      train only, pass p of an endless stream (`DataBundle.train_from`):
      -> shuffle(cfg.shuffle_buffer, seed=(seed, p))         (a new order every pass, fixed by the pass)
      -> augment(cfg.augment) with the seed (seed, p, i)     (kcolor.data.augment; example i of pass p)
      -> batch(cfg.batch_size, drop_remainder=True)          (so a batch's content is a function of its index)
      val / test: -> to float, batch(cfg.batch_size) with the last partial batch kept
      -> prefetch

An element is `{"rgb": float32 [B, S, S, 3] in [0, 1]}` with `S = cfg.image_size`;
pair sources add `"reference"` of the same shape. With `cfg.reference_from == "self"` (the
"cheating" variant of Paper 000), `"reference"` is the target's own (augmented) RGB.
The training split is not repeated: the training loop decides how many passes to make.

With `crop` in `cfg.augment`, training images are resized to `crop_size(S)` (12.5%
larger) and a random `S x S` window is cut from each.

Under a multi-worker strategy (`strategy=multiworker`) tf.data's auto-sharding splits
the input between the workers, and each pipeline sets its policy explicitly:

- `records:` training shards (written with the current split fractions, no
  `drop_gray_chroma`): `AutoShardPolicy.FILE`. The stream is built with the reader
  right below the file list (`kcolor.data.records.read_passes`), so each worker reads
  only its own shards: pass `p` reads shards `w, w + W, ...` on worker `w` of `W`, each
  shuffled within itself with the seed `(seed, p, shard)` and read `ceil(shards / W)`
  at a time, one record from each in turn. Example `j` of shard `k` in pass `p` is
  augmented with the seed `(seed, p, k * 2**32 + j)`, whatever the sharding. Batch `b`
  of worker `w` is a function of `(seed, b, W)`; `train_from(step, num_workers=W)`
  resumes there by skipping `step * batch_size / W` records before they are decoded
  (read, not decoded: a resume late in a long run reads that many records once). This
  stream is not cached (`cache` applies to val/test and to the other sources), and
  its passes are not cut exactly at their ends: shards of unequal length overlap the
  next pass by a few records. Give a multi-worker run at least as many shards as
  workers, a multiple of them (`kcolor make-records --shards`), or the shards a worker
  reads change from pass to pass.
- every other training stream (`sample`, `folder:`, `tfds:`, re-split records):
  `AutoShardPolicy.DATA`. Each worker builds the whole global stream and keeps its
  part of every global batch, so the workers together see what one process sees.
- val and test: `AutoShardPolicy.DATA` (each worker evaluates its part of every batch;
  the loop sums the metrics over the replicas).

Images that cannot be decoded are skipped before the pipeline is built (see
`kcolor.data.sources`): each is printed to stderr with its reason, then one summary
line (`skipped 2 of 14 images: 1 truncated, 1 not an image`; printed for every folder
source, and for any other source that skipped something). Their number is in
`bundle.info["skipped"]`, the counts by reason in `bundle.info["skipped_reasons"]`.

Example:
    bundle = build_datasets(get_config("sample"))
    batch = next(iter(bundle.train))     # batch["rgb"]: [16, 64, 64, 3] float32
"""

import collections
import dataclasses
import math
from typing import Callable, Optional

import tensorflow as tf

from kcolor.data import augment as augment_lib
from kcolor import pixels
from kcolor.data import images
from kcolor.data import records as records_lib
from kcolor.data.gray_filter import drop_gray
from kcolor.data.raw import AUTOTUNE
from kcolor.data.sources import load_raw
from kcolor.specs import REFERENCE_MODES, SPLITS, check_augment, normalize_split, parse_source

SHARD_FILE = tf.data.experimental.AutoShardPolicy.FILE
SHARD_DATA = tf.data.experimental.AutoShardPolicy.DATA
_SEED_STRIDE = 1_000_003  # seed -> per-pass seeds seed * stride + pass (+ 1 for the shuffle)


@dataclasses.dataclass
class DataBundle:
    """The three batched splits of one data source, their sizes and what was done to them."""

    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset
    counts: dict  # {"train": int, "val": int, "test": int} examples
    info: dict
    # `train_from(step, num_workers=1)`: the endless stream of training batches from
    # global batch `step` on; `train` is its first pass alone (`count // batch_size`).
    train_from: Optional[Callable] = None


def with_shard_policy(ds, policy):
    """`ds` with its tf.data auto-shard policy set (what a multi-worker strategy does to it)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = policy
    return ds.with_options(options)


class _TrainStream:
    """The training split as an endless sequence of passes, each fixed by (seed, pass).

    Pass `p` shuffles with the seed `(seed, p)` and augments its `i`-th example with the
    seed `(seed, p, i)`, then batches `batch_size` examples, dropping the pass's last
    partial batch. So batch `b` of the stream is a pure function of the config and `b`,
    and `starting_at(b)` resumes exactly there: it skips `b mod batches-per-pass`
    examples of the pass, before they are augmented. Nothing depends on how often a
    dataset was iterated in this process, and every replica of a `tf.distribute`
    strategy reads the same global batch.
    """

    def __init__(self, examples, count, cfg, augment):
        self.examples = examples
        self.batch_size = int(cfg.batch_size)
        self.batches = int(count) // self.batch_size
        self.seed = int(cfg.seed)
        self.buffer = int(cfg.shuffle_buffer)
        self.augment = augment
        self.self_reference = cfg.reference_from == "self"

    def _pass(self, p):
        p = tf.cast(p, tf.int64)
        n = self.batches * self.batch_size
        # This traced function's own graph seed: the order then depends on (seed, p) only,
        # not on the process's global seed (whose value 0 also trips tf.data's seed check
        # on a tensor op seed).
        tf.random.set_seed(_SEED_STRIDE * self.seed + 1)
        shuffled = self.examples.shuffle(self.buffer, seed=_SEED_STRIDE * self.seed + p + 1,
                                         reshuffle_each_iteration=False).take(n)
        return tf.data.Dataset.zip((shuffled, tf.data.Dataset.range(n).map(lambda i: (p, i))))

    def _augment(self, example, where):
        p, i = where
        return self.augment(example, tf.stack([_SEED_STRIDE * self.seed + p, i]))

    def _finish(self, ds):
        ds = ds.map(self._augment, num_parallel_calls=AUTOTUNE)
        return _batch_train(ds, self.batch_size, self.self_reference)

    def one_pass(self, p=0):
        ds = self._finish(tf.data.Dataset.range(p, p + 1).flat_map(self._pass))
        return with_shard_policy(ds.apply(tf.data.experimental.assert_cardinality(self.batches)), SHARD_DATA)

    def starting_at(self, step, num_workers=1):
        """The stream from global batch `step` (every worker builds it whole: DATA sharding)."""
        first, offset = divmod(int(step), max(self.batches, 1))
        stream = tf.data.Dataset.range(first, 2**62).flat_map(self._pass)
        return with_shard_policy(self._finish(stream.skip(offset * self.batch_size)), SHARD_DATA)


class _RecordStream:
    """The training split of `records:` shards, an endless stream that workers split by file.

    See the module docstring ("multi-worker"): the reader sits right below the file list
    (`records.read_passes`), so `AutoShardPolicy.FILE` gives each worker its own shards.
    Batch `b` of a worker is a function of `(seed, b, num_workers)`.
    """

    def __init__(self, files, count, cfg, prepare, augment, pairs):
        self.files = list(files)
        self.batch_size = int(cfg.batch_size)
        self.batches = int(count) // self.batch_size
        self.seed = int(cfg.seed)
        self.buffer = int(cfg.shuffle_buffer)
        self.prepare = prepare
        self.augment = augment
        self.pairs = pairs
        self.self_reference = cfg.reference_from == "self"

    def _tagged(self, element):
        return self.prepare(element), (element["pass"], element["key"])

    def _augment(self, example, where):
        p, key = where
        return self.augment(example, tf.stack([_SEED_STRIDE * self.seed + p, key]))

    def starting_at(self, step, num_workers=1):
        """Each worker's stream from global batch `step` under `num_workers` workers (FILE sharding)."""
        workers = int(num_workers)
        if workers < 1 or self.batch_size % workers:
            raise ValueError(
                f"batch_size {self.batch_size} does not split over {workers} workers; choose a batch_size "
                f"that is a multiple of the number of workers. Received: num_workers={num_workers}"
            )
        cycle = max(1, min(16, math.ceil(len(self.files) / workers)))
        ds = records_lib.read_passes(
            self.files, pairs=self.pairs, cycle_length=cycle, shuffle_buffer=self.buffer,
            seed=_SEED_STRIDE * self.seed + 1,
        )
        # Each worker reads its share of the global batch (batch_size / W) a step.
        ds = ds.skip(int(step) * (self.batch_size // workers))
        ds = ds.map(self._tagged, num_parallel_calls=AUTOTUNE)
        ds = ds.map(self._augment, num_parallel_calls=AUTOTUNE)
        return with_shard_policy(_batch_train(ds, self.batch_size, self.self_reference), SHARD_FILE)

    def one_pass(self):
        ds = self.starting_at(0).take(self.batches)
        return with_shard_policy(ds.apply(tf.data.experimental.assert_cardinality(self.batches)), SHARD_FILE)


def _batch_train(ds, batch_size, self_reference):
    if self_reference:
        ds = ds.map(_self_reference, num_parallel_calls=AUTOTUNE)
    ds = ds.batch(batch_size, drop_remainder=True, num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)


def _prepare(size, keys, keep_id=False):
    """decode -> square resize -> uint8, for the image keys of a raw element."""

    def prepare(element):
        out = {"id": element["id"]} if keep_id else {}
        for key in keys:
            value = element[key]
            value = images.decode_tf(value) if value.dtype == tf.string else pixels.to_float(value)
            out["rgb" if key == "image" else key] = pixels.to_uint8(pixels.resize(value, size))
        return out

    return prepare


def _to_float(example):
    return {key: value if key == "id" else pixels.to_float(value) for key, value in example.items()}


def _self_reference(example):
    out = dict(example)
    out["reference"] = example["rgb"]
    return out


def _report_skipped(raw, spec) -> dict:
    """Print what reading `spec` skipped and why (`kcolor.data.images.report_skips`);
    returns the counts by reason."""
    reasons = [raw.skip_reasons.get(item, ("corrupt", f"{item}: unreadable")) for item in raw.skipped]
    if spec.kind == "folder" or raw.skipped:
        images.report_skips(reasons, sum(raw.counts.values()) + len(raw.skipped), "pairs" if spec.pairs else "images")
    return dict(collections.Counter(reason for reason, _ in reasons))


def _check_config(cfg):
    if int(cfg.image_size) < 1:
        raise ValueError(f"image_size must be a positive number of pixels. Received: image_size={cfg.image_size}")
    if int(cfg.batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1. Received: batch_size={cfg.batch_size}")
    if cfg.reference_from not in REFERENCE_MODES:
        raise ValueError(f"Unknown reference mode '{cfg.reference_from}'. Valid choices: {', '.join(REFERENCE_MODES)}")
    if int(cfg.shuffle_buffer) < 1:
        raise ValueError(f"shuffle_buffer must be >= 1. Received: shuffle_buffer={cfg.shuffle_buffer}")


def build_datasets(cfg) -> DataBundle:
    """Train/val/test pipelines for `cfg` (a `kcolor.config.TrainConfig`).

    Reads `cfg.data`, `image_size`, `batch_size`, `fractions`, `augment`, `hue_delta`,
    `contrast_range`, `shuffle_buffer`, `cache`, `data_dir`, `download`, `reference`
    and `seed`.

    Example:
        bundle = build_datasets(apply_overrides(get_config("sample"), ["data=pairs:sample"]))
        bundle.counts   # {"train": 240, "val": 16, "test": 16}
    """
    _check_config(cfg)
    spec = parse_source(cfg.data)
    fractions = normalize_split(cfg.fractions, need_train=True)
    names = check_augment(cfg.augment, cfg.hue_delta, cfg.contrast_range)
    size = int(cfg.image_size)
    train_size = augment_lib.crop_size(size) if "crop" in names else size
    sizes = {"train": train_size, "val": size, "test": size}
    raw, skipped_reasons = _load(cfg, spec, fractions, sizes)
    if raw.counts["train"] < cfg.batch_size:
        raise ValueError(
            f"The train split of '{spec}' has {raw.counts['train']} examples, fewer than one batch "
            f"(batch_size={cfg.batch_size}); lower batch_size or use a larger data source "
            f"(counts: {raw.counts})"
        )
    pairs = raw.kind == "pairs"
    # The "cheating" variant never needs the pair's own reference image decoded.
    keys = ("image", "reference") if pairs and cfg.reference_from == "pair" else ("image",)
    image_keys = ("rgb", "reference") if len(keys) == 2 else ("rgb",)
    augment = augment_lib.make_augment(
        names, size=size, hue_delta=cfg.hue_delta, contrast_range=cfg.contrast_range, image_keys=image_keys
    )
    # records: shards read as they were written (and not filtered) stream by file.
    shards = raw.info.get("train_shards") if spec.kind == "records" and not raw.info.get("gray_chroma") else None
    train, train_from = _train_split(raw, cfg, _prepare(train_size, keys), augment, shards)
    val, test = (_held_out_split(raw, name, cfg, _prepare(sizes[name], keys)) for name in ("val", "test"))

    info = {
        "source": str(spec),
        "kind": raw.kind,
        "image_size": size,
        "train_resize": train_size,
        "batch_size": int(cfg.batch_size),
        "fractions": list(fractions),
        "counts": dict(raw.counts),
        "train_batches": raw.counts["train"] // int(cfg.batch_size),
        "augment": list(names),
        "hue_delta": float(cfg.hue_delta),
        "contrast_range": list(cfg.contrast_range),
        "reference": cfg.reference_from if pairs or cfg.reference_from == "self" else None,
        "cache": bool(cfg.cache),
        "train_stream": "records shards (auto-shard FILE, not cached)" if shards else "passes (auto-shard DATA)",
        "shuffle_buffer": int(cfg.shuffle_buffer),
        "seed": int(cfg.seed),
        "skipped": len(raw.skipped),
        "skipped_examples": raw.skipped[:50],
        "skipped_reasons": skipped_reasons,
        **raw.info,
    }
    return DataBundle(train, val, test, dict(raw.counts), info, train_from)


def _load(cfg, spec, fractions, sizes):
    """`(raw, skipped counts by reason)`: `cfg`'s source read, its skips reported, and
    (KMHCNet's `drop_gray_chroma`) its already-gray images dropped."""
    raw = load_raw(
        spec,
        split=fractions,
        sizes=sizes,
        seed=cfg.seed,
        data_dir=cfg.data_dir,
        download=cfg.download,
    )
    skipped_reasons = _report_skipped(raw, spec)
    # Training drops them; evaluation drops them too, to score the test set training saw.
    return drop_gray(raw, getattr(cfg, "drop_gray_chroma", 0.0)), skipped_reasons


def _decoded(raw, name, prepare, cache):
    """One split decoded and resized (`prepare`), its size asserted, cached if `cache`."""
    ds = raw.splits[name].map(prepare, num_parallel_calls=AUTOTUNE)
    # Known sizes (shards and filters hide them) for progress bars; also checks the counts.
    ds = ds.apply(tf.data.experimental.assert_cardinality(raw.counts[name]))
    return ds.cache() if cache else ds


def _train_split(raw, cfg, prepare, augment, shards):
    """`(first pass, train_from)` of the training split: streamed by file from the records
    `shards` when given (`_RecordStream`), else as passes of the decoded split (`_TrainStream`)."""
    if shards:
        stream = _RecordStream(shards, raw.counts["train"], cfg, prepare, augment, raw.kind == "pairs")
    else:
        stream = _TrainStream(_decoded(raw, "train", prepare, cfg.cache), raw.counts["train"], cfg, augment)
    return stream.one_pass(), stream.starting_at


def _held_out_split(raw, name, cfg, prepare):
    """The val or test split: decoded, as float, batched with the last partial batch kept."""
    ds = _decoded(raw, name, prepare, cfg.cache).map(_to_float, num_parallel_calls=AUTOTUNE)
    if cfg.reference_from == "self":
        ds = ds.map(_self_reference, num_parallel_calls=AUTOTUNE)
    ds = ds.batch(int(cfg.batch_size), num_parallel_calls=AUTOTUNE)
    return with_shard_policy(ds.prefetch(AUTOTUNE), SHARD_DATA)


def build_eval_split(cfg, split="test", *, batch_size=16, spread=None):
    """One split of `cfg.data`, as evaluation reads it: `(dataset, count, info)`.

    The images are decoded and resized exactly as `build_datasets` does for its val and
    test splits (no augmentation, no shuffling), and each element keeps its image id:
    `{"id": string [B], "rgb": float32 [B, S, S, 3]}` (plus `"reference"` for pairs).
    Reads `cfg.data`, `image_size`, `fractions`, `reference_from`, `seed`,
    `data_dir` and `download`.

    `split` "train" reads the training images the same way, without training's
    augmentation (the Turing test's run on images the model has seen); `kcolor evaluate`
    scores val and test only.

    `spread` N keeps at most N images, every k-th of the split (k = ceil(count / N)), so a
    capped set still spans all of the split's photos (their crops come photo by photo).

    Raises:
        ValueError: `split` is not "train", "val" or "test", or that split holds no images
            (evaluation never falls back to another split).
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"Unknown evaluation split '{split}'. Valid choices: train, val, test")
    _check_config(cfg)
    spec = parse_source(cfg.data)
    fractions = normalize_split(cfg.fractions)
    size = int(cfg.image_size)
    raw, skipped_reasons = _load(cfg, spec, fractions, {name: size for name in SPLITS})
    count = raw.counts[split]
    if count == 0:
        raise ValueError(
            f"The {split} split of '{spec}' is empty (split fractions {list(fractions)}, counts {raw.counts}). "
            f"Pass another --split, or --data with a source that has {split} images"
        )
    pairs = raw.kind == "pairs"
    keys = ("image", "reference") if pairs and cfg.reference_from == "pair" else ("image",)
    ds = raw.splits[split]
    if spread is not None and count > int(spread):
        stride = math.ceil(count / int(spread))
        ds, count = ds.shard(stride, 0), math.ceil(count / stride)
    ds = ds.map(_prepare(size, keys, keep_id=True), num_parallel_calls=AUTOTUNE)
    ds = ds.map(_to_float, num_parallel_calls=AUTOTUNE)
    if cfg.reference_from == "self":
        ds = ds.map(_self_reference, num_parallel_calls=AUTOTUNE)
    ds = ds.batch(int(batch_size)).prefetch(AUTOTUNE)
    info = {"source": str(spec), "kind": raw.kind, "split": split, "fractions": list(fractions),
            "image_size": size, "count": count, "skipped": len(raw.skipped),
            "skipped_examples": raw.skipped[:50], "skipped_reasons": skipped_reasons}
    return ds, count, info
