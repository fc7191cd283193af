"""kcolor: image colorization in TensorFlow/Keras.

Colorization papers reproduced as Keras models (`kcolor list-models` prints what is
registered), with one data pipeline, one training engine, one evaluation suite and one
export path shared by all of them.

The names below are loaded on first use, so `import kcolor` alone does not import
TensorFlow (the command line quiets TensorFlow's start-up logs before it does).
The package is built in floors, each importing only from those below it:
ARCHITECTURE.md at the repository root draws them and says what each module owns.

Example:
    import kcolor
    cfg = kcolor.get_config("sample")
    result = kcolor.train(cfg)          # writes a run folder under runs/
"""

import importlib

from kcolor._version import __version__  # noqa: F401

_LAZY = {
    "TrainConfig": "kcolor.config",
    "apply_overrides": "kcolor.config",
    "get_config": "kcolor.configs",
    "list_configs": "kcolor.configs",
    "resolve_config": "kcolor.config",
    "build_model": "kcolor.models.registry",
    "get_model": "kcolor.models.registry",
    "list_models": "kcolor.models.registry",
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kcolor' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def train(cfg, **kwargs):
    """Train `cfg` (a TrainConfig); see `kcolor.training.loop.train`."""
    from kcolor.training.loop import train as _train

    return _train(cfg, **kwargs)
