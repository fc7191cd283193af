"""`MetricTotals`: per-image metric values collected over a dataset, reported two ways.

Paper 001's Table 1 (Bazzan and Pasin, "Image Colorization") reports each metric as a total over
the test set; a per-image mean is easier to compare across test-set sizes. The
accumulator keeps every per-image value, so it gives both, and the values themselves
(for histograms or per-image tables).

Example:
    totals = MetricTotals()
    for batch in test_batches: totals.update(model_rgb(batch), batch["rgb"])
    totals.summary()        # {"psnr": {"mean": 24.1, "total": 39480.2, "count": 1638}, ...}
"""

import numpy as np

from kcolor.metrics.quality import METRICS, score_batch


class MetricTotals:
    """Accumulates per-image values of the metrics in `names` (default: all of `METRICS`).

    Args:
        names: metric names from `kcolor.metrics.METRICS`.

    Example:
        totals = MetricTotals(["psnr", "ssim"])
        totals.update(pred, target); totals.mean()["psnr"]
    """

    def __init__(self, names=None):
        names = tuple(METRICS) if names is None else tuple(names)
        unknown = [n for n in names if n not in METRICS]
        if unknown or not names:
            raise ValueError(f"Unknown metrics {unknown or names}. Valid metrics: {', '.join(METRICS)}")
        self.names = names
        self._values = {name: [] for name in names}

    def update(self, pred, target):
        """Score one batch (RGB in [0, 1]) and add it; returns its per-image values as NumPy."""
        scores = {name: np.asarray(v) for name, v in score_batch(pred, target, self.names).items()}
        self.add(scores)
        return scores

    def add(self, values):
        """Add precomputed per-image values `{name: [B]}`; every tracked metric must be present."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise ValueError(f"MetricTotals.add: missing metrics {missing}. Tracked metrics: {', '.join(self.names)}")
        arrays = {n: np.asarray(values[n], dtype=np.float64).reshape(-1) for n in self.names}
        sizes = {n: a.size for n, a in arrays.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"MetricTotals.add: metrics disagree on the batch size. Received sizes: {sizes}")
        for name, array in arrays.items():
            self._values[name].append(array)

    @property
    def count(self):
        """Number of images added so far."""
        return int(sum(a.size for a in self._values[self.names[0]]))

    def values(self):
        """`{name: float64 array of every per-image value, in the order added}`."""
        return {n: np.concatenate(v) if v else np.zeros(0) for n, v in self._values.items()}

    def total(self):
        """`{name: sum over all images}` (Table 1's numbers)."""
        return {n: float(v.sum()) for n, v in self.values().items()}

    def mean(self):
        """`{name: mean over all images}`; NaN before any image was added."""
        return {n: float(v.mean()) if v.size else float("nan") for n, v in self.values().items()}

    def summary(self):
        """`{name: {"mean", "total", "count"}}`, ready for JSON."""
        means, totals, count = self.mean(), self.total(), self.count
        return {n: {"mean": means[n], "total": totals[n], "count": count} for n in self.names}

    def reset(self):
        self._values = {name: [] for name in self.names}
