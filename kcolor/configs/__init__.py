"""Built-in experiment configs. Importing this package registers them."""

from kcolor.configs import base  # noqa: F401
from kcolor.configs import stable  # noqa: F401
from kcolor.configs import flowers  # noqa: F401
from kcolor.configs import kmhcnet  # noqa: F401
from kcolor.configs import cgan_lab  # noqa: F401
from kcolor.configs import vit_i_gan  # noqa: F401
from kcolor.configs import demo  # noqa: F401
