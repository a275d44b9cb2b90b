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
every step (:func:`psq_exps`).

With ``lanes`` given, the statistics (and so the exponents) are kept per output **block** of
``lanes`` channels as well, shape ``(n_steps, n_blocks)``: the engine takes an exponent with
every tile, so a tile of output channels with small values may use a finer scale than the
layer's largest channels. Without it there is one exponent per layer and step. The exponent for a statistic ``m`` is the smallest ``e >= 0``
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
        ``(n_steps,)`` (or ``(n_steps, n_blocks)``) statistic of ``|Tp_i|``.
    cum : numpy.ndarray
        The same for ``|Tp_0 + .. + Tp_i|``.
    """

    act_scale: float
    tile: np.ndarray
    cum: np.ndarray

    def as_dict(self):
        return {"act_scale": self.act_scale, "tile": self.tile.tolist(),
                "cum": self.cum.tolist()}


def _stat(a, pct, lanes):
    n = a.shape[0]
    if lanes is None:
        a = np.abs(a.reshape(n, -1))
        axes = 1
    else:                                   # (n, M, N) -> (n, M, n_blocks, lanes)
        M, N = a.shape[1:]
        nb = -(-N // lanes)
        a = np.abs(np.pad(a, ((0, 0), (0, 0), (0, nb * lanes - N))).reshape(n, M, nb, lanes))
        axes = (1, 3)
    if pct >= 100:
        return a.max(axis=axes)
    return np.ceil(np.percentile(a, pct, axis=axes)).astype(np.int64)


def collect_stats(tiles, act_scale, pct=100.0, lanes=None):
    """Statistics of ``(n_steps, M, N)`` PSUM tiles (see the module text); per block of
    ``lanes`` output channels when ``lanes`` is given."""
    if not 0 < pct <= 100:
        raise ValueError(f"percentile = {pct!r} is out of range (legal: 0 < pct <= 100)")
    tiles = np.asarray(tiles, dtype=np.int64)
    return LayerStats(act_scale=float(act_scale), tile=_stat(tiles, pct, lanes),
                      cum=_stat(np.cumsum(tiles, axis=0), pct, lanes))


def exponent_for(m, q_bits=8, exp_bits=5):
    """Smallest ``e >= 0`` with ``m <= (2**(q_bits-1) - 1) * 2**e``, capped at
    ``2**exp_bits - 1``; element-wise for arrays (returns int64 then)."""
    qmax = (1 << (q_bits - 1)) - 1
    cap = (1 << exp_bits) - 1
    if np.ndim(m) == 0:
        m = int(m)
        e = 0
        while m > (qmax << e):
            e += 1
        return min(e, cap)
    m = np.asarray(m, dtype=np.int64)
    e = np.zeros(m.shape, dtype=np.int64)
    while True:
        more = m > (qmax << e)
        if not more.any():
            return np.minimum(e, cap)
        e += more


def _modes(n, gs):
    return np.array([i % gs == gs - 1 or i == n - 1 for i in range(n)])


def apsq_exps(stats, group_size, q_bits=8, exp_bits=5):
    """Per-step exponents for APSQ with group size ``group_size``, int64 of the statistics'
    shape (``(n_steps,)`` or ``(n_steps, n_blocks)``)."""
    mode = _modes(len(stats.tile), group_size).reshape((-1,) + (1,) * (stats.tile.ndim - 1))
    return exponent_for(np.where(mode, stats.cum, stats.tile), q_bits, exp_bits)


def psq_exps(stats, q_bits=8, exp_bits=5):
    """Per-step exponents for plain PSQ (each tile on its own)."""
    return exponent_for(stats.tile, q_bits, exp_bits)


def safe_exps(stats, q_bits=8, exp_bits=5):
    """Group-size independent exponents covering both the tile and the running sum; used for
    capture files, which the testbench replays at every group size."""
    return exponent_for(np.maximum(stats.tile, stats.cum), q_bits, exp_bits)
