"""Exponent calibration: one power-of-two scale per accumulation step and layer.

The engine quantizes at every step ``i`` with the scale ``2**e_i`` that arrives with the
tile (spec section 3). The explorer chooses ``e_i`` per linear layer and per step, the same
for every address of the layer (the paper's per-step ``alpha_i``), from statistics gathered
on the **calibration sentences** only (never the evaluation sentences):

* ``tile[i]``: the ``pct``-th percentile of ``|Tp_i|`` over every output of the layer;
* ``cum[i]``: the same for the running exact sum ``|Tp_0 + .. + Tp_i|``.

A PSQ step (``s2 = 0``) quantizes the tile alone, so its exponent comes from ``tile[i]``; an
APSQ step (``s2 = 1``) quantizes the tile plus everything stored before, which is the running
sum up to rounding, so its exponent comes from ``cum[i]``. Which steps are which depends on
the group size, so the exponents do too (:func:`apsq_exps`). Plain PSQ uses ``tile[i]`` for
every step (:func:`psq_exps`). The exponent for a statistic ``m`` is the smallest ``e >= 0``
with ``m <= (2**(q_bits-1) - 1) * 2**e`` (so the calibration maximum never clips with the
default ``pct = 100``), capped at ``2**exp_bits - 1``.
"""

from dataclasses import dataclass

import numpy as np


__all__ = ["LayerStats", "collect_stats", "exponent_for", "apsq_exps", "psq_exps", "safe_exps"]


@dataclass
class LayerStats:
    """Calibration statistics of one linear layer.

    Members
    -------
    act_scale : float
        Static per-tensor activation scale (``max|x| / 127`` over the calibration tokens).
    tile : numpy.ndarray
        ``(n_steps,)`` statistic of ``|Tp_i|``.
    cum : numpy.ndarray
        ``(n_steps,)`` statistic of ``|Tp_0 + .. + Tp_i|``.
    """

    act_scale: float
    tile: np.ndarray
    cum: np.ndarray

    def as_dict(self):
        return {"act_scale": self.act_scale, "tile": [int(v) for v in self.tile],
                "cum": [int(v) for v in self.cum]}


def _stat(a, pct):
    a = np.abs(a.reshape(a.shape[0], -1))
    if pct >= 100:
        return a.max(axis=1)
    return np.ceil(np.percentile(a, pct, axis=1)).astype(np.int64)


def collect_stats(tiles, act_scale, pct=100.0):
    """Statistics of ``(n_steps, ...)`` PSUM tiles (see the module text)."""
    if not 0 < pct <= 100:
        raise ValueError(f"percentile = {pct!r} is out of range (legal: 0 < pct <= 100)")
    tiles = np.asarray(tiles, dtype=np.int64)
    return LayerStats(act_scale=float(act_scale), tile=_stat(tiles, pct),
                      cum=_stat(np.cumsum(tiles, axis=0), pct))


def exponent_for(m, q_bits=8, exp_bits=5):
    """Smallest ``e >= 0`` with ``m <= (2**(q_bits-1) - 1) * 2**e``, capped at
    ``2**exp_bits - 1``."""
    qmax = (1 << (q_bits - 1)) - 1
    m = int(m)
    e = 0
    while m > (qmax << e):
        e += 1
    return min(e, (1 << exp_bits) - 1)


def _mode(i, n, gs):
    return i % gs == gs - 1 or i == n - 1


def apsq_exps(stats, group_size, q_bits=8, exp_bits=5):
    """Per-step exponents for APSQ with group size ``group_size`` (``(n_steps,)`` int64)."""
    n = len(stats.tile)
    return np.array([exponent_for(stats.cum[i] if _mode(i, n, group_size) else stats.tile[i],
                                  q_bits, exp_bits) for i in range(n)], dtype=np.int64)


def psq_exps(stats, q_bits=8, exp_bits=5):
    """Per-step exponents for plain PSQ (each tile on its own)."""
    return np.array([exponent_for(m, q_bits, exp_bits) for m in stats.tile], dtype=np.int64)


def safe_exps(stats, q_bits=8, exp_bits=5):
    """Group-size independent exponents covering both the tile and the running sum; used for
    capture files, which the testbench replays at every group size."""
    return np.array([exponent_for(max(a, b), q_bits, exp_bits)
                     for a, b in zip(stats.tile, stats.cum)], dtype=np.int64)
