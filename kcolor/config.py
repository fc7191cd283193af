"""Experiment configs: one dataclass, a registry of named factories, `key=value` overrides.

A config holds everything a run needs. Model options (for example Pix2Pix's
`preset` or `adv_loss`) live in `options`; `--set key=value` routes a key to the config
field of that name, or else to the model's options, and fails with the list of valid
keys when it is neither.

Example:
    cfg = get_config("sample")
    cfg = apply_overrides(cfg, ["model=pix2pix", "epochs=3", "adv_loss=bce"])
"""

import dataclasses
import json
from typing import Optional

from kcolor.models.registry import get_model

_CONFIGS: dict = {}

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
    beta_1: Optional[float] = None
    beta_2: Optional[float] = None
    loss: Optional[str] = None  # supervised models: mse | mae | l1 | ms_ssim | mse_ms_ssim
    # Data
    split: tuple = (0.6, 0.2, 0.2)  # train/val/test fractions, assigned by a hash of the image id
    augment: tuple = ("hue", "flip")  # any of: hue, contrast, flip, crop
    hue_delta: float = 0.1  # hue shift drawn from [-hue_delta, hue_delta] (fraction of a turn)
    contrast_range: tuple = (0.7, 1.3)
    shuffle_buffer: int = 1024
    cache: bool = True
    data_dir: Optional[str] = None  # tensorflow-datasets data/manual dir
    download: bool = True  # tfds: allow downloading
    reference: str = "pair"  # reference models: pair | self (the "cheating" variant)
    # Runtime
    seed: int = 0
    strategy: str = "default"  # default | one_device | mirrored | multi_worker | tpu
    jit_compile: bool = False  # XLA: slower on CPU, see STACK.md
    mixed_precision: Optional[str] = None  # e.g. mixed_float16 on GPUs
    intra_op_threads: int = 0  # 0: TensorFlow's choice
    inter_op_threads: int = 0
    run_dir: Optional[str] = None  # default runs/<config>-<model>
    checkpoint_every: int = 1  # epochs
    keep_checkpoints: int = 3
    sample_images: int = 6  # rows of the sample grid
    options: dict = dataclasses.field(default_factory=dict)  # model builder options
    config_name: str = "custom"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"Unknown config keys {unknown}. Valid keys: {', '.join(sorted(names))}")
        d = dict(d)
        for f in dataclasses.fields(cls):
            if f.name in d and isinstance(f.default, tuple) and isinstance(d[f.name], list):
                d[f.name] = tuple(d[f.name])
        return cls(**d)


def register_config(name):
    """Register a config factory `() -> TrainConfig`; a name registered twice is an error."""

    def decorator(fn):
        if name in _CONFIGS:
            raise ValueError(f"Config '{name}' is already registered")
        _CONFIGS[name] = fn
        return fn

    return decorator


def _load_builtin_configs():
    import kcolor.configs  # noqa: F401


def list_configs() -> list:
    _load_builtin_configs()
    return sorted(_CONFIGS)


def get_config(name: str) -> TrainConfig:
    _load_builtin_configs()
    if name not in _CONFIGS:
        raise ValueError(f"Unknown config '{name}'. Valid configs: {', '.join(sorted(_CONFIGS))}")
    cfg = _CONFIGS[name]()
    cfg.config_name = name
    return cfg


def config_doc(name: str) -> str:
    _load_builtin_configs()
    return (_CONFIGS[name].__doc__ or "").strip()


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
        parts = [p for p in text.replace(";", ",").split(",") if p != ""]
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

    A key that names a config field sets it; otherwise it must be an option of the
    (possibly just overridden) model. Anything else raises with the valid keys.
    """
    cfg = dataclasses.replace(cfg, options=dict(cfg.options))
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    pending = []
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"Override '{item}' is not key=value")
        key, text = item.split("=", 1)
        key = key.strip()
        if key in fields and key != "options":
            current = getattr(cfg, key)
            if current is None and fields[key].default is None:
                value = _guess_value(text)
            else:
                try:
                    value = _parse_value(text, current)
                except ValueError as err:
                    raise ValueError(f"Bad value for '{key}': {err}") from None
            setattr(cfg, key, value)
        else:
            pending.append((key, text))
    spec = get_model(cfg.model)
    option_defaults = spec.option_defaults()
    for key, text in pending:
        if key not in spec.option_names:
            valid = sorted(set(fields) - {"options"}) + [f"{o} (model option)" for o in spec.option_names]
            raise ValueError(f"Unknown key '{key}' for model '{cfg.model}'. Valid keys: {', '.join(valid)}")
        default = option_defaults.get(key)
        cfg.options[key] = _parse_value(text, default) if default is not None else _guess_value(text)
    return cfg


def resolve_config(cfg: TrainConfig) -> TrainConfig:
    """Fill the recipe fields left as None from the model's defaults, then the fallbacks.

    Also checks that every model option is one the model's builder accepts.
    """
    spec = get_model(cfg.model)
    cfg = dataclasses.replace(cfg, options=dict(cfg.options))
    for key, fallback in RECIPE_FALLBACKS.items():
        if getattr(cfg, key) is None:
            setattr(cfg, key, spec.defaults.get(key, fallback))
    unknown = sorted(set(cfg.options) - set(spec.option_names))
    if unknown:
        raise ValueError(
            f"Model '{cfg.model}' has no option {unknown}. Valid options: {', '.join(spec.option_names) or '(none)'}"
        )
    return cfg
