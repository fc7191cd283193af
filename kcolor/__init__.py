"""kcolor: image colorization in TensorFlow/Keras.

Five colorization papers reproduced as Keras models, with one data pipeline, one
training engine, one evaluation suite and one export path shared by all of them.

Example:
    import kcolor
    cfg = kcolor.get_config("sample")
    result = kcolor.train(cfg)          # writes a run folder under runs/
"""

__version__ = "0.1.0"

from kcolor.config import TrainConfig, apply_overrides, get_config, list_configs  # noqa: E402,F401
from kcolor.models.registry import build_model, get_model, list_models  # noqa: E402,F401


def train(cfg, **kwargs):
    """Train `cfg` (a TrainConfig); see `kcolor.training.loop.train`."""
    from kcolor.training.loop import train as _train

    return _train(cfg, **kwargs)
