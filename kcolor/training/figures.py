"""The run folder's pictures: the loss curve and the sample grid (matplotlib, Agg).

The figures are drawn on matplotlib's Agg canvas directly, so importing kcolor never
changes the user's matplotlib backend.

Example:
    save_loss_curve(history.rows, "runs/x/loss_curve.png")
    save_sample_grid(gray, prediction, truth, "runs/x/samples.png")
"""

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kcolor.training.history import atomic_write

_SKIP = ("epoch", "step", "images_per_sec", "epoch_time", "wall_time")


def _save(fig, path):
    FigureCanvasAgg(fig)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def save_loss_curve(rows, path, *, title=None):
    """Plot every train_*/val_* column of `rows` (one row per epoch) against the epoch.

    The discriminator's losses (d_*) get their own axes beside the generator's, and its
    mean outputs on real and fake images (d_out_*) a third.
    """
    epochs = [r["epoch"] for r in rows]
    keys = []
    for row in rows:
        keys.extend(k for k in row if k not in keys and k not in _SKIP and isinstance(row[k], (int, float)))
    out_keys = [k for k in keys if k.startswith("train_d_out_")]  # D's mean outputs, not losses
    d_keys = [k for k in keys if k.startswith("train_d_") and k not in out_keys]
    g_keys = [k for k in keys if k not in d_keys and k not in out_keys]
    panels = [("generator / model", g_keys)] + ([("discriminator", d_keys)] if d_keys else [])
    panels += [("discriminator outputs", out_keys)] if out_keys else []
    fig = Figure(figsize=(6 * len(panels), 4), layout="constrained")
    for n, (label, panel_keys) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), n + 1)
        for key in panel_keys:
            values = [r.get(key) for r in rows]
            style = "--" if key.startswith("val_") else "-"
            ax.plot(epochs, values, style, marker="o", markersize=3, label=key)
        positive = [r.get(k) for r in rows for k in panel_keys if isinstance(r.get(k), (int, float))]
        if positive and min(positive) > 0 and max(positive) / min(positive) > 50:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean output" if label == "discriminator outputs" else "loss")
        ax.set_title(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return path


def grid_image(gray, prediction, truth):
    """One image `[N*H, 3*W, 3]` in [0, 1]: rows of gray | prediction | ground truth."""
    gray = np.asarray(gray, np.float32)
    if gray.shape[-1] == 1:
        gray = np.repeat(gray, 3, axis=-1)
    rows = [np.concatenate([g, p, t], axis=1) for g, p, t in zip(gray, np.asarray(prediction), np.asarray(truth))]
    return np.clip(np.concatenate(rows, axis=0), 0.0, 1.0)


def save_sample_grid(gray, prediction, truth, path, *, title=None):
    """Write `path`: one row per image, columns gray input | prediction | ground truth."""
    gray = np.asarray(gray, np.float32)
    n = len(gray)
    fig = Figure(figsize=(6, 2 * n + 0.4), layout="constrained")
    columns = ("gray input", "prediction", "ground truth")
    for i in range(n):
        g = gray[i]
        images = (np.repeat(g, 3, axis=-1) if g.shape[-1] == 1 else g, prediction[i], truth[i])
        for j, image in enumerate(images):
            ax = fig.add_subplot(n, 3, i * 3 + j + 1)
            ax.imshow(np.clip(np.asarray(image, np.float32), 0.0, 1.0))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(columns[j], fontsize=10)
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return path


__all__ = ["grid_image", "save_loss_curve", "save_sample_grid"]
