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
# models, 64 px, batch 16, on `photos`) ends within about 45 minutes on a 2-core CPU, with
# room for a CPU a quarter slower inside the 60-minute budget. On an idle 2-core machine the
# 400-step run on the 144-photo corpus took 23.5 minutes: 19 minutes of training (about
# 2.5 s for one step of every model: vit_i_gan 0.6 s, unetpp_enc 0.35 s, cgan_resnet50
# 0.25 s, the rest 0.1-0.25 s; plus about 12 s of building and saving per model) and 4.5
# minutes of scoring and grids. Every model then lost to the gray baseline even on its
# training photos (under-fit), and the earlier steps table showed 3x the steps lifting
# test PSNR by 1-2 dB; 800 steps project to about 35 + 4.5 = 40 minutes.
# That was an Intel Xeon with AMX. On an AMD EPYC (Zen 4) 2-core machine, on 2026-12-07,
# the first five rows of the 800-step run (deterministic) took 1.7-2.3x their times there
# (stable_colorizer 106 s against 63, autoencoder 175 against 99, unet_residual 357 against
# 158, resnet_color 287 against 134): about 80 minutes for the whole run, over the budget.
DEFAULT_STEPS = 800
