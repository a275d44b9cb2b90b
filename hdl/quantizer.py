"""Quantizer of the RAE: ``Q_e(x)``, a rounding arithmetic shift right then saturation, per lane."""

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_int, check_rounding, quiet_on_error


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
    before the output register.

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
        Clocks of rounding and saturation after the shifter (1..2).

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
                 levels_per_stage=2, round_stages=2):
        check_int("lanes", lanes, 1)
        check_int("in_bits", in_bits, 2)
        check_int("q_bits", q_bits, 2, in_bits)
        check_int("exp_bits", exp_bits, 1, 6)
        check_int("levels_per_stage", levels_per_stage, 0)
        check_int("round_stages", round_stages, 1, 2)
        check_rounding(rounding)
        self.lanes = lanes
        self.in_bits = in_bits
        self.q_bits = q_bits
        self.exp_bits = exp_bits
        self.rounding = rounding
        self.levels_per_stage = levels_per_stage
        self.round_stages = round_stages
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
        q_min, q_max = -(1 << (k - 1)), (1 << (k - 1)) - 1

        lps = self.levels_per_stage
        n_stages = -(-self.exp_bits // lps) if lps else 1
        exp_at = [self.exp]                     # the exponent, delayed alongside the shifter
        for stage in range(1, n_stages):
            exp_reg = Signal.like(self.exp, name=f"exp_s{stage}", reset_less=True)
            m.d.sync += exp_reg.eq(exp_at[-1])
            exp_at.append(exp_reg)

        lane_sat = []
        for j in range(self.lanes):
            value, guard, sticky = self.x[j], 0, 0
            for level in range(self.exp_bits):
                e_bit = exp_at[level // lps if lps else 0][level]
                s = 1 << level
                s_value = value >> s
                s_guard = value[min(s - 1, W - 1)]
                s_sticky = guard | sticky
                if s > 1:
                    s_sticky = s_sticky | (value[:min(s - 1, W)] != 0)
                value = Mux(e_bit, s_value, value)
                guard, sticky = Mux(e_bit, s_guard, guard), Mux(e_bit, s_sticky, sticky)
                if lps and ((level + 1) % lps == 0 or level == self.exp_bits - 1):
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
            half += in_range.eq((value[:k] + inc)[:k].as_signed())
            sat_hi = (~r["neg"] & ~r["fits"]) | (r["at_max"] & r["inc"])
            sat_lo = r["neg"] & ~r["fits"] & ~(r["below_min"] & r["inc"])
            lane_sat.append(sat_hi | sat_lo)
            m.d.sync += [
                self.q[j].eq(Mux(sat_hi, q_max, Mux(sat_lo, q_min, in_range))),
                self.sat[j].eq(lane_sat[-1]),
            ]
        # The OR over all lanes spans the whole datapath: registered in groups of four lanes,
        # then one LUT level.
        groups = []
        for n in range(0, len(lane_sat), 4):
            group = Signal(name=f"sat_group{n // 4}")
            m.d.sync += group.eq(Cat(lane_sat[n:n + 4]).any())
            groups.append(group)
        m.d.comb += self.any_sat.eq(Cat(groups).any())
        return m
