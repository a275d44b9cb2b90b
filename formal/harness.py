"""Formal harness around the engine: an unconstrained environment that keeps the port rules,
and the properties of docs/formal.md as Amaranth ``Assert``/``Assume``/``Cover`` statements.

The environment drives every input from ``AnySeq`` (a fresh value each clock), except
``cfg_group_size``, which is an ``AnyConst`` (any value, legal or not, held for the whole
trace, as the spec asks of a configuration), and ``rst``, which is 1 in the first clock only.
The one assumption on the environment is the spec's: a tile stays on ``in_*`` unchanged while
``in_valid & ~in_ready``.

The ``arith``, ``hazard`` and ``cover`` groups also assume the spec's protocol (steps in order
per address) and run the unpipelined reference of :mod:`apsq_rae.formal.reference` beside the
engine. The ``port``, ``order``, ``arith`` and ``err`` properties look at the ports only, so
they check any engine with the RAE's signature (the tests hand it deliberately broken ones);
``hazard`` and ``cover`` also read the ports of the issue queue and the result FIFO inside it.
``arith`` with invariants (the proof by induction) is the write-back form of
:mod:`apsq_rae.formal.writeback`, which reads the engine's stages, banks and tile memory.
"""

from amaranth.asserts import AnyConst, AnySeq, Initial
from amaranth.hdl import (Array, Assert, Assume, Cover, Elaboratable, Fragment, Module, Mux,
                          ResetSignal, Signal)

from apsq_rae.hdl.params import as_params
from apsq_rae.hdl.proof import ProofPlatform, for_proofs

from .record import held_tiles, shift_record
from .reference import Reference
from .writeback import check_at_writeback, require_behavioural_banks


__all__ = ["GROUPS", "Harness"]


#: Property groups: ``port`` (results held under backpressure), ``order`` (every result
#: belongs to an accepted in-range ``last`` tile, in acceptance order, with its address; none
#: is invented; ``busy = 0`` means none is pending), ``arith`` (``order``, and every result
#: equals the unpipelined reference's, bit for bit), ``err`` (the two error bits: set when
#: they must be, sticky, a set wins over a clear; an illegal group size refuses every tile),
#: ``hazard`` (inside the engine: no read of a row whose write lands after the read, no write
#: to a full result FIFO), ``cover`` (reachability of each mode, group size, saturation, stalls,
#: a full result FIFO and both error bits). The ``ready`` group of
#: :mod:`apsq_rae.formal.run` is a netlist check, not a harness.
GROUPS = ("port", "order", "arith", "err", "hazard", "cover")


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
    shadow_depth : int, optional
        Entries of the harness's record of pending results (``order`` and ``arith`` groups);
        must exceed the results pending at once. If omitted, one more than the engine can hold
        (its result FIFO and issue queue), as a proof by induction needs.
    invariants : bool
        Add the invariants a proof by induction needs: the blocks' own (``hdl.proof``) and,
        for ``order``, the record's tie to the engine's state; ``arith`` then takes its
        write-back form (:func:`~apsq_rae.formal.writeback.check_at_writeback`). A bounded
        check from reset of the other groups is faster without them.
    """

    def __init__(self, params, group, *, pipeline="default", engine=None, shadow_depth=None,
                 invariants=False):
        if group not in GROUPS:
            raise ValueError(f"group = {group!r} is not one of {', '.join(GROUPS)}")
        self.params = as_params(params)
        self.group = group
        self.pipeline = pipeline
        self.engine = engine
        self.shadow_depth = shadow_depth
        self.invariants = invariants

    def elaborate(self, platform):
        p = self.params
        if self.engine is None:
            from apsq_rae.hdl.rae import RAE
            dut = RAE(p, pipeline=self.pipeline)
        else:
            dut = self.engine(p, self.pipeline)
        # Elaborated here, for the proof platform: the blocks add their invariants and record
        # the internal state the ``order``, ``hazard`` and ``cover`` groups read.
        proof = platform if for_proofs(platform) else ProofPlatform(invariants=self.invariants)
        fragment = Fragment.get(dut, proof)
        inside = proof.internals
        # ``arith`` with invariants: checked at write-back instead (formal/writeback.py). Its
        # requirement is checked before the module exists, so that the error comes alone.
        writeback = self.group == "arith" and proof.invariants
        if writeback:
            require_behavioural_banks(inside)
        m = Module()
        m.submodules.dut = fragment

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

        if writeback:
            check_at_writeback(m, p, dut, inside, cfg, in_range, accept, take)
            self._hazard(m, inside)

        if self.group in ("arith", "hazard", "cover") and not writeback:
            # The spec's protocol (section 5.2): each address's tiles come in step order from
            # 0, the step index never wraps, and the reference follows every accepted tile.
            m.submodules.ref = ref = Reference(p)
            tile = dut.i.payload
            m.d.comb += [ref.group_size.eq(cfg), ref.accept.eq(accept & in_range),
                         ref.tile.eq(tile)]
            with m.If(dut.i.valid & legal & in_range):
                m.d.comb += Assume(tile.step == ref.next_step)
                with m.If(tile.step == (1 << p.step_bits) - 1):
                    m.d.comb += Assume(tile.last)

        if self.group == "port":
            with m.If(started & prev["out_valid"] & ~prev["out_ready"]):
                m.d.comb += Assert(dut.o.valid)
                m.d.comb += Assert(dut.o.payload.as_value() == prev["result"])

        if self.group in ("order", "arith") and not writeback:
            # The pending results: the address of each (``order``), or the whole result the
            # reference computed (``arith``), oldest first.
            if self.group == "arith":
                record_in = ref.expected.as_value()
                record_out = dut.o.payload.as_value()
                push = ref.push
            else:
                record_in = dut.i.payload.addr
                record_out = dut.o.payload.addr
                push = accept & dut.i.payload.last & in_range
            n = self.shadow_depth
            if n is None:
                rae = inside["rae"]
                n = rae["results"].capacity + len(held_tiles(inside)) + 1
            # Each taken result is the oldest pending one, and one is pending.
            shadow, count = shift_record(m, "shadow", len(record_in), n, push, take,
                                         record_in)
            with m.If(take):
                m.d.comb += Assert(count != 0)
                m.d.comb += Assert(record_out == shadow[0])
            with m.If(~dut.busy):
                m.d.comb += Assert(count == 0)
            if self.group == "order" and proof.invariants and "results" in inside:
                self._order_invariants(m, inside, shadow, count)

        if self.group == "hazard":
            self._hazard(m, inside)

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
            queue, results = inside["rae"]["queue"], inside["rae"]["results"]
            held = Signal(2)
            with m.If(dut.o.valid & ~dut.o.ready):
                m.d.sync += held.eq(held + (held != 3))
            with m.Else():
                m.d.sync += held.eq(0)
            step = accept & in_range
            m.d.comb += [
                Cover(take),
                Cover(step & ~ref.mode),                        # a PSQ step
                Cover(step & ref.mode & ref.has_ap),            # an APSQ step adding an AP
                Cover(take & dut.o.payload.sat),                # a saturated result
                Cover(queue.o.valid & queue.hazard),            # a hazard stall
                Cover(dut.i.valid & ~dut.i.ready & legal),      # a stall at the port
                Cover(held == 3),                               # a result held 3 clocks
                Cover((results.level == results.depth) & ~dut.o.ready),  # FIFO full
                Cover(dut.err[0]),
                Cover(dut.err[1]),
            ]
            m.d.comb += [Cover(take & (cfg == gs)) for gs in range(1, p.max_group_size + 1)]
        return m

    @staticmethod
    def _hazard(m, inside):
        """Inside the engine (the real one, or one with a broken block swapped in): a tile that
        reads the banks never issues while a tile of its address is in a stage whose write
        lands after the issue edge, or on it without the banks' bypass (the datapath stages and
        the landing write; the last of them writes on that edge, and the bypass hands its row
        to the read); the result FIFO is never written while full."""
        rae = inside["rae"]
        queue, results = rae["queue"], rae["results"]
        head = queue.o.payload
        pending = list(rae["stages"]) + ([rae["landing"]] if rae["landing"] is not None else [])
        if rae["bypass"]:
            pending = pending[:-1]
        with m.If(queue.issue & ~head.no_read):
            for st in pending:
                m.d.comb += Assert(~(st.valid & (st.addr == head.addr)))
        # The FIFO takes every write (its ``w.ready`` is 1): a write while it is full and
        # nothing leaves would overwrite the oldest result (the write into the memory: from
        # the FIFO's write register when it has one).
        writes = results.held_valid if results.write_register else results.w.valid
        with m.If(writes & ~(results.r.valid & results.r.ready)):
            m.d.comb += Assert(results.level < results.depth)

    @staticmethod
    def _order_invariants(m, inside, shadow, count):
        """Tie the record of pending addresses to the engine's state, so that ``order`` can be
        proved by induction: the pending results, oldest first, are the result FIFO's words,
        then the word in its write register if it has one, then the ``last`` tiles in the
        datapath (write-back stage first), then the in-range ``last`` tiles in the issue queue
        (head first); the record holds their addresses in that order, and no more."""
        rae, fifo, queue = inside["rae"], inside["results"], inside["queue"]
        results = rae["results"]
        depth, level, consume = len(fifo["slots"]), results.level, fifo["consume"]
        record = Array(shadow)
        slots = Array(fifo["slots"])
        for k in range(depth):
            index = consume + k
            with m.If(k < level):
                m.d.comb += Assert(record[k] ==
                                   slots[Mux(index >= depth, index - depth, index)].addr)
        pending = []
        if results.write_register:                       # the FIFO's write register
            pending.append((results.held_valid, results.held.addr))
        pending += [(st.valid & st.last, st.addr) for st in reversed(rae["stages"])]
        pending += [(valid & entry.last & entry.in_range, entry.addr)
                    for valid, entry, _ in held_tiles(inside)]
        position = level
        for flag, addr in pending:
            with m.If(flag):
                m.d.comb += Assert(record[position] == addr)
            position = position + flag
        m.d.comb += Assert(count == position)
