"""The board side of the framed UART protocol (:mod:`apsq_rae.fpga.protocol`): bytes to engine streams."""

from amaranth.hdl import C, Cat, Module, Signal
from amaranth.lib import wiring, stream
from amaranth.lib.wiring import In, Out

from apsq_rae.hdl.params import as_params

from . import protocol as P
from .uart import UARTRx, UARTTx


__all__ = ["Link"]


class Link(wiring.Component):
    """UART link of the board top: parses host frames, drives the engine, sends results.

    Parameters
    ----------
    params : RAEParams or None
        Engine parameters (frame sizes and the info frame derive from them); ``None`` takes
        the spec defaults.
    divisor : int
        UART clocks per bit (>= 4).
    latency : int
        Engine latency, reported in the info frame (0..65535).
    timeout : int
        Clocks without a byte after which a half-received frame is discarded (>= 1).

    Members
    -------
    rx : In(1)
        UART line from the host.
    tx : Out(1)
        UART line to the host.
    tile : Out(stream.Signature(tile_bits))
        Tile payloads for the engine, bit-compatible with its tile layout.
    result : In(stream.Signature(result_bits))
        Results from the engine.
    cfg_group_size : Out(G)
        The group-size register, set by ``G`` frames (reset value 1).
    err_clear : Out(1)
        One-clock pulse on a ``C`` frame.
    engine_err : In(2)
        The engine's ``err``.
    engine_busy : In(1)
        The engine's ``busy``.

    Raises
    ------
    TypeError
        ``params`` is neither ``None`` nor an :class:`RAEParams`.
    ValueError
        ``latency`` or ``timeout`` is out of range.
    """

    def __init__(self, params, *, divisor, latency=0, timeout=1 << 16):
        params = as_params(params)
        if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency < 65536:
            raise ValueError(f"latency = {latency!r} is out of range (legal: 0..65535)")
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1:
            raise ValueError(f"timeout = {timeout!r} is out of range (legal: >= 1)")
        self.params = params
        self.divisor = divisor
        self.latency = latency
        self.timeout = timeout
        self._rx = UARTRx(divisor)
        self._tx = UARTTx(divisor)
        super().__init__({
            "rx": In(1, init=1),
            "tx": Out(1, init=1),
            "tile": Out(stream.Signature(P.tile_bits(params))),
            "result": In(stream.Signature(P.result_bits(params))),
            "cfg_group_size": Out(params.gs_bits, init=1),
            "err_clear": Out(1),
            "engine_err": In(2),
            "engine_busy": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        m.submodules.uart_rx = urx = self._rx
        m.submodules.uart_tx = utx = self._tx
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx), urx.o.ready.eq(1)]

        n_tile = P.tile_bytes(p)
        byte = urx.o.payload
        got = urx.o.valid

        # Link flags (sticky until a C frame).
        overrun = Signal()
        frame_err = Signal()
        uart_err = Signal()
        clear = Signal()
        m.d.comb += self.err_clear.eq(clear)
        with m.If(urx.frame_err):
            m.d.sync += uart_err.eq(1)

        req_status = Signal()
        req_info = Signal()
        tile_valid = Signal()
        complete = Signal()     # the last byte of a tile frame arrived last clock

        # --- Transmit: one frame at a time from a byte shift register. ---
        # (Written before the receiver so that a request set in the clock its previous
        # request is served wins.)
        r_bytes = P.result_bytes(p)
        width = 8 * (1 + max(r_bytes, P.INFO_BYTES, 2))
        out = Signal(width)
        left = Signal(range(width // 8 + 1))
        info = int.from_bytes(bytes([P.RSP_INFO]) + P.info_payload(p, self.latency), "little")

        busy = Signal()
        m.d.comb += busy.eq(self.engine_busy | tile_valid | complete)
        flags = Cat(self.engine_err, busy, overrun, frame_err, uart_err, C(0, 2))

        m.d.comb += [utx.i.payload.eq(out[:8]), utx.i.valid.eq(left != 0)]
        # ready does not look at valid: keeps the engine's output handshake off long paths.
        m.d.comb += self.result.ready.eq((left == 0) & ~req_status)
        with m.If(left != 0):
            with m.If(utx.i.ready):
                m.d.sync += [out.eq(out >> 8), left.eq(left - 1)]
        with m.Elif(req_status):
            m.d.sync += [out.eq(Cat(C(P.RSP_STATUS, 8), flags, self.cfg_group_size)),
                         left.eq(3), req_status.eq(0)]
        with m.Elif(self.result.valid):
            m.d.sync += [out.eq(Cat(C(P.RSP_RESULT, 8), self.result.payload)),
                         left.eq(1 + r_bytes)]
        with m.Elif(req_info):
            m.d.sync += [out.eq(info), left.eq(1 + P.INFO_BYTES), req_info.eq(0)]

        # --- Receive: command byte, then a fixed number of payload bytes. ---
        cmd = Signal(8)
        count = Signal(range(n_tile + 1))
        assembly = Signal(n_tile * 8)
        idle = Signal(range(self.timeout + 1))
        m.d.sync += complete.eq(0)

        # The tile waits here for the engine while the next one is assembled.
        tile_data = Signal(n_tile * 8)
        m.d.comb += [self.tile.valid.eq(tile_valid),
                     self.tile.payload.eq(tile_data[:len(self.tile.payload)])]
        with m.If(self.tile.ready):
            m.d.sync += tile_valid.eq(0)

        with m.FSM():
            with m.State("CMD"):
                with m.If(got):
                    m.d.sync += [cmd.eq(byte), idle.eq(0)]
                    with m.Switch(byte):
                        with m.Case(P.CMD_TILE):
                            m.d.sync += count.eq(n_tile)
                            m.next = "PAYLOAD"
                        with m.Case(P.CMD_GROUP_SIZE):
                            m.d.sync += count.eq(1)
                            m.next = "PAYLOAD"
                        with m.Case(P.CMD_STATUS):
                            m.d.sync += req_status.eq(1)
                        with m.Case(P.CMD_INFO):
                            m.d.sync += req_info.eq(1)
                        with m.Case(P.CMD_CLEAR):
                            m.d.comb += clear.eq(1)
                        with m.Default():
                            m.d.sync += frame_err.eq(1)
            with m.State("PAYLOAD"):
                with m.If(got):
                    new = Cat(assembly[8:], byte)
                    m.d.sync += [assembly.eq(new), count.eq(count - 1), idle.eq(0)]
                    with m.If(count == 1):
                        m.next = "CMD"
                        with m.If(cmd == P.CMD_GROUP_SIZE):
                            m.d.sync += self.cfg_group_size.eq(byte)
                        with m.Else():
                            m.d.sync += complete.eq(1)
                with m.Elif(idle == self.timeout):
                    m.d.sync += frame_err.eq(1)
                    m.next = "CMD"
                with m.Else():
                    m.d.sync += idle.eq(idle + 1)

        # One clock after the last byte, the assembled tile moves to the engine's register:
        # its wide load enable then comes from a flip-flop. (The next byte is a whole UART
        # frame away, so the assembly register is stable.)
        with m.If(complete):
            with m.If(tile_valid & ~self.tile.ready):
                m.d.sync += overrun.eq(1)
            with m.Else():
                m.d.sync += [tile_data.eq(assembly), tile_valid.eq(1)]

        # A C frame clears the flags; a flag set in the same clock is lost (cannot happen:
        # the receiver delivers one byte per frame time).
        with m.If(clear):
            m.d.sync += [overrun.eq(0), frame_err.eq(0), uart_err.eq(0)]
        return m
