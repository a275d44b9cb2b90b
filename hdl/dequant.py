"""Shift dequantizer of the RAE: ``D_e(q) = q << e`` for every lane of one stored row."""

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_int, quiet_on_error
from .pipeline import register_after


__all__ = ["ShiftDequantizer"]


class ShiftDequantizer(wiring.Component):
    """Pipelined barrel left shifter ``value = en ? q << exp : 0`` on ``lanes`` values.

    The shifter has ``exp_bits`` mux levels (shift by 1, 2, 4, ...); a register follows every
    ``levels_per_stage`` levels, the last one being the output register. With
    ``levels_per_stage = 0`` it has no register at all (``latency`` 0). It never stalls:
    ``value`` shows the result for the inputs presented ``latency`` clocks earlier.

    Parameters
    ----------
    lanes : int
        Values per row (>= 1).
    q_bits : int
        Width of a stored signed value (>= 2).
    exp_bits : int
        Width of the exponent (1..6).
    levels_per_stage : int
        Mux levels between two registers (>= 1), or 0 for a combinational shifter.
    select_lanes : int
        Lanes that share one copy of each exponent register inside the shifter (>= 0); 0: one
        register for all lanes. Copies split the exponent's fan-out; they are equal flip-flops,
        which a synthesis tool merges unless told not to.

    Members
    -------
    q : In(ArrayLayout(signed(q_bits), lanes))
        Stored values.
    exp : In(exp_bits)
        Their exponent.
    en : In(1)
        0 makes every output 0 (the row does not take part in the sum).
    value : Out(ArrayLayout(signed(q_bits + 2**exp_bits - 1), lanes))
        Dequantized values, exact.
    """

    @quiet_on_error
    def __init__(self, *, lanes, q_bits, exp_bits, levels_per_stage=2, select_lanes=0):
        check_int("lanes", lanes, 1)
        check_int("q_bits", q_bits, 2)
        check_int("exp_bits", exp_bits, 1, 6)
        check_int("levels_per_stage", levels_per_stage, 0)
        check_int("select_lanes", select_lanes, 0)
        self.lanes = lanes
        self.q_bits = q_bits
        self.exp_bits = exp_bits
        self.levels_per_stage = levels_per_stage
        self.select_lanes = select_lanes
        self.out_bits = q_bits + (1 << exp_bits) - 1
        super().__init__({
            "q":     In(data.ArrayLayout(signed(q_bits), lanes)),
            "exp":   In(unsigned(exp_bits)),
            "en":    In(1),
            "value": Out(data.ArrayLayout(signed(self.out_bits), lanes)),
        })

    @staticmethod
    def pipeline_latency(exp_bits, levels_per_stage=2):
        """Latency of a dequantizer with these parameters (without building one):
        ``ceil(exp_bits / levels_per_stage)``, 0 without registers."""
        return -(-exp_bits // levels_per_stage) if levels_per_stage else 0

    @property
    def latency(self):
        """Clocks from ``q``/``exp``/``en`` to ``value``."""
        return self.pipeline_latency(self.exp_bits, self.levels_per_stage)

    def elaborate(self, platform):
        m = Module()
        values = [Mux(self.en, self.q[j], 0) for j in range(self.lanes)]
        # The exponent, delayed alongside the shifter: one chain of registers per copy, each
        # holding the bits that the levels after it still use (as ``(signal, first bit)``).
        per_copy = self.select_lanes or self.lanes
        n_copies = -(-self.lanes // per_copy)
        exps = [(self.exp, 0)] * n_copies
        for level in range(self.exp_bits):
            amount = 1 << level
            width = self.q_bits + (1 << (level + 1)) - 1     # exact width after this level
            registered = register_after(level, self.exp_bits, self.levels_per_stage)
            selects = [held[level - first] for held, first in exps]
            values = [self._shift(v, selects[j // per_copy], amount, registered)
                      for j, v in enumerate(values)]
            if registered:
                regs = [Signal(signed(width), name=f"l{level}_v{j}", reset_less=True)
                        for j in range(self.lanes)]
                m.d.sync += [r.eq(v) for r, v in zip(regs, values)]
                values = regs
                if level != self.exp_bits - 1:
                    for c, (held, first) in enumerate(exps):
                        suffix = f"_copy{c}" if n_copies > 1 else ""
                        exp_reg = Signal(self.exp_bits - level - 1,
                                         name=f"l{level}_exp{suffix}", reset_less=True)
                        m.d.sync += exp_reg.eq(held[level + 1 - first:])
                        exps[c] = (exp_reg, level + 1)
        m.d.comb += [self.value[j].eq(values[j]) for j in range(self.lanes)]
        return m

    @staticmethod
    def _shift(value, select, amount, registered):
        """``select ? value << amount : value``. In front of a register (``registered``), the
        bits that the shift fills with zeros are an AND rather than a multiplexer with a
        constant input: synthesis would turn that multiplexer into a synchronous reset of the
        register driven by ``select`` (one control signal for a few hundred flip-flops, which
        on an FPGA constrains where they can be placed). Elsewhere the multiplexer stays."""
        shifted = Mux(select, value << amount, value)
        if not registered:
            return shifted
        low = value[:amount] & (~select).replicate(amount)
        return Cat(low, shifted[amount:]).as_signed()
