"""The engine's result FIFO: a queue whose writer never overflows it (the engine's credits)."""

from amaranth.hdl import Assert, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ._checks import check_bool, check_int, quiet_on_error
from .proof import with_invariants


__all__ = ["ResultFIFO"]


class ResultFIFO(wiring.Component):
    """First-in first-out queue for a writer that never writes when it is full.

    Unlike :class:`amaranth.lib.fifo.SyncFIFO` there is no full check on the write side (the
    engine issues a ``last`` tile only with a free slot credited, so ``w.ready`` would always be
    1), and ``r.valid`` is a flip-flop. The level counter is updated by selecting among
    ``level``, ``level + 1`` and ``level - 1``, which are formed from registers: a write or a
    read only drives a select. Storage is a memory with an asynchronous read port (LUT RAM on
    FPGAs), so ``r.payload`` follows the oldest entry with no extra clock: a word written on
    one edge can be read from the next. With ``write_register`` the write goes through a
    register first (one clock more), so the memory's write enables, decoded per LUT RAM rank
    when ``depth`` exceeds one rank, start at a flip-flop instead of at the writer's logic.

    Parameters
    ----------
    shape : ShapeLike
        Payload shape.
    depth : int
        Entries; the writer must never have more than ``depth`` words in the queue.
    write_register : bool
        Register the write before the memory (latency 2); the word in that register is not
        yet in ``level``.

    Members
    -------
    w : In(stream.Signature(shape))
        Write side; ``w.ready`` is always 1 (writing to a full queue is the writer's error:
        the oldest word is overwritten).
    r : Out(stream.Signature(shape))
        Read side.
    level : Out(range(depth + 1))
        Words in the queue.

    Attributes
    ----------
    latency : int
        Clocks from the edge that writes a word to the first edge that can read it: 1, or 2
        with the write register.
    capacity : int
        Words held at once: ``depth``.
    held_valid, held : Signal or None
        With the write register: its valid flag and word, on their way to the memory (not yet
        in ``level``; the engine's invariants and the proofs count the word among the results
        owed). ``None`` without it.
    """

    @quiet_on_error
    def __init__(self, shape, *, depth, write_register=False):
        check_int("depth", depth, 1)
        check_bool("write_register", write_register)
        self.shape = shape
        self.depth = depth
        self.write_register = write_register
        self.held_valid = Signal(name="held_valid") if write_register else None
        self.held = Signal(shape, name="held", reset_less=True) if write_register else None
        super().__init__({
            "w":     In(stream.Signature(shape)),
            "r":     Out(stream.Signature(shape)),
            "level": Out(range(depth + 1)),
        })

    @staticmethod
    def pipeline_latency(write_register=False):
        """Latency of a result FIFO (it does not depend on the depth), without building one:
        ``r.valid`` is a register set by the writing edge, and the asynchronous read port shows
        the word from then on; one clock more with the write register."""
        return 2 if write_register else 1

    @property
    def latency(self):
        """Clocks from the edge writing a word to the first edge that can read it."""
        return self.pipeline_latency(self.write_register)

    @property
    def capacity(self):
        """Words held at once (the writer must never have more in the queue)."""
        return self.depth

    def elaborate(self, platform):
        m = Module()
        depth = self.depth
        m.submodules.storage = storage = Memory(shape=self.shape, depth=depth, init=[])
        wr = storage.write_port()
        rd = storage.read_port(domain="comb")
        produce = Signal(range(depth))
        consume = Signal(range(depth))
        nonempty = Signal()

        def incr(ptr):
            return Mux(ptr == depth - 1, 0, ptr + 1)

        do_write, data = self.w.valid, self.w.payload
        if self.write_register:
            m.d.sync += [self.held_valid.eq(self.w.valid), self.held.eq(self.w.payload)]
            do_write, data = self.held_valid, self.held
        do_read = self.r.ready & nonempty
        m.d.comb += [
            self.w.ready.eq(1),
            wr.en.eq(do_write),
            wr.addr.eq(produce),
            wr.data.eq(data),
            rd.addr.eq(consume),
            self.r.payload.eq(rd.data),
            self.r.valid.eq(nonempty),
        ]
        with m.If(do_write):
            m.d.sync += produce.eq(incr(produce))
        with m.If(do_read):
            m.d.sync += consume.eq(incr(consume))
        up, down = self.level + 1, self.level - 1
        with m.If(do_write & ~do_read):
            m.d.sync += [self.level.eq(up), nonempty.eq(1)]
        with m.Elif(do_read & ~do_write):
            m.d.sync += [self.level.eq(down), nonempty.eq(self.level != 1)]

        if with_invariants(platform):
            # Invariants for the proofs (docs/formal.md): the flag and the pointers agree with
            # the level, and the writer keeps its promise. The harness reads every slot.
            slots = []
            for k in range(depth):
                port = storage.read_port(domain="comb")
                m.d.comb += port.addr.eq(k)
                slots.append(port.data)
            platform.record("results", consume=consume, slots=slots)
            wrapped = consume + self.level
            m.d.comb += [
                Assert(nonempty == (self.level != 0)),
                Assert(self.level <= depth),
                Assert((produce < depth) & (consume < depth)),
                Assert(produce == Mux(wrapped >= depth, wrapped - depth, wrapped)),
                Assert(~(do_write & ~do_read & (self.level == depth))),
            ]
        return m
