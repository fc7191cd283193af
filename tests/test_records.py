"""TFRecord shards: write -> read round trips, manifest, splits, pairs, atomic rewrite."""

import json
import os
import re

import numpy as np
import pytest
from PIL import Image

from kcolor.config import TrainConfig
from kcolor.data import DataSourceError, build_datasets, load_raw, read_manifest, write_records
from kcolor.data.images import decode


def _save(path, array, fmt=None, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path, fmt, **kw)


def _ids_by_split(raw):
    return {s: sorted(e["id"].decode() for e in ds.as_numpy_iterator()) for s, ds in raw.splits.items()}


def _pixels_by_id(raw, key="image"):
    out = {}
    for ds in raw.splits.values():
        for e in ds.as_numpy_iterator():
            # As 8-bit pixels: float conversion of BMP and PNG differs in the last float bit.
            out[e["id"].decode()] = np.round(decode(e[key]).rgb * 255).astype(np.uint8)
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """40 small random images in several formats and sizes, one corrupt file."""
    root = tmp_path_factory.mktemp("records_src")
    rng = np.random.default_rng(5)
    for i in range(40):
        h, w = int(rng.integers(20, 50)), int(rng.integers(20, 50))
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        sub = "a" if i % 2 else "b/c"
        if i % 5 == 0:
            _save(str(root / sub / f"img{i:03d}.jpg"), pixels, "JPEG", quality=90)
        elif i % 7 == 0:
            _save(str(root / sub / f"img{i:03d}.bmp"), pixels, "BMP")
        elif i % 11 == 0:
            _save(str(root / sub / f"img{i:03d}.png"), pixels[..., 0])  # gray
        else:
            _save(str(root / sub / f"img{i:03d}.png"), pixels)
    (root / "a" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    return str(root)


@pytest.fixture(scope="module")
def written(folder, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("tf_records"))
    manifest = write_records(f"folder:{folder}", "unit", out, split=(0.6, 0.2, 0.2), num_shards=2, verbose=False)
    return out, manifest


def test_manifest_and_shard_names(written):
    out, manifest = written
    folder = os.path.join(out, "unit")
    assert manifest == {k: v for k, v in read_manifest(folder).items() if k != "folder"}
    with open(os.path.join(folder, "manifest.json")) as fh:
        assert json.load(fh)["counts"] == manifest["counts"]
    assert manifest["kind"] == "single" and manifest["format_version"] == 1
    assert manifest["split"] == [0.6, 0.2, 0.2] and manifest["split_rule"] == "hash"
    assert sum(manifest["counts"].values()) == 40
    assert manifest["skipped"] == 1 and manifest["skipped_examples"] == ["a/corrupt.png"]
    assert manifest["image_size"]["shorter_side"] is None
    assert set(manifest["encoding"]) == {"jpeg", "png"}
    for split, names in manifest["shards"].items():
        assert len(names) == 2
        for index, name in enumerate(names):
            assert re.fullmatch(rf"unit-{split}-0000{index}-of-00002\.tfrecord", name)
            assert os.path.exists(os.path.join(folder, name))
    assert not [f for f in os.listdir(folder) if ".tmp" in f]


def test_round_trip_gives_the_same_pixels(folder, written):
    out, _ = written
    from_records = _pixels_by_id(load_raw(f"records:{os.path.join(out, 'unit')}"))
    from_folder = _pixels_by_id(load_raw(f"folder:{folder}"))
    assert sorted(from_records) == sorted(from_folder) and len(from_records) == 40
    for image_id, pixels in from_folder.items():
        np.testing.assert_array_equal(from_records[image_id], pixels, err_msg=image_id)
        if not image_id.endswith(".jpg"):  # lossless formats: exactly what PIL reads
            expected = np.asarray(Image.open(os.path.join(folder, image_id)).convert("RGB"))
            np.testing.assert_array_equal(pixels, expected, err_msg=image_id)


def test_jpeg_bytes_are_stored_unchanged(folder, written):
    out, _ = written
    raw = load_raw(f"records:{os.path.join(out, 'unit')}")
    jpegs = 0
    for ds in raw.splits.values():
        for e in ds.as_numpy_iterator():
            image_id = e["id"].decode()
            if image_id.endswith(".jpg"):
                with open(os.path.join(folder, image_id), "rb") as fh:
                    assert e["image"] == fh.read()
                jpegs += 1
    assert jpegs == 8


def test_splits_agree_between_folder_and_records(folder, written):
    out, manifest = written
    path = os.path.join(out, "unit")
    for split in ((0.6, 0.2, 0.2), (0.8, 0.2, 0.0)):
        from_folder = _ids_by_split(load_raw(f"folder:{folder}", split=split))
        records = load_raw(f"records:{path}", split=split)
        assert _ids_by_split(records) == from_folder
        assert records.counts == {s: len(v) for s, v in from_folder.items()}
    assert load_raw(f"records:{path}").info["split_rule"] == "written"
    assert load_raw(f"records:{path}", split=(0.8, 0.2)).info["split_rule"] == "re-split by hash"
    assert manifest["counts"] == {s: len(v) for s, v in _ids_by_split(load_raw(f"folder:{folder}")).items()}


def test_records_pipeline_matches_folder_pipeline(folder, written, capsys):
    out, _ = written
    cfg = dict(image_size=24, batch_size=4, augment=(), shuffle_buffer=1)
    a = build_datasets(TrainConfig(data=f"folder:{folder}", **cfg))
    assert "skipped 1 of 41 images: 1 truncated" in capsys.readouterr().err
    b = build_datasets(TrainConfig(data=f"records:{os.path.join(out, 'unit')}", **cfg))
    assert a.counts == b.counts

    def as_set(ds):
        return sorted(x.tobytes() for batch in ds for x in batch["rgb"].numpy())

    assert as_set(a.val) == as_set(b.val) and as_set(a.test) == as_set(b.test)


def test_resized_records_shrink_shorter_side(folder, tmp_path):
    manifest = write_records(f"folder:{folder}", "small", str(tmp_path), image_size=16, verbose=False)
    assert manifest["image_size"]["shorter_side"] == 16
    raw = load_raw(f"records:{tmp_path / 'small'}")
    for ds in raw.splits.values():
        for e in ds.as_numpy_iterator():
            h, w = decode(e["image"]).rgb.shape[:2]
            assert min(h, w) == 16
            assert (e["image"][:3] == b"\xff\xd8\xff") == e["id"].decode().endswith(".jpg")


def test_rewrite_is_atomic_and_removes_stale_shards(folder, tmp_path):
    write_records(f"folder:{folder}", "again", str(tmp_path), num_shards=3, verbose=False)
    manifest = write_records(f"folder:{folder}", "again", str(tmp_path), num_shards=1, verbose=False)
    files = sorted(os.listdir(tmp_path / "again"))
    listed = sorted(n for names in manifest["shards"].values() for n in names)
    assert files == sorted(listed + ["manifest.json"])


def test_sample_records_keep_held_out_photos(tmp_path):
    manifest = write_records("sample", "sample", str(tmp_path), image_size=32, verbose=False)
    assert manifest["counts"] == {"train": 336, "val": 16, "test": 16}
    assert manifest["split_rule"] == "source" and manifest["image_size"]["sample_crop"] == 32
    bundle = build_datasets(TrainConfig(data=f"records:{tmp_path / 'sample'}", image_size=32, batch_size=16))
    assert bundle.counts == manifest["counts"]
    val_ids = _ids_by_split(load_raw(f"records:{tmp_path / 'sample'}"))["val"]
    assert all(i.startswith("chelsea/") for i in val_ids)
    # Lossless: the stored crops are the sample source's own crops.
    direct = build_datasets(TrainConfig(data="sample", image_size=32, batch_size=16))
    np.testing.assert_array_equal(
        np.concatenate([b["rgb"].numpy() for b in direct.val]),
        np.concatenate([b["rgb"].numpy() for b in bundle.val]),
    )


def test_pair_records_round_trip(tmp_path, capsys):
    rng = np.random.default_rng(2)
    for i in range(10):
        base = rng.integers(30, 220, 3)
        _save(str(tmp_path / "ref" / f"v{i}.png"), np.broadcast_to(base, (20, 30, 3)).astype(np.uint8))
        _save(str(tmp_path / "tgt" / f"v{i}.png"), np.broadcast_to(base // 2, (24, 24, 3)).astype(np.uint8))
    spec = f"pairs:folder:{tmp_path / 'ref'},{tmp_path / 'tgt'}"
    manifest = write_records(spec, "pairs", str(tmp_path / "out"), split=(0.8, 0.2, 0.0))
    assert manifest["kind"] == "pairs" and sum(manifest["counts"].values()) == 10
    progress = capsys.readouterr().err
    assert "make-records pairs: 10/10 images" in progress and "img/s" in progress
    assert "wrote 10 examples" in progress
    assert "reference" in manifest["features"] and "target" in manifest["features"]
    path = str(tmp_path / "out" / "pairs")
    raw_records, raw_folder = load_raw(f"pairs:records:{path}", split=(0.8, 0.2)), load_raw(spec, split=(0.8, 0.2))
    for key in ("image", "reference"):
        a, b = _pixels_by_id(raw_records, key), _pixels_by_id(raw_folder, key)
        assert sorted(a) == sorted(b)
        for image_id in a:
            np.testing.assert_array_equal(a[image_id], b[image_id])
    bundle = build_datasets(TrainConfig(data=f"pairs:records:{path}", image_size=16, batch_size=2, fractions=(0.8, 0.2)))
    for batch in bundle.train:
        ref, tgt = batch["reference"].numpy(), batch["rgb"].numpy()
        # The target was stored at half the reference's color.
        np.testing.assert_allclose(tgt.mean(axis=(1, 2)), ref.mean(axis=(1, 2)) / 2, atol=0.03)
    with pytest.raises(ValueError, match="pairs:records"):
        load_raw(f"records:{path}")


def test_missing_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(DataSourceError, match="no manifest.json.*make-records"):
        build_datasets(TrainConfig(data=f"records:{tmp_path}", image_size=16, batch_size=2))
