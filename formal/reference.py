"""An unpipelined reference of the engine's arithmetic (spec sections 2 and 3), in Amaranth, for
the formal harness.

It keeps, for every address, the sum of the dequantized pending values of the current group,
the dequantized AP, the sticky saturation flag and the next step, and computes a tile's
result in the clock it is accepted, with plain integer arithmetic wide enough never to
overflow. It is written from the spec, not from the engine: no pipeline, no banks, no shifts
by stages (``tests/test_formal_reference.py`` checks it against the golden model).
"""

from amaranth.hdl import Array, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from apsq_rae.hdl.params import as_params
from apsq_rae.hdl.rae import result_layout, tile_layout


__all__ = ["Reference", "quantize"]


def quantize(m, x, e, params, name):
    """``Q_e(x)`` of spec section 2: return ``(q, saturated)`` signals for the value ``x`` and
    the exponent ``e`` (any width), with the rounding rule of ``params``."""
    p = params
    r = Signal(signed(len(x) + 1), name=f"{name}_r")
    with m.Switch(e):
        for k in range(1 << p.exp_bits):
            with m.Case(k):
                if k == 0:
                    m.d.comb += r.eq(x)
                elif p.rounding == "half_up":
                    m.d.comb += r.eq((x + (1 << (k - 1))) >> k)
                elif p.rounding == "trunc":
                    m.d.comb += r.eq(x >> k)
                else:                                    # half_even
                    floor = x >> k
                    frac = x.as_unsigned()[:k]
                    half = 1 << (k - 1)
                    up = (frac > half) | ((frac == half) & floor[0])
                    m.d.comb += r.eq(floor + up)
    lo, hi = -(1 << (p.q_bits - 1)), (1 << (p.q_bits - 1)) - 1
    q = Signal(signed(p.q_bits), name=f"{name}_q")
    m.d.comb += q.eq(Mux(r < lo, lo, Mux(r > hi, hi, r)))
    return q, (r < lo) | (r > hi)


class Reference(wiring.Component):
    """Spec section 3 for every address, one accepted tile per clock, no latency.

    Parameters
    ----------
    params : RAEParams

    Members
    -------
    group_size : In(params.gs_bits)
        The run-time group size (legal whenever ``accept`` is 1).
    accept : In(1)
        The engine accepts ``tile`` (in range) in this clock.
    tile : In(tile_layout(params))
    next_step : Out(unsigned(params.step_bits + 1))
        The step the protocol expects next for ``tile.addr`` (0 when it is not mid-accumulation).
    mode : Out(1)
        The tile's mode bit ``s2`` (1: an APSQ step).
    has_ap : Out(1)
        An AP exists for the tile (``step >= group_size``).
    push : Out(1)
        ``accept & tile.last``: a result is due.
    expected : Out(result_layout(params))
        The result of ``tile`` when ``push`` is 1.
    pend, ap_deq : list of Array of Signal
        Per lane, per address: the sum of the dequantized pending values of the current group,
        and the dequantized AP (0 while there is none). Read by the harness's invariants.
    sat : Array of Signal
        Per address: a step of the current accumulation saturated.
    next_steps : Array of Signal
        Per address: the step the protocol expects next.
    """

    def __init__(self, params):
        self.params = p = as_params(params)
        super().__init__({
            "group_size": In(p.gs_bits),
            "accept":     In(1),
            "tile":       In(tile_layout(p)),
            "next_step":  Out(unsigned(p.step_bits + 1)),
            "mode":       Out(1),
            "has_ap":     Out(1),
            "push":       Out(1),
            "expected":   Out(result_layout(p)),
        })

        n_addr = 1 << p.addr_bits
        wide = signed(p.sum_bits + 2)
        self.pend = [Array(Signal(wide, name=f"pend{a}_{j}") for a in range(n_addr))
                     for j in range(p.lanes)]
        self.ap_deq = [Array(Signal(wide, name=f"apdeq{a}_{j}") for a in range(n_addr))
                       for j in range(p.lanes)]
        self.sat = Array(Signal(name=f"sat{a}") for a in range(n_addr))
        self.next_steps = Array(Signal(unsigned(p.step_bits + 1), name=f"next{a}")
                                for a in range(n_addr))

    def elaborate(self, platform):
        m = Module()
        p = self.params
        wide = signed(p.sum_bits + 2)
        pend, ap_deq, sat, next_step = self.pend, self.ap_deq, self.sat, self.next_steps

        t = self.tile
        a = t.addr
        gs = self.group_size
        m.d.comb += self.next_step.eq(next_step[a])

        phase = Signal(range(max(p.max_group_size, 2)))
        with m.Switch(gs):
            for g in range(1, p.max_group_size + 1):
                with m.Case(g):
                    m.d.comb += phase.eq(t.step % g)
        apsq = (phase == gs - 1) | t.last                 # the mode bit s2
        has_ap = t.step >= gs

        any_sat = []
        new_pend, new_ap_deq, result = [], [], []
        for j in range(p.lanes):
            tp = t.data[j]
            total = Signal(wide, name=f"s{j}")            # S, or Tp on a PSQ step
            m.d.comb += total.eq(Mux(apsq, tp + pend[j][a] + Mux(has_ap, ap_deq[j][a], 0), tp))
            q, saturated = quantize(m, total, t.exp, p, name=f"lane{j}")
            deq = q << t.exp                              # D_e(q), exact
            any_sat.append(saturated)
            new_pend.append(Mux(apsq, 0, pend[j][a] + deq))
            new_ap_deq.append(Mux(apsq, deq, ap_deq[j][a]))
            result.append(q)
        step_sat = Signal()
        m.d.comb += step_sat.eq(sum(s.as_unsigned() for s in any_sat) != 0)

        m.d.comb += [
            self.mode.eq(apsq),
            self.has_ap.eq(has_ap),
            self.push.eq(self.accept & t.last),
            self.expected.addr.eq(a),
            self.expected.exp.eq(t.exp),
            self.expected.sat.eq(sat[a] | step_sat),
        ]
        m.d.comb += [self.expected.data[j].eq(result[j]) for j in range(p.lanes)]

        with m.If(self.accept):
            with m.If(t.last):                            # the address is free again
                m.d.sync += [sat[a].eq(0), next_step[a].eq(0)]
                m.d.sync += [pend[j][a].eq(0) for j in range(p.lanes)]
                m.d.sync += [ap_deq[j][a].eq(0) for j in range(p.lanes)]
            with m.Else():
                m.d.sync += [sat[a].eq(sat[a] | step_sat), next_step[a].eq(t.step + 1)]
                m.d.sync += [pend[j][a].eq(new_pend[j]) for j in range(p.lanes)]
                m.d.sync += [ap_deq[j][a].eq(new_ap_deq[j]) for j in range(p.lanes)]
        return m
