"""Every picture kcolor draws: image grids, loss curves, tables, written whole as PNG.

One floor above `kcolor.fs` (ARCHITECTURE.md): the run folder's sample grid and loss
curve, `kcolor evaluate`'s grid and table, and `kcolor colorize --compare`'s side by side
are all drawn here. The figures are drawn on matplotlib's Agg canvas directly, so
importing kcolor never changes the user's matplotlib backend, and written by
`kcolor.fs.atomic_write_bytes` (any `tf.io.gfile` filesystem, whole or not at all).

Example:
    save_image_grid([("gray", grays), ("model", preds), ("truth", truths)], "grid.png")
    save_loss_curve(history.rows, "runs/x/loss_curve.png")
"""

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kcolor.fs import atomic_write_bytes

_SKIP = ("epoch", "step", "images_per_sec", "epoch_time", "wall_time")


def save_figure(fig, path, *, dpi=100, tight=False):
    """Write a matplotlib `Figure` as a PNG at `path` (any `kcolor.fs` filesystem), whole or not at all.

    The figure is drawn on its own Agg canvas into memory, then written atomically. `tight`
    crops the page to what is drawn (for a table, whose height matplotlib cannot know before).
    """
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, **({"bbox_inches": "tight", "pad_inches": 0.15} if tight else {}))
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _as_rgb(image):
    image = np.asarray(image, np.float32)
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def save_image_grid(columns, path, *, title=None, panel=(2.0, 2.0), interpolation="nearest", dpi=100, wrap=None):
    """The one image grid: one titled column per entry of `columns`, one row per image.

    Args:
        columns: list of `(title, images)`; each image (H, W), (H, W, 1) or (H, W, 3) in
            [0, 1]. Rows stop at the shortest column; a grid with no rows writes nothing.
        path: the PNG to write.
        title: a line above the grid.
        panel: (width, height) of one panel in inches.
        interpolation: matplotlib's; "nearest" shows a model's own pixels (sample grids),
            "antialiased" a full-resolution photo shrunk to the panel.
        wrap: with one image per column, lay the titled panels out `wrap` to a line
            (a photo seen by many models stays large enough to see).

    Returns:
        `path`, or None when there was nothing to draw.
    """
    n_rows = min((len(images) for _, images in columns), default=0)
    if n_rows == 0:
        return None
    n_cols = len(columns)
    if wrap and n_rows == 1 and n_cols > wrap:
        return _save_wrapped(columns, path, title, panel, interpolation, dpi, wrap)
    fig = Figure(figsize=(panel[0] * n_cols, panel[1] * n_rows + (0.4 if title else 0.0)), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for c, (label, images) in enumerate(columns):
        for r in range(n_rows):
            ax = axes[r][c]
            ax.imshow(np.clip(_as_rgb(images[r]), 0.0, 1.0), interpolation=interpolation)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(label, fontsize=10)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path, dpi=dpi)


def _save_wrapped(columns, path, title, panel, interpolation, dpi, wrap):
    lines = -(-len(columns) // wrap)
    fig = Figure(figsize=(panel[0] * wrap, panel[1] * lines + (0.4 if title else 0.0)), layout="constrained")
    axes = fig.subplots(lines, wrap, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, (label, images) in zip(axes, columns):
        ax.imshow(np.clip(_as_rgb(images[0]), 0.0, 1.0), interpolation=interpolation)
        ax.set_title(label, fontsize=11)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path, dpi=dpi)


def sample_columns(gray, prediction, truth, colorized=None):
    """The sample grid's columns: gray input | prediction | (as colorized |) ground truth."""
    columns = [("gray input", [_as_rgb(g) for g in gray]), ("prediction", list(prediction))]
    if colorized is not None:
        columns.append(("as colorized", list(colorized)))
    columns.append(("ground truth", list(truth)))
    return columns


def grid_image(gray, prediction, truth, colorized=None):
    """One image in [0, 1]: rows of gray | prediction | (as colorized |) ground truth.

    `[N*H, 3*W, 3]`, or `[N*H, 4*W, 3]` with the `colorized` column (for TensorBoard).
    """
    columns = sample_columns(gray, prediction, truth, colorized)
    rows = [np.concatenate([_as_rgb(images[i]) for _, images in columns], axis=1) for i in range(len(gray))]
    return np.clip(np.concatenate(rows, axis=0), 0.0, 1.0)


def save_sample_grid(gray, prediction, truth, path, *, colorized=None, title=None):
    """Write `path`: one row per image, columns gray input | prediction | ground truth.

    With `colorized` (predicted chroma on the photo's lightness), an "as colorized"
    column comes before the truth.
    """
    return save_image_grid(sample_columns(gray, prediction, truth, colorized), path, title=title)


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
    return save_figure(fig, path)


def table_figure(row_labels, column_labels, cells, *, title=""):
    """A `Figure` of a table of text `cells` (one list per row), each column as wide as its
    widest text, the page as wide as the table or its title."""
    fig = Figure(figsize=(1.6 * (len(column_labels) + 2), 0.27 * (len(row_labels) + 1) + 0.3))
    ax = fig.subplots()
    ax.axis("off")
    table = ax.table(cellText=cells, rowLabels=row_labels, colLabels=column_labels, loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.auto_set_column_width(list(range(-1, len(column_labels))))  # each column as wide as its text
    table.scale(1.0, 1.3)
    if title:
        ax.set_title(title, fontsize=9)
    # The page as wide as the drawn table (its columns follow their text) or its title, so `tight` crops to it.
    renderer = FigureCanvasAgg(fig).get_renderer()
    drawn = max(artist.get_window_extent(renderer).width for artist in (table, ax.title))
    fig.set_size_inches(drawn / fig.dpi + 0.2, fig.get_size_inches()[1])
    return fig


def save_table_figure(row_labels, column_labels, cells, path, *, title=""):
    """Render `table_figure` as a PNG at `path`, cropped to the table."""
    return save_figure(table_figure(row_labels, column_labels, cells, title=title), path, tight=True)


__all__ = [
    "grid_image",
    "sample_columns",
    "save_figure",
    "save_image_grid",
    "save_loss_curve",
    "save_sample_grid",
    "save_table_figure",
    "table_figure",
]
