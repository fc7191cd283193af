"""One grid per test photo, `<out>/grids/<photo>.png`: gray input | each model colorized
at full resolution (`kcolor.inference.colorize_rgb`, through the run's colorizer) |
ground truth.

The whole photos come from the source's `RawData.info["photo_paths"]["test"]`; a source
without it gives its test images at the benchmark size instead. The reference model
(Paper 000) is shown with the photo itself as its reference (column "... (ref = photo)"):
a whole photo has no other view, and the column says so.

Each column is colorized at the photo's full resolution and then shrunk once
(`kcolor.pixels.resize`) to `SHOWN_WIDTH`, twice a panel's width in the figure, before it
is drawn: matplotlib resamples every image it draws as float64 RGBA, and fifteen 2560x1600
columns of one photo held that way took the default benchmark's grids (run alone on its runs)
to a 5.7 GB peak of memory, against 2.8 GB shrunk; each column is also dropped before the next
is colorized.
"""

import os

from kcolor import color, fs, pictures
from kcolor.benchmark import roster

PANEL_INCHES = 3.6
DPI = 100  # the grids' resolution, given to pictures.save_image_grid
SHOWN_WIDTH = int(2 * PANEL_INCHES * DPI)  # px of each column as drawn (the panel is half that)


def test_photos(data, size):
    """`[(name, RGB float32 (H, W, 3))]`: the whole test photos, else the test images at `size`."""
    import numpy as np

    from kcolor.data import build_eval_split, load_raw
    from kcolor.data.images import read_image
    from kcolor.config import TrainConfig

    sizes = {"train": size, "val": size, "test": size}
    raw = load_raw(data, split=roster.FRACTIONS, sizes=sizes)
    paths = raw.info.get("photo_paths", {}).get("test")
    if paths:
        return [(os.path.splitext(os.path.basename(p))[0], read_image(p).rgb) for p in paths]
    cfg = TrainConfig(data=data, image_size=size, fractions=roster.FRACTIONS, augment=(), cache=False)
    dataset, _, _ = build_eval_split(cfg, "test")
    photos = []
    for batch in dataset:
        for image_id, rgb in zip(batch["id"].numpy(), batch["rgb"].numpy()):
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in image_id.decode("utf-8", "replace"))
            photos.append((safe, np.asarray(rgb)))
    return photos


def shown(image, width=None):
    """`image` (H, W, 3) as a grid draws it: shrunk to `width` px wide (`SHOWN_WIDTH`), aspect
    kept (never enlarged)."""
    import numpy as np

    from kcolor.pixels import resize

    width = width or SHOWN_WIDTH
    image = np.asarray(image, np.float32)
    height_px, width_px = image.shape[:2]
    if width_px <= width:
        return image
    return np.asarray(resize(image, [max(1, round(height_px * width / width_px)), width]))


def write_grids(entries, *, data, size, out):
    """Write `<out>/grids/<photo>.png` for every test photo; returns the paths."""
    import numpy as np

    from kcolor.export.colorize import load_colorizer

    colorizers = [(e, load_colorizer(fs.join(out, "runs", e.name))) for e in entries]
    paths = []
    for name, rgb in test_photos(data, size):
        gray = np.asarray(color.rgb_to_gray(rgb[None], channels=3))[0]
        columns = [("gray input", [shown(gray)])]
        for entry, colorizer in colorizers:
            title = f"{entry.name} (ref = photo)" if entry.pairs else entry.name
            reference = rgb if entry.pairs else None
            columns.append((title, [shown(colorizer.colorize(gray, reference=reference))]))
        columns.append(("ground truth", [shown(rgb)]))
        path = fs.join(out, "grids", f"{name}.png")
        aspect = rgb.shape[0] / rgb.shape[1]
        pictures.save_image_grid(columns, path, title=f"{name}: {rgb.shape[1]}x{rgb.shape[0]} px, each model at full resolution",
                                 interpolation="antialiased", wrap=5, dpi=DPI,
                                 panel=(PANEL_INCHES, PANEL_INCHES * aspect + 0.35))
        paths.append(path)
    return paths
