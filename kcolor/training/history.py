"""A run's per-epoch history (`history.csv` and `history.json`), written whole by
`kcolor.fs.atomic_write_*`.

Example:
    history = History.load(run_dir)
    history.append({"epoch": 1, "train_total": 3.2, "val_loss": 0.05})
    history.save(run_dir)          # history.csv + history.json
"""

import csv
import io

from kcolor import fs
from kcolor.fs import atomic_write_json, atomic_write_text


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


__all__ = ["History"]
