"""A run's per-epoch history and the atomic file writes of kcolor.

Every file kcolor writes whole (run folders, records manifests, exports, evaluations,
figures) goes through `atomic_write`: the data goes to a hidden temporary file beside
the target (`.NAME.tmp-XXXXXXXX`), which is then renamed over it with
`tf.io.gfile.rename(..., overwrite=True)`. So an interrupted run never leaves a
half-written `history.json`, `config.json` or `colorizer.keras` behind, on local disk
(one `rename(2)`, atomic, as `os.replace`) or on any other TensorFlow filesystem
(`gs://`, `ram://`; `kcolor.fs`), where a reader sees the old file or the new one.

Example:
    history = History.load(run_dir)
    history.append({"epoch": 1, "train_total": 3.2, "val_loss": 0.05})
    history.save(run_dir)          # history.csv + history.json
"""

import csv
import io
import json
import uuid

from kcolor import fs


def atomic_write(path, writer, *, suffix=None):
    """Call `writer(tmp_path)` on a temporary path beside `path`, then move it into place.

    `tmp_path` is on the same filesystem as `path` (a `gs://` path for a `gs://` target),
    so `writer` must write through `tf.io.gfile` (`kcolor.fs.open`) or a library that
    does (Keras `model.save`); it ends in `suffix` (default: `path`'s own extension).
    Returns `path`. Folders above `path` are created.
    """
    path = fs.path_str(path)
    name = fs.basename(path)
    folder = fs.dirname(path)
    if folder:
        fs.makedirs(folder)
    extension = name[name.rfind("."):] if "." in name.lstrip(".") else ""
    tmp = fs.join(folder, f".{name}.tmp-{uuid.uuid4().hex[:8]}{extension if suffix is None else suffix}")
    try:
        writer(tmp)
        fs.rename(tmp, path, overwrite=True)
    finally:
        if fs.exists(tmp):
            fs.remove(tmp)
    return path


def atomic_write_bytes(path, data: bytes):
    """Write `data` to `path`, whole or not at all (see `atomic_write`)."""

    def write(tmp):
        with fs.open(tmp, "wb") as f:
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


class History:
    """Per-epoch rows of named numbers (train losses, val losses, images/s, times)."""

    def __init__(self, rows=None):
        self.rows = list(rows or [])

    @classmethod
    def load(cls, run_dir):
        """The history of `run_dir`, empty when the run has none yet."""
        path = fs.join(run_dir, "history.json")
        if not fs.exists(path):
            return cls()
        return cls(fs.read_json(path))

    def append(self, row):
        self.rows.append(dict(row))

    def truncate(self, epochs):
        """Keep the rows of the first `epochs` epochs (the ones a checkpoint holds)."""
        self.rows = [r for r in self.rows if r.get("epoch", 0) <= epochs]

    def column(self, key):
        return [r.get(key) for r in self.rows]

    @property
    def keys(self):
        keys = []
        for row in self.rows:
            keys.extend(k for k in row if k not in keys)
        return keys

    def to_csv(self):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.keys)
        writer.writeheader()
        for row in self.rows:
            writer.writerow(row)
        return buffer.getvalue()

    def save(self, run_dir):
        atomic_write_json(fs.join(run_dir, "history.json"), self.rows)
        atomic_write_text(fs.join(run_dir, "history.csv"), self.to_csv())


__all__ = ["History", "atomic_write", "atomic_write_bytes", "atomic_write_json", "atomic_write_text"]
