"""Built-in experiment configs. Importing this package registers them."""

from kcolor.configs import base  # noqa: F401
