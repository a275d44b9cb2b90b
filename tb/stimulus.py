"""Stimulus for the engine: tiles, their orders, and control steps (no simulator needed).

A test is a list of items that :class:`apsq_rae.tb.bench.Bench` executes in order:

- :class:`apsq_rae.golden.Tile`: one tile for the input port (sent when the engine accepts
  it);
- :class:`Configure`: wait until idle, then set ``cfg_group_size`` (golden model too);
- :class:`BadConfig`: drive an illegal ``cfg_group_size`` for some clocks while a tile is
  offered (it must be refused), then restore the legal one;
- :class:`ClearErr`: wait until idle, pulse ``err_clear``;
- :class:`Drain`: wait until every expected result left and ``busy = 0``;
- :class:`CheckErr`: drain, then compare ``err`` with the expected value;
- :class:`Idle`: some clocks without ``in_valid``.
"""

import math
from dataclasses import dataclass

from apsq_rae.golden import Tile, quantize


__all__ = ["Configure", "BadConfig", "ClearErr", "Drain", "CheckErr", "Idle", "Stimulus"]


@dataclass(frozen=True)
class Configure:
    group_size: int


@dataclass(frozen=True)
class BadConfig:
    value: int
    cycles: int
    clear_on_last: bool = False   # also pulse err_clear on the last bad clock (set must win)


@dataclass(frozen=True)
class ClearErr:
    pass


@dataclass(frozen=True)
class Drain:
    pass


@dataclass(frozen=True)
class CheckErr:
    value: int


@dataclass(frozen=True)
class Idle:
    cycles: int


class Stimulus:
    """Random tiles and orders for one parameter set.

    Parameters
    ----------
    params : RAEParams
    rng : random.Random
        The only source of randomness (seeded by the test).
    """

    DATA_KINDS = ("uniform", "fit", "small", "sat", "minneg", "extreme")

    def __init__(self, params, rng):
        self.p = params
        self.rng = rng
        self.lo = -(1 << (params.psum_bits - 1))
        self.hi = (1 << (params.psum_bits - 1)) - 1

    # Tiles -----------------------------------------------------------------------------

    def data(self, kind):
        """One tile's lanes: ``uniform`` over the PSUM range, ``fit``/``small``: magnitudes
        around what the quantizer keeps, ``sat``: large magnitudes, ``minneg``: the most
        negative PSUM everywhere, ``extreme``: a mix of both range ends."""
        r, p = self.rng, self.p
        if kind == "uniform":
            return tuple(r.randint(self.lo, self.hi) for _ in range(p.lanes))
        if kind == "minneg":
            return (self.lo,) * p.lanes
        if kind == "extreme":
            return tuple(r.choice((self.lo, self.hi, self.lo + 1, 0, -1))
                         for _ in range(p.lanes))
        if kind == "sat":
            bits = r.randint(max(1, p.psum_bits - 4), p.psum_bits - 1)
        elif kind == "small":
            bits = r.randint(0, min(p.psum_bits - 1, p.q_bits + 2))
        else:  # fit
            bits = r.randint(0, p.psum_bits - 1)
        lo, hi = max(self.lo, -(1 << bits)), min(self.hi, (1 << bits) - 1)
        return tuple(r.randint(lo, hi) for _ in range(p.lanes))

    def exp_for(self, data, kind):
        """An exponent: ``uniform`` over its range, ``low`` (saturation-heavy), or ``fit``
        (scales the largest magnitude near the top of the ``q_bits`` range)."""
        r, p = self.rng, self.p
        if kind == "uniform":
            return r.randint(0, p.max_exp)
        if kind == "low":
            return r.randint(0, min(p.max_exp, 2))
        magnitude = max(abs(v) for v in data).bit_length()
        return min(p.max_exp, max(0, magnitude - p.q_bits + 1 + r.randint(-2, 2)))

    def accumulation(self, addr, n, *, data_kind=None, exp_kind=None):
        """The ``n`` tiles (steps ``0..n-1``) of one accumulation of ``addr``."""
        r = self.rng
        tiles = []
        for step in range(n):
            dk = data_kind or r.choice(self.DATA_KINDS)
            data = self.data(dk)
            ek = exp_kind or r.choice(("uniform", "low", "fit", "fit"))
            tiles.append(Tile(addr, step, step == n - 1, self.exp_for(data, ek), data))
        return tiles

    def same_scale(self, addr, n, exp=None):
        """An accumulation of ``n`` steps at one exponent (``exp``, or a random one), with data
        small enough at that exponent that the sum stays inside the ``q_bits`` range for a few
        steps: every bit of the stored AP then reaches the result (with random exponents a new
        step's larger exponent shifts most of the AP out)."""
        r, p = self.rng, self.p
        e = r.randint(0, max(0, min(p.max_exp, p.psum_bits - p.q_bits))) if exp is None else exp
        span = max(1, 1 << max(0, p.q_bits - 3)) << e
        lo, hi = max(self.lo, -span), min(self.hi, span - 1)
        return [Tile(addr, step, step == n - 1, e,
                     tuple(r.randint(lo, hi) for _ in range(p.lanes))) for step in range(n)]

    def lossy_accumulation(self, addr, n):
        """An accumulation of ``n`` steps at one exponent ``e >= 1`` (where the exponent range
        allows), with lanes uniform in ``±k * 2**e``, ``k = max(1, 2**(q_bits - 1) // (4 *
        isqrt(n)))``: nearly every quantization rounds, so the result depends on where the APSQ
        steps fall, and the sum, a random walk of ``n`` such steps, stays clear of saturation
        (which would hide that) unless ``q_bits`` is very small for ``n``."""
        r, p = self.rng, self.p
        e = r.randint(min(1, p.max_exp), max(min(1, p.max_exp),
                                             min(p.max_exp, p.psum_bits - p.q_bits)))
        span = max(1, (1 << (p.q_bits - 1)) // (4 * math.isqrt(max(1, n)))) << e
        lo, hi = max(self.lo, -span), min(self.hi, span)
        return [Tile(addr, step, step == n - 1, e,
                     tuple(r.randint(lo, hi) for _ in range(p.lanes))) for step in range(n)]

    def exponent_sweep(self, addrs):
        """Single-step accumulations at every exponent ``0..max_exp``, cycling through
        ``addrs``, so that every lane meets every edge of the quantizer at every exponent: a
        floor ``x >> e`` of ``q_min - 2 .. q_min + 1``, ``-1``, ``0`` and ``q_max - 1 ..
        q_max + 1``, each with the dropped bits empty, exactly half (a tie), above half and
        below half (where the exponent has that many bits), plus both PSUM range ends. Lane
        ``j`` of the ``k``-th tile of an exponent takes value ``k + j``: the quantizer has
        its own shifter and comparators per lane, and random values left some edges of some
        lanes untried. The values that saturate and those that do not go into separate
        tiles: a result has one ``sat`` flag for all lanes, so a saturating lane beside
        in-range ones would hide a lane that saturates wrongly."""
        r, p = self.rng, self.p
        q_min, q_max = -(1 << (p.q_bits - 1)), (1 << (p.q_bits - 1)) - 1
        floors = (q_min - 2, q_min - 1, q_min, q_min + 1, -1, 0, q_max - 1, q_max, q_max + 1)
        tiles = []
        for e in range(p.max_exp + 1):
            half = (1 << e) >> 1
            lows = [0] + ([half] if e >= 1 else []) \
                + ([half + r.randint(1, half - 1), r.randint(1, half - 1)] if e >= 2 else [])
            values = [(f << e) + low for f in floors for low in lows]
            values = [v for v in values if self.lo <= v <= self.hi] + [self.lo, self.hi]
            _, saturates = quantize(values, e, q_bits=p.q_bits, rounding=p.rounding)
            for group in ([v for v, sat in zip(values, saturates) if not sat],
                          [v for v, sat in zip(values, saturates) if sat]):
                for k in range(len(group)):
                    lanes = tuple(group[(k + j) % len(group)] for j in range(p.lanes))
                    tiles.append(Tile(addrs[len(tiles) % len(addrs)], 0, True, e, lanes))
        return tiles

    def dequantizer_sweep(self):
        """Two-step accumulations for group size 1, for every exponent ``e`` where ``2**e``
        fits the PSUM range, at the first and the last row of every bank (at group size 1
        address ``a`` is in bank ``a // depth``): step 0 stores -1 in every lane at exponent
        ``e``; step 1, at exponent 0, cancels the dequantized ``-2**e`` and leaves lane values
        of -1, 0 or 1, so the result shows every bit of every dequantized value. Stored as -1,
        a value has every bit set from ``e mod 2**k`` up in front of the shifter's level ``k``:
        so when ``e``'s bit ``k`` is set, every bit that the level fills with zeros is one
        that a wrong fill would leave standing, in every lane of every bank's dequantizer."""
        p = self.p
        rest = tuple(j % 3 - 1 for j in range(p.lanes))
        addrs = sorted({b * p.depth + row for b in range(p.max_group_size)
                        for row in (0, p.depth - 1)})
        tiles = []
        for e in range(p.max_exp + 1):
            if (1 << e) + 1 > self.hi:
                break
            tiles += [Tile(a, 0, False, e, (-(1 << e),) * p.lanes) for a in addrs]
            tiles += [Tile(a, 1, True, 0, tuple((1 << e) + v for v in rest)) for a in addrs]
        return tiles

    def n_steps(self, gs):
        """A random accumulation length: partial last groups, whole groups, single steps."""
        r = self.rng
        limit = 1 << self.p.step_bits
        n = r.choice((1, gs, gs + 1, 2 * gs, 2 * gs - 1 if gs > 1 else 3, 3 * gs + 1,
                      r.randint(1, 4 * gs + 2)))
        return max(1, min(n, limit))

    def addresses(self, capacity, count):
        """``count`` distinct addresses below ``capacity``, including both edges."""
        count = max(1, min(count, capacity))
        if count == 1:
            return [self.rng.choice((0, capacity - 1))]
        chosen = {0, capacity - 1}
        while len(chosen) < count:
            chosen.add(self.rng.randrange(capacity))
        chosen = sorted(chosen)
        self.rng.shuffle(chosen)
        return chosen

    def every_length(self, addrs, gs):
        """One accumulation of every length ``1..2 gs`` over ``addrs`` (reused in turn, one
        accumulation after the other): the last step falls on every phase, with and without
        a stored AP."""
        streams = {}
        limit = 1 << self.p.step_bits
        for k, n in enumerate(range(1, min(2 * gs, limit) + 1)):
            a = addrs[k % len(addrs)]
            streams.setdefault(a, []).extend(self.accumulation(a, n))
        return streams

    # Orders ----------------------------------------------------------------------------

    def per_address(self, addrs, gs, rounds=1, **kinds):
        """For each address, ``rounds`` accumulations back to back (a new step 0 right
        after ``last``)."""
        return {a: [t for _ in range(rounds)
                    for t in self.accumulation(a, self.n_steps(gs), **kinds)]
                for a in addrs}

    def ws(self, streams):
        """Weight-stationary order: the k-th tile of every address before any (k+1)-th."""
        out, k = [], 0
        longest = max((len(s) for s in streams.values()), default=0)
        order = list(streams)
        for k in range(longest):
            for a in order:
                if k < len(streams[a]):
                    out.append(streams[a][k])
        return out

    def is_(self, streams):
        """Input-stationary order: every tile of one address before the next address
        (back-to-back tiles of the same address)."""
        return [t for a in streams for t in streams[a]]

    def interleave(self, streams):
        """A random merge that keeps each address's own order."""
        queues = {a: list(reversed(s)) for a, s in streams.items() if s}
        out = []
        while queues:
            a = self.rng.choice(list(queues))
            out.append(queues[a].pop())
            if not queues[a]:
                del queues[a]
        return out
