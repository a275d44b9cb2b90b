"""Deliberately broken engines, to show that the formal checks can fail (tests/test_formal.py).

Each is the real engine behind a thin wrapper that breaks one rule at the ports: the same
signature as :class:`apsq_rae.hdl.rae.RAE`, so the harness takes it in the RAE's place.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring

from apsq_rae.hdl.rae import RAE


__all__ = ["BUGS", "broken_engine"]


class _Broken(wiring.Component):
    def __init__(self, params, pipeline, bug):
        self.inner = RAE(params, pipeline=pipeline)
        self.bug = bug
        self.params = params
        super().__init__(dict(self.inner.signature.members))

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = e = self.inner
        p = self.params
        m.d.comb += [
            e.cfg_group_size.eq(self.cfg_group_size),
            e.i.valid.eq(self.i.valid), self.i.ready.eq(e.i.ready),
            e.i.payload.eq(self.i.payload),
            self.o.valid.eq(e.o.valid), e.o.ready.eq(self.o.ready),
            self.o.payload.eq(e.o.payload),
            self.busy.eq(e.busy), self.err.eq(e.err), e.err_clear.eq(self.err_clear),
        ]
        if self.bug == "drop_result":          # results of address 1 vanish
            drop = e.o.payload.addr == 1
            m.d.comb += [self.o.valid.eq(e.o.valid & ~drop), e.o.ready.eq(self.o.ready | drop)]
        elif self.bug == "invent_result":      # out_valid while nothing is there
            m.d.comb += self.o.valid.eq(e.o.valid | (e.i.valid & e.i.ready & e.i.payload.last))
        elif self.bug == "unstable_result":    # the data changes while the result waits
            toggle = Signal()
            m.d.sync += toggle.eq(~toggle)
            m.d.comb += self.o.payload.exp.eq(e.o.payload.exp ^ toggle)
        elif self.bug == "err_not_sticky":     # err shows in the clock it is set only
            was = Signal(2)
            m.d.sync += was.eq(e.err)
            m.d.comb += self.err.eq(e.err & ~was)
        elif self.bug == "clear_wins":         # a clear wins over a set in the same clock
            clear = Signal()
            m.d.sync += clear.eq(self.err_clear)
            m.d.comb += self.err.eq(e.err & ~clear.replicate(2))
        elif self.bug == "accept_bad_config":  # a tile is taken with an illegal group size
            m.d.comb += self.i.ready.eq(e.i.ready | (self.cfg_group_size == 0))
        elif self.bug == "ready_waits_for_valid":   # in_ready depends on in_valid
            m.d.comb += self.i.ready.eq(e.i.ready & self.i.valid)
        elif self.bug == "ready_looks_at_tile":     # in_ready depends on the payload
            m.d.comb += self.i.ready.eq(e.i.ready & ~self.i.payload.last)
        else:
            raise ValueError(f"bug = {self.bug!r} is not one of {', '.join(BUGS)}")
        return m


#: Bug name -> the property group that must catch it.
BUGS = {"drop_result": "order", "invent_result": "order", "unstable_result": "port",
        "err_not_sticky": "err", "clear_wins": "err", "accept_bad_config": "err",
        "ready_waits_for_valid": "ready", "ready_looks_at_tile": "ready"}


def broken_engine(bug):
    """``engine(params, pipeline)`` factory of the engine with ``bug``."""
    if bug not in BUGS:
        raise ValueError(f"bug = {bug!r} is not one of {', '.join(BUGS)}")
    return lambda params, pipeline: _Broken(params, pipeline, bug)
