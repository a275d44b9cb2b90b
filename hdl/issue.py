"""The queue in front of the issue stage, with a registered read-after-write hazard flag.

Three registers in a row: an input register ``r`` (loaded from the port), a skid register ``k``
and the head ``h``. ``i.ready`` is an OR of two flip-flops, and a tile needs at least two
clocks from the port to the head, so that every address comparison with the pipeline is made
on the way in, from the port into a flip-flop. Without the input register (``input_register =
False``) a tile goes from the port straight into the head, or into the skid register while
the head is held; ``i.ready`` is then the skid register's empty flag, and the port's address
comparisons feed the head's flags directly (still into flip-flops).

Each entry carries a *match vector*: bit ``s`` says that pipeline stage ``s`` holds a valid
tile of the entry's address. The vectors shift with the pipeline. Bit 0 of the next clock is
the head being issued now with the entry's address, which is a registered flag per entry
(``eq_hk``, ``eq_hr``, ``eq_kr``: which entries share an address), set when a tile arrives.
The head's hazard flag (any bit of its next vector) is therefore a few LUT levels from
flip-flops, with no address comparator on its path.

An entry can be exempt from the hazard: with ``exempt`` naming a one-bit payload field (or a
function of the payload), an entry whose field is 1 never shows ``hazard``. The AND is made in
front of the hazard register, from the entry's own fields (registered, except for a tile that
goes from the port straight into the head), so ``hazard`` stays a flip-flop. The entry's
match vector is kept like every other, so an entry behind it still sees it in flight once it
issues.

``clear`` is ``o.valid & ~hazard`` as a flip-flop of its own, loaded beside the hazard
register, so that a consumer's issue decision starts at one flip-flop for both. With the input
register, both are formed from flip-flops for each case the next clock can bring (the head
stays, leaves without issuing, or issues), and the consumer's ``o.ready`` and ``issue`` only
select among the cases at the end, instead of steering a match vector into its OR.
"""

from amaranth.hdl import Assert, Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_bool, check_int, quiet_on_error
from .proof import for_proofs, with_invariants


__all__ = ["IssueQueue"]


class IssueQueue(wiring.Component):
    """Three-entry (two without the input register) stream queue that tracks which pipeline
    stages hold each entry's address.

    ``o`` is the head; set ``o.ready`` to take it. ``hazard`` is valid with ``o.valid``: a tile
    of the head's address is in one of the ``n_stages`` pipeline stages. The consumer reports
    the tile it puts into stage 0 with ``issue`` (the head, taken on the same clock) and shows
    the stages' ``valid`` and ``addr`` bits on ``stage_valid``/``stage_addr``; stage ``s+1``
    must hold on the next clock what stage ``s`` holds now. Entries leave in arrival order.

    Parameters
    ----------
    shape : StructLayout
        Payload layout; it must have an ``addr`` field.
    n_stages : int
        Pipeline stages to track (from issue to the last stage that can still write).
    input_register : bool
        Put an input register in front of the skid register and the head (latency 2,
        capacity 3); without it latency 1, capacity 2.
    exempt : str or callable, optional
        Name of a one-bit payload field, or a function from an entry's payload (a view of
        ``shape``) to a one-bit value: an entry for which it is 1 never has a hazard.

    Members
    -------
    i : In(stream.Signature(shape))
        Input; ``i.ready`` depends on flip-flops only.
    o : Out(stream.Signature(shape))
        The head.
    hazard : Out(1)
        Registered: the head's address is in flight (always 0 for an exempt head).
    clear : Out(1)
        Registered: ``o.valid & ~hazard``, the head may issue as far as the queue knows.
    issue : In(1)
        The head enters pipeline stage 0 on this clock (``o.ready`` is 1 too).
    stage_valid : In(n_stages)
        Valid bit of each pipeline stage.
    stage_addr : In(ArrayLayout(addr, n_stages))
        Address of each pipeline stage.
    busy : Out(1)
        Some entry is full.

    Attributes
    ----------
    latency : int
        Clocks from the edge that accepts a tile on ``i`` to the first edge that can take it
        from ``o``: 2 (the input register, then the head), 1 without the input register.
    capacity : int
        Tiles held at once: 3 (the input register, the skid register and the head), 2
        without the input register. ``i.ready`` is 0 while all are full.
    """

    @quiet_on_error
    def __init__(self, shape, *, n_stages, input_register=True, exempt=None):
        if not isinstance(shape, data.StructLayout) or "addr" not in shape.members:
            raise TypeError(f"shape must be a StructLayout with an 'addr' field, not {shape!r}")
        check_int("n_stages", n_stages, 1)
        check_bool("input_register", input_register)
        if exempt is not None and not callable(exempt) and (
                exempt not in shape.members or Shape.cast(shape.members[exempt]).width != 1):
            raise ValueError(f"exempt = {exempt!r} is not a one-bit field of the payload "
                             f"(legal: None, a function of the payload or a one-bit field of "
                             f"{list(shape.members)})")
        self.shape = shape
        self.n_stages = n_stages
        self.input_register = input_register
        self.exempt = exempt
        addr = shape.members["addr"]
        super().__init__({
            "i":           In(stream.Signature(shape)),
            "o":           Out(stream.Signature(shape)),
            "hazard":      Out(1),
            "clear":       Out(1),
            "issue":       In(1),
            "stage_valid": In(n_stages),
            "stage_addr":  In(data.ArrayLayout(addr, n_stages)),
            "busy":        Out(1),
        })

    @staticmethod
    def pipeline_latency(input_register=True):
        """Latency of an issue queue with or without the input register, without building
        one."""
        return 2 if input_register else 1

    @property
    def latency(self):
        """Clocks from the edge accepting a tile on ``i`` to the first edge it can leave ``o``."""
        return self.pipeline_latency(self.input_register)

    @property
    def capacity(self):
        """Tiles held at once (the entries ``r`` if present, ``k`` and ``h``)."""
        return 3 if self.input_register else 2

    def elaborate(self, platform):
        m = Module()
        n = self.n_stages

        def entry(name):
            return (Signal(name=f"{name}_valid"),
                    Signal(self.shape, name=name, reset_less=True),
                    Signal(n, name=f"{name}_vec"))

        h_valid, h, h_vec = entry("h")
        k_valid, k, k_vec = entry("k")
        r_valid, r, r_vec = entry("r")        # used only with the input register
        proving = with_invariants(platform)
        if for_proofs(platform):
            # For the harness: the entries, oldest first, as (valid, payload, match vector).
            entries = [(h_valid, h, h_vec), (k_valid, k, k_vec)]
            if self.input_register:
                entries.append((r_valid, r, r_vec))
            platform.record("queue", entries=entries)
        eq_hk = Signal()      # k.addr == h.addr
        eq_hr = Signal()      # r.addr == h.addr
        eq_kr = Signal()      # r.addr == k.addr

        p = self.i.payload
        take = self.o.ready
        issue = self.issue
        h_free = ~h_valid | take            # the head register loads this clock
        r_move = r_valid & ~k_valid         # r moves on (into k, or into h when h is free)
        p_fire = self.i.valid & self.i.ready

        def waits(entry, vec):
            # The entry's hazard for a next match vector ``vec``: any bit, unless exempt.
            if self.exempt is None:
                return vec.any()
            return vec.any() & ~self._exempt(entry)

        def flags(valid, hazard):
            # The next head's hazard flag, and ``clear`` from the same terms.
            m.d.sync += [self.hazard.eq(hazard), self.clear.eq(valid & ~hazard)]

        def waits_after(entry, vec, same_as_head):
            # The entry's hazard on the next clock, (if the head does not issue now, if it
            # does): the OR of its vector's stages that move on, from flip-flops, and the
            # registered address flag for stage 0.
            moved = vec[:-1].any()
            if self.exempt is None:
                return moved, moved | same_as_head
            free = self._exempt(entry)
            return moved & ~free, (moved | same_as_head) & ~free

        def shifted(vec, same_as_head):
            # The entry's vector on the next clock: every stage moves on, and stage 0 receives
            # the head if it issues now.
            return Cat(issue & same_as_head, vec[:-1])

        # The port tile's vector for next clock: the head if it issues now, and the stages that
        # move on. A tile reaches the head ``latency`` clocks after the port at the earliest,
        # when what stage ``n - latency`` holds now has left, so the stages from there on are
        # not compared (their bits stay 0).
        p_vec = Cat(issue & (h.addr == p.addr),
                    Cat(self.stage_valid[s] & (self.stage_addr[s] == p.addr)
                        for s in range(n - self.latency)))

        if not self.input_register:
            m.d.comb += [
                self.i.ready.eq(~k_valid),
                self.o.valid.eq(h_valid),
                self.o.payload.eq(h),
                self.busy.eq(h_valid | k_valid),
            ]
            # As below, the hazard register is the OR of the next head's vector.
            h_next, k_next = shifted(h_vec, 0), shifted(k_vec, eq_hk)
            m.d.sync += [h_vec.eq(h_next), k_vec.eq(k_next)]
            flags(h_valid, waits(h, h_next))
            with m.If(h_free):
                # The head register loads: from k if full (the port is not ready then), else
                # from the port.
                with m.If(k_valid):
                    m.d.sync += [h.eq(k), h_valid.eq(1), h_vec.eq(k_next), k_valid.eq(0)]
                    flags(1, waits(k, k_next))
                with m.Else():
                    m.d.sync += [h.eq(p), h_valid.eq(p_fire), h_vec.eq(p_vec)]
                    flags(p_fire, p_fire & waits(p, p_vec))
            with m.Elif(p_fire):
                # The head stays: the port's tile waits behind it.
                m.d.sync += [k.eq(p), k_valid.eq(1), k_vec.eq(p_vec),
                             eq_hk.eq(h.addr == p.addr)]
            if proving:
                self._invariants(m, entries, [(h, k, eq_hk)])
            return m

        m.d.comb += [
            self.i.ready.eq(~r_valid | ~k_valid),
            self.o.valid.eq(h_valid),
            self.o.payload.eq(h),
            self.busy.eq(h_valid | k_valid | r_valid),
        ]

        # Each entry's vector next clock, wherever the entry moves; the hazard register is the
        # OR of the next head's, so it always equals ``h_vec.any()`` without that OR in front
        # of ``take``.
        h_next, k_next, r_next = shifted(h_vec, 0), shifted(k_vec, eq_hk), shifted(r_vec, eq_hr)
        m.d.sync += [h_vec.eq(h_next), k_vec.eq(k_next), r_vec.eq(r_next)]
        # The next head's flags for the three cases (it takes, it issues, neither), each from
        # flip-flops only, so that ``take`` and ``issue`` (late: the consumer's decision) only
        # select among them in the last LUT instead of steering a match vector into its OR.
        # ``issue`` implies ``take``; with neither, an empty head loads as after a take that
        # does not issue.
        h_stays, _ = waits_after(h, h_vec, 0)
        k_drop, k_issue = waits_after(k, k_vec, eq_hk)
        r_drop, r_issue = waits_after(r, r_vec, eq_hr)
        next_valid = k_valid | r_valid                  # the head leaves or is empty
        on_drop = Mux(k_valid, k_drop, r_drop)
        on_issue = Mux(k_valid, k_issue, r_issue)
        on_hold = Mux(h_valid, h_stays, on_drop)
        clear_drop, clear_issue = next_valid & ~on_drop, next_valid & ~on_issue
        clear_hold = Mux(h_valid, ~h_stays, clear_drop)
        m.d.sync += [
            self.hazard.eq(Mux(issue, on_issue, Mux(take, on_drop, on_hold))),
            self.clear.eq(Mux(issue, clear_issue, Mux(take, clear_drop, clear_hold))),
        ]
        with m.If(h_free):
            # The head register loads: from k if full, else from r (when r moves).
            with m.If(k_valid):
                m.d.sync += [h.eq(k), h_valid.eq(1), h_vec.eq(k_next), k_valid.eq(0)]
                # r stays (it cannot move while k is full); its head is now k.
                m.d.sync += eq_hr.eq(eq_kr)
            with m.Else():
                m.d.sync += [h.eq(r), h_valid.eq(r_valid), h_vec.eq(r_next)]
        with m.Elif(r_move):
            m.d.sync += [k.eq(r), k_valid.eq(1), k_vec.eq(r_next), eq_hk.eq(eq_hr)]

        # The input register: loads from the port when it is empty or moves on.
        with m.If(r_move | ~r_valid):
            m.d.sync += r_valid.eq(p_fire)
        with m.If(p_fire):
            # Which entries the new tile shares its address with next clock: compared with all
            # three now, selected late by where they move.
            same_h, same_k, same_r = (e.addr == p.addr for e in (h, k, r))
            m.d.sync += [
                r.eq(p),
                r_vec.eq(p_vec),
                eq_hr.eq(Mux(h_free, Mux(k_valid, same_k, same_r), same_h)),
                eq_kr.eq(~h_free & Mux(k_valid, same_k, same_r)),
            ]
        if proving:
            self._invariants(m, entries, [(h, k, eq_hk), (h, r, eq_hr), (k, r, eq_kr)])
        return m

    def _exempt(self, entry):
        """1 for an entry that never has a hazard (``exempt``), else 0."""
        if self.exempt is None:
            return Const(0, 1)
        if callable(self.exempt):
            return self.exempt(entry)
        return getattr(entry, self.exempt)

    def _invariants(self, m, entries, flags):
        """Invariants for the proofs (docs/formal.md), given the entries (oldest first) and the
        registered address flags ``(older, younger, flag)``: every pipeline stage that holds an
        entry's address has its bit set in the entry's match vector (the input register's
        vector may still lack the last stage, which leaves before the entry can issue); the
        hazard flag is the head's; ``clear`` is ``o.valid & ~hazard``; each flag says whether
        its two valid entries share an address. The bits of a ``last`` tile's landing stage may
        stay set without a match, so the converse is not asserted."""
        n = self.n_stages
        valid_of = {id(entry): valid for valid, entry, _ in entries}
        for index, (valid, entry, vec) in enumerate(entries):
            checked = n - 1 if index == 2 else n      # the input register: all but the last
            for s in range(checked):
                match = self.stage_valid[s] & (self.stage_addr[s] == entry.addr)
                m.d.comb += Assert(~(valid & match) | vec[s])
        h_valid, h, h_vec = entries[0]
        exempt = self._exempt(h)
        m.d.comb += [Assert(~h_valid | (self.hazard == (h_vec.any() & ~exempt))),
                     Assert(self.clear == (h_valid & ~self.hazard))]
        for older, younger, flag in flags:
            both = valid_of[id(older)] & valid_of[id(younger)]
            m.d.comb += Assert(~both | (flag == (older.addr == younger.addr)))
