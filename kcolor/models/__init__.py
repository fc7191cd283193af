"""Model builders. Importing this package registers every built-in model."""

from kcolor.models.registry import ModelSpec, build_model, get_model, list_models, register_model  # noqa: F401

# Each module registers its models on import.

from kcolor.models import pix2pix  # noqa: E402,F401
from kcolor.models import flowers  # noqa: E402,F401
from kcolor.models import stable  # noqa: E402,F401
from kcolor.models import vit_i_gan  # noqa: E402,F401
from kcolor.models import cgan  # noqa: E402,F401
from kcolor.models import kmhcnet  # noqa: E402,F401
