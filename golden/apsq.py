"""PSQ and APSQ accumulation of spec section 3, and references for error analysis.

:func:`apsq_step` is the one place where a step of section 3 is computed; both
:func:`apsq_accumulate` (vectorized over addresses and lanes) and the transaction-level
:class:`apsq_rae.golden.Engine` (one address at a time) call it.
"""

from dataclasses import dataclass

import numpy as np

from .quant import MAX_EXP, as_int_array, check_q_bits, check_rounding, dequantize, quantize, widen


__all__ = ["ApsqResult", "apsq_step", "apsq_accumulate", "psq_accumulate", "exact_sum",
           "error_lsb", "error_report", "mode_bit", "quantizer_input"]


def mode_bit(step, last, group_size):
    """The mode bit ``s2``: 1 (APSQ) when ``step mod gs == gs - 1`` or at ``last``, else 0 (PSQ)."""
    return int(step % group_size == group_size - 1 or bool(last))


def apsq_step(tile, exp, *, step, last, group_size, pend_sum, ap_deq, q_bits, rounding):
    """Apply step ``step`` of section 3 to one tile (or a batch of addresses at the same step).

    Parameters
    ----------
    tile : numpy.ndarray
        ``Tp_i``, exact integers.
    exp : int
        ``e_i``.
    step, last, group_size :
        Position of the tile; ``last`` marks the final step of the address.
    pend_sum : numpy.ndarray or int
        Sum of the dequantized pending values of the current group (0 when there are none).
    ap_deq : numpy.ndarray or None
        ``D(AP_prev)``, the dequantized stored AP, or ``None`` before the first AP.
    q_bits, rounding :
        Quantizer parameters.

    Returns
    -------
    (pend_sum, ap_deq, ap, saturated)
        The new running state; ``ap`` is the stored AP (``None`` after a PSQ step) and
        ``saturated`` the per-element flag of this step's quantization.
    """
    s = quantizer_input(tile, step=step, last=last, group_size=group_size,
                        pend_sum=pend_sum, ap_deq=ap_deq)
    q, saturated = quantize(s, exp, q_bits=q_bits, rounding=rounding)
    if mode_bit(step, last, group_size):
        return 0, _exact_like(dequantize(q, exp), tile), q, saturated
    return pend_sum + _exact_like(dequantize(q, exp), tile), ap_deq, None, saturated


def quantizer_input(tile, *, step, last, group_size, pend_sum, ap_deq):
    """What step ``step`` quantizes: ``Tp_i`` in a PSQ step; in an APSQ step ``Tp_i`` plus the
    pending sum, plus ``D(AP_prev)`` when an AP exists (``step >= group_size``). Arguments as
    for :func:`apsq_step`."""
    if not mode_bit(step, last, group_size):
        return tile
    s = tile + pend_sum
    if step >= group_size:                # an AP exists (spec: i >= gs)
        s = s + ap_deq
    return s


def _exact_like(deq, tile):
    """``deq`` as Python integers when ``tile`` is: a tile held as ``object`` promises sums of
    ``gs`` dequantized values that may pass ``int64``, though each value alone fits it."""
    if getattr(tile, "dtype", None) == object:
        return np.asarray(deq).astype(object)
    return deq


@dataclass(frozen=True)
class ApsqResult:
    """Result of :func:`apsq_accumulate`.

    Members
    -------
    values : numpy.ndarray
        The final AP (``q_bits``-bit integers), shape ``(lanes,)`` or ``(n_addresses, lanes)``.
    exp : int
        Its exponent, ``e_{n-1}``.
    sat : bool or numpy.ndarray of bool
        Whether any lane saturated at any quantization (per address for 3-D input).
    """

    values: np.ndarray
    exp: int
    sat: object

    @property
    def dequantized(self):
        """``values * 2**exp``: the APSQ estimate of the exact sum."""
        return dequantize(self.values, self.exp)


def _check_group_size(group_size):
    if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)) \
            or group_size < 1:
        raise ValueError(f"group_size = {group_size!r} is out of range (legal: integer >= 1)")
    return int(group_size)


def _check_tiles(tiles, exps):
    t = as_int_array(tiles, "tiles")
    if t.ndim not in (2, 3):
        raise ValueError(f"tiles must have shape (n_steps, lanes) or (n_steps, n_addresses, "
                         f"lanes), got shape {t.shape}")
    if t.shape[0] < 1:
        raise ValueError("tiles must hold at least one step (got n_steps = 0)")
    e = as_int_array(exps, "exps")
    if e.shape != (t.shape[0],):
        raise ValueError(f"exps must have shape (n_steps,) = ({t.shape[0]},), got {e.shape}")
    if int(e.min()) < 0 or int(e.max()) > MAX_EXP:
        bad = int(e.min()) if int(e.min()) < 0 else int(e.max())
        raise ValueError(f"exps holds {bad}, out of range (legal: 0..{MAX_EXP})")
    return t, [int(v) for v in e]


def apsq_accumulate(tiles, exps, group_size, *, q_bits=8, rounding="half_up"):
    """APSQ with grouping over all steps of one or many addresses (spec section 3).

    Parameters
    ----------
    tiles : array_like of int
        ``Tp_i``, shape ``(n_steps, lanes)`` or ``(n_steps, n_addresses, lanes)``.
    exps : array_like of int
        ``e_i``, shape ``(n_steps,)``; the same for every address.
    group_size : int
        ``gs >= 1``; the final step is always an APSQ step (a partial last group).
    q_bits : int
        Width of stored values.
    rounding : str
        Rounding rule.

    Returns
    -------
    ApsqResult
    """
    check_q_bits(q_bits)
    check_rounding(rounding)
    gs = _check_group_size(group_size)
    t, e = _check_tiles(tiles, exps)
    n = t.shape[0]
    # Exactness: a sum holds Tp, gs-1 pending values and one AP.
    headroom = gs * ((1 << (q_bits - 1)) << max(e))
    t = widen(t, headroom)
    pend_sum, ap_deq, ap = 0, None, None
    sat = np.zeros(t.shape[1:-1], dtype=bool)
    for i in range(n):
        pend_sum, ap_deq, q, saturated = apsq_step(
            t[i], e[i], step=i, last=(i == n - 1), group_size=gs, pend_sum=pend_sum,
            ap_deq=ap_deq, q_bits=q_bits, rounding=rounding)
        ap = q if q is not None else ap
        sat |= saturated.any(axis=-1)
    return ApsqResult(values=ap, exp=e[-1], sat=bool(sat) if sat.ndim == 0 else sat)


def exact_sum(tiles):
    """``sum_i Tp_i`` over the step axis (axis 0), exact."""
    t = as_int_array(tiles, "tiles")
    return widen(t, _bound(t) * t.shape[0]).sum(axis=0)


def _bound(a):
    return max(abs(int(a.max())), abs(int(a.min()))) if a.size else 0


def psq_accumulate(tiles, exps, *, q_bits=8, rounding="half_up"):
    """Plain PSQ: every tile quantized on its own, ``sum_i D_{e_i}(Q_{e_i}(Tp_i))``, exact."""
    check_q_bits(q_bits)
    check_rounding(rounding)
    t, e = _check_tiles(tiles, exps)
    total = 0
    for i, ei in enumerate(e):
        q, _ = quantize(t[i], ei, q_bits=q_bits, rounding=rounding)
        total = total + dequantize(q, ei)
    return total


def error_lsb(values, exp, exact):
    """Error of ``values * 2**exp`` against ``exact`` in output LSBs (units of ``2**exp``)."""
    approx = dequantize(values, exp)
    diff = as_int_array(approx, "values") - as_int_array(exact, "exact")
    return np.asarray(diff, dtype=np.float64) / float(2 ** int(exp))


def error_report(tiles, exps, group_size, *, q_bits=8, rounding="half_up"):
    """Errors of APSQ and of plain PSQ against the exact sum, in output LSBs of ``e_{n-1}``.

    Returns a dict with ``apsq`` and ``psq`` entries, each holding ``max_abs``, ``mean_abs``
    and ``rms`` (floats), plus ``sat`` (any APSQ saturation).
    """
    exact = exact_sum(tiles)
    apsq = apsq_accumulate(tiles, exps, group_size, q_bits=q_bits, rounding=rounding)
    psq = psq_accumulate(tiles, exps, q_bits=q_bits, rounding=rounding)
    e_last = apsq.exp
    diffs = {
        "apsq": error_lsb(apsq.values, e_last, exact),
        "psq": np.asarray(as_int_array(psq, "psq") - as_int_array(exact, "exact"),
                          dtype=np.float64) / float(2 ** e_last),
    }
    report = {name: {"max_abs": float(np.max(np.abs(d))), "mean_abs": float(np.mean(np.abs(d))),
                     "rms": float(np.sqrt(np.mean(d * d)))} for name, d in diffs.items()}
    report["sat"] = bool(np.any(apsq.sat))
    return report
