"""The registry of named experiment configs: `register_config`, `get_config`, `list_configs`.

A config is a factory `() -> TrainConfig` (`kcolor.config`) registered by name; the
built-in ones are the modules of `kcolor.configs`, which register themselves when the
package is imported (so `from kcolor.configs import get_config` sees them all). A name
registered twice is an error; an unknown name raises with the list of valid ones.

Example:
    @register_config("my_experiment")
    def my_experiment():
        return TrainConfig(model="pix2pix", data="folder:~/photos", epochs=20)
"""

from kcolor.config import TrainConfig
from kcolor.errors import ConfigError

_CONFIGS: dict = {}
# Old names that still work for one release, with a one-line message naming the new one.
_ALIASES: dict = {}


def register_config(name):
    """Register a config factory `() -> TrainConfig`; a name registered twice is an error."""

    def decorator(fn):
        if name in _CONFIGS:
            raise ValueError(f"Config '{name}' is already registered")
        _CONFIGS[name] = fn
        return fn

    return decorator


def register_alias(old, new):
    """Keep the retired config name `old` working as `new` for one release."""
    if old in _CONFIGS or old in _ALIASES:
        raise ValueError(f"Config '{old}' is already registered")
    _ALIASES[old] = new


def list_configs() -> list:
    return sorted(_CONFIGS)


def get_config(name: str) -> TrainConfig:
    if name in _ALIASES:
        import sys

        print(f"kcolor: config '{name}' is now called '{_ALIASES[name]}'; the old name goes in the next release",
              file=sys.stderr)
        name = _ALIASES[name]
    if name not in _CONFIGS:
        raise ConfigError(f"Unknown config '{name}'. Valid configs: {', '.join(sorted(_CONFIGS))}")
    cfg = _CONFIGS[name]()
    cfg.config_name = name
    return cfg


def config_doc(name: str) -> str:
    return (_CONFIGS[name].__doc__ or "").strip()


def config_paper(name: str):
    """The paper id ("000" ... "004") whose recipe config `name` follows, or None for the
    configs of `kcolor.configs.base`, which train any model."""
    if _CONFIGS[name].__module__.endswith(".base"):
        return None
    from kcolor.models.registry import get_model

    return get_model(get_config(name).model).paper


__all__ = ["config_doc", "config_paper", "get_config", "list_configs", "register_alias", "register_config"]
