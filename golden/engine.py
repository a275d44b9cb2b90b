"""Transaction-level model of the whole engine (spec sections 3 to 5), for scoreboards.

Feed :meth:`Engine.push` the tiles the hardware accepts, in the order it accepts them, with
the same flags as the ports of section 5; it returns the result the hardware must produce for
every ``last`` tile, in order. The transactions are :class:`Tile` (into the engine; the
testbench and the FPGA host send these) and :class:`Result` (out of it).
"""

from dataclasses import dataclass

import numpy as np

from .apsq import apsq_step, mode_bit, quantizer_input
from .quant import check_rounding


__all__ = ["Engine", "Step", "Tile", "Result"]


@dataclass(frozen=True)
class Tile:
    """One tile, as it enters the engine's input port (the arguments of :meth:`Engine.push`).

    Members
    -------
    addr : int
    step : int
        The step index ``i`` of this address's accumulation.
    last : bool
        ``i`` is the address's final step.
    exp : int
        ``e_i``, the exponent of this step's quantization.
    data : tuple of int
        ``Tp_i``, one signed ``psum_bits`` value per lane.
    """

    addr: int
    step: int
    last: bool
    exp: int
    data: tuple


@dataclass(frozen=True)
class Result:
    """One finished address, as it leaves the engine's result port.

    Members
    -------
    addr : int
    exp : int
        ``e_{n-1}``, the exponent of the final AP.
    sat : bool
        Some quantization of this address saturated.
    data : tuple of int
        The final AP, one value per lane.
    """

    addr: int
    exp: int
    sat: bool
    data: tuple


@dataclass(frozen=True)
class Step:
    """What one accepted in-range tile did (:attr:`Engine.last_step`), for functional coverage.
    Only the step's inputs are kept; the mode, the AP flag and the quantized value are derived
    when asked for, so that :meth:`Engine.push` does no extra work.

    Members
    -------
    addr, step, last, exp : int, int, bool, int
        The tile's fields.
    group_size : int
        The run-time group size it ran at.
    tile, pend_sum, ap_deq :
        The step's inputs, as for :func:`apsq_rae.golden.apsq_step`.
    saturated : numpy.ndarray of bool
        Per lane, clipping changed the quantized value.
    mode : int
        The mode bit: 1 for an APSQ step, 0 for a PSQ step.
    has_ap : bool
        A stored AP existed and was added (an APSQ step with ``step >= group_size``).
    value : numpy.ndarray
        What the step quantized, per lane (:func:`apsq_rae.golden.quantizer_input`), exact.
    """

    addr: int
    step: int
    last: bool
    exp: int
    group_size: int
    tile: object
    pend_sum: object
    ap_deq: object
    saturated: object

    @property
    def mode(self):
        return mode_bit(self.step, self.last, self.group_size)

    @property
    def has_ap(self):
        return bool(self.mode and self.step >= self.group_size)

    @property
    def value(self):
        return quantizer_input(self.tile, step=self.step, last=self.last,
                               group_size=self.group_size, pend_sum=self.pend_sum,
                               ap_deq=self.ap_deq)


@dataclass
class _Accumulation:
    next_step: int = 0
    pend_sum: object = 0
    ap_deq: object = None
    sat: bool = False


_LIMITS = {  # name: (lowest, highest or None), as in spec section 4
    "lanes": (1, None), "psum_bits": (2, 64), "max_group_size": (1, 16),
    "depth": (1, None), "exp_bits": (1, 6), "step_bits": (1, 32),
}


def _check_param(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        legal = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} = {value} is out of range (legal: {legal})")


class Engine:
    """Golden transaction-level model of the Reconfigurable APSQ Engine.

    Parameters
    ----------
    lanes, psum_bits, q_bits, max_group_size, depth, exp_bits, step_bits, rounding :
        The elaboration parameters of spec section 4, with the same defaults and ranges.
    strict : bool
        ``True`` (default): a tile whose address is at or beyond the capacity raises
        ``ValueError``. ``False``: it is dropped and sets bit 1 of :attr:`err`, as the hardware
        does. Order violations raise in both modes.

    Members
    -------
    group_size : int or None
        The run-time group size set by :meth:`configure`.
    err : int
        Bit 1 is set when a tile beyond the capacity was dropped (``strict=False``).
    in_flight : set of int
        Addresses in the middle of an accumulation.
    last_step : Step or None
        What the last in-range tile that :meth:`push` accepted did.
    """

    def __init__(self, lanes=16, psum_bits=32, q_bits=8, max_group_size=4, depth=256,
                 exp_bits=5, step_bits=16, rounding="half_up", *, strict=True):
        for name, (lo, hi) in _LIMITS.items():
            _check_param(name, locals()[name], lo, hi)
        _check_param("q_bits", q_bits, 2, psum_bits)
        check_rounding(rounding)
        self.lanes, self.psum_bits, self.q_bits = lanes, psum_bits, q_bits
        self.max_group_size, self.depth = max_group_size, depth
        self.exp_bits, self.step_bits, self.rounding = exp_bits, step_bits, rounding
        self.strict = strict
        self.group_size = None
        self.err = 0
        self.last_step = None
        self._state = {}
        # Exact arithmetic: int64 unless Tp plus G dequantized values can exceed it.
        widest = (1 << (psum_bits - 1)) + max_group_size * ((1 << (q_bits - 1)) << ((1 << exp_bits) - 1))
        self._dtype = np.int64 if widest < (1 << 62) else object

    @property
    def in_flight(self):
        return set(self._state)

    def capacity(self, gs=None):
        """Addresses held at once: ``depth * floor(max_group_size / gs)`` (current ``gs`` by default)."""
        gs = self.group_size if gs is None else gs
        if gs is None:
            raise ValueError("group size is not configured: call configure(gs) first")
        _check_param("group_size", gs, 1, self.max_group_size)
        return self.depth * (self.max_group_size // gs)

    def configure(self, group_size):
        """Set the run-time group size ``cfg_group_size`` (only while no address is in flight)."""
        _check_param("group_size", group_size, 1, self.max_group_size)
        if self._state:
            raise ValueError(f"cannot change the group size to {group_size} while addresses "
                             f"{sorted(self._state)[:8]} are mid-accumulation")
        self.group_size = int(group_size)

    def clear_err(self):
        self.err = 0

    def push(self, addr, step, last, exp, data):
        """Accept one tile; return the :class:`Result` when ``last`` is set, else ``None``."""
        gs = self.group_size
        if gs is None:
            raise ValueError("group size is not configured: call configure(gs) first")
        addr, step, exp = int(addr), int(step), int(exp)
        if not 0 <= addr < (1 << max(1, (self.depth * self.max_group_size - 1).bit_length())):
            raise ValueError(f"addr = {addr} does not fit the address port")
        if not 0 <= step < (1 << self.step_bits):
            raise ValueError(f"step = {step} is out of range (legal: 0..{(1 << self.step_bits) - 1})")
        if not 0 <= exp < (1 << self.exp_bits):
            raise ValueError(f"exp = {exp} is out of range (legal: 0..{(1 << self.exp_bits) - 1})")
        tile = np.array([int(v) for v in data], dtype=self._dtype)
        if tile.shape != (self.lanes,):
            raise ValueError(f"data must hold lanes = {self.lanes} values, got {tile.shape[0]}")
        lo, hi = -(1 << (self.psum_bits - 1)), (1 << (self.psum_bits - 1)) - 1
        if int(tile.min()) < lo or int(tile.max()) > hi:
            raise ValueError(f"data holds a value outside the signed {self.psum_bits}-bit range "
                             f"{lo}..{hi}")
        if addr >= self.capacity():
            if self.strict:
                raise ValueError(f"addr = {addr} is beyond the capacity {self.capacity()} "
                                 f"at group size {gs} (legal: 0..{self.capacity() - 1})")
            self.err |= 2
            return None
        acc = self._state.get(addr)
        if acc is None:
            if step != 0:
                raise ValueError(f"address {addr}: step {step} out of order (no accumulation "
                                 f"in flight, expected step 0)")
            acc = _Accumulation()
        elif step != acc.next_step:
            what = "a new accumulation before the last step" if step == 0 else "step out of order"
            raise ValueError(f"address {addr}: {what} (got step {step}, expected step "
                             f"{acc.next_step})")
        pend_sum, ap_deq = acc.pend_sum, acc.ap_deq
        acc.pend_sum, acc.ap_deq, ap, saturated = apsq_step(
            tile, exp, step=step, last=last, group_size=gs, pend_sum=pend_sum,
            ap_deq=ap_deq, q_bits=self.q_bits, rounding=self.rounding)
        self.last_step = Step(addr, step, bool(last), exp, gs, tile, pend_sum, ap_deq,
                              saturated)
        acc.sat |= bool(saturated.any())
        acc.next_step = step + 1
        if last:
            self._state.pop(addr, None)
            return Result(addr=addr, exp=exp, sat=acc.sat, data=tuple(int(v) for v in ap))
        if acc.next_step >= (1 << self.step_bits):
            raise ValueError(f"address {addr}: step {step} is the largest step_bits = "
                             f"{self.step_bits} can carry, but it is not last")
        self._state[addr] = acc
        return None
