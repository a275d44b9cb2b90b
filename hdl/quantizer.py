"""Quantizer of the RAE: ``Q_e(x)``, a rounding arithmetic shift right then saturation, per lane."""

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_int, check_rounding, quiet_on_error
from .pipeline import register_after


__all__ = ["Quantizer"]


class Quantizer(wiring.Component):
    """Pipelined ``q = sat(R(x / 2**exp))`` on ``lanes`` values (spec section 2, bit-exact).

    A barrel shifter moves ``x`` right by ``exp`` in ``exp_bits`` mux levels, keeping the
    *guard* bit (the last bit shifted out, weight ``1/2``) and the *sticky* bit (OR of every bit
    below it). A register follows every ``levels_per_stage`` levels (none inside the shifter
    with ``levels_per_stage = 0``). Then ``round_stages`` stages round (``half_up``: add guard;
    ``half_even``: add ``guard & (sticky | lsb)``; ``trunc``: add nothing) and saturate to
    ``q_bits``, deciding saturation from the shifted value and the increment without a
    full-width carry: the wide comparisons (upper bits all equal to the sign, value at an edge)
    and the in-range sum, then the decision, the output value and the OR of the lanes' flags.
    With two stages a register separates the two halves; with one, both are in the clock
    before the output register; with three, the wide comparisons themselves take two clocks
    (see ``_round_in_three``).

    Parameters
    ----------
    lanes : int
        Lanes (>= 1).
    in_bits : int
        Width of the signed input (>= 2).
    q_bits : int
        Width of the signed output (2..``in_bits``).
    exp_bits : int
        Width of the exponent (1..6).
    rounding : str
        ``"half_up"``, ``"half_even"`` or ``"trunc"``.
    levels_per_stage : int
        Shifter mux levels between two registers (>= 1), or 0 for no register in the shifter.
    round_stages : int
        Clocks of rounding and saturation after the shifter (1..3); with three, the wide
        checks are split over the first two (two LUT levels in each) and every lane's
        saturation flag is a register before the OR over the lanes.
    select_lanes : int
        Lanes that share one copy of each exponent register inside the shifter (>= 0); 0: one
        register for all lanes. Copies split the exponent's fan-out (``in_bits`` select inputs
        per lane); they are equal flip-flops, which a synthesis tool merges unless told not to.

    Members
    -------
    x : In(ArrayLayout(signed(in_bits), lanes))
        Values to quantize.
    exp : In(exp_bits)
        Exponent ``e``.
    q : Out(ArrayLayout(signed(q_bits), lanes))
        Quantized values, ``latency`` clocks after ``x``.
    sat : Out(lanes)
        Bit ``j``: lane ``j`` saturated (``q != R(x / 2**e)``).
    any_sat : Out(1)
        Some lane saturated (the OR of ``sat``, with it: one LUT level after registered ORs
        of four lanes each).
    """

    @quiet_on_error
    def __init__(self, *, lanes, in_bits, q_bits, exp_bits, rounding="half_up",
                 levels_per_stage=2, round_stages=2, select_lanes=0):
        check_int("lanes", lanes, 1)
        check_int("in_bits", in_bits, 2)
        check_int("q_bits", q_bits, 2, in_bits)
        check_int("exp_bits", exp_bits, 1, 6)
        check_int("levels_per_stage", levels_per_stage, 0)
        check_int("round_stages", round_stages, 1, 3)
        check_int("select_lanes", select_lanes, 0)
        check_rounding(rounding)
        self.lanes = lanes
        self.in_bits = in_bits
        self.q_bits = q_bits
        self.exp_bits = exp_bits
        self.rounding = rounding
        self.levels_per_stage = levels_per_stage
        self.round_stages = round_stages
        self.select_lanes = select_lanes
        super().__init__({
            "x":   In(data.ArrayLayout(signed(in_bits), lanes)),
            "exp": In(unsigned(exp_bits)),
            "q":   Out(data.ArrayLayout(signed(q_bits), lanes)),
            "sat": Out(lanes),
            "any_sat": Out(1),
        })

    @staticmethod
    def pipeline_latency(exp_bits, levels_per_stage=2, round_stages=2):
        """Latency of a quantizer with these parameters (without building one): the shifter's
        ``ceil(exp_bits / levels_per_stage)`` (0 without registers) + ``round_stages``."""
        shifter = -(-exp_bits // levels_per_stage) if levels_per_stage else 0
        return shifter + round_stages

    @property
    def latency(self):
        """Clocks from ``x``/``exp`` to ``q``/``sat``."""
        return self.pipeline_latency(self.exp_bits, self.levels_per_stage, self.round_stages)

    def elaborate(self, platform):
        m = Module()
        W, k = self.in_bits, self.q_bits
        q_min, q_max = self._q_range

        lps = self.levels_per_stage
        n_stages = -(-self.exp_bits // lps) if lps else 1
        # The exponent, delayed alongside the shifter: one chain of registers per copy, each
        # holding the bits that the levels after it still use (as ``(signal, first bit)``).
        per_copy = self.select_lanes or self.lanes
        n_copies = -(-self.lanes // per_copy)
        exp_copies = []
        for c in range(n_copies):
            exp_at = [(self.exp, 0)]
            suffix = f"_copy{c}" if n_copies > 1 else ""
            for stage in range(1, n_stages):
                (held, first), start = exp_at[-1], stage * lps
                exp_reg = Signal(self.exp_bits - start, name=f"exp_s{stage}{suffix}",
                                 reset_less=True)
                m.d.sync += exp_reg.eq(held[start - first:])
                exp_at.append((exp_reg, start))
            exp_copies.append(exp_at)

        lane_sat = []
        for j in range(self.lanes):
            exp_at = exp_copies[j // per_copy]
            value, guard, sticky = self.x[j], 0, 0
            for level in range(self.exp_bits):
                held, first = exp_at[level // lps if lps else 0]
                e_bit = held[level - first]
                s = 1 << level
                s_value = value >> s
                s_guard = value[min(s - 1, W - 1)]
                s_sticky = guard | sticky
                if s > 1:
                    s_sticky = s_sticky | (value[:min(s - 1, W)] != 0)
                value = Mux(e_bit, s_value, value)
                guard, sticky = Mux(e_bit, s_guard, guard), Mux(e_bit, s_sticky, sticky)
                if register_after(level, self.exp_bits, lps):
                    v_reg = Signal(signed(W), name=f"lane{j}_l{level}_v", reset_less=True)
                    g_reg = Signal(name=f"lane{j}_l{level}_g", reset_less=True)
                    s_reg = Signal(name=f"lane{j}_l{level}_s", reset_less=True)
                    m.d.sync += [v_reg.eq(value), g_reg.eq(guard), s_reg.eq(sticky)]
                    value, guard, sticky = v_reg, g_reg, s_reg

            if self.rounding == "half_up":
                inc = guard
            elif self.rounding == "half_even":
                inc = guard & (sticky | value[0])
            else:
                inc = 0
            # Saturate ``r = floor + inc`` without waiting for the wide carry: decide from
            # ``floor`` (its bits above q_bits-1, and whether it sits just at an edge where the
            # increment matters) while a q_bits-wide adder forms the in-range value. First
            # half: the wide comparisons and the sum; second: the decision and the choice
            # (a register between them with two stages).
            if self.round_stages == 3:
                lane_sat.append(self._round_in_three(m, j, value, inc))
                continue
            upper = value[k - 1:]
            first = {
                "fits": (upper == 0) | (upper == (1 << len(upper)) - 1),
                "neg": value[-1],
                "at_max": value == q_max,
                "below_min": value == q_min - 1,
                "inc": inc,
            }
            half = m.d.sync if self.round_stages == 2 else m.d.comb
            r = {name: Signal(name=f"lane{j}_{name}", reset_less=True) for name in first}
            half += [r[name].eq(v) for name, v in first.items()]
            in_range = Signal(signed(k), name=f"lane{j}_in_range", reset_less=True)
            half += in_range.eq(self._in_range_sum(value, inc))
            sat_hi, sat_lo = self._decide(r["fits"], r["neg"], r["at_max"], r["below_min"],
                                          r["inc"])
            lane_sat.append(sat_hi | sat_lo)
            self._output(m, j, sat_hi, sat_lo, in_range, lane_sat[-1])
        # The OR over all lanes spans the whole datapath: registered in groups of four lanes,
        # then one LUT level (with three stages ``lane_sat`` are registers of their own).
        groups = []
        for n in range(0, len(lane_sat), 4):
            group = Signal(name=f"sat_group{n // 4}")
            m.d.sync += group.eq(Cat(lane_sat[n:n + 4]).any())
            groups.append(group)
        m.d.comb += self.any_sat.eq(Cat(groups).any())
        return m

    @property
    def _q_range(self):
        """``(q_min, q_max)``, the signed ``q_bits`` range."""
        k = self.q_bits
        return -(1 << (k - 1)), (1 << (k - 1)) - 1

    def _in_range_sum(self, value, inc):
        """The rounded value's low ``q_bits`` (its value when it fits)."""
        k = self.q_bits
        return (value[:k] + inc)[:k].as_signed()

    @staticmethod
    def _decide(fits, neg, at_max, below_min, inc):
        """``(sat_hi, sat_lo)``: ``floor + inc`` is above ``q_max`` (positive and too wide, or
        at ``q_max`` and incremented) or below ``q_min`` (negative and too wide, unless just
        below ``q_min`` and incremented)."""
        return (~neg & ~fits) | (at_max & inc), neg & ~fits & ~(below_min & inc)

    def _output(self, m, j, sat_hi, sat_lo, in_range, sat):
        """The output register of lane ``j``: the saturation bound or the in-range value."""
        q_min, q_max = self._q_range
        m.d.sync += [
            self.q[j].eq(Mux(sat_hi, q_max, Mux(sat_lo, q_min, in_range))),
            self.sat[j].eq(sat),
        ]

    def _round_in_three(self, m, j, value, inc):
        """Rounding and saturation of lane ``j`` over three clocks; the lane's saturation flag
        (a register, one clock before ``q``).

        The wide checks split at bit ``q_bits``: ``value[q_bits:]`` all zeros / all ones (each
        in two halves), bit ``q_bits - 1`` and ``value[:q_bits - 1]`` all ones. In the first
        clock, those reductions (two LUT levels each) and the in-range sum; in the second,
        ``fits``, the edges and the decision; in the third, the output's multiplexer. Then:
        fits = upper bits all equal = (hi all zeros and ~b) or (hi all ones and b); at the
        top edge ``q_max`` = hi all zeros, ~b, low all ones; just below the bottom edge
        ``q_min - 1`` = hi all ones, ~b, low all ones (impossible without ``hi`` bits)."""
        k = self.q_bits
        hi, b, low = value[k:], value[k - 1], value[:k - 1]
        half = (len(hi) + 1) // 2
        parts = {
            "zero_a": hi[:half] == 0, "zero_b": hi[half:] == 0,
            "ones_a": hi[:half] == (1 << half) - 1,
            "ones_b": hi[half:] == (1 << (len(hi) - half)) - 1,
            "b": b, "low_ones": low == (1 << (k - 1)) - 1, "neg": value[-1], "inc": inc,
        }
        a = {name: Signal(name=f"lane{j}_{name}", reset_less=True) for name in parts}
        m.d.sync += [a[name].eq(v) for name, v in parts.items()]
        in_range_a = Signal(signed(k), name=f"lane{j}_in_range_a", reset_less=True)
        m.d.sync += in_range_a.eq(self._in_range_sum(value, inc))

        zero, ones = a["zero_a"] & a["zero_b"], a["ones_a"] & a["ones_b"]
        fits = (zero & ~a["b"]) | (ones & a["b"])
        at_max = zero & ~a["b"] & a["low_ones"]
        below_min = (ones & ~a["b"] & a["low_ones"]) if len(hi) else 0
        sat_hi = Signal(name=f"lane{j}_sat_hi", reset_less=True)
        sat_lo = Signal(name=f"lane{j}_sat_lo", reset_less=True)
        sat = Signal(name=f"lane{j}_sat", reset_less=True)
        in_range = Signal(signed(k), name=f"lane{j}_in_range", reset_less=True)
        hi_now, lo_now = self._decide(fits, a["neg"], at_max, below_min, a["inc"])
        m.d.sync += [sat_hi.eq(hi_now), sat_lo.eq(lo_now), sat.eq(hi_now | lo_now),
                     in_range.eq(in_range_a)]
        self._output(m, j, sat_hi, sat_lo, in_range, sat)
        return sat
