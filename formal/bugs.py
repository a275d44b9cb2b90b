"""Deliberately broken engines, to show that the formal checks can fail (tests/test_formal.py).

Each is the real engine behind a thin wrapper that breaks one rule at the ports: the same
signature as :class:`apsq_rae.hdl.rae.RAE`, so the harness takes it in the RAE's place.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring

from apsq_rae.hdl.rae import RAE


__all__ = ["BUGS", "ENGINE_BUGS", "broken_engine", "patched_engine"]


class _Broken(wiring.Component):
    def __init__(self, params, pipeline, bug):
        self.inner = RAE(params, pipeline=pipeline)
        self.bug = bug
        self.params = params
        super().__init__(dict(self.inner.signature.members))

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = e = self.inner
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


# ---- Bugs inside the engine: a block of the RAE swapped, at elaboration, for a wrapper that
# forwards every port but one.

class _Forward(wiring.Component):
    """``inner`` with the same ports, all forwarded, except what ``override(m, outer, inner)``
    drives afterwards (the last assignment wins)."""

    def __init__(self, inner, override):
        self.inner = inner
        self.override = override
        super().__init__(dict(inner.signature.members))

    def __getattr__(self, name):                  # latency, capacity, ... of the real block
        if name == "inner" or name in self.inner.signature.members:
            raise AttributeError(name)
        return getattr(self.inner, name)

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = self.inner
        inner = dict((path, value) for path, _, value in self.inner.signature.flatten(self.inner))
        for path, member, value in self.signature.flatten(self):
            if member.flow == wiring.In:
                m.d.comb += inner[path].eq(value)
            else:
                m.d.comb += value.eq(inner[path])
        self.override(m, self, self.inner)
        return m


class _OneMoreSlot(_Forward):
    """Claims one result slot more than the FIFO has."""

    @property
    def capacity(self):
        return self.inner.capacity + 1


class _Swapped:
    """Stands in for a block's class: builds the real block, wrapped by ``wrapper``."""

    def __init__(self, cls, override, wrapper=_Forward):
        self.cls, self.override, self.wrapper = cls, override, wrapper

    def __call__(self, *args, **kwargs):
        return self.wrapper(self.cls(*args, **kwargs), self.override)

    def __getattr__(self, name):                  # static methods (pipeline_latency, ...)
        return getattr(self.cls, name)


def _no_hazard(m, outer, inner):                  # the hazard stall removed
    m.d.comb += [outer.hazard.eq(0), outer.clear.eq(outer.o.valid)]


def _sat_forgotten(m, outer, inner):              # sat of stored values not carried on
    for row in outer.rd_data:
        m.d.comb += row.sat.eq(0)


def _ap_not_added(m, outer, inner):               # the stored AP never read for a sum
    m.d.comb += inner.has_ap.eq(0)


def _decode_overwritten(m, outer, inner):         # the held tile's decoding not held
    m.d.comb += inner.en.eq(1)


def _swaps(bug):
    from apsq_rae.hdl import rae
    from apsq_rae.hdl.banks import Banks

    class _BanksWithoutBypass(Banks):
        """The real banks, built without their bypass (a read on the edge that writes its row
        returns the old row) while the issue queue still lets a reading tile issue on that
        edge."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "bypass": False})

    from apsq_rae.hdl.issue import IssueQueue
    from apsq_rae.hdl.mode import BankSelect, TileDecoder
    from apsq_rae.hdl.results import ResultFIFO
    return {
        "hazard_ignored":    [(rae, "IssueQueue", _Swapped(IssueQueue, _no_hazard))],
        "sat_not_sticky":    [(rae, "Banks", _Swapped(Banks, _sat_forgotten))],
        "ap_not_added":      [(rae, "BankSelect", _Swapped(BankSelect, _ap_not_added))],
        "bypass_missing":    [(rae, "Banks", _BanksWithoutBypass)],
        # The credit check counts one slot too many: a result issues into a full FIFO.
        "credit_off_by_one": [(rae, "ResultFIFO",
                               _Swapped(ResultFIFO, lambda m, outer, inner: None,
                                        _OneMoreSlot))],
        "landing_unwatched": [],           # see _PatchedRAE._n_watched
        # The decoder's register loads on every clock, also while its tile waits for the
        # queue: the waiting tile takes the decoding of whatever the port shows.
        "decode_overwritten": [(rae, "TileDecoder", _Swapped(TileDecoder, _decode_overwritten))],
    }[bug]


class _PatchedRAE(RAE):
    def __init__(self, params, pipeline, bug):
        super().__init__(params, pipeline=pipeline)
        self.bug = bug

    @property
    def _n_watched(self):
        # landing_unwatched: the issue queue forgets the clock a registered bank write takes
        # to land (no effect without ``bank_write_register``).
        from apsq_rae.hdl.banks import Banks
        n = super()._n_watched
        if self.bug == "landing_unwatched":
            n -= Banks.pipeline_write_latency(self.pipeline.bank_write_register)
        return n

    def elaborate(self, platform):
        import unittest.mock
        from contextlib import ExitStack
        with ExitStack() as stack:
            for module, name, value in _swaps(self.bug):
                stack.enter_context(unittest.mock.patch.object(module, name, value))
            return super().elaborate(platform)


#: Bugs inside the engine -> the property group that must catch it.
ENGINE_BUGS = {"hazard_ignored": "hazard", "credit_off_by_one": "hazard",
               "sat_not_sticky": "arith", "ap_not_added": "arith", "bypass_missing": "arith",
               "landing_unwatched": "hazard", "decode_overwritten": "arith"}


def patched_engine(bug):
    """``engine(params, pipeline)`` factory of the real engine with one block broken."""
    if bug not in ENGINE_BUGS:
        raise ValueError(f"bug = {bug!r} is not one of {', '.join(ENGINE_BUGS)}")
    return lambda params, pipeline: _PatchedRAE(params, pipeline, bug)
