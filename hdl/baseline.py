"""The conventional INT32 PSUM buffer: the baseline the area report compares the RAE with.

It keeps every partial sum at full ``psum_bits`` precision in one memory and accumulates by
read-add-write; only the final sum of an address is quantized, once, with the same ``Q_e``
(rounding rule and saturation) as the engine. It takes the same tile stream and gives the
same result stream as :class:`apsq_rae.hdl.rae.RAE`, so both can sit in the same place of an
accelerator.
"""

from amaranth.hdl import Const, Elaboratable, Module, Mux, Signal, signed, unsigned, Cat
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ._checks import check_int, quiet_on_error
from .params import RAEParams
from .rae import result_layout, tile_layout  # the same streams as the engine


__all__ = ["Baseline", "BaselineQuantizer"]


class BaselineQuantizer(Elaboratable):
    """Combinational ``Q_e`` of ``lanes`` signed values (spec section 2).

    Parameters
    ----------
    width : int
        Width of a signed input value.
    q_bits : int
        Width of a signed output value.
    exp_bits : int
        Width of the exponent.
    lanes : int
        Number of values.
    rounding : str
        ``"half_up"``, ``"half_even"`` or ``"trunc"``.

    Members
    -------
    x : Signal array, in
        ``lanes`` signed ``width``-bit values.
    exp : Signal(exp_bits), in
        Exponent ``e``.
    q : Signal array, out
        ``lanes`` signed ``q_bits``-bit results ``Q_e(x)``.
    sat : Signal(1), out
        Some lane saturated.
    """

    def __init__(self, *, width, q_bits, exp_bits, lanes, rounding):
        self.width = width
        self.q_bits = q_bits
        self.exp_bits = exp_bits
        self.lanes = lanes
        self.rounding = rounding
        self.x = Signal(data.ArrayLayout(signed(width), lanes))
        self.exp = Signal(exp_bits)
        self.q = Signal(data.ArrayLayout(signed(q_bits), lanes))
        self.sat = Signal()

    def elaborate(self, platform):
        m = Module()
        qmax = (1 << (self.q_bits - 1)) - 1
        qmin = -(1 << (self.q_bits - 1))
        max_exp = (1 << self.exp_bits) - 1
        sats = []
        for j in range(self.lanes):
            x = self.x[j]
            # y = x / 2**e with one fraction bit: y = floor(2x / 2**e); exact for e = 0 too.
            y = Signal(signed(self.width + 1), name=f"y{j}")
            m.d.comb += y.eq(Cat(Const(0, 1), x).as_signed() >> self.exp)
            r = Signal(signed(self.width + 1), name=f"r{j}")
            if self.rounding == "trunc":
                m.d.comb += r.eq(y >> 1)
            elif self.rounding == "half_up":
                m.d.comb += r.eq((y + 1) >> 1)
            else:  # half_even: round up on a half when a lower dropped bit is set or the LSB is odd
                mask = ((Const(1, 1) << self.exp) - 1)[:max_exp + 1]   # 2**e - 1
                sticky = (x.as_unsigned() & (mask >> 1)) != 0           # bits of x below bit e-1
                up = y[0] & (sticky | y[1])
                m.d.comb += r.eq((y >> 1) + up)
            hi = r > qmax
            lo = r < qmin
            m.d.comb += self.q[j].eq(Mux(hi, qmax, Mux(lo, qmin, r)))
            sats.append(hi | lo)
        m.d.comb += self.sat.eq(Cat(*sats).any())
        return m


class _Bank(Elaboratable):
    """The PSUM memory in a module of its own (``bank``), so that the area report can tell it
    apart; one write port and one read port transparent to it."""

    def __init__(self, shape, depth):
        self.mem = Memory(shape=shape, depth=depth, init=[])
        self.wr = self.mem.write_port()
        self.rd = self.mem.read_port(transparent_for=(self.wr,))

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = self.mem
        return m


class _Adder(Elaboratable):
    """The read-add-write adders in a module of their own (``adder``): ``sums = (first ? 0 :
    stored) + data`` per lane, at ``psum_bits`` (two's-complement wrap)."""

    def __init__(self, psum_bits, lanes):
        self.lanes = lanes
        self.first = Signal()
        self.stored = Signal(data.ArrayLayout(signed(psum_bits), lanes))
        self.data = Signal(data.ArrayLayout(signed(psum_bits), lanes))
        self.sums = Signal(data.ArrayLayout(signed(psum_bits), lanes))

    def elaborate(self, platform):
        m = Module()
        for j in range(self.lanes):
            m.d.comb += self.sums[j].eq(Mux(self.first, 0, self.stored[j]) + self.data[j])
        return m


class Baseline(wiring.Component):
    """Conventional PSUM buffer: ``psum_bits``-wide read-add-write accumulator.

    Every address keeps its running sum ``sum_i Tp_i`` at ``psum_bits`` bits (two's-complement
    wrap, like an INT32 accumulator). Step 0 of an address starts a new sum; the tile with
    ``last`` set adds its ``Tp`` and the sum is quantized once, ``Q_e`` with that tile's
    exponent, giving ``(addr, exp, sat, data)`` on the result stream. There is no group size:
    all ``rows`` addresses are always available. A tile with ``addr >= rows`` is dropped and sets
    ``err`` bit 1 (only possible when ``rows < 2**addr_bits``).

    Throughput is one tile per clock for any address order: the memory's read port is
    transparent to its write port, so back-to-back tiles of the same address see each other.
    ``out_ready = 0`` stalls the pipeline. Latency (accepting edge of a ``last`` tile to the
    edge where its result can be taken) is 1 clock.

    Parameters
    ----------
    params : RAEParams
        Engine parameters; the baseline uses ``lanes``, ``psum_bits``, ``q_bits``, ``exp_bits``,
        ``step_bits``, ``rounding`` and, for the address width, ``depth * max_group_size``.
    rows : int or None
        Addresses held (memory rows). Default ``depth * max_group_size``: the engine's capacity
        at group size 1, i.e. its whole address space.

    Members
    -------
    i : In(stream.Signature(tile_layout(params)))
        Tile stream: ``addr, step, last, exp, data``.
    o : Out(stream.Signature(result_layout(params)))
        Result stream: ``addr, exp, sat, data``.
    busy : Out(1)
        A tile or a result is in the pipeline.
    err : Out(2)
        Sticky; bit 1: a tile with ``addr >= rows`` was accepted (and dropped). Bit 0 is 0.
    err_clear : In(1)
        Clears ``err``; a set in the same clock wins.
    """

    @quiet_on_error
    def __init__(self, params=None, *, rows=None):
        if params is None:
            params = RAEParams()
        if not isinstance(params, RAEParams):
            raise TypeError(f"params must be an RAEParams, not {params!r}")
        if rows is None:
            rows = params.depth * params.max_group_size
        check_int("rows", rows, 1, 1 << params.addr_bits)
        self.params = params
        self.rows = rows
        super().__init__({
            "i": In(stream.Signature(tile_layout(params))),
            "o": Out(stream.Signature(result_layout(params))),
            "busy": Out(1),
            "err": Out(2),
            "err_clear": In(1),
        })

    @property
    def latency(self):
        """Clocks from the edge accepting a ``last`` tile to the edge where its result can be taken."""
        return 1

    def elaborate(self, platform):
        p = self.params
        m = Module()

        m.submodules.bank = bank = _Bank(data.ArrayLayout(signed(p.psum_bits), p.lanes),
                                         self.rows)
        wr, rd = bank.wr, bank.rd
        m.submodules.quantizer = quant = BaselineQuantizer(
            width=p.psum_bits, q_bits=p.q_bits, exp_bits=p.exp_bits, lanes=p.lanes,
            rounding=p.rounding)

        # Stage 1: the tile whose stored sum is on the read port's output.
        s1_valid = Signal()
        s1_first = Signal()
        s1_last = Signal()
        s1_ok = Signal()
        s1_addr = Signal(p.addr_bits)
        s1_exp = Signal(p.exp_bits)
        s1_data = Signal(data.ArrayLayout(signed(p.psum_bits), p.lanes))

        out_free = ~self.o.valid | self.o.ready
        s1_fire = s1_valid & (~s1_last | ~s1_ok | out_free)
        m.d.comb += self.i.ready.eq(~s1_valid | s1_fire)

        accept = self.i.valid & self.i.ready
        in_ok = (self.i.payload.addr < self.rows) if self.rows < (1 << p.addr_bits) else Const(1)
        m.d.comb += [
            rd.addr.eq(self.i.payload.addr),
            rd.en.eq(self.i.ready),
        ]
        with m.If(accept):
            m.d.sync += [
                s1_valid.eq(1),
                s1_first.eq(self.i.payload.step == 0),
                s1_last.eq(self.i.payload.last),
                s1_ok.eq(in_ok),
                s1_addr.eq(self.i.payload.addr),
                s1_exp.eq(self.i.payload.exp),
                s1_data.eq(self.i.payload.data),
            ]
        with m.Elif(s1_fire):
            m.d.sync += s1_valid.eq(0)

        # Read-add-write at psum_bits.
        m.submodules.adder = adder = _Adder(p.psum_bits, p.lanes)
        sums = adder.sums
        m.d.comb += [
            adder.first.eq(s1_first),
            adder.stored.eq(rd.data),
            adder.data.eq(s1_data),
            wr.addr.eq(s1_addr),
            wr.data.eq(sums),
            wr.en.eq(s1_fire & s1_ok & ~s1_last),
            quant.x.eq(sums),
            quant.exp.eq(s1_exp),
        ]

        # Output register.
        with m.If(s1_fire & s1_ok & s1_last):
            m.d.sync += [
                self.o.valid.eq(1),
                self.o.payload.addr.eq(s1_addr),
                self.o.payload.exp.eq(s1_exp),
                self.o.payload.sat.eq(quant.sat),
                self.o.payload.data.eq(quant.q),
            ]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        # Errors and busy.
        with m.If(accept & ~in_ok):
            m.d.sync += self.err[1].eq(1)
        with m.Elif(self.err_clear):
            m.d.sync += self.err.eq(0)
        m.d.comb += self.busy.eq(s1_valid | self.o.valid)
        return m
