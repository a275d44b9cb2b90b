"""Formal harness around the engine: an unconstrained environment that keeps the port rules,
and the properties of docs/formal.md as Amaranth ``Assert``/``Assume``/``Cover`` statements.

The environment drives every input from ``AnySeq`` (a fresh value each clock), except
``cfg_group_size``, which is an ``AnyConst`` (any value, legal or not, held for the whole
trace, as the spec asks of a configuration), and ``rst``, which is 1 in the first clock only.
The one assumption on the environment is the spec's: a tile stays on ``in_*`` unchanged while
``in_valid & ~in_ready``.

The properties look at the ports only, so the same harness checks any engine with the RAE's
signature (the tests hand it deliberately broken ones).
"""

from amaranth.asserts import AnyConst, AnySeq, Initial
from amaranth.hdl import Assert, Assume, Cover, Elaboratable, Module, ResetSignal, Signal
from amaranth.lib import wiring

from apsq_rae.hdl.params import as_params


__all__ = ["GROUPS", "Harness"]


#: Property groups: ``port`` (results held under backpressure), ``order`` (every result
#: belongs to an accepted in-range ``last`` tile, in acceptance order, with its address; none
#: is invented; ``busy = 0`` means none is pending), ``err`` (the two error bits: set when
#: they must be, sticky, a set wins over a clear; an illegal group size refuses every tile),
#: ``cover`` (reachability of results, stalls, backpressure and both error bits). The
#: ``ready`` group of :mod:`apsq_rae.formal.run` is a netlist check, not a harness.
GROUPS = ("port", "order", "err", "cover")


class Harness(Elaboratable):
    """The engine under an unconstrained, rule-abiding environment, with properties.

    Parameters
    ----------
    params : RAEParams
        Elaboration parameters (keep them small: lanes 1, narrow words, shallow banks).
    group : str
        One of :data:`GROUPS`.
    pipeline : str or Pipeline
        Pipeline setting of the engine.
    engine : callable, optional
        ``engine(params, pipeline) -> component`` with the RAE's signature; the RAE itself if
        omitted.
    shadow_depth : int
        Entries of the harness's record of pending result addresses (``order`` group); must
        exceed the results the engine can hold in flight.
    """

    def __init__(self, params, group, *, pipeline="default", engine=None, shadow_depth=32):
        if group not in GROUPS:
            raise ValueError(f"group = {group!r} is not one of {', '.join(GROUPS)}")
        self.params = as_params(params)
        self.group = group
        self.pipeline = pipeline
        self.engine = engine
        self.shadow_depth = shadow_depth

    def elaborate(self, platform):
        m = Module()
        p = self.params
        if self.engine is None:
            from apsq_rae.hdl.rae import RAE
            dut = RAE(p, pipeline=self.pipeline)
        else:
            dut = self.engine(p, self.pipeline)
        m.submodules.dut = dut

        # ---- Environment.
        m.d.comb += Assume(ResetSignal() == Initial())
        in_valid, out_ready, err_clear = AnySeq(1), AnySeq(1), AnySeq(1)
        payload = AnySeq(len(dut.i.payload.as_value()))
        cfg = AnyConst(p.gs_bits)
        m.d.comb += [
            dut.i.valid.eq(in_valid),
            dut.i.payload.as_value().eq(payload),
            dut.o.ready.eq(out_ready),
            dut.err_clear.eq(err_clear),
            dut.cfg_group_size.eq(cfg),
        ]
        started = Signal()                   # 1 from the second clock after reset on
        after_reset = Signal()
        m.d.sync += [after_reset.eq(1), started.eq(after_reset)]

        # The previous clock's ports.
        prev = {name: Signal.like(value, name=f"prev_{name}") for name, value in (
            ("in_valid", dut.i.valid), ("in_ready", dut.i.ready),
            ("payload", dut.i.payload.as_value()), ("out_valid", dut.o.valid),
            ("out_ready", dut.o.ready), ("result", dut.o.payload.as_value()),
            ("err", dut.err), ("err_clear", dut.err_clear))}
        m.d.sync += [prev["in_valid"].eq(dut.i.valid), prev["in_ready"].eq(dut.i.ready),
                     prev["payload"].eq(dut.i.payload.as_value()),
                     prev["out_valid"].eq(dut.o.valid), prev["out_ready"].eq(dut.o.ready),
                     prev["result"].eq(dut.o.payload.as_value()), prev["err"].eq(dut.err),
                     prev["err_clear"].eq(dut.err_clear)]
        with m.If(after_reset & prev["in_valid"] & ~prev["in_ready"]):
            m.d.comb += Assume(in_valid & (payload == prev["payload"]))

        legal = (cfg >= 1) & (cfg <= p.max_group_size)
        in_range = Signal()
        with m.Switch(cfg):
            for gs in range(1, p.max_group_size + 1):
                with m.Case(gs):
                    m.d.comb += in_range.eq(dut.i.payload.addr < p.capacity(gs))
        accept = dut.i.valid & dut.i.ready
        take = dut.o.valid & dut.o.ready

        if self.group == "port":
            with m.If(started & prev["out_valid"] & ~prev["out_ready"]):
                m.d.comb += Assert(dut.o.valid)
                m.d.comb += Assert(dut.o.payload.as_value() == prev["result"])

        if self.group == "order":
            n = self.shadow_depth
            shadow = [Signal(p.addr_bits, name=f"shadow{k}") for k in range(n)]
            count = Signal(range(n + 1))
            push = accept & dut.i.payload.last & in_range
            # Every result is the oldest pending one, and one is pending.
            with m.If(take):
                m.d.comb += Assert(count != 0)
                m.d.comb += Assert(dut.o.payload.addr == shadow[0])
            with m.If(~dut.busy):
                m.d.comb += Assert(count == 0)
            m.d.comb += Assert(count < n)          # the record is deep enough
            # Shift out the taken head, then append the pushed address.
            kept = [Signal(p.addr_bits, name=f"kept{k}") for k in range(n)]
            for k in range(n):
                m.d.comb += kept[k].eq(shadow[k + 1] if k + 1 < n else 0)
                with m.If(~take):
                    m.d.comb += kept[k].eq(shadow[k])
            after = Signal(range(n + 1))
            m.d.comb += after.eq(count - take)
            for k in range(n):
                m.d.sync += shadow[k].eq(kept[k])
                with m.If(push & (after == k)):
                    m.d.sync += shadow[k].eq(dut.i.payload.addr)
            m.d.sync += count.eq(after + push)

        if self.group == "err":
            set_cfg = Signal()
            set_range = Signal()
            m.d.sync += [set_cfg.eq(~legal), set_range.eq(accept & ~in_range)]
            with m.If(~legal):
                m.d.comb += Assert(~dut.i.ready)
            with m.If(started):
                for bit, was_set in ((0, set_cfg), (1, set_range)):
                    with m.If(was_set):                              # a set wins
                        m.d.comb += Assert(dut.err[bit])
                    with m.Elif(prev["err"][bit] & ~prev["err_clear"]):   # sticky
                        m.d.comb += Assert(dut.err[bit])
                    with m.Elif(prev["err_clear"] | ~prev["err"][bit]):   # cleared or never set
                        m.d.comb += Assert(~dut.err[bit])

        if self.group == "cover":
            held = Signal(2)
            with m.If(dut.o.valid & ~dut.o.ready):
                m.d.sync += held.eq(held + (held != 3))
            with m.Else():
                m.d.sync += held.eq(0)
            m.d.comb += [
                Cover(take),
                Cover(dut.i.valid & ~dut.i.ready & legal),     # a stall with a legal size
                Cover(held == 3),                               # a result held 3 clocks
                Cover(dut.err[0]),
                Cover(dut.err[1]),
                Cover(take & (cfg == p.max_group_size)),
            ]
        return m
