"""The benchmark's roster: which model of which paper, trained from which paper config.

Each row starts from its paper's own recipe (loss, color space, widths, optimizer) and
the benchmark changes only the budget every row shares (`budget_overrides`: data, image
size, batch size, steps, the split fractions, the run folder and `deterministic=true`) plus the row's `extra`
overrides (only where the recipe would download pretrained weights).

Example:
    entries = select_entries("autoencoder,pix2pix")
    cfg = benchmark_config(entries[0], data="sample", size=64, batch=16, steps=100, run_dir="b/runs/autoencoder")
"""

import dataclasses

# The one split every row is trained and scored on (stable_photos_demo's own has no test split).
FRACTIONS = (0.6, 0.2, 0.2)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One benchmark row: `name` (a registry model), its `paper`, the `config` it starts
    from, `extra` overrides, and whether it trains on reference pairs (`pairs:<source>`)."""

    name: str
    paper: str
    config: str
    extra: tuple = ()
    pairs: bool = False


ROSTER = (
    Entry("stable_colorizer", "000", "stable_photos_demo", pairs=True),
    Entry("autoencoder", "001", "six_models_photos_demo"),
    Entry("deep_cnn", "001", "six_models_photos_demo"),
    Entry("unet_residual", "001", "six_models_photos_demo"),
    Entry("resnet_color", "001", "six_models_photos_demo"),
    Entry("densenet_color", "001", "six_models_photos_demo"),
    Entry("pix2pix", "001", "six_models_photos_demo"),
    Entry("cgan_resnet50", "002", "cgan_resnet50_photos_demo", ("weights=none",)),
    Entry("cgan_unet_baseline", "002", "cgan_unet_baseline_photos_demo"),
    Entry("unet_enc", "003", "kmhcnet_10_photos_demo", ("weights=none",)),
    Entry("unetpp_enc", "003", "kmhcnet_11_photos_demo", ("weights=none",)),
    Entry("vit_i_gan", "004", "vit_i_gan_photos_demo", ("weights=none",)),
    Entry("vit_gan", "004", "vit_gan_photos_demo"),
)

NAMES = tuple(entry.name for entry in ROSTER)


def select_entries(models=None):
    """The roster rows named in `models` (a comma/space separated string or a list; None: all),
    in roster order. Raises ValueError naming the unknown names and the valid ones."""
    if models is None:
        return ROSTER
    if isinstance(models, str):
        models = models.replace(",", " ").split()
    wanted = [m for m in models if m]
    unknown = [m for m in wanted if m not in NAMES]
    if unknown or not wanted:
        raise ValueError(f"Unknown benchmark model(s) {unknown or wanted}. Valid choices: {', '.join(NAMES)}")
    return tuple(entry for entry in ROSTER if entry.name in wanted)


def entry_data(entry, data):
    """The data source `entry` trains on: `data`, or `pairs:<data>` for reference models."""
    return f"pairs:{data}" if entry.pairs else data


def budget_overrides(entry, *, data, size, batch, steps, run_dir):
    """The overrides every row shares: one source, one size, one batch size, one number of
    steps (one epoch of `steps` steps, checkpointed about ten times so a cut run resumes),
    and `deterministic=true`, so that a row trained again on the same CPU ends bitwise
    equal (a CPU of another kind may sum in another order)."""
    return [
        f"model={entry.name}",
        f"data={entry_data(entry, data)}",
        f"image_size={size}",
        f"batch_size={batch}",
        "epochs=1",
        f"steps_per_epoch={steps}",
        f"checkpoint_every_steps={max(1, steps // 10)}",
        f"fractions={','.join(str(f) for f in FRACTIONS)}",
        f"run_dir={run_dir}",
        "deterministic=true",
    ]


def benchmark_config(entry, *, data, size, batch, steps, run_dir):
    """`entry`'s paper config with the benchmark budget and its extra overrides applied."""
    from kcolor.config import apply_overrides
    from kcolor.configs import get_config

    sets = budget_overrides(entry, data=data, size=size, batch=batch, steps=steps, run_dir=run_dir)
    return apply_overrides(get_config(entry.config), [*sets, *entry.extra])

# Steps per model when --steps is not given, chosen so the whole default benchmark (13
# models, 64 px, batch 16, on `photos`) ends within the 60-minute budget on the slower of the
# two 2-core CPUs it ran on. On an Intel Xeon with AMX the 800-step run took about 39 minutes
# of training and 4.5 of scoring; on an AMD EPYC (Zen 4) its rows took 1.7-2.3x as long
# (stable_colorizer 106 s against 63, unet_residual 357 against 158): about 80 minutes in all.
# This 500-step run took 44.4 minutes there on 2026-12-07 (`/usr/bin/time`; 39 minutes of
# training, the rows' wall times in results.json: vit_i_gan 621 s, unetpp_enc 334 s,
# cgan_resnet50 and deep_cnn 203 s, the rest 68-181 s; 5 minutes of scoring and grids), the
# corpus's crops cut once for all rows (`kcolor.data.photos`). Fewer steps lost nothing here:
# with 500 steps three rows beat both baselines against two with 800, and the steps table
# (`make docs-steps`) has autoencoder and vit_gan best at 500 and worse at 1600 and 3200.
DEFAULT_STEPS = 500
