"""A run's per-epoch history and the atomic file writes of the run folder.

Every file a run writes goes through a temporary file in the same folder and an
`os.replace`, so an interrupted run never leaves a half-written `history.json`,
`config.json` or `colorizer.keras` behind.

Example:
    history = History.load(run_dir)
    history.append({"epoch": 1, "train_total": 3.2, "val_loss": 0.05})
    history.save(run_dir)          # history.csv + history.json
"""

import csv
import io
import json
import os
import tempfile
from pathlib import Path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def atomic_write(path, writer, *, suffix=None):
    """Call `writer(tmp_path)` on a temporary file beside `path`, then move it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=suffix or path.suffix)
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def atomic_write_text(path, text):
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    return atomic_write(path, write)


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
        path = Path(run_dir) / "history.json"
        if not path.exists():
            return cls()
        return cls(json.loads(path.read_text(encoding="utf-8")))

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
        run_dir = Path(run_dir)
        atomic_write_json(run_dir / "history.json", self.rows)
        atomic_write_text(run_dir / "history.csv", self.to_csv())


__all__ = ["History", "atomic_write", "atomic_write_json", "atomic_write_text"]
