"""The conventional INT32 PSUM buffer: the baseline the area report compares the RAE with.

It keeps every partial sum at full ``psum_bits`` precision in one memory and accumulates by
read-add-write; only the final sum of an address is quantized, once, with the same ``Q_e``
(rounding rule and saturation) as the engine. It takes the same tile stream and gives the
same result stream as :class:`apsq_rae.hdl.rae.RAE`, so both can sit in the same place of an
accelerator.
"""

from amaranth.hdl import Cat, Const, MemoryData, MemoryInstance, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import ReadPort, WritePort
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from ._checks import check_int, check_rounding, quiet_on_error
from .params import as_params
from .rae import result_layout, tile_layout  # the same streams as the engine


__all__ = ["Baseline", "BaselineQuantizer"]


class BaselineQuantizer(wiring.Component):
    """Combinational ``Q_e`` of ``lanes`` signed values (spec section 2).

    Parameters
    ----------
    width : int
        Width of a signed input value (>= 2).
    q_bits : int
        Width of a signed output value (2..``width``).
    exp_bits : int
        Width of the exponent (1..6).
    lanes : int
        Number of values (>= 1).
    rounding : str
        ``"half_up"``, ``"half_even"`` or ``"trunc"``.

    Members
    -------
    x : In(ArrayLayout(signed(width), lanes))
        Values to quantize.
    exp : In(exp_bits)
        Exponent ``e``.
    q : Out(ArrayLayout(signed(q_bits), lanes))
        ``Q_e(x)``, in the same clock.
    sat : Out(1)
        Some lane saturated.
    """

    @quiet_on_error
    def __init__(self, *, width, q_bits, exp_bits, lanes, rounding):
        check_int("width", width, 2)
        check_int("q_bits", q_bits, 2, width)
        check_int("exp_bits", exp_bits, 1, 6)
        check_int("lanes", lanes, 1)
        check_rounding(rounding)
        self.width = width
        self.q_bits = q_bits
        self.exp_bits = exp_bits
        self.lanes = lanes
        self.rounding = rounding
        super().__init__({
            "x":   In(data.ArrayLayout(signed(width), lanes)),
            "exp": In(exp_bits),
            "q":   Out(data.ArrayLayout(signed(q_bits), lanes)),
            "sat": Out(1),
        })

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


class _Bank(wiring.Component):
    """The PSUM memory in a module of its own (``bank``), so that the area report can tell it
    apart: one write port and one synchronous read port transparent to it.

    Parameters
    ----------
    shape : ShapeLike
        Shape of a row.
    depth : int
        Rows (>= 1).

    Members
    -------
    wr : Out(WritePort.Signature(addr_width=ceil_log2(depth), shape=shape))
        Write port: ``data`` is written at ``addr`` on an edge with ``en``.
    rd : Out(ReadPort.Signature(addr_width=ceil_log2(depth), shape=shape))
        Read port: ``data`` shows the row at ``addr`` from an edge with ``en`` on, with the
        write of that edge to the same row.
    """

    @quiet_on_error
    def __init__(self, shape, depth):
        check_int("depth", depth, 1)
        self.shape = shape
        self.depth = depth
        addr_width = ceil_log2(depth)
        super().__init__({
            "wr": Out(WritePort.Signature(addr_width=addr_width, shape=shape)),
            "rd": Out(ReadPort.Signature(addr_width=addr_width, shape=shape)),
        })

    def elaborate(self, platform):
        m = Module()
        # The memory primitive on the ports' own signals (what a ``lib.memory.Memory`` turns
        # into), so the module's ports are the memory's, with no second set of port signals.
        mem = MemoryInstance(data=MemoryData(shape=self.shape, depth=self.depth, init=[]))
        wr = mem.write_port(domain="sync", addr=self.wr.addr, data=self.wr.data, en=self.wr.en)
        mem.read_port(domain="sync", addr=self.rd.addr, data=self.rd.data, en=self.rd.en,
                      transparent_for=(wr,))
        m.submodules.mem = mem
        return m


class _Adder(wiring.Component):
    """The read-add-write adders in a module of their own (``adder``): ``sums = (first ? 0 :
    stored) + data`` per lane, at ``psum_bits`` (two's-complement wrap).

    Parameters
    ----------
    psum_bits : int
        Width of a signed value (>= 1).
    lanes : int
        Lanes (>= 1).

    Members
    -------
    first : In(1)
        The tile starts a new sum: ``stored`` is ignored.
    stored : In(ArrayLayout(signed(psum_bits), lanes))
        The running sum read from the memory.
    data : In(ArrayLayout(signed(psum_bits), lanes))
        The tile.
    sums : Out(ArrayLayout(signed(psum_bits), lanes))
        The new running sum, in the same clock.
    """

    @quiet_on_error
    def __init__(self, psum_bits, lanes):
        check_int("psum_bits", psum_bits, 1)
        check_int("lanes", lanes, 1)
        self.psum_bits = psum_bits
        self.lanes = lanes
        layout = data.ArrayLayout(signed(psum_bits), lanes)
        super().__init__({
            "first":  In(1),
            "stored": In(layout),
            "data":   In(layout),
            "sums":   Out(layout),
        })

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
    params : RAEParams, optional
        Engine parameters, the spec defaults if omitted; the baseline uses ``lanes``,
        ``psum_bits``, ``q_bits``, ``exp_bits``, ``step_bits``, ``rounding`` and, for the address
        width, ``depth * max_group_size``.
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

    Attributes
    ----------
    latency : int
        Clocks from the edge accepting a ``last`` tile to the edge where its result can be
        taken: 1 (the output register).
    """

    @quiet_on_error
    def __init__(self, params=None, *, rows=None):
        params = as_params(params)
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
