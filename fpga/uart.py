"""8N1 UART receiver and transmitter with a fixed clock divisor."""

from amaranth.hdl import C, Cat, Module, Signal
from amaranth.lib import wiring, stream
from amaranth.lib.wiring import In, Out


__all__ = ["UARTRx", "UARTTx", "divisor_for"]


def divisor_for(clk_freq, baud):
    """Clocks per bit for ``baud`` at ``clk_freq``; ValueError when the rate error exceeds 2 %."""
    if baud <= 0:
        raise ValueError(f"baud = {baud} must be positive")
    divisor = round(clk_freq / baud)
    if divisor < 4:
        raise ValueError(f"baud = {baud} is too fast for a {clk_freq / 1e6:g} MHz clock "
                         f"(legal: at most {clk_freq / 4:.0f})")
    if abs(clk_freq / divisor - baud) > 0.02 * baud:
        raise ValueError(f"baud = {baud} is off by more than 2 % at {clk_freq / 1e6:g} MHz "
                         f"(divisor {divisor} gives {clk_freq / divisor:.0f})")
    return divisor


def _check_divisor(divisor):
    if isinstance(divisor, bool) or not isinstance(divisor, int):
        raise TypeError(f"divisor must be an integer, not {divisor!r}")
    if divisor < 4:
        raise ValueError(f"divisor = {divisor} is out of range (legal: >= 4)")


class UARTRx(wiring.Component):
    """8N1 receiver: samples each bit in its middle, after a two-flop synchronizer.

    Parameters
    ----------
    divisor : int
        Clocks per bit (>= 4).

    Members
    -------
    rx : In(1)
        Serial line (idle high).
    o : Out(stream.Signature(8))
        One transfer per received byte. The receiver does not wait: ``o.valid`` is a one-clock
        pulse (from a flip-flop) and a byte not taken is lost (the consumer must always be
        ready).
    frame_err : Out(1)
        One-clock pulse: a byte ended with a 0 stop bit (it is dropped).
    """

    def __init__(self, divisor):
        _check_divisor(divisor)
        self.divisor = divisor
        super().__init__({
            "rx": In(1, init=1),
            "o": Out(stream.Signature(8)),
            "frame_err": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        d = self.divisor

        sync0 = Signal(init=1)
        line = Signal(init=1)
        m.d.sync += [sync0.eq(self.rx), line.eq(sync0)]

        timer = Signal(range(d))
        bit = Signal(range(9))
        shreg = Signal(8)

        # o.valid and frame_err are flip-flops: the consumer's logic starts from registers.
        valid = Signal()
        bad_stop = Signal()
        m.d.sync += [valid.eq(0), bad_stop.eq(0)]
        m.d.comb += [self.o.payload.eq(shreg), self.o.valid.eq(valid),
                     self.frame_err.eq(bad_stop)]

        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(d // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer == 0):
                    with m.If(line):
                        m.next = "IDLE"  # glitch, not a start bit
                    with m.Else():
                        m.d.sync += [timer.eq(d - 1), bit.eq(0)]
                        m.next = "DATA"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("DATA"):
                with m.If(timer == 0):
                    m.d.sync += [timer.eq(d - 1), shreg.eq(Cat(shreg[1:], line)),
                                 bit.eq(bit + 1)]
                    with m.If(bit == 7):
                        m.next = "STOP"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("STOP"):
                with m.If(timer == 0):
                    with m.If(line):
                        m.d.sync += valid.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += bad_stop.eq(1)
                        m.next = "BREAK"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("BREAK"):
                with m.If(line):
                    m.next = "IDLE"
        return m


class UARTTx(wiring.Component):
    """8N1 transmitter.

    Parameters
    ----------
    divisor : int
        Clocks per bit (>= 4).

    Members
    -------
    i : In(stream.Signature(8))
        Bytes to send; ``i.ready`` is 1 while the transmitter is idle.
    tx : Out(1)
        Serial line (idle high).
    """

    def __init__(self, divisor):
        _check_divisor(divisor)
        self.divisor = divisor
        super().__init__({
            "i": In(stream.Signature(8)),
            "tx": Out(1, init=1),
        })

    def elaborate(self, platform):
        m = Module()
        d = self.divisor

        timer = Signal(range(d))
        bits = Signal(range(11))
        shreg = Signal(10, init=0x3FF)  # stop bit, 8 data bits, start bit (sent LSB first)

        m.d.comb += self.tx.eq(shreg[0])
        m.d.comb += self.i.ready.eq(bits == 0)
        with m.If(bits == 0):
            with m.If(self.i.valid):
                m.d.sync += [shreg.eq(Cat(C(0, 1), self.i.payload, C(1, 1))),
                             bits.eq(10), timer.eq(d - 1)]
        with m.Elif(timer == 0):
            m.d.sync += [shreg.eq(Cat(shreg[1:], C(1, 1))), bits.eq(bits - 1),
                         timer.eq(d - 1)]
        with m.Else():
            m.d.sync += timer.eq(timer - 1)
        return m
