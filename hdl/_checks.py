"""Argument checks shared by the engine's components (same messages as :mod:`hdl.params`)."""

__all__ = ["check_int"]


def check_int(name, value, lo, hi=None):
    """Raise TypeError / ValueError naming ``name``, ``value`` and the legal range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        legal = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} = {value} is out of range (legal: {legal})")
