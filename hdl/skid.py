"""Two-entry skid buffer: a stream register stage whose ``ready`` is a register output."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out


__all__ = ["SkidBuffer"]


class SkidBuffer(wiring.Component):
    """Registered stream stage that cuts both the forward and the backward path.

    ``i.ready`` comes straight from a flip-flop (it depends on neither ``i.valid``, nor the
    payload, nor ``o.ready`` combinationally) and ``o.payload``/``o.valid`` come straight from the
    main register. Full throughput: one transfer per clock while ``o.ready`` is 1.

    Parameters
    ----------
    shape : ShapeLike
        Payload shape.

    Members
    -------
    i : In(stream.Signature(shape))
        Input stream.
    o : Out(stream.Signature(shape))
        Output stream.
    held_valid : Out(1)
        The skid register is full.
    held : Out(shape)
        The skid register (``o_next`` when ``held_valid``; lets a consumer decode both
        candidates of ``o_next`` in parallel and select late).
    o_next : Out(shape)
        The payload ``o`` will show on the next clock if ``o`` transfers (or is empty) on this
        one: the skid register if it is full, else ``i.payload``. Lets a consumer prepare a
        decision about its next input one clock ahead.
    """

    def __init__(self, shape):
        self.shape = shape
        super().__init__({
            "i": In(stream.Signature(shape)),
            "o": Out(stream.Signature(shape)),
            "held_valid": Out(1),
            "held": Out(shape),
            "o_next": Out(shape),
        })

    def elaborate(self, platform):
        m = Module()
        skid_valid = Signal()
        skid = Signal(self.shape, reset_less=True)
        main_valid = Signal()
        main = Signal(self.shape, reset_less=True)

        m.d.comb += [
            self.i.ready.eq(~skid_valid),
            self.o.valid.eq(main_valid),
            self.o.payload.eq(main),
            self.o_next.eq(Mux(skid_valid, skid, self.i.payload)),
            self.held_valid.eq(skid_valid),
            self.held.eq(skid),
        ]
        i_fire = self.i.valid & self.i.ready
        with m.If(~main_valid | self.o.ready):
            # The main register is free this clock: refill it, from the skid register first.
            m.d.sync += [
                main.eq(self.o_next),
                main_valid.eq(skid_valid | i_fire),
                skid_valid.eq(0),
            ]
        with m.Elif(i_fire):
            m.d.sync += [skid.eq(self.i.payload), skid_valid.eq(1)]
        return m
