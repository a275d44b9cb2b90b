"""Adder tree of the RAE: ``Tp`` plus the dequantized stored values, exact, per lane."""

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_bool, check_int, quiet_on_error
from .pipeline import register_after


__all__ = ["AdderTree"]


def _signed_width(lo, hi):
    """Bits of the narrowest signed shape holding every integer in ``lo..hi``."""
    return max((-lo - 1).bit_length() if lo < 0 else 0, hi.bit_length()) + 1


class AdderTree(wiring.Component):
    """Pipelined exact sum ``tp + terms[0] + ... + terms[n_terms-1]`` on ``lanes`` lanes.

    A balanced tree of two-input adders over the ``n_terms + 1`` operands, ``ceil(log2(n_terms +
    1))`` levels, with a register after every ``levels_per_stage`` levels and after the last one:
    ``latency = ceil(levels / levels_per_stage)``; ``levels_per_stage = 0`` makes the tree
    combinational (``latency`` 0). ``input_register`` adds a register on every operand in front
    of the first level (``latency + 1``): the operands then arrive at each carry chain from a
    flip-flop that can sit beside it, wherever their sources are. Every adder's result is
    exactly as wide as the range of its sum (the operands' ranges added), so no level can
    overflow; the output width ``sum_bits`` holds the largest possible sum exactly.

    Parameters
    ----------
    lanes : int
        Lanes (>= 1).
    tp_bits : int
        Width of the signed ``tp`` operand (>= 1).
    term_bits : int
        Width of a signed term (>= 1).
    n_terms : int
        Number of terms (>= 1).
    levels_per_stage : int
        Adder levels between two registers (>= 1), or 0 for no register.
    input_register : bool
        Register the operands before the first level (one clock more).

    Members
    -------
    tp : In(ArrayLayout(signed(tp_bits), lanes))
        The PSUM tile.
    terms : In(ArrayLayout(ArrayLayout(signed(term_bits), lanes), n_terms))
        The dequantized values (0 for the ones not taking part).
    sum : Out(ArrayLayout(signed(sum_bits), lanes))
        Exact sum, ``latency`` clocks after the operands.
    """

    @quiet_on_error
    def __init__(self, *, lanes, tp_bits, term_bits, n_terms, levels_per_stage=1,
                 input_register=False):
        check_int("lanes", lanes, 1)
        check_int("tp_bits", tp_bits, 1)
        check_int("term_bits", term_bits, 1)
        check_int("n_terms", n_terms, 1)
        check_int("levels_per_stage", levels_per_stage, 0)
        check_bool("input_register", input_register)
        self.lanes = lanes
        self.tp_bits = tp_bits
        self.term_bits = term_bits
        self.n_terms = n_terms
        self.levels_per_stage = levels_per_stage
        self.input_register = input_register
        self.sum_bits = max(tp_bits, term_bits) + n_terms.bit_length()
        super().__init__({
            "tp":    In(data.ArrayLayout(signed(tp_bits), lanes)),
            "terms": In(data.ArrayLayout(data.ArrayLayout(signed(term_bits), lanes), n_terms)),
            "sum":   Out(data.ArrayLayout(signed(self.sum_bits), lanes)),
        })

    @staticmethod
    def pipeline_latency(n_terms, levels_per_stage=1, input_register=False):
        """Latency of a tree over ``n_terms + 1`` operands: ``ceil(levels / levels_per_stage)``
        with ``levels = ceil(log2(n_terms + 1))``, 0 without registers; + 1 with the input
        register."""
        levels = n_terms.bit_length()
        return (-(-levels // levels_per_stage) if levels_per_stage else 0) + int(input_register)

    @property
    def latency(self):
        """Clocks from the operands to ``sum``."""
        return self.pipeline_latency(self.n_terms, self.levels_per_stage, self.input_register)

    def elaborate(self, platform):
        m = Module()
        levels, lps = self.n_terms.bit_length(), self.levels_per_stage
        for j in range(self.lanes):
            # Each operand carries its exact range (lo, hi) so every register is exactly as wide
            # as its values need.
            operands = [(self.tp[j], -(1 << (self.tp_bits - 1)), (1 << (self.tp_bits - 1)) - 1)]
            t_lo, t_hi = -(1 << (self.term_bits - 1)), (1 << (self.term_bits - 1)) - 1
            operands += [(self.terms[t][j], t_lo, t_hi) for t in range(self.n_terms)]
            if self.input_register:
                registered = []
                for q, (value, lo, hi) in enumerate(operands):
                    reg = Signal(signed(_signed_width(lo, hi)), name=f"lane{j}_in{q}",
                                 reset_less=True)
                    m.d.sync += reg.eq(value)
                    registered.append((reg, lo, hi))
                operands = registered
            level = 0
            while len(operands) > 1:
                nxt = []
                for k in range(0, len(operands), 2):
                    if k + 1 < len(operands):
                        (a, alo, ahi), (b, blo, bhi) = operands[k], operands[k + 1]
                        value, lo, hi = a + b, alo + blo, ahi + bhi
                    else:
                        value, lo, hi = operands[k]
                    reg = Signal(signed(_signed_width(lo, hi)),
                                 name=f"lane{j}_l{level}_{k // 2}", reset_less=True)
                    registered = register_after(level, levels, lps)
                    m.d["sync" if registered else "comb"] += reg.eq(value)
                    nxt.append((reg, lo, hi))
                operands = nxt
                level += 1
            m.d.comb += self.sum[j].eq(operands[0][0])
        return m
