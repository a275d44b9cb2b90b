"""Quantizer ``Q_e`` and dequantizer ``D_e`` of spec section 2, bit-exact.

Every function here works on NumPy integer arrays. Values that fit comfortably in ``int64`` are
computed in ``int64``; anything wider (``psum_bits`` up to 64, dequantized values up to
``q_bits + 63`` bits) is computed on ``object`` arrays of Python integers, which are exact. The
choice is made from the actual magnitudes, never by wrapping.
"""

import numpy as np


__all__ = ["ROUNDING_RULES", "MAX_EXP", "quantize", "dequantize", "as_int_array",
           "check_rounding", "check_q_bits"]


#: The rounding rules ``R`` of spec section 2.
ROUNDING_RULES = ("half_up", "half_even", "trunc")

#: Largest exponent any legal engine can carry (``exp_bits <= 6``).
MAX_EXP = 63

# Magnitude below which int64 arithmetic is used: leaves headroom for one addition.
_INT64_SAFE = 1 << 62


def check_rounding(rounding):
    if rounding not in ROUNDING_RULES:
        raise ValueError(f"rounding = {rounding!r} is not a rounding rule "
                         f"(legal: {', '.join(ROUNDING_RULES)})")


def check_q_bits(q_bits):
    if isinstance(q_bits, bool) or not isinstance(q_bits, (int, np.integer)) or q_bits < 2:
        raise ValueError(f"q_bits = {q_bits!r} is out of range (legal: integer >= 2)")


def _max_abs(a):
    if a.size == 0:
        return 0
    return max(abs(int(a.max())), abs(int(a.min())))


def as_int_array(x, name):
    """Return ``x`` as an exact integer array (``int64`` when it fits, else ``object``).

    Raises ``ValueError`` for non-integer input (floats, booleans, strings).
    """
    a = np.asarray(x)
    if a.dtype.kind in "iu":
        if a.dtype.kind == "u" and a.size and int(a.max()) >= _INT64_SAFE:
            return a.astype(object)
        return a.astype(np.int64, copy=False)
    if a.dtype.kind == "O":
        flat = a.ravel()
        for v in flat:
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"{name} must hold integers, got {type(v).__name__} {v!r}")
        a = np.vectorize(int, otypes=[object])(a) if a.size else a
        return widen(a)
    raise ValueError(f"{name} must be an integer array, got dtype {a.dtype}")


def widen(a, headroom=0):
    """``a`` as ``int64`` if ``max|a| + headroom`` stays below 2**62, else as Python ints."""
    if _max_abs(a) + headroom < _INT64_SAFE:
        return a.astype(np.int64)
    return a.astype(object)


def _check_exp(exp):
    e = as_int_array(exp, "exp")
    if e.size and (int(e.min()) < 0 or int(e.max()) > MAX_EXP):
        bad = int(e.min()) if int(e.min()) < 0 else int(e.max())
        raise ValueError(f"exp = {bad} is out of range (legal: 0..{MAX_EXP})")
    return e.astype(np.int64)


def _round_shift(x, e, rounding):
    """``R(x / 2**e)`` exactly, for integer arrays ``x`` and ``e`` (broadcast).

    Rounding looks at the dropped bits only (never adds to ``x``), so it cannot overflow:
    ``half_up`` rounds up when the first dropped bit is 1; ``half_even`` when it is 1 and any
    lower dropped bit or the kept LSB is 1.
    """
    r = x >> e                                   # floor division by 2**e
    if rounding == "trunc":
        return r
    first = np.maximum(e - 1, 0)
    up = ((x >> first) & 1) & (e > 0)            # first dropped bit, none when e = 0
    if rounding == "half_even":
        below = x - ((x >> first) << first)      # the dropped bits under the first one
        up = up & ((below != 0) | (r & 1 == 1))
    return r + up

def quantize(x, exp, *, q_bits=8, rounding="half_up"):
    """Quantize integers with the power-of-two scale ``2**exp``: ``Q_exp(x)`` of spec section 2.

    Parameters
    ----------
    x : array_like of int
        Values to quantize (any width; exact).
    exp : int or array_like of int
        Exponent(s) ``0..63``, broadcast against ``x``.
    q_bits : int
        Width ``k`` of the signed result (>= 2).
    rounding : str
        ``"half_up"`` (default), ``"half_even"`` or ``"trunc"``.

    Returns
    -------
    q : numpy.ndarray
        ``min(max(R(x / 2**exp), -2**(k-1)), 2**(k-1) - 1)``.
    saturated : numpy.ndarray of bool
        True where clipping changed the value.
    """
    check_q_bits(q_bits)
    check_rounding(rounding)
    xa = as_int_array(x, "x")
    e = _check_exp(exp)
    r = _round_shift(xa, e, rounding)
    lo, hi = -(1 << (q_bits - 1)), (1 << (q_bits - 1)) - 1
    q = np.clip(r, lo, hi)
    saturated = np.asarray(q != r, dtype=bool)
    if q.dtype == object and q_bits <= 62:
        q = q.astype(np.int64)
    return q, saturated


def dequantize(q, exp):
    """``D_exp(q) = q * 2**exp`` (a left shift), exact."""
    qa = as_int_array(q, "q")
    e = _check_exp(exp)
    bound = _max_abs(qa) << (int(e.max()) if e.size else 0)
    if bound >= _INT64_SAFE:
        qa = qa.astype(object)
        e = e.astype(object)
    return qa << e
