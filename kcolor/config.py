"""Experiment configs: one dataclass, a registry of named factories, `key=value` overrides.

A config holds everything a run needs. Two fields hold model builder options:

- `options`: the options of the chosen model (`model`), for example Pix2Pix's `preset`
  or `adv_loss`. `--set key=value` routes a key to the config field of that name, or
  else here, and fails with the list of valid keys when it is neither.
- `options_by_model`: builder options per model name (`{model name: {option: value}}`),
  for a config that several models share: Paper 001's `flowers` trains six, and gives
  each its paper's setting here. `resolve_config` merges the entry of the chosen model
  under `options`, so `options` (and `--set key=value`) win; a resolved config's
  `options` are what the model is built with. It is set in a config, not by `--set`.

`fractions` holds the train, val and test fractions that split the data (`--set
fractions=0.8,0.2`), as `--fractions` does on the command line; `--split NAME` picks a
split by name.

Renamed fields (`RENAMED_FIELDS`: `split` is now `fractions`, `model_options` is now
`options_by_model`, `reference` is now `reference_from`) keep their old spelling for one release wherever a config is written
(`--set`, a config dict read by `TrainConfig.from_dict`, a run folder's saved `config.json`,
which loading and the resume check read with `migrate_fields`), each with a one-line
message on stderr naming the new one.

Every field is checked by one table, `FIELD_CHECKS` (field name -> `FieldCheck`), plus
the checks across fields in `CROSS_CHECKS`; `apply_overrides` checks each field it sets
and `resolve_config` checks them all, before any data is read or any model is built.
A new field adds its row to `FIELD_CHECKS` (a test asserts that every field has one).
Paths (`data`'s folders and records, `data_dir`, `run_dir`, `init_from`, and options named
`*_from`, `*_dir`, `*_path`, `*_file`) get `~` and `$VARS` expanded by `expand_path`.

Example:
    cfg = get_config("sample")         # kcolor.configs.get_config: the registry of named configs
    cfg = apply_overrides(cfg, ["model=pix2pix", "epochs=3", "adv_loss=bce"])
    cfg = resolve_config(cfg)          # raises ConfigError naming a bad value
"""

import dataclasses
import json
import math
import sys
from typing import Any, Callable, Optional, Union

from kcolor import specs
from kcolor.errors import ConfigError
from kcolor.fs import expand_path
from kcolor.models.registry import get_model, list_models

# Used when neither the config nor the model's registered defaults set a recipe field.
RECIPE_FALLBACKS = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999, "loss": "mse"}


@dataclasses.dataclass
class TrainConfig:
    """One experiment. Every field is settable from the command line with `--set`."""

    model: str = "pix2pix"
    data: str = "sample"
    image_size: int = 64
    batch_size: int = 16
    epochs: int = 2
    steps_per_epoch: Optional[int] = None  # None: one full pass over the train split
    val_steps: Optional[int] = None  # None: the whole validation split
    # Optimiser (Adam) and loss. None means "the model's own recipe": the registered
    # model's `defaults`, else RECIPE_FALLBACKS. A GAN's discriminator uses
    # d_learning_rate, or learning_rate.
    learning_rate: Optional[float] = None
    d_learning_rate: Optional[float] = None
    # None: a constant rate. "piecewise:B1[,B2...]:V0,V1[,...]" (kcolor.training.optimizers):
    # the first B1 steps at V0, ... It replaces learning_rate (and d_learning_rate if unset).
    lr_schedule: Optional[str] = None
    beta_1: Optional[float] = None
    beta_2: Optional[float] = None
    loss: Optional[str] = None  # supervised models: mse | mae | l1 | ms_ssim | mse_ms_ssim
    # Data
    fractions: tuple = (0.6, 0.2, 0.2)  # train/val/test fractions, assigned by a hash of the image id
    augment: tuple = ("hue", "flip")  # any of: hue, contrast, flip, crop
    hue_delta: float = 0.1  # hue shift drawn from [-hue_delta, hue_delta] (fraction of a turn)
    contrast_range: tuple = (0.7, 1.3)
    shuffle_buffer: int = 1024
    cache: bool = True
    data_dir: Optional[str] = None  # tensorflow-datasets data/manual dir
    download: bool = True  # tfds: allow downloading
    # Reference models: where a target's color reference comes from: "pair" (the pair's
    # reference image) or "self" (the target itself, Paper 000's "cheating" variant).
    reference_from: str = "pair"
    # Runtime
    seed: int = 0
    strategy: str = "default"  # auto | default | one_device | mirrored | multiworker | tpu
    jit_compile: bool = False  # XLA: measured slower on a 2-core CPU
    mixed_precision: Optional[str] = None  # None = float32 | auto | mixed_bfloat16 | mixed_float16
    intra_op_threads: int = 0  # 0: TensorFlow's choice
    inter_op_threads: int = 0  # 0: TensorFlow's choice, or 1 under deterministic=true
    run_dir: Optional[str] = None  # default runs/<config>-<model>
    checkpoint_every: int = 1  # epochs
    keep_checkpoints: int = 3
    # Exact resume and hardening (kcolor.training.loop): step/minute checkpoints beside the
    # per-epoch ones; op determinism; what a resume under a changed config does; NaN losses.
    checkpoint_every_steps: Optional[int] = None
    checkpoint_every_minutes: Optional[float] = None
    deterministic: bool = False  # op determinism, one op at a time (kcolor.training.strategy.run_threads)
    resume: str = "auto"  # auto (refuse a changed config) | continue | restart
    on_nonfinite: str = "stop"  # stop | skip_batch
    sample_images: int = 6  # rows of the sample grid
    drop_gray_chroma: float = 0.0  # drop already-gray images (Lab chroma below this); 0 = keep all
    # Evaluation: the number of images `kcolor evaluate --fid` computes FID on (the first N
    # of the scored split, in its frozen order); None: every image. `--fid-images` overrides.
    fid_images: Optional[int] = None
    # A run folder whose latest checkpoint's networks (colorizer, discriminator) start this
    # run, before its first step; a resumed run keeps its own (kcolor.training.checkpoints).
    init_from: Optional[str] = None
    options: dict = dataclasses.field(default_factory=dict)  # the builder options of `model`
    # Builder options per model name, for a config several models share; the entry of
    # `model` is merged under `options` by resolve_config (options win).
    options_by_model: dict = dataclasses.field(default_factory=dict)
    config_name: str = "custom"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict, *, where: str = "config field") -> "TrainConfig":
        """The config a dict (a `to_dict()`, a run folder's `config.json`) holds.

        Old field names (`RENAMED_FIELDS`) are read as their new ones, each with one line
        on stderr (`renamed_field`; `where` says where they were written).
        """
        d = migrate_fields(d, where=where)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"Unknown config keys {unknown}. Valid keys: {', '.join(sorted(names))}")
        for f in dataclasses.fields(cls):
            if f.name in d and isinstance(f.default, tuple) and isinstance(d[f.name], list):
                d[f.name] = tuple(d[f.name])
        return cls(**d)


# --------------------------------------------------------------------------- renamed fields

# Old field name -> (new name, why). The old spelling works for one release (docs/cli.md, "Old spellings").
RENAMED_FIELDS = {
    "split": ("fractions", "--split names a split; fractions make one"),
    "model_options": ("options_by_model", "it holds builder options per model; options are the chosen model's"),
    "reference": ("reference_from", "--reference REF is a reference image; this field says where references come from"),
}


def renamed_field(name: str, *, where: str = "config field") -> str:
    """The current name of config field `name`; an old spelling prints one line on stderr naming it.

    `where` says where the name was written: `"--set"`, or a file (`"runs/x/config.json:
    config field"`).

    Example:
        renamed_field("split")  # "fractions", and on stderr:
        # config field split is deprecated (--split names a split; fractions make one): use fractions
    """
    if name not in RENAMED_FIELDS:
        return name
    new, why = RENAMED_FIELDS[name]
    print(f"{where} {name} is deprecated ({why}): use {new}", file=sys.stderr)
    return new


def migrate_fields(d: dict, *, where: str = "config field") -> dict:
    """A copy of config dict `d` with its old field names (`RENAMED_FIELDS`) renamed, one line each.

    Reads a run folder's `config.json` written before a rename (`TrainConfig.from_dict`,
    the resume check), so an old run loads, resumes, exports and evaluates.
    """
    both = [f"{old} and {new}" for old, (new, _) in RENAMED_FIELDS.items() if old in d and new in d]
    if both:
        raise ConfigError(f"{where} {', '.join(both)} are both set (one field, old and new name): keep the new one")
    return {renamed_field(key, where=where): value for key, value in d.items()}


# --------------------------------------------------------------------------- paths




def expand_source(source):
    """A data source string with `~` and `$VARS` expanded in its paths.

    The source grammar is `kcolor.specs.parse_source`'s, which expands the paths
    (`folder:PATH`, `records:PATH`, `pairs:folder:REF_DIR,TGT_DIR`, `pairs:records:PATH`);
    this gives back its canonical string. A string it refuses comes back unchanged, for
    the `data` field check to name what is wrong.

    Example:
        expand_source("pairs:folder:~/refs,$DATA/targets")
    """
    if not isinstance(source, str):
        return source
    try:
        return str(specs.parse_source(source))
    except ValueError:
        return source


PATH_FIELDS = ("data_dir", "run_dir", "init_from")  # plus `data` (a source string) and path-like options
PATH_OPTION_SUFFIXES = ("_from", "_dir", "_path", "_file")


def _expand_paths(cfg):
    cfg.data = expand_source(cfg.data)
    for name in PATH_FIELDS:
        setattr(cfg, name, expand_path(getattr(cfg, name)))
    for table in [cfg.options, *(v for v in cfg.options_by_model.values() if isinstance(v, dict))]:
        for key, value in table.items():
            if isinstance(value, str) and key.endswith(PATH_OPTION_SUFFIXES):
                table[key] = expand_path(value)


# --------------------------------------------------------------------------- checks


@dataclasses.dataclass(frozen=True)
class FieldCheck:
    """The rule for one config field: `test(value) -> bool`, and `valid`, what passes, in words.

    `valid` may be a function of no arguments (for lists known only at run time, such as
    the registered models).
    """

    test: Callable[[Any], bool]
    valid: Union[str, Callable[[], str]]

    def describe(self) -> str:
        return self.valid() if callable(self.valid) else self.valid


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _optional(check: FieldCheck) -> FieldCheck:
    valid = check.valid
    return FieldCheck(
        lambda v: v is None or check.test(v),
        (lambda: f"{check.describe()}, or none") if callable(valid) else f"{valid}, or none",
    )


def integer(minimum=None, maximum=None, *, optional=False) -> FieldCheck:
    """An int (not a bool) in [minimum, maximum]."""
    words = "an integer"
    if minimum is not None and maximum is not None:
        words += f" in [{minimum}, {maximum}]"
    elif minimum is not None:
        words += f" >= {minimum}"
    elif maximum is not None:
        words += f" <= {maximum}"
    check = FieldCheck(
        lambda v: _is_int(v) and (minimum is None or v >= minimum) and (maximum is None or v <= maximum), words
    )
    return _optional(check) if optional else check


def number(low=None, high=None, *, low_open=False, high_open=False, optional=False) -> FieldCheck:
    """A finite int or float in the interval from `low` to `high` (open ends where asked)."""
    if low is not None and high is not None:
        words = f"a number in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        words = f"a number {'>' if low_open else '>='} {low}"
    elif high is not None:
        words = f"a number {'<' if high_open else '<='} {high}"
    else:
        words = "a finite number"

    def test(v):
        if not _is_number(v):
            return False
        if low is not None and (v <= low if low_open else v < low):
            return False
        if high is not None and (v >= high if high_open else v > high):
            return False
        return True

    check = FieldCheck(test, words)
    return _optional(check) if optional else check


def boolean() -> FieldCheck:
    return FieldCheck(lambda v: isinstance(v, bool), "true or false")


def text(*, optional=False) -> FieldCheck:
    check = FieldCheck(lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string")
    return _optional(check) if optional else check


def one_of(choices, *, optional=False) -> FieldCheck:
    """One of `choices`: a tuple, or a function returning one (looked up when checked)."""

    def current():
        return tuple(choices() if callable(choices) else choices)

    check = FieldCheck(lambda v: isinstance(v, str) and v in current(), lambda: "one of " + ", ".join(current()))
    return _optional(check) if optional else check


def _losses():
    return sorted(specs.LOSS_NAMES)


def _is_loss(v):
    """A name in LOSSES, or a KMHCNet ColorLoss name such as "ms_ssim@rgb" or "mse@lab+vgg16"."""
    if v is None or (isinstance(v, str) and v in _losses()):
        return True
    if not isinstance(v, str) or "@" not in v:
        return False
    from kcolor.models.encoders import EMBEDDINGS

    try:
        specs.parse_color_loss_name(v, embeddings=tuple(EMBEDDINGS))
    except ValueError:
        return False
    return True


def _strategies():
    return specs.STRATEGIES


def _augmentations():
    return specs.AUGMENTATIONS


def _source_forms():
    return specs.SOURCE_FORMS


def _is_source(v):
    if not isinstance(v, str) or not v.strip():
        return False
    try:
        specs.parse_source(v)
    except ValueError:  # the message of the field check lists the valid forms
        return False
    return True


def _is_fractions(v):
    if not isinstance(v, (tuple, list)) or not all(_is_number(x) for x in v):
        return False
    try:
        specs.normalize_split(v, need_train=True)
    except ValueError:
        return False
    return True


def _is_augment(v):
    if not isinstance(v, (tuple, list)) or not all(isinstance(n, str) for n in v):
        return False
    try:
        specs.check_augment(v)
    except ValueError:
        return False
    return True


def _is_contrast_range(v):
    return isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_number(x) for x in v) and 0 <= v[0] < v[1]


def _is_lr_schedule(v):
    try:
        specs.parse_lr_schedule(v)
    except ValueError:
        return False
    return True


def _lr_schedule_forms():
    return " or ".join(specs.LR_SCHEDULE_FORMS) + " (e.g. piecewise:59000:2e-4,2e-5), or none"


def _is_options(v):
    return isinstance(v, dict) and all(isinstance(k, str) for k in v)


def _is_options_by_model(v):
    return isinstance(v, dict) and all(k in list_models() and _is_options(o) for k, o in v.items())


PRECISION_POLICIES = ("auto", "float32", "mixed_bfloat16", "mixed_float16")  # kcolor.training.precision
RESUME_MODES = ("auto", "continue", "restart")
NONFINITE_MODES = ("stop", "skip_batch")

# Field -> check. Every TrainConfig field has a row (a test asserts it); a new field adds its own.
FIELD_CHECKS = {
    "model": one_of(list_models),
    "data": FieldCheck(_is_source, lambda: "a data source: " + ", ".join(_source_forms())),
    "image_size": integer(8, 8192),
    "batch_size": integer(1),
    "epochs": integer(1),
    "steps_per_epoch": integer(1, optional=True),
    "val_steps": integer(1, optional=True),
    "learning_rate": number(0, 1, low_open=True, optional=True),
    "d_learning_rate": number(0, 1, low_open=True, optional=True),
    "lr_schedule": FieldCheck(_is_lr_schedule, _lr_schedule_forms),
    "beta_1": number(0, 1, high_open=True, optional=True),
    "beta_2": number(0, 1, high_open=True, optional=True),
    "loss": FieldCheck(
        _is_loss, lambda: "one of " + ", ".join(_losses()) + ", or <mse|ms_ssim|mse_ms_ssim>@<lab|lab3|rgb>[+vgg16|+resnet50]"
    ),
    "fractions": FieldCheck(_is_fractions, "2 or 3 non-negative fractions train,val[,test] with train > 0"),
    "augment": FieldCheck(_is_augment, lambda: "a comma-separated subset of " + ", ".join(_augmentations())),
    "hue_delta": number(0, 0.5),
    "contrast_range": FieldCheck(_is_contrast_range, "two numbers lower,upper with 0 <= lower < upper"),
    "shuffle_buffer": integer(1),
    "cache": boolean(),
    "data_dir": text(optional=True),
    "download": boolean(),
    "reference_from": one_of(specs.REFERENCE_MODES),
    "seed": integer(0, 2**31 - 1),
    "strategy": one_of(_strategies),
    "jit_compile": boolean(),
    "mixed_precision": one_of(PRECISION_POLICIES, optional=True),
    "intra_op_threads": integer(0, 1024),
    "inter_op_threads": integer(0, 1024),
    "run_dir": text(optional=True),
    "checkpoint_every": integer(1),
    "keep_checkpoints": integer(1),
    "checkpoint_every_steps": integer(1, optional=True),
    "checkpoint_every_minutes": number(0, low_open=True, optional=True),
    "deterministic": boolean(),
    "resume": one_of(RESUME_MODES),
    "on_nonfinite": one_of(NONFINITE_MODES),
    "sample_images": integer(1, 64),
    "drop_gray_chroma": number(0),
    "fid_images": integer(1, optional=True),
    "init_from": text(optional=True),
    "options": FieldCheck(_is_options, "a dict of builder options keyed by option name"),
    "options_by_model": FieldCheck(
        _is_options_by_model, lambda: "a dict {model name: {option: value}} over " + ", ".join(list_models())
    ),
    "config_name": text(),
}


def check_field(name, value):
    """Raise `ConfigError` unless `value` passes `FIELD_CHECKS[name]` (one line: value and what is valid)."""
    check = FIELD_CHECKS.get(name)
    if check is not None and not check.test(value):
        shown = ",".join(map(str, value)) if isinstance(value, (tuple, list)) else value
        raise ConfigError(f"{name}={shown!r} is not valid: expected {check.describe()}")


def _check_reference_data(cfg):
    from kcolor.models.io import get_io

    spec = get_model(cfg.model)
    if get_io(spec.io).uses_reference and not str(cfg.data).startswith("pairs:") and cfg.reference_from != "self":
        pairs = [f for f in _source_forms() if f.startswith("pairs:")]
        return (
            f"model '{cfg.model}' colorizes a target with a color reference image (io {spec.io}), but "
            f"data={cfg.data!r} holds single images: use a pair source ({', '.join(pairs)}; "
            "kcolor make-pairs writes pairs:records from videos) or reference_from=self (the target is its own reference)"
        )
    return None


def _check_options(cfg):
    spec = get_model(cfg.model)
    unknown = sorted(set(cfg.options) - set(spec.option_names))
    if unknown:
        return f"model '{cfg.model}' has no option {unknown}. Valid options: {', '.join(spec.option_names) or '(none)'}"
    for name, options in cfg.options_by_model.items():
        other = get_model(name)
        unknown = sorted(set(options) - set(other.option_names))
        if unknown:
            return (
                f"options_by_model for '{name}' name unknown option(s) {unknown}. "
                f"Valid options: {', '.join(other.option_names) or '(none)'}"
            )
    return None


def _check_deterministic_threads(cfg):
    if cfg.deterministic and cfg.inter_op_threads > 1:
        return (
            f"deterministic=true runs one op at a time (inter_op_threads=1; 0 chooses it), but "
            f"inter_op_threads={cfg.inter_op_threads}: on CPU, ops that run side by side split their "
            "float sums differently from run to run. Use inter_op_threads=0 or 1, or deterministic=false"
        )
    return None


# Checks across fields, run after FIELD_CHECKS: `fn(cfg) -> message or None`.
CROSS_CHECKS = [_check_options, _check_reference_data, _check_deterministic_threads]


def validate_config(cfg, fields=None):
    """Check `cfg`'s fields (all, or the names in `fields`) and, for all, the cross-field checks.

    Raises `ConfigError` with one line naming the bad value and what is valid.
    """
    names = [f.name for f in dataclasses.fields(cfg)] if fields is None else list(fields)
    for name in names:
        check_field(name, getattr(cfg, name))
    if fields is None:
        for check in CROSS_CHECKS:
            message = check(cfg)
            if message:
                raise ConfigError(message)
    return cfg


def _parse_value(text: str, current):
    """Parse `text` to the type of `current` (the field's present value)."""
    if isinstance(current, bool):
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"Expected a boolean, got '{text}'")
    if isinstance(current, int):
        return int(text)
    if isinstance(current, float):
        return float(text)
    if isinstance(current, tuple):
        if text.strip().lower() in ("", "none"):
            return ()
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip() != ""]
        if current and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in current):
            return tuple(float(p) for p in parts)
        return tuple(parts)
    if current is None or isinstance(current, str):
        return _guess_value(text)
    return text


def _guess_value(text: str):
    low = text.lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def apply_overrides(cfg: TrainConfig, overrides) -> TrainConfig:
    """Return a copy of `cfg` with `key=value` overrides applied.

    A key that names a config field sets it (and is checked against `FIELD_CHECKS`);
    otherwise it must be an option of the (possibly just overridden) model. Anything
    else raises `ConfigError` with the valid keys.
    """
    cfg = dataclasses.replace(cfg, options=dict(cfg.options), options_by_model=dict(cfg.options_by_model))
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    settable = sorted(set(fields) - {"options", "options_by_model"})
    pending = []
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"Override '{item}' is not key=value")
        key, text = item.split("=", 1)
        key = renamed_field(key.strip(), where="--set")
        if key in fields and key not in ("options", "options_by_model"):
            current = getattr(cfg, key)
            if current is None and fields[key].default is None:
                value = _guess_value(text)
            else:
                try:
                    value = _parse_value(text, current)
                except ValueError:
                    check = FIELD_CHECKS.get(key)
                    valid = check.describe() if check else f"a value like {current!r}"
                    raise ConfigError(f"{key}={text!r} is not valid: expected {valid}") from None
            check_field(key, value)
            setattr(cfg, key, value)
        else:
            pending.append((key, text))
    spec = get_model(cfg.model)
    option_defaults = spec.option_defaults()
    for key, text in pending:
        if key not in spec.option_names:
            valid = settable + [f"{o} (model option)" for o in spec.option_names]
            raise ConfigError(f"Unknown key '{key}' for model '{cfg.model}'. Valid keys: {', '.join(valid)}")
        default = option_defaults.get(key)
        try:
            cfg.options[key] = _parse_value(text, default) if default is not None else _guess_value(text)
        except ValueError:
            raise ConfigError(f"{key}={text!r} is not valid for model '{cfg.model}': expected a value like {default!r}") from None
    return cfg


def build_options(cfg: TrainConfig) -> dict:
    """The builder options `cfg` builds its model with: `options_by_model[cfg.model]`, then `options` over them.

    Checks the option names; for what a whole run uses, see `resolve_config`.
    """
    check_field("options_by_model", cfg.options_by_model)
    check_field("options", cfg.options)
    merged = dataclasses.replace(cfg, options={**cfg.options_by_model.get(cfg.model, {}), **cfg.options})
    message = _check_options(merged)
    if message:
        raise ConfigError(message)
    return merged.options


def resolve_config(cfg: TrainConfig) -> TrainConfig:
    """The config a run uses: paths expanded, recipe and model options filled, every field checked.

    Fills the recipe fields left as None from the model's defaults, then the fallbacks;
    merges `options_by_model[cfg.model]` under `options`; expands `~` and `$VARS` in every
    path; then runs `validate_config`, so a bad value fails here in one line, before any
    data is read or any model is built.
    """
    spec = get_model(cfg.model)
    by_model = {k: dict(v) if isinstance(v, dict) else v for k, v in cfg.options_by_model.items()}
    cfg = dataclasses.replace(cfg, options=dict(cfg.options), options_by_model=by_model)
    for key, fallback in RECIPE_FALLBACKS.items():
        if getattr(cfg, key) is None:
            setattr(cfg, key, spec.defaults.get(key, fallback))
    check_field("options_by_model", cfg.options_by_model)
    cfg.options = {**cfg.options_by_model.get(cfg.model, {}), **cfg.options}
    _expand_paths(cfg)
    return validate_config(cfg)
