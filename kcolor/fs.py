"""Files on any TensorFlow filesystem: the one place kcolor touches paths.

Every path kcolor reads or writes (records, image folders, run folders, checkpoints,
exports, evaluations) goes through these wrappers of `tf.io.gfile`, so a `gs://`,
`s3://`, `hdfs://` or in-memory `ram://` path works wherever a local one does. Local
paths (`str` or `pathlib.Path`) behave as before. A remote path is a string with a
scheme (`gs://bucket/runs/x`); never pass one through `pathlib.Path`, which collapses
`gs://` to `gs:/`. Join paths with `join` (`os.path.join` rules, which keep schemes).

Every file kcolor writes whole (run folders, records manifests, exports, evaluations,
figures) goes through `atomic_write`: the data goes to a hidden temporary file beside
the target (`.NAME.tmp-XXXXXXXX`), which is then renamed over it with
`tf.io.gfile.rename(..., overwrite=True)`. So an interrupted run never leaves a
half-written `history.json`, `config.json` or `colorizer.keras` behind, on local disk
(one `rename(2)`, atomic, as `os.replace`) or on any other TensorFlow filesystem
(`gs://`, `ram://`), where a reader sees the old file or the new one.

This module is on the lowest floor (ARCHITECTURE.md): it imports nothing of kcolor, and
TensorFlow only on first use.

Example:
    makedirs("gs://my-bucket/runs/x")
    if exists(join(run_dir, "history.json")):
        rows = read_json(join(run_dir, "history.json"))
"""

import json
import os
import posixpath
import uuid


class _GFile:
    """`tf.io.gfile`, imported on first use (reading a config file needs no TensorFlow start-up)."""

    def __getattr__(self, name):
        import tensorflow as tf

        return getattr(tf.io.gfile, name)


gfile = _GFile()


def path_str(path) -> str:
    """`path` (str or os.PathLike) as a string; a remote URL stays as written."""
    return os.fspath(path)


def is_remote(path) -> bool:
    """Whether `path` names a non-local filesystem (`scheme://...`)."""
    return "://" in path_str(path)


def join(path, *parts) -> str:
    """Join path components; `gs://b` + `x` -> `gs://b/x`."""
    path = path_str(path)
    if is_remote(path):
        return posixpath.join(path, *map(path_str, parts))
    return os.path.join(path, *map(path_str, parts))


def dirname(path) -> str:
    """The folder above `path`; on a remote filesystem never above `scheme://`."""
    path = path_str(path).rstrip("/") or "/"
    if not is_remote(path):
        return os.path.dirname(path)
    scheme, rest = path.split("://", 1)
    return f"{scheme}://{posixpath.dirname(rest)}"


def basename(path) -> str:
    """The last component of `path`, a trailing slash ignored."""
    path = path_str(path)
    return posixpath.basename(path.rstrip("/")) if is_remote(path) else os.path.basename(os.path.normpath(path))


def absolute(path) -> str:
    """`os.path.abspath` for a local path; a remote one is already absolute."""
    path = path_str(path)
    return path if is_remote(path) else os.path.abspath(path)


def exists(path) -> bool:
    return gfile.exists(path_str(path))


def isdir(path) -> bool:
    return gfile.isdir(path_str(path))


def isfile(path) -> bool:
    return gfile.exists(path_str(path)) and not gfile.isdir(path_str(path))


def makedirs(path) -> None:
    """Create `path` and its parents; an existing folder is fine."""
    gfile.makedirs(path_str(path))


def listdir(path) -> list:
    """The names in folder `path` (sorted, no trailing slashes)."""
    return sorted(name.rstrip("/") for name in gfile.listdir(path_str(path)))


def walk(path):
    """`os.walk`-like `(folder, subfolders, files)`, top-down; prune `subfolders` in place."""
    for folder, dirs, files in gfile.walk(path_str(path), topdown=True):
        dirs[:] = [d.rstrip("/") for d in dirs]
        yield folder, dirs, files


def glob(pattern) -> list:
    return sorted(gfile.glob(path_str(pattern)))


def open(path, mode="rb"):  # noqa: A001  (the module's own open, like gfile.GFile)
    """A file object on any filesystem (`tf.io.gfile.GFile`): seekable when reading."""
    return gfile.GFile(path_str(path), mode)


def read_bytes(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def read_text(path) -> str:
    return read_bytes(path).decode("utf-8")


def read_json(path):
    return json.loads(read_text(path))


def write_bytes(path, data) -> None:
    """Write `data` to `path` in one go (not atomic: use `atomic_write_bytes` below for that)."""
    with open(path, "wb") as f:
        f.write(data)


def rename(src, dst, *, overwrite=False) -> None:
    """Rename a file; on local disk one `rename(2)`, atomic. Folders: `move`."""
    gfile.rename(path_str(src), path_str(dst), overwrite=overwrite)


def move(src, dst, *, last=()) -> None:
    """Move a file or a folder to `dst` (which must not exist).

    On local disk this is one `rename(2)`, atomic for a folder too. Other filesystems
    have no folder rename (`ram://` renames only the folder's own entry, object stores
    copy object by object), so a folder moves file by file and readers may see it half
    moved; the files named in `last` move after all others, so their presence marks a
    complete folder (an export's `parity.json`).
    """
    src, dst = path_str(src), path_str(dst)
    if not is_remote(src) or not isdir(src):
        rename(src, dst)
        return
    files = []
    for folder, _, names in walk(src):
        files.extend(join(folder, name)[len(join(src, "")):] for name in names)
    files.sort(key=lambda rel: (basename(rel) in last, rel))
    makedirs(dst)
    for rel in files:
        makedirs(dirname(join(dst, rel)))
        rename(join(src, rel), join(dst, rel))
    rmtree(src)


def copy(src, dst, *, overwrite=False) -> None:
    gfile.copy(path_str(src), path_str(dst), overwrite=overwrite)


def remove(path) -> None:
    gfile.remove(path_str(path))


def rmtree(path, *, missing_ok=True) -> None:
    """Remove a folder and everything in it; a missing one is fine with `missing_ok`."""
    path = path_str(path)
    if missing_ok and not gfile.exists(path):
        return
    try:
        gfile.rmtree(path)
    except _not_found() as err:
        if not missing_ok:  # `ram://` keeps a moved folder's entry, with nothing left to delete
            raise err


def _not_found():
    import tensorflow as tf

    return tf.errors.NotFoundError


def size(path) -> int:
    return int(gfile.stat(path_str(path)).length)


def mtime(path) -> float:
    """Modification time in seconds (0 on filesystems that keep none, such as `ram://`)."""
    return gfile.stat(path_str(path)).mtime_nsec / 1e9


def folder_size(path) -> int:
    """Total bytes of the files under folder `path`."""
    return sum(size(join(folder, name)) for folder, _, files in walk(path) for name in files)


__all__ = [
    "absolute", "basename", "copy", "dirname", "exists", "folder_size", "glob", "is_remote", "isdir", "isfile",
    "join", "listdir", "makedirs", "move", "mtime", "open", "path_str", "read_bytes", "read_json", "read_text", "remove",
    "rename", "rmtree", "size", "walk", "write_bytes",
]

def expand_path(path):
    """`path` with `~` and `$VARS` expanded (None stays None); the one helper for user paths.

    An unset variable is left as written, so the error that follows names it.

    Example:
        expand_path("~/photos/$USER")   # "/home/me/photos/me"
    """
    if path is None:
        return None
    return os.path.expanduser(os.path.expandvars(os.fspath(path)))


# --------------------------------------------------------------------------- atomic writes


def atomic_write(path, writer, *, suffix=None):
    """Call `writer(tmp_path)` on a temporary path beside `path`, then move it into place.

    `tmp_path` is on the same filesystem as `path` (a `gs://` path for a `gs://` target),
    so `writer` must write through `tf.io.gfile` (`kcolor.fs.open`) or a library that
    does (Keras `model.save`); it ends in `suffix` (default: `path`'s own extension).
    Returns `path`. Folders above `path` are created.
    """
    path = path_str(path)
    name = basename(path)
    folder = dirname(path)
    if folder:
        makedirs(folder)
    extension = name[name.rfind("."):] if "." in name.lstrip(".") else ""
    tmp = join(folder, f".{name}.tmp-{uuid.uuid4().hex[:8]}{extension if suffix is None else suffix}")
    try:
        writer(tmp)
        rename(tmp, path, overwrite=True)
    finally:
        if exists(tmp):
            remove(tmp)
    return path


def atomic_write_bytes(path, data: bytes):
    """Write `data` to `path`, whole or not at all (see `atomic_write`)."""

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    return atomic_write(path, write)


def atomic_write_text(path, text):
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, data):
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value):
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    return str(value)
