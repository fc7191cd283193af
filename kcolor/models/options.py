"""The checks of model options: one choice among names, positive widths, rates in [0, 1).

Every check raises `kcolor.errors.ConfigError` (a `ValueError`) whose message names the
option, the value it got and what is valid, so the command line prints it as one line.
`owner` puts the builder's name in front ("pix2pix: unknown adv_loss 'hinge'. ...").

Used by every paper's builders: `choice` by `pix2pix`, `unet`, `patchgan` (Paper 001),
`cgan` (002), `kmhcnet`, `encoders` (003), `vit`, `vit_i_gan` (004), `blocks` and the
registry; `positive_int` by `flowers`, `vit` and `vit_i_gan`; `positive_ints` by
`flowers`, `cgan` and `vit_i_gan`; `rate` by `pix2pix` and `vit`; `fraction` by
`flowers` and `cgan`.

Example:
    choice("adv_loss", "hinge", ("lsgan", "bce"), owner="pix2pix")
    # ConfigError: pix2pix: unknown adv_loss 'hinge'. Valid choices: lsgan, bce
"""

from kcolor.errors import ConfigError

# How a GAN's reconstruction term reduces over one image's elements: "mean" (Keras'
# and Isola's convention), or "sum" (the mean times the elements per image, H x W x C).
RECON_REDUCTIONS = ("mean", "sum")


def _prefix(owner):
    return f"{owner}: " if owner else ""


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def choice(name, value, choices, *, owner=None, valid="choices"):
    """`value` if it is one of `choices` (a tuple, or a dict's keys); else a ConfigError listing them.

    The message reads "{owner}: unknown {name} {value!r}. Valid {valid}: a, b", or
    "Unknown {name} {value!r}. Valid {valid}: a, b" without an owner.
    """
    if value in choices:
        return value
    unknown = f"{owner}: unknown" if owner else "Unknown"
    raise ConfigError(f"{unknown} {name} {value!r}. Valid {valid}: {', '.join(map(str, choices))}")


def positive_int(name, value, *, owner=None):
    """`value` as an int > 0. A whole float (32.0) passes: `--set` parses numbers in tuples as floats."""
    if not _is_number(value) or int(value) != value or value <= 0:
        raise ConfigError(f"{_prefix(owner)}{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def positive_ints(name, values, *, count=None, min_count=1, owner=None):
    """`values` (a tuple or list; a single number counts as one) as a tuple of ints > 0.

    `count`: exactly that many; otherwise at least `min_count`.
    """
    items = (values,) if _is_number(values) else values
    how_many = count if count is not None else f"at least {min_count}"
    if (
        not isinstance(items, (tuple, list))
        or (count is not None and len(items) != count)
        or len(items) < min_count
    ):
        raise ConfigError(
            f"{_prefix(owner)}{name} must be a tuple of {how_many} positive widths. Received: {name}={values!r}"
        )
    return tuple(positive_int(name, v, owner=owner) for v in items)


def _as_float(value):
    """`float(value)`, or None for a bool or what `float` refuses."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def rate(name, value, *, owner=None):
    """`value` as a float in [0, 1) (a dropout rate)."""
    number = _as_float(value)
    if number is None or not 0.0 <= number < 1.0:
        raise ConfigError(f"{_prefix(owner)}{name} must be in [0, 1). Received: {name}={value}")
    return number


def fraction(name, value, *, owner=None):
    """`value` as a float in (0, 1] (a share that cannot be empty)."""
    number = _as_float(value)
    if number is None or not 0.0 < number <= 1.0:
        raise ConfigError(f"{_prefix(owner)}{name} must be a number in (0, 1]. Received: {name}={value!r}")
    return number


__all__ = ["RECON_REDUCTIONS", "choice", "fraction", "positive_int", "positive_ints", "rate"]
