"""The real-photo corpus `photos`: its manifest, `fetch-photos` from package archives, and the source."""

import hashlib
import io
import json
import tarfile

import numpy as np
import pytest
from PIL import Image

from kcolor.data import load_raw
from kcolor.data import photo_fetch
from kcolor.data.photos import MANIFEST_NAME, read_manifest
from kcolor.data.raw import DataSourceError
from kcolor.errors import DownloadUnavailable
from kcolor.specs import parse_source
from tests.rcc_files import rcc_bytes

RCC = "usr/share/game/rcc/photos.rcc"
LICENCES = {"public domain", "CC0", "CC-BY-2.0", "CC-BY-3.0", "CC-BY-SA-4.0", "GPL-2+"}


def test_the_shipped_manifest_lists_every_photo_with_its_origin_and_a_frozen_split():
    manifest = read_manifest()
    photos = manifest["photos"]
    for row in photos:
        assert row["package"] in manifest["packages"], row["name"]
        assert row["path"] and row["author"] and row["content"], row["name"]
        assert row["licence"] in LICENCES, row
        assert len(row["sha256"]) == 64 and int(row["sha256"], 16) >= 0
        assert row["split"] in ("train", "val", "test")
    names = [row["name"] for row in photos]
    assert len(names) == len(set(names))
    assert len({row["sha256"] for row in photos}) == len(photos)  # no photo twice under two names
    splits = {s: [r for r in photos if r["split"] == s] for s in ("train", "val", "test")}
    assert len(splits["test"]) >= 5 and splits["val"] and len(splits["train"]) >= len(splits["test"])
    for package in manifest["packages"].values():
        assert package["kind"] in ("pypi", "debian") and len(package["sha256"]) == 64
    gcompris = sorted((r for r in photos if r["package"] == "gcompris-qt-data"), key=lambda r: r["sha256"])
    # the rule photos.py states: by SHA-256, every 10th to test, every 10th from the 6th to val
    assert [r["split"] for r in gcompris] == [("test", "train", "train", "train", "train", "val", "train", "train",
                                               "train", "train")[i % 10] for i in range(len(gcompris))]


def _jpeg(seed, size=(96, 72)):
    rng = np.random.default_rng(seed)
    array = (rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _tar(files, mode):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _deb(files):
    """A minimal Debian package: an ar archive with debian-binary, control.tar.xz, data.tar.xz."""
    members = [("debian-binary", b"2.0\n"), ("control.tar.xz", _tar({}, "w:xz")),
               ("data.tar.xz", _tar({"./" + k: v for k, v in files.items()}, "w:xz"))]
    out = b"!<arch>\n"
    for name, data in members:
        header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        out += header + data + (b"\n" if len(data) % 2 else b"")
    return out


@pytest.fixture()
def corpus(tmp_path):
    """A tiny corpus: 7 photos from a fake Debian package (two inside a Qt resource file) and a
    fake PyPI source archive."""
    photos = {f"p{i}": _jpeg(i) for i in range(7)}
    splits = ["train", "train", "train", "val", "test", "test", "train"]
    deb_files = {f"usr/share/wallpapers/p{i}/image.png": photos[f"p{i}"] for i in range(2)}
    # p2 and p3 are inside a Qt resource file, as GCompris ships its photos (p3 zlib-compressed)
    deb_files[RCC] = rcc_bytes({f"/game/photos/p{i}.png": photos[f"p{i}"] for i in (2, 3)},
                               compressed={"/game/photos/p3.png"})
    sdist_files = {f"pkg-1.0/src/pkg/data/p{i}.png": photos[f"p{i}"] for i in range(4, 7)}
    deb, sdist = _deb(deb_files), _tar(sdist_files, "w:gz")
    (tmp_path / "w.deb").write_bytes(deb)
    (tmp_path / "pkg.tar.gz").write_bytes(sdist)
    rows = []
    for i in range(7):
        path = (f"usr/share/wallpapers/p{i}/image.png" if i < 2 else f"{RCC}:/game/photos/p{i}.png" if i < 4
                else f"pkg/data/p{i}.png")
        rows.append({"name": f"p{i}", "package": "wallpapers" if i < 4 else "pkg", "path": path, "author": "a",
                     "licence": "CC0", "content": "noise", "split": splits[i],
                     "sha256": hashlib.sha256(photos[f"p{i}"]).hexdigest()})
    manifest = {"packages": {
        "wallpapers": {"kind": "debian", "name": "wallpapers", "version": "1", "pool": "w/w.deb",
                       "sha256": hashlib.sha256(deb).hexdigest()},
        "pkg": {"kind": "pypi", "name": "pkg", "version": "1.0", "file": "pkg-1.0.tar.gz",
                "import_name": "kcolor_no_such_package", "sha256": hashlib.sha256(sdist).hexdigest()},
    }, "photos": rows}
    archives = {"wallpapers": str(tmp_path / "w.deb"), "pkg": str(tmp_path / "pkg.tar.gz")}
    return manifest, archives, tmp_path / "photos"


def test_fetch_unpacks_both_archive_kinds_checks_every_hash_and_resumes(corpus):
    manifest, archives, root = corpus
    lines = []
    result = photo_fetch.fetch_photos(root, archives=archives, manifest=manifest, log=lines.append)
    assert sorted(result["fetched"]) == [f"p{i}" for i in range(7)] and result["kept"] == []
    assert json.loads((root / MANIFEST_NAME).read_text()) == manifest
    for row in manifest["photos"]:
        assert hashlib.sha256((root / f"{row['name']}.png").read_bytes()).hexdigest() == row["sha256"]
    (root / "p2.png").write_bytes(b"broken")  # a damaged photo is fetched again, the others kept
    again = photo_fetch.fetch_photos(root, archives=archives, manifest=manifest, log=lines.append)
    assert again["fetched"] == ["p2"] and len(again["kept"]) == 6


def test_an_archive_that_does_not_match_the_manifest_writes_nothing(corpus):
    manifest, archives, root = corpus
    manifest["packages"]["wallpapers"]["sha256"] = "0" * 64
    with pytest.raises(DownloadUnavailable, match="SHA-256"):
        photo_fetch.fetch_photos(root, archives=archives, manifest=manifest, log=lambda _: None)
    assert not any((root / f"p{i}.png").exists() for i in range(4))  # none of the bad package's photos


def test_an_unknown_archive_package_is_refused_before_any_work(corpus, tmp_path):
    manifest, archives, _ = corpus
    with pytest.raises(ValueError, match="valid: pkg, wallpapers"):
        photo_fetch.fetch_photos(tmp_path / "x", archives={"nope": "f"}, manifest=manifest)
    assert not (tmp_path / "x").exists()


def test_an_unreachable_archive_fails_at_once_naming_the_folder_to_fill(corpus, monkeypatch):
    manifest, _, root = corpus
    monkeypatch.setattr(photo_fetch, "DEBIAN_POOL", "https://archive.kcolor.invalid/")
    monkeypatch.setattr(photo_fetch, "PYPI_INDEX", "https://index.kcolor.invalid/simple/")
    with pytest.raises(DownloadUnavailable, match=f"Fill {root} by hand"):
        photo_fetch.fetch_photos(root, manifest=manifest, log=lambda _: None)
    assert (root / MANIFEST_NAME).exists()  # the list of what goes there, for filling by hand


def test_the_source_holds_out_whole_photos_by_the_manifest_and_skips_a_bad_one(corpus):
    manifest, archives, root = corpus
    photo_fetch.fetch_photos(root, archives=archives, manifest=manifest, log=lambda _: None)
    (root / "p1.png").write_bytes(b"not the photo")
    raw = load_raw(f"photos:{root}", sizes={"train": 32, "val": 32, "test": 32})
    assert raw.info["photos"] == {"train": ["p0", "p2", "p6"], "val": ["p3"], "test": ["p4", "p5"]}
    assert raw.skipped == ["p1"] and raw.skip_reasons["p1"][0] == "bad checksum"
    ids = {s: [x["id"].decode() for x in raw.splits[s].as_numpy_iterator()] for s in ("train", "test")}
    assert {i.split("/")[0] for i in ids["test"]} == {"p4", "p5"}
    assert not {i.split("/")[0] for i in ids["train"]} & {"p3", "p4", "p5"}
    assert raw.counts["test"] == 2 * 16 and raw.counts["train"] == 3 * 128
    image = next(raw.splits["train"].as_numpy_iterator())["image"]
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    pairs = load_raw(f"pairs:photos:{root}", sizes={"train": 32, "val": 32, "test": 32})
    assert pairs.kind == "pairs" and pairs.counts["test"] == 2 * 16


def test_a_second_load_of_the_same_photos_reuses_their_crops_and_a_changed_one_cuts_them_again(corpus, monkeypatch):
    from kcolor.data import photos as photos_module

    manifest, archives, root = corpus
    photo_fetch.fetch_photos(root, archives=archives, manifest=manifest, log=lambda _: None)
    cut = []
    real = photos_module._examples
    monkeypatch.setattr(photos_module, "_examples", lambda *a: cut.append(a[3]) or real(*a))
    monkeypatch.setattr(photos_module, "_CROPS", type(photos_module._CROPS)())
    sizes = {"train": 32, "val": 32, "test": 32}

    def images(raw, split="train"):
        return [x["image"] for x in raw.splits[split].as_numpy_iterator()]

    first = load_raw(f"photos:{root}", sizes=sizes)
    again = load_raw(f"photos:{root}", sizes=sizes)
    assert len(cut) == 1
    assert all(np.array_equal(a, b) for a, b in zip(images(first), images(again), strict=True))
    load_raw(f"photos:{root}", sizes={**sizes, "test": 48})  # another size: cut again
    (root / "p6.png").write_bytes(b"not the photo")  # a photo gone bad: cut again, without it
    changed = load_raw(f"photos:{root}", sizes=sizes)
    assert len(cut) == 3 and changed.counts["train"] == 3 * 128 and "p6" in changed.skipped
    assert len(photos_module._CROPS) == photos_module.KEPT_CROP_SETS


def test_a_folder_without_the_corpus_says_how_to_get_it(tmp_path):
    with pytest.raises(DataSourceError, match="kcolor fetch-photos"):
        load_raw(f"photos:{tmp_path}", sizes={"train": 32, "val": 32, "test": 32})


def test_photos_specs_round_trip(tmp_path):
    assert str(parse_source("photos")) == "photos"
    assert str(parse_source(f"pairs:photos:{tmp_path}")) == f"pairs:photos:{tmp_path}"
    assert parse_source("photos").path is None
