"""The data layer: source specs, the sample/folder/pair/tfds sources, splits, augmentation."""

import io
import os
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kcolor import color, pixels
from kcolor.config import TrainConfig
from kcolor.data import DataSourceError, build_datasets, load_raw, sample, split_index
from kcolor.specs import normalize_split, parse_source
from kcolor.data import tfds_source
from kcolor.data.augment import make_augment
from kcolor.data import images
from kcolor.data.images import decode
from kcolor.data.raw import split_ids
from kcolor.specs import SOURCE_FORMS


def _cfg(**kw):
    base = dict(image_size=32, batch_size=8, epochs=1, shuffle_buffer=64)
    base.update(kw)
    return TrainConfig(**base)


def _take_all(ds, key="rgb"):
    return np.concatenate([b[key].numpy() for b in ds], axis=0)


def _save(path, array, fmt=None, **kw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path, fmt, **kw)


def _photo(rng, h=40, w=52):
    # Smooth colorful image: gradients plus noise, so resizing keeps it meaningful.
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x / w, y / h, 1 - x / w], -1) * 200 + rng.integers(0, 55, (h, w, 3))
    return base.astype(np.uint8)


# --------------------------------------------------------------------------- parse_source


@pytest.mark.parametrize(
    "spec, kind, pairs",
    [
        ("sample", "sample", False),
        ("folder:/data/photos", "folder", False),
        ("tfds:oxford_flowers102", "tfds", False),
        ("tfds:coco/2017:validation[:10%]", "tfds", False),
        ("records:tf_records/flowers", "records", False),
        ("pairs:folder:refs,targets", "folder", True),
        ("pairs:records:tf_records/konvid", "records", True),
        ("pairs:sample", "sample", True),
    ],
)
def test_parse_source_valid_forms(spec, kind, pairs):
    parsed = parse_source(spec)
    assert (parsed.kind, parsed.pairs) == (kind, pairs)
    assert str(parsed) == spec
    assert parse_source(str(parsed)) == parsed


def test_parse_source_tfds_split_keeps_colons():
    parsed = parse_source("tfds:coco/2017:validation[:10%]")
    assert parsed.name == "coco/2017" and parsed.tfds_split == "validation[:10%]"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "imagenet",
        "folder:",
        "folders:/x",
        "tfds:",
        "pairs:tfds:mnist",
        "pairs:folder:only_one",
        "sample:x",
        "records:",
    ],
)
def test_parse_source_errors_name_spec_and_list_valid_forms(bad):
    with pytest.raises(ValueError) as err:
        parse_source(bad)
    message = str(err.value)
    assert f"'{bad}'" in message
    for form in SOURCE_FORMS:
        assert form in message


# --------------------------------------------------------------------------- sample source


def test_sample_pipeline_shapes_dtypes_ranges():
    bundle = build_datasets(_cfg())
    assert bundle.counts == {"train": 336, "val": 16, "test": 16}
    assert bundle.info["photos"]["val"] == ["chelsea"] and bundle.info["photos"]["test"] == ["coffee"]
    train_batches = list(bundle.train)
    assert len(train_batches) == 336 // 8  # drop_remainder on train
    for batch in train_batches[:3] + list(bundle.val) + list(bundle.test):
        assert set(batch) == {"rgb"}
        rgb = batch["rgb"].numpy()
        assert rgb.dtype == np.float32 and rgb.shape[1:] == (32, 32, 3)
        assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    assert _take_all(bundle.val).shape[0] == 16
    assert bundle.train.element_spec["rgb"].shape.as_list() == [8, 32, 32, 3]
    assert bundle.val.element_spec["rgb"].shape.as_list() == [None, 32, 32, 3]


def test_sample_is_deterministic_given_seed_and_reshuffles_each_epoch():
    a, b = build_datasets(_cfg(seed=3)), build_datasets(_cfg(seed=3))
    np.testing.assert_array_equal(_take_all(a.val), _take_all(b.val))
    first_a, first_b = next(iter(a.train))["rgb"].numpy(), next(iter(b.train))["rgb"].numpy()
    np.testing.assert_array_equal(first_a, first_b)
    # The next pass of the training stream is shuffled and augmented differently; each
    # pass is fixed by (seed, pass), so iterating `train` (pass 0) again gives it again.
    second_a = next(iter(a.train_from(a.info["train_batches"])))["rgb"].numpy()
    assert not np.array_equal(first_a, second_a)
    np.testing.assert_array_equal(next(iter(a.train))["rgb"].numpy(), first_a)
    # Another seed cuts other crops.
    c = build_datasets(_cfg(seed=4, augment=()))
    d = build_datasets(_cfg(seed=3, augment=()))
    assert not np.array_equal(_take_all(c.val), _take_all(d.val))


def test_sample_without_test_fraction_moves_held_out_photo_to_val():
    bundle = build_datasets(_cfg(fractions=(0.8, 0.2, 0.0)))
    assert bundle.counts == {"train": 336, "val": 32, "test": 0}
    assert list(bundle.test) == []


def test_sample_builds_in_seconds():
    start = time.time()
    build_datasets(_cfg(image_size=64))
    assert time.time() - start < 10


# --------------------------------------------------------------------------- augmentation


def test_augmentation_only_on_train():
    plain = build_datasets(_cfg(augment=(), shuffle_buffer=1))
    augmented = build_datasets(_cfg(augment=("hue", "contrast", "flip", "crop"), shuffle_buffer=1))
    np.testing.assert_array_equal(_take_all(plain.val), _take_all(augmented.val))
    np.testing.assert_array_equal(_take_all(plain.test), _take_all(augmented.test))
    train_plain = next(iter(plain.train))["rgb"].numpy()
    train_aug = next(iter(augmented.train))["rgb"].numpy()
    assert train_aug.shape == train_plain.shape == (8, 32, 32, 3)
    assert np.abs(train_aug - train_plain).mean() > 0.01
    # Without augmentation and shuffling, two passes give the same training images.
    np.testing.assert_array_equal(train_plain, next(iter(plain.train))["rgb"].numpy())
    assert augmented.info["train_resize"] == 36 and augmented.info["augment"] == ["hue", "contrast", "flip", "crop"]


def test_hue_shift_changes_hue_and_keeps_value_saturation_and_mostly_lightness():
    image = pixels.resize(sample.load_photo("coffee.png"), 48).numpy()
    augment = make_augment(("hue",), size=48, hue_delta=0.1)
    hsv = tf.image.rgb_to_hsv(image).numpy()
    colorful = hsv[..., 1] > 0.2
    lab = color.rgb_to_lab(image).numpy()
    shifts = []
    for seed in range(6):
        out = augment({"rgb": image}, tf.constant([seed, 11], tf.int64))["rgb"].numpy()
        out_hsv = tf.image.rgb_to_hsv(out).numpy()
        dh = (out_hsv[..., 0] - hsv[..., 0] + 0.5) % 1.0 - 0.5
        shift = float(np.median(dh[colorful]))
        shifts.append(shift)
        assert abs(shift) <= 0.1 + 1e-3  # within max_delta
        # A hue rotation: every colorful pixel moves by the same amount.
        assert np.percentile(np.abs(dh[colorful] - shift), 90) < 0.01
        # HSV value and saturation are kept ...
        np.testing.assert_allclose(out_hsv[..., 1:], hsv[..., 1:], atol=1e-4)
        # ... and CIE lightness moves far less than the chroma.
        out_lab = color.rgb_to_lab(out).numpy()
        d_l = np.abs(out_lab[..., 0] - lab[..., 0]).mean()
        d_ab = np.linalg.norm(out_lab[..., 1:] - lab[..., 1:], axis=-1).mean()
        assert d_l <= 0.5 * d_ab + 0.5
    assert max(abs(s) for s in shifts) > 0.02  # the draws really shift the hue
    assert len({round(s, 4) for s in shifts}) == len(shifts)


def test_bad_augment_and_reference_values_list_choices():
    with pytest.raises(ValueError, match="blur.*hue, contrast, flip, crop"):
        build_datasets(_cfg(augment=("blur",)))
    with pytest.raises(ValueError, match="hue_delta"):
        build_datasets(_cfg(hue_delta=0.7))
    with pytest.raises(ValueError, match="pair, self"):
        build_datasets(_cfg(reference_from="other"))


# --------------------------------------------------------------------------- decoding


def _encode(array, fmt, **kw):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, fmt, **kw)
    return buf.getvalue()


def test_decode_modes_gray_rgba_16bit_palette_gif_bmp():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    gray = rgb[..., 0]
    as_float = lambda a: a.astype(np.float32) / 255.0  # noqa: E731

    np.testing.assert_allclose(decode(_encode(rgb, "PNG")).rgb, as_float(rgb), atol=1e-6)
    np.testing.assert_allclose(decode(_encode(rgb, "BMP")).rgb, as_float(rgb), atol=1e-6)
    out = decode(_encode(gray, "PNG")).rgb
    np.testing.assert_allclose(out, np.repeat(as_float(gray)[..., None], 3, -1), atol=1e-6)
    # RGBA: a fully transparent pixel becomes white, an opaque one keeps its color.
    alpha = np.full((6, 5), 255, np.uint8)
    alpha[0, 0] = 0
    out = decode(_encode(np.dstack([rgb, alpha]), "PNG")).rgb
    np.testing.assert_allclose(out[0, 0], [1.0, 1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(out[1:], as_float(rgb)[1:], atol=1e-6)
    # 16-bit gray keeps its precision.
    deep = (rng.integers(0, 65536, (6, 5))).astype(np.uint16)
    out = decode(_encode(deep, "PNG")).rgb
    np.testing.assert_allclose(out[..., 0], deep / 65535.0, atol=1e-5)
    palette = Image.fromarray(rgb).convert("P")
    expected = as_float(np.asarray(palette.convert("RGB")))
    buf = io.BytesIO()
    palette.save(buf, "GIF")
    np.testing.assert_allclose(decode(buf.getvalue()).rgb, expected, atol=1e-6)
    jpeg = decode(_encode(rgb, "JPEG", quality=100)).rgb
    assert jpeg.shape == (6, 5, 3)


def test_pipeline_decodes_with_the_one_decoder_and_resize(tmp_path):
    # What the tf.data pipeline feeds a model is `decode` then `resize`, nothing else.
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 256, (90, 70, 3), dtype=np.uint8)
    data = _encode(photo, "PNG")
    in_graph = pixels.to_uint8(pixels.resize(images.decode_tf(tf.constant(data)), 32)).numpy()
    eager = pixels.to_uint8(pixels.resize(decode(data).rgb, 32).numpy())
    np.testing.assert_array_equal(in_graph, eager)
    assert in_graph.shape == (32, 32, 3)
    with pytest.raises(images.ImageReadError, match="cannot decode"):
        decode(b"not an image", label="junk.png")


# --------------------------------------------------------------------------- folders


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(7)
    for i in range(8):
        _save(str(root / f"img{i:02d}.png"), _photo(rng))
    _save(str(root / "nested" / "deeper" / "upper.JPG"), _photo(rng), "JPEG")
    _save(str(root / "nested" / "gray.png"), _photo(rng)[..., 0])
    _save(str(root / "nested" / "rgba.png"), np.dstack([_photo(rng), np.full((40, 52), 200, np.uint8)]))
    _save(str(root / "nested" / "deep16.png"), (_photo(rng)[..., 0].astype(np.uint16) * 257))
    _save(str(root / "anim.gif"), _photo(rng), "GIF")
    _save(str(root / "win.bmp"), _photo(rng), "BMP")
    (root / "broken.jpg").write_bytes(b"this is not an image at all")
    good_jpeg = _encode(_photo(rng, 64, 64), "JPEG")
    (root / "cut.jpeg").write_bytes(good_jpeg[: len(good_jpeg) // 2])
    (root / "notes.txt").write_text("not an image, not counted")
    (root / ".hidden.png").write_bytes(b"ignored")
    return str(root)


def test_folder_source_skips_and_counts_corrupt_files(photo_folder, capsys):
    cfg = _cfg(data=f"folder:{photo_folder}", batch_size=2, fractions=(0.6, 0.2, 0.2))
    bundle = build_datasets(cfg)
    assert "skipped 2 of 16 images: 1 not an image, 1 truncated" in capsys.readouterr().err
    assert bundle.info["skipped"] == 2
    assert sorted(bundle.info["skipped_examples"]) == ["broken.jpg", "cut.jpeg"]
    assert sum(bundle.counts.values()) == 14
    seen = sum(b["rgb"].shape[0] for b in bundle.val) + sum(b["rgb"].shape[0] for b in bundle.test)
    assert seen == bundle.counts["val"] + bundle.counts["test"]
    for batch in bundle.train:
        assert batch["rgb"].shape == (2, 32, 32, 3)
        assert 0.0 <= float(tf.reduce_min(batch["rgb"])) and float(tf.reduce_max(batch["rgb"])) <= 1.0


def test_folder_split_is_deterministic_and_follows_fractions(photo_folder):
    from kcolor.data import load_raw

    def ids(split):
        raw = load_raw(f"folder:{photo_folder}", split=split)
        return {s: sorted(e["id"].decode() for e in raw.splits[s].as_numpy_iterator()) for s in raw.splits}

    first, second = ids((0.6, 0.2, 0.2)), ids((0.6, 0.2, 0.2))
    assert first == second
    everything = sorted(sum(first.values(), []))
    assert len(everything) == 14 and len(set(everything)) == 14
    no_test = ids((0.8, 0.2))
    assert no_test["test"] == []
    # Growing the train fraction only moves ids into train, never out of it.
    assert set(first["train"]) <= set(no_test["train"])


def test_split_index_is_stable_and_matches_inside_tf_data():
    ids = [f"folder/{i:05d}.jpg" for i in range(3000)]
    a = split_ids(ids, (0.6, 0.2, 0.2))
    b = split_ids(list(ids), [0.6, 0.2, 0.2])
    assert a == b
    fractions = [len(a[s]) / len(ids) for s in ("train", "val", "test")]
    np.testing.assert_allclose(fractions, [0.6, 0.2, 0.2], atol=0.03)
    eager = split_index(ids, (0.6, 0.2, 0.2)).numpy()
    graph = np.array(
        list(tf.data.Dataset.from_tensor_slices(ids).map(lambda i: split_index(i, (0.6, 0.2, 0.2))).as_numpy_iterator())
    )
    np.testing.assert_array_equal(eager, graph)
    # No train share is an evaluation split (every id is val or test); training refuses it.
    assert set(split_index(ids, (0.0, 0.5, 0.5)).numpy()) == {1, 2}
    with pytest.raises(ValueError, match="with train > 0"):
        normalize_split((0.0, 0.5, 0.5), need_train=True)
    with pytest.raises(ValueError, match="split"):
        split_index(ids, (0.0, 0.0, 0.0))


def test_folder_errors(tmp_path):
    with pytest.raises(DataSourceError, match="does not exist"):
        build_datasets(_cfg(data=f"folder:{tmp_path / 'missing'}"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSourceError, match="holds no images"):
        build_datasets(_cfg(data=f"folder:{tmp_path / 'empty'}"))
    few = tmp_path / "few"
    rng = np.random.default_rng(0)
    for i in range(3):
        _save(str(few / f"{i}.png"), _photo(rng))
    with pytest.raises(ValueError, match="fewer than one batch.*batch_size=8"):
        build_datasets(_cfg(data=f"folder:{few}", fractions=(1.0, 0.0, 0.0)))


# --------------------------------------------------------------------------- pairs


@pytest.fixture(scope="module")
def pair_folders(tmp_path_factory):
    """Pairs of flat-colored images: reference and target share their color, and differ in shade."""
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(3)
    for i in range(12):
        base = rng.integers(40, 215, 3)
        ref = np.broadcast_to(base, (30, 44, 3)).astype(np.uint8)
        tgt = np.broadcast_to(base, (36, 36, 3)).astype(np.uint8)
        _save(str(root / "ref" / f"clip{i:02d}.png"), ref)
        _save(str(root / "tgt" / f"clip{i:02d}.jpg"), tgt, "JPEG", quality=98)
    _save(str(root / "ref" / "lonely.png"), np.zeros((8, 8, 3), np.uint8))
    return str(root / "ref"), str(root / "tgt")


def test_pair_folders_yield_matching_reference_and_target(pair_folders):
    ref_dir, tgt_dir = pair_folders
    cfg = _cfg(data=f"pairs:folder:{ref_dir},{tgt_dir}", batch_size=2, augment=("hue", "flip"), fractions=(0.8, 0.2, 0.0))
    bundle = build_datasets(cfg)
    assert sum(bundle.counts.values()) == 12 and bundle.info["unmatched"] == 1
    assert bundle.info["kind"] == "pairs"
    for ds in (bundle.train, bundle.val):
        for batch in ds:
            assert set(batch) == {"rgb", "reference"}
            assert batch["reference"].shape == batch["rgb"].shape
            # Same color in both (and the same hue shift on train): they match pairwise.
            ref_mean = batch["reference"].numpy().mean(axis=(1, 2))
            tgt_mean = batch["rgb"].numpy().mean(axis=(1, 2))
            np.testing.assert_allclose(ref_mean, tgt_mean, atol=0.03)
    # reference_from=self: the target's own RGB, the reference folder is not used.
    cheat = build_datasets(_cfg(data=cfg.data, batch_size=2, reference_from="self", fractions=(0.8, 0.2, 0.0)))
    for batch in cheat.train:
        np.testing.assert_array_equal(batch["reference"].numpy(), batch["rgb"].numpy())


def test_pairs_sample_pairs_show_the_same_scene():
    bundle = build_datasets(_cfg(data="pairs:sample", augment=(), shuffle_buffer=1, batch_size=16))
    assert bundle.counts == {"train": 240, "val": 16, "test": 16}
    batch = next(iter(bundle.train))
    ref, tgt = batch["reference"].numpy(), batch["rgb"].numpy()
    assert ref.shape == tgt.shape == (16, 32, 32, 3)
    assert not np.array_equal(ref, tgt)  # two different views ...
    # ... of the same scene: a reference is closer in color to its own target than to the
    # targets of other photos.
    all_ref = _take_all(bundle.train, "reference")
    all_tgt = _take_all(bundle.train, "rgb")
    ref_color = all_ref.mean(axis=(1, 2))
    tgt_color = all_tgt.mean(axis=(1, 2))
    matched = np.linalg.norm(ref_color - tgt_color, axis=-1).mean()
    mismatched = np.linalg.norm(ref_color - np.roll(tgt_color, 60, axis=0), axis=-1).mean()
    assert matched < 0.5 * mismatched
    self_ref = build_datasets(_cfg(data="pairs:sample", reference_from="self"))
    batch = next(iter(self_ref.val))
    np.testing.assert_array_equal(batch["reference"].numpy(), batch["rgb"].numpy())


# --------------------------------------------------------------------------- tfds


def test_tfds_mock_data_builds_pipelines():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=20):
        bundle = build_datasets(_cfg(data="tfds:oxford_flowers102", batch_size=4))
        assert sum(bundle.counts.values()) == 20
        batch = next(iter(bundle.train))
        assert batch["rgb"].shape == (4, 32, 32, 3) and batch["rgb"].dtype == tf.float32
        val = _take_all(bundle.val)
        assert val.shape[0] == bundle.counts["val"]
        assert bundle.info["tfds_name"] == "oxford_flowers102" and bundle.info["image_feature"] == "image"
        one_split = build_datasets(_cfg(data="tfds:oxford_flowers102:test", batch_size=4))
        assert sum(one_split.counts.values()) == 20 and one_split.info["tfds_splits"] == ["test"]


def test_tfds_offline_fails_fast_and_names_dataset(tmp_path, monkeypatch):
    # Simulate offline: the dataset's download host cannot be resolved (.invalid never resolves).
    monkeypatch.setattr(tfds_source, "download_hosts", lambda builder: ["kcolor-offline-test.invalid"])
    data_dir = str(tmp_path / "tfds")
    start = time.time()
    with pytest.raises(DataSourceError) as err:
        build_datasets(_cfg(data="tfds:oxford_flowers102", data_dir=data_dir))
    assert time.time() - start < 30
    message = str(err.value)
    assert "oxford_flowers102" in message and data_dir in message
    assert "--set data_dir=" in message and "manual" in message and "make-records" in message


def test_tfds_offline_real_hosts_fail_fast(tmp_path):
    # The real check against the dataset's real hosts; this machine cannot reach them
    # (a machine that can is not offline, and then there is nothing to test).
    hosts = tfds_source.download_hosts(__import__("tensorflow_datasets").builder("oxford_flowers102"))
    if not tfds_source.unreachable_hosts(hosts, timeout=3.0):
        pytest.skip(f"{hosts} reachable: not offline")
    start = time.time()
    with pytest.raises(DataSourceError, match="oxford_flowers102"):
        build_datasets(_cfg(data="tfds:oxford_flowers102", data_dir=str(tmp_path)))
    assert time.time() - start < 30


def test_tfds_no_download_and_unknown_name(tmp_path):
    with pytest.raises(DataSourceError, match="oxford_flowers102.*download=false"):
        build_datasets(_cfg(data="tfds:oxford_flowers102", data_dir=str(tmp_path), download=False))
    with pytest.raises(ValueError, match="no_such_dataset_xyz"):
        build_datasets(_cfg(data="tfds:no_such_dataset_xyz", data_dir=str(tmp_path)))


def test_source_paths_expand_home_and_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KCOLOR_PHOTOS", "photos")
    (tmp_path / "photos").mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "photos" / "a.png")
    assert parse_source("folder:~/$KCOLOR_PHOTOS").path == str(tmp_path / "photos")
    spec = parse_source("pairs:folder:~/refs,$KCOLOR_PHOTOS")
    assert spec.reference_dir == str(tmp_path / "refs") and spec.target_dir == "photos"
    assert parse_source("records:~/r").path == str(tmp_path / "r")
    raw = load_raw("folder:~/photos", split=(1.0, 0.0, 0.0))
    assert raw.counts["train"] == 1


def test_eval_split_spread_spans_every_photo_of_the_split():
    """A capped evaluation set taken with `spread` covers the split's photos, where the
    first N crops would all be of one photo."""
    from kcolor.data import build_eval_split

    cfg = TrainConfig(data="sample", image_size=32, fractions=(0.6, 0.2, 0.2))
    dataset, count, _ = build_eval_split(cfg, "train", batch_size=64)
    everything = [i.decode() for batch in dataset for i in batch["id"].numpy()]
    dataset, spread_count, _ = build_eval_split(cfg, "train", batch_size=64, spread=10)
    spread = [i.decode() for batch in dataset for i in batch["id"].numpy()]
    photos = {i.split("/")[0] for i in everything}
    assert count == len(everything) > 10 and spread_count == len(spread) <= 10
    assert set(spread) <= set(everything)
    assert {i.split("/")[0] for i in spread} == photos
    assert {i.split("/")[0] for i in everything[:10]} != photos
