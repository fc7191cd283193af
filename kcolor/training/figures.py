"""The run folder's pictures: the loss curve and the sample grid (matplotlib, Agg).

The sample grid shows, per held-out image: the gray input, the model's raw prediction,
the image "as colorized" and the ground truth. "As colorized" is what `kcolor colorize`
delivers: the prediction's chroma laid on the photo's own lightness by
`kcolor.export.graph.finish`, the function every inference path uses
(`as_colorized`). It is sharper than the raw prediction, whose lightness the network
redraws.

The figures are drawn on matplotlib's Agg canvas directly, so importing kcolor never
changes the user's matplotlib backend.

Example:
    save_loss_curve(history.rows, "runs/x/loss_curve.png")
    colorized = as_colorized(truth, inputs, output, io)
    save_sample_grid(gray, prediction, truth, "runs/x/samples.png", colorized=colorized)
"""

import io

import numpy as np
import tensorflow as tf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kcolor.export.graph import finish
from kcolor.fs import atomic_write_bytes

_SKIP = ("epoch", "step", "images_per_sec", "epoch_time", "wall_time")


def save_figure(fig, path, *, dpi=100):
    """Write a matplotlib `Figure` as a PNG at `path` (any `kcolor.fs` filesystem), whole or not at all.

    The figure is drawn on its own Agg canvas into memory, then written atomically.
    """
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    atomic_write_bytes(path, buffer.getvalue())
    return path


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
    save_figure(fig, path)
    return path


def as_colorized(photos, inputs, output, io):
    """Each image as `kcolor colorize` delivers it: predicted chroma on the photo's lightness.

    Args:
        photos: the RGB images the inputs were made from, (N, S, S, 3) in [0, 1].
        inputs: the model's inputs (`io.inputs` dict), batch N.
        output: the colorizer's output on them, (N, S, S, C).
        io: the model's io spec.

    Returns:
        float32 (N, S, S, 3) in [0, 1], one `kcolor.export.graph.finish` per image.
    """
    photos = tf.convert_to_tensor(photos, tf.float32)
    output = tf.convert_to_tensor(output, tf.float32)
    return np.stack(
        [
            finish(photos[i], {k: v[i : i + 1] for k, v in inputs.items()}, output[i : i + 1], io).numpy()
            for i in range(len(photos))
        ]
    )


def _columns(colorized):
    if colorized is None:
        return ("gray input", "prediction", "ground truth")
    return ("gray input", "prediction", "as colorized", "ground truth")


def _row_images(gray, prediction, truth, colorized, i):
    g = np.asarray(gray[i], np.float32)
    g = np.repeat(g, 3, axis=-1) if g.shape[-1] == 1 else g
    if colorized is None:
        return (g, prediction[i], truth[i])
    return (g, prediction[i], colorized[i], truth[i])


def grid_image(gray, prediction, truth, colorized=None):
    """One image in [0, 1]: rows of gray | prediction | (as colorized |) ground truth.

    `[N*H, 3*W, 3]`, or `[N*H, 4*W, 3]` with the `colorized` column (`as_colorized`).
    """
    rows = [
        np.concatenate([np.asarray(x, np.float32) for x in _row_images(gray, prediction, truth, colorized, i)], axis=1)
        for i in range(len(gray))
    ]
    return np.clip(np.concatenate(rows, axis=0), 0.0, 1.0)


def save_sample_grid(gray, prediction, truth, path, *, colorized=None, title=None):
    """Write `path`: one row per image, columns gray input | prediction | ground truth.

    With `colorized` (`as_colorized`), an "as colorized" column comes before the truth.
    """
    gray = np.asarray(gray, np.float32)
    n = len(gray)
    columns = _columns(colorized)
    fig = Figure(figsize=(2 * len(columns), 2 * n + 0.4), layout="constrained")
    for i in range(n):
        for j, image in enumerate(_row_images(gray, prediction, truth, colorized, i)):
            ax = fig.add_subplot(n, len(columns), i * len(columns) + j + 1)
            ax.imshow(np.clip(np.asarray(image, np.float32), 0.0, 1.0), interpolation="nearest")  # the model's own pixels
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(columns[j], fontsize=10)
    if title:
        fig.suptitle(title)
    save_figure(fig, path)
    return path


__all__ = ["as_colorized", "grid_image", "save_figure", "save_loss_curve", "save_sample_grid"]
