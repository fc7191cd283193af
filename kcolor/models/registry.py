"""The model registry: one decorator, one lookup.

A registered entry is a function `(image_size, **options) -> dict[str, keras.Model]`
that builds every network a model needs. The dict always holds `"colorizer"`, the
network that maps inputs to a colorization (and the one that is exported); a GAN adds
`"discriminator"`. The entry also says how data reaches the network (`io`, see
`kcolor.models.io`), which trainer drives it (`"supervised"` or `"gan"`), which paper
it follows, the config values it prefers (`defaults`), and the options that build it
with no network (`offline`, e.g. `{"weights": "none"}` for a pretrained encoder whose
default is ImageNet weights): the registry-driven tests and benchmarks build with them.

The CLI, the Makefile, the notebooks, the benchmark and the tests all read this
registry, so a new model is one module plus one decorator.

Example:
    @register_model("tiny", io="gray_rgb", trainer="supervised", paper="001")
    def tiny(image_size, *, filters=8):
        ...
        return {"colorizer": model}
"""

import dataclasses
import inspect
from typing import Any, Callable

from kcolor.models.options import choice

TRAINERS = ("supervised", "gan")

_REGISTRY: dict = {}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    build_fn: Callable[..., dict]
    io: str
    trainer: str
    paper: str
    description: str
    defaults: dict
    offline: dict = dataclasses.field(default_factory=dict)

    @property
    def option_names(self) -> tuple:
        """Keyword options the builder accepts (settable with `--set key=value`)."""
        params = inspect.signature(self.build_fn).parameters.values()
        return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)

    def option_defaults(self) -> dict:
        params = inspect.signature(self.build_fn).parameters.values()
        return {
            p.name: p.default
            for p in params
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
        }

    def build(self, image_size: int, **options: Any) -> dict:
        unknown = sorted(set(options) - set(self.option_names))
        if unknown:
            raise ValueError(
                f"Model '{self.name}' has no option {unknown}. "
                f"Valid options: {', '.join(self.option_names) or '(none)'}"
            )
        networks = self.build_fn(image_size, **options)
        if "colorizer" not in networks:
            raise ValueError(f"Model '{self.name}' must build a 'colorizer' network; got {sorted(networks)}")
        if self.trainer == "gan" and "discriminator" not in networks:
            raise ValueError(f"GAN model '{self.name}' must build a 'discriminator' network")
        return networks


def register_model(name, *, io, trainer, paper, defaults=None, offline=None):
    """Register a model builder under `name`; registering a name twice is an error.

    `offline`: builder options under which the model builds without a network (the
    registry-driven tests use them); their keys must be options of the builder.
    """
    from kcolor.models.io import get_io  # validated here so a typo fails at import
    from kcolor.papers import get_paper

    get_io(io)
    get_paper(paper)
    choice("trainer", trainer, TRAINERS, owner=f"model '{name}'", valid="trainers")

    def decorator(fn):
        if name in _REGISTRY:
            raise ValueError(f"Model '{name}' is already registered")
        doc = inspect.getdoc(fn) or ""
        keywords = {p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY}
        bad = sorted(set(offline or {}) - keywords)
        if bad:
            raise ValueError(f"Model '{name}': offline options {bad} are not options of its builder")
        _REGISTRY[name] = ModelSpec(
            name=name,
            build_fn=fn,
            io=io,
            trainer=trainer,
            paper=paper,
            description=doc.splitlines()[0] if doc else "",
            defaults=dict(defaults or {}),
            offline=dict(offline or {}),
        )
        return fn

    return decorator


def _load_builtin_models():
    # Importing the package's model modules runs their decorators.
    import kcolor.models  # noqa: F401


def get_model(name: str) -> ModelSpec:
    _load_builtin_models()
    return _REGISTRY[choice("model", name, sorted(_REGISTRY), valid="models")]


def list_models() -> list:
    _load_builtin_models()
    return sorted(_REGISTRY)


def build_model(name: str, image_size: int, **options) -> dict:
    """Build every network of a registered model: `{"colorizer": ..., ...}`."""
    return get_model(name).build(image_size, **options)
