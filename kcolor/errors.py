"""The errors kcolor raises for input a user can fix.

`KcolorError` is the base of every error that means "the input is wrong, here is what
is valid": the command line prints such an error as one line and exits with status 2,
while any other exception (a bug) keeps its traceback. `ConfigError` is also a
`ValueError`, so code that catches `ValueError` keeps working.

Example:
    raise ConfigError("epochs=-1 is not valid: expected an integer >= 1")
"""


class KcolorError(Exception):
    """Base class of kcolor's user-facing errors (bad input, missing files, bad data)."""


class ConfigError(KcolorError, ValueError):
    """A config field or model option has a value that is not valid."""


class RunFolderError(KcolorError):
    """A run folder or checkpoint that this kcolor cannot resume or load."""


class DownloadUnavailable(KcolorError, FileNotFoundError, RuntimeError):
    """A file to download (pretrained weights) that is neither cached nor downloadable: no network."""


class UnknownWeights(ConfigError, FileNotFoundError):
    """A `weights` option that is neither "imagenet" nor "none" nor the path of an existing file."""


__all__ = ["ConfigError", "DownloadUnavailable", "KcolorError", "RunFolderError", "UnknownWeights"]
