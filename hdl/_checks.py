"""Argument checks shared by the engine's components (same messages as :mod:`apsq_rae.hdl.params`)."""

import functools


__all__ = ["ROUNDING_RULES", "check_bool", "check_int", "check_rounding", "quiet_on_error"]


#: The rounding rules ``R`` of spec section 2.
ROUNDING_RULES = ("half_up", "half_even", "trunc")


def check_int(name, value, lo, hi=None):
    """Raise TypeError / ValueError naming ``name``, ``value`` and the legal range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        legal = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} = {value} is out of range (legal: {legal})")


def check_bool(name, value):
    """Raise TypeError naming ``name`` and ``value`` unless ``value`` is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {value!r}")


def check_rounding(rounding):
    """Raise ValueError unless ``rounding`` is one of :data:`ROUNDING_RULES`."""
    if rounding not in ROUNDING_RULES:
        raise ValueError(f"rounding = {rounding!r} is not a rounding rule "
                         f"(legal: {', '.join(ROUNDING_RULES)})")


def quiet_on_error(init):
    """Decorate a component's ``__init__``: when it refuses its arguments, the half-built
    object is marked as used, so Amaranth does not add an "created but never used" warning to
    the user's one-line error."""
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except Exception:
            self._MustUse__used = True
            raise
    return wrapper
