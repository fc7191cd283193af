"""Built-in experiment configs, one module per paper; importing this package registers them.

`get_config(name)`, `list_configs()` and `config_doc(name)` read the registry
(`kcolor.configs.registry`); `kcolor.config` holds the `TrainConfig` they return and
the checks every field passes.

Example:
    from kcolor.configs import get_config
    cfg = get_config("sample")
"""

from kcolor.configs.registry import config_doc, config_paper, get_config, list_configs, register_config  # noqa: F401
from kcolor.configs import base  # noqa: F401,E402
from kcolor.configs import stable  # noqa: F401,E402
from kcolor.configs import flowers  # noqa: F401,E402
from kcolor.configs import kmhcnet  # noqa: F401,E402
from kcolor.configs import cgan_lab  # noqa: F401,E402
from kcolor.configs import vit_i_gan  # noqa: F401,E402
from kcolor.configs import demo  # noqa: F401,E402
