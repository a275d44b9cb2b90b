"""Board top: the RAE behind the UART link, and its binding to a board's pins."""

from amaranth.hdl import Elaboratable, Module, Value
from amaranth.lib import io, wiring
from amaranth.lib.wiring import In, Out

from apsq_rae.hdl.params import as_params

from . import protocol as P
from .link import Link


__all__ = ["LinkedEngine", "BoardTop"]


def _make_engine(params, pipeline):
    from apsq_rae.hdl.rae import RAE
    return RAE(params, pipeline=pipeline)


class LinkedEngine(wiring.Component):
    """The engine with its UART link: everything of the board top except the pins.

    Parameters
    ----------
    params : RAEParams or None
        Engine parameters; ``None`` takes the spec defaults.
    divisor : int
        UART clocks per bit (>= 4).
    timeout : int
        Clocks after which a half-received frame is discarded.
    pipeline : str or Pipeline, optional
        Pipeline setting of the engine (see :class:`apsq_rae.hdl.rae.RAE`); ``"default"`` if
        omitted.
    engine : wiring.Component or None
        The engine; ``None`` builds ``apsq_rae.hdl.rae.RAE(params, pipeline=pipeline)``. Its
        signature must be the RAE's (``cfg_group_size``, ``i``, ``o``, ``busy``, ``err``,
        ``err_clear``).

    Members
    -------
    rx : In(1)
        UART line from the host.
    tx : Out(1)
        UART line to the host.
    activity : Out(1)
        1 while the engine or the link is busy (for an LED).
    error : Out(1)
        1 while either bit of the engine's ``err`` is set (for an LED).

    Raises
    ------
    TypeError
        ``params`` is neither ``None`` nor an :class:`RAEParams`.
    ValueError
        The engine's payloads are not as wide as the protocol's frames for ``params``.
    """

    def __init__(self, params, *, divisor, timeout=1 << 16, pipeline=None, engine=None):
        self.params = params = as_params(params)
        self.engine = _make_engine(params, pipeline) if engine is None else engine
        for name, want in (("i", P.tile_bits(params)), ("o", P.result_bits(params))):
            got = len(Value.cast(getattr(self.engine, name).payload))
            if got != want:
                raise ValueError(f"engine.{name} payload is {got} bits, the protocol expects "
                                 f"{want} for {params}")
        self.link = Link(params, divisor=divisor, timeout=timeout,
                         latency=int(getattr(self.engine, "latency", 0)))
        super().__init__({
            "rx": In(1, init=1),
            "tx": Out(1, init=1),
            "activity": Out(1),
            "error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.link = link = self.link
        m.submodules.engine = eng = self.engine
        m.d.comb += [
            link.rx.eq(self.rx),
            self.tx.eq(link.tx),
            eng.i.valid.eq(link.tile.valid),
            eng.i.payload.eq(link.tile.payload),
            link.tile.ready.eq(eng.i.ready),
            link.result.valid.eq(eng.o.valid),
            link.result.payload.eq(Value.cast(eng.o.payload)),
            eng.o.ready.eq(link.result.ready),
            eng.cfg_group_size.eq(link.cfg_group_size),
            eng.err_clear.eq(link.err_clear),
            link.engine_err.eq(eng.err),
            link.engine_busy.eq(eng.busy),
            self.activity.eq(eng.busy | link.tile.valid),
            self.error.eq(eng.err != 0),
        ]
        return m


class BoardTop(Elaboratable):
    """:class:`LinkedEngine` on a board: UART resource 0, LED 0 = activity, LED 1 = error.

    Parameters
    ----------
    params : RAEParams
        Engine parameters.
    baud : int
        UART bit rate; the divisor comes from the platform's default clock.
    pipeline : str or Pipeline, optional
        Pipeline setting of the engine; ``"default"`` if omitted.
    """

    def __init__(self, params, *, baud=115200, pipeline=None):
        self.params = params
        self.baud = baud
        self.pipeline = pipeline

    def elaborate(self, platform):
        from .uart import divisor_for
        m = Module()
        clk_freq = platform.default_clk_frequency
        divisor = divisor_for(clk_freq, self.baud)
        m.submodules.core = core = LinkedEngine(self.params, divisor=divisor,
                                                timeout=int(clk_freq // 100),  # 10 ms
                                                pipeline=self.pipeline)
        uart = platform.request("uart", 0, dir="-")
        m.submodules.uart_rx = rx = io.Buffer("i", uart.rx)
        m.submodules.uart_tx = tx = io.Buffer("o", uart.tx)
        m.submodules.led_activity = activity = io.Buffer("o", platform.request("led", 0, dir="-"))
        m.submodules.led_error = error = io.Buffer("o", platform.request("led", 1, dir="-"))
        m.d.comb += [core.rx.eq(rx.i), tx.o.eq(core.tx),
                     activity.o.eq(core.activity), error.o.eq(core.error)]
        return m
