"""The conventional INT32 PSUM buffer: the baseline the area report compares the RAE with.

It keeps every partial sum at full ``psum_bits`` precision in one memory and accumulates by
read-add-write; only the final sum of an address is quantized, once, with the same ``Q_e``
(rounding rule and saturation) as the engine. It takes the same tile stream and gives the
same result stream as :class:`apsq_rae.hdl.rae.RAE`, so both can sit in the same place of an
accelerator.

Like the engine it has pipeline settings, so that the area report can compare the two at a
matched clock: ``"min"`` and ``"default"`` are the one-clock read-add-write loop, ``"max"``
registers the memory read, the sum and the quantizer's shifter, and forwards the sums still in
flight to a tile of the same address (see :class:`Baseline`).
"""

from amaranth.hdl import (Cat, Const, MemoryData, MemoryInstance, Module, Mux, Signal, signed,
                          unsigned)
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import ReadPort, WritePort
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from ._checks import check_bool, check_int, check_rounding, quiet_on_error
from .params import as_params
from .quantizer import Quantizer
from .rae import result_layout, tile_layout  # the same streams as the engine
from .results import ResultFIFO


__all__ = ["Baseline", "BaselineQuantizer", "PIPELINES"]


#: The pipeline settings of :class:`Baseline` (the engine's names) and the knobs each sets:
#: ``(read_register, add_register, quantizer_levels_per_stage)``. ``"min"`` is ``"default"``:
#: the one-clock loop has no register that could be taken out.
PIPELINES = {
    "min":     (False, False, 0),
    "default": (False, False, 0),
    "max":     (True, True, 1),
}

#: Clocks by which the pipelined baseline's credit check lags its count of owed results
#: (``credit_ok`` is a register), as in the engine.
_CREDIT_CHECK_AGE = 1


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
    apart: one write port and one synchronous read port, transparent to it or not.

    Parameters
    ----------
    shape : ShapeLike
        Shape of a row.
    depth : int
        Rows (>= 1).
    transparent : bool
        The read port shows the write of the same edge to the same row (a bypass in front of
        the read register); ``False`` is a plain SRAM read, which shows the row as it was
        before that edge.

    Members
    -------
    wr : Out(WritePort.Signature(addr_width=ceil_log2(depth), shape=shape))
        Write port: ``data`` is written at ``addr`` on an edge with ``en``.
    rd : Out(ReadPort.Signature(addr_width=ceil_log2(depth), shape=shape))
        Read port: ``data`` shows the row at ``addr`` from an edge with ``en`` on, with the
        write of that edge to the same row if ``transparent``.
    """

    @quiet_on_error
    def __init__(self, shape, depth, *, transparent=True):
        check_int("depth", depth, 1)
        self.shape = shape
        self.depth = depth
        self.transparent = bool(transparent)
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
                      transparent_for=(wr,) if self.transparent else ())
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


def _ctrl_layout(params):
    # What the pipelined baseline carries along with a tile, besides its data.
    return data.StructLayout({
        "first": unsigned(1),     # step 0: starts a new sum
        "last":  unsigned(1),
        "ok":    unsigned(1),     # addr < rows (else dropped: no write, no result)
        "addr":  unsigned(params.addr_bits),
        "exp":   unsigned(params.exp_bits),
    })


class Baseline(wiring.Component):
    """Conventional PSUM buffer: ``psum_bits``-wide read-add-write accumulator.

    Every address keeps its running sum ``sum_i Tp_i`` at ``psum_bits`` bits (two's-complement
    wrap, like an INT32 accumulator). Step 0 of an address starts a new sum; the tile with
    ``last`` set adds its ``Tp`` and the sum is quantized once, ``Q_e`` with that tile's
    exponent, giving ``(addr, exp, sat, data)`` on the result stream. There is no group size:
    all ``rows`` addresses are always available. A tile with ``addr >= rows`` is dropped and sets
    ``err`` bit 1 (only possible when ``rows < 2**addr_bits``). Results leave in the order in
    which their ``last`` tiles arrived.

    Throughput is one tile per clock for any address order, back-to-back tiles of one address
    included, whenever ``out_ready = 1``, at every pipeline setting:

    - ``"default"`` (and ``"min"``, the same design: it has no register that could go): the
      read-add-write loop takes one clock. The memory's read port is transparent to its write
      port, so back-to-back tiles of the same address see each other; the quantizer has no
      register, and an output register holds the result. ``out_ready = 0`` stalls the loop
      (``in_ready`` then follows ``out_ready`` when a ``last`` tile waits). Latency 2.
    - ``"max"``: registers on the memory read (``read_register``), between the adder and the
      write (``add_register``) and after every level of the quantizer's shifter
      (``quantizer_levels_per_stage = 1``: the engine's
      :class:`~apsq_rae.hdl.quantizer.Quantizer` with ``in_bits = psum_bits``). The read is
      then issued before the writes of the tiles still in flight have landed, so the sums of
      those tiles are **forwarded**: a vector of address matches, compared one clock ahead,
      selects the newest in-flight sum of the same address instead of the stale memory data
      (see ``_elaborate_pipelined``). The datapath never stalls: as in the engine, ``in_ready``
      is a registered credit check and the results wait in a result FIFO as deep as the
      results that can be owed, so ``out_ready`` reaches only the FIFO and the credit counter.
      Latency ``exp_bits + 6``: 3 clocks to the write (memory read, read register, add
      register), ``exp_bits + 2`` in the quantizer, 1 in the FIFO (11 at the spec defaults).

    The three knobs can also be set one by one (each overrides the setting's value); any knob
    on gives the pipelined, forwarding design, all off gives the one-clock design.

    Parameters
    ----------
    params : RAEParams, optional
        Engine parameters, the spec defaults if omitted; the baseline uses ``lanes``,
        ``psum_bits``, ``q_bits``, ``exp_bits``, ``step_bits``, ``rounding`` and, for the address
        width, ``depth * max_group_size``.
    pipeline : str
        ``"min"``, ``"default"`` or ``"max"``: the setting the knobs are taken from (the
        engine's names; :data:`PIPELINES` lists the knobs of each).
    read_register : bool or None
        Register the memory's read data once more before the adder (one clock). ``None``: as
        ``pipeline`` says.
    add_register : bool or None
        Register the sum between the adder and the memory write and quantizer (one clock).
        ``None``: as ``pipeline`` says.
    quantizer_levels_per_stage : int or None
        ``0``: combinational quantizer (the one-clock design's :class:`BaselineQuantizer`);
        ``N >= 1``: the engine's pipelined quantizer with a register after every ``N`` levels
        of its shifter (``ceil(exp_bits / N) + 2`` clocks). ``None``: as ``pipeline`` says.
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
    pipeline, read_register, add_register, quantizer_levels_per_stage
        The setting and the knobs it resolved to.
    latency : int
        Clocks from the edge accepting a ``last`` tile to the edge where its result can be
        taken (``out_ready = 1``, nothing else in flight), as spec section 5.4 defines the
        engine's: 2 for ``"default"``.
    """

    #: Forward in-flight sums in the pipelined design. Only a test turns this off, to show
    #: that its forwarding tests fail without it.
    _forward = True

    @quiet_on_error
    def __init__(self, params=None, *, pipeline="default", read_register=None,
                 add_register=None, quantizer_levels_per_stage=None, rows=None):
        params = as_params(params)
        if not isinstance(pipeline, str) or pipeline not in PIPELINES:
            raise ValueError(f"pipeline = {pipeline!r} is not a pipeline setting "
                             f"(legal: {', '.join(PIPELINES)})")
        preset = PIPELINES[pipeline]
        if read_register is None:
            read_register = preset[0]
        if add_register is None:
            add_register = preset[1]
        if quantizer_levels_per_stage is None:
            quantizer_levels_per_stage = preset[2]
        check_bool("read_register", read_register)
        check_bool("add_register", add_register)
        check_int("quantizer_levels_per_stage", quantizer_levels_per_stage, 0)
        if rows is None:
            rows = params.depth * params.max_group_size
        check_int("rows", rows, 1, 1 << params.addr_bits)
        self.params = params
        self.rows = rows
        self.pipeline = pipeline
        self.read_register = read_register
        self.add_register = add_register
        self.quantizer_levels_per_stage = quantizer_levels_per_stage
        super().__init__({
            "i": In(stream.Signature(tile_layout(params))),
            "o": Out(stream.Signature(result_layout(params))),
            "busy": Out(1),
            "err": Out(2),
            "err_clear": In(1),
        })

    # Pipeline bookkeeping of the pipelined design. A tile accepted on edge 0 is at stage ``k``
    # in the clock after edge ``k - 1`` (stage 1: the memory's read data of its address shows).
    # It is added at stage ``_add_stage``, its sum written at stage ``_write_stage`` (on the
    # edge leaving it), and its result pushed into the result FIFO from stage
    # ``_write_stage + _quant_latency``. The one-clock design fits the same numbers (add and
    # write at stage 1, no quantizer register; its output register is the FIFO's clock).

    @property
    def _pipelined(self):
        return (self.read_register or self.add_register or
                self.quantizer_levels_per_stage > 0)

    @property
    def _add_stage(self):
        return 1 + self.read_register

    @property
    def _write_stage(self):
        return self._add_stage + self.add_register

    @property
    def _quant_latency(self):
        if self.quantizer_levels_per_stage == 0:
            return 0
        return Quantizer.pipeline_latency(self.params.exp_bits, self.quantizer_levels_per_stage)

    @property
    def _result_depth(self):
        # Result FIFO slots for full rate (the engine's rule): a result is owed from the edge
        # that accepts its tile to the edge that takes it, ``latency`` edges, so at one result
        # per clock ``latency`` are owed at once; the credit check is ``_CREDIT_CHECK_AGE``
        # clocks old, and one more slot is for the tile it lets in.
        return self.latency + _CREDIT_CHECK_AGE + 1

    @property
    def latency(self):
        """Clocks from the edge accepting a ``last`` tile to the edge where its result can be
        taken: the stages to the write, the quantizer's registers, and the output register (or
        the result FIFO's clock)."""
        return self._write_stage + self._quant_latency + ResultFIFO.pipeline_latency()

    def elaborate(self, platform):
        if self._pipelined:
            return self._elaborate_pipelined()
        return self._elaborate_one_clock()

    def _elaborate_one_clock(self):
        # The "min" / "default" design (its RTLIL is kept byte-identical across changes).
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

    def _elaborate_pipelined(self):
        # The "max" design, or any knob set with one knob on. Every register shifts on every
        # clock (no enables): ``in_ready`` is a credit check, so the datapath never stalls.
        p = self.params
        m = Module()
        a = self._add_stage
        w = self._write_stage
        lq = self._quant_latency
        sums_layout = data.ArrayLayout(signed(p.psum_bits), p.lanes)

        # A plain SRAM read (no bypass around the memory): forwarding below covers every write
        # the read misses.
        m.submodules.bank = bank = _Bank(sums_layout, self.rows, transparent=False)
        wr, rd = bank.wr, bank.rd
        m.submodules.adder = adder = _Adder(p.psum_bits, p.lanes)
        if lq:
            m.submodules.quantizer = quant = Quantizer(
                lanes=p.lanes, in_bits=p.psum_bits, q_bits=p.q_bits, exp_bits=p.exp_bits,
                rounding=p.rounding, levels_per_stage=self.quantizer_levels_per_stage)
            assert quant.latency == lq
            quant_sat = quant.any_sat
        else:
            m.submodules.quantizer = quant = BaselineQuantizer(
                width=p.psum_bits, q_bits=p.q_bits, exp_bits=p.exp_bits, lanes=p.lanes,
                rounding=p.rounding)
            quant_sat = quant.sat
        m.submodules.results = results = ResultFIFO(result_layout(p), depth=self._result_depth)

        # ---- Input port: in_ready is a register (the credit check below).
        tile = self.i.payload
        credit_ok = Signal(init=1)
        m.d.comb += self.i.ready.eq(credit_ok)
        accept = self.i.valid & self.i.ready
        in_ok = (tile.addr < self.rows) if self.rows < (1 << p.addr_bits) else Const(1)

        # ---- Stages 1 .. n_ctrl: valid and control fields (addresses up to the oldest stage
        # whose sum is forwarded, the rest up to the quantizer's output); the tile data up to
        # the adder. Stage k is stage k-1 one clock later.
        n_ctrl = max(a + w - 1, w + lq)
        valid = [None] + [Signal(name=f"valid{k}") for k in range(1, n_ctrl + 1)]
        ctrl = [None] + [Signal(_ctrl_layout(p), name=f"ctrl{k}", reset_less=True)
                         for k in range(1, n_ctrl + 1)]
        tp = [None] + [Signal(sums_layout, name=f"tp{k}", reset_less=True)
                       for k in range(1, a + 1)]
        m.d.sync += [
            valid[1].eq(accept),
            ctrl[1].first.eq(tile.step == 0),
            ctrl[1].last.eq(tile.last),
            ctrl[1].ok.eq(in_ok),
            ctrl[1].addr.eq(tile.addr),
            ctrl[1].exp.eq(tile.exp),
            tp[1].eq(tile.data),
        ]
        for k in range(2, n_ctrl + 1):
            m.d.sync += [valid[k].eq(valid[k - 1]), ctrl[k].eq(ctrl[k - 1])]
        for k in range(2, a + 1):
            m.d.sync += tp[k].eq(tp[k - 1])

        def writes(k):
            # The tile at stage k writes its sum (at stage w; a ``last`` tile writes nothing).
            return valid[k] & ctrl[k].ok & ~ctrl[k].last

        # ---- Read: addressed by the port on the accepting edge, so the stored sum shows at
        # stage 1, or at stage 2 through the read register.
        m.d.comb += [rd.addr.eq(tile.addr), rd.en.eq(1)]
        read_data = rd.data
        if self.read_register:
            read_data = Signal(sums_layout, name="read_data", reset_less=True)
            m.d.sync += read_data.eq(rd.data)

        # ---- Forwarding. The read of a tile T (edge 0) sees the writes of edges before 0. A
        # tile P accepted d clocks before T writes on edge w - d, so T's read misses the writes
        # of the w tiles before it (d = 1 .. w). When T is at stage a, such a P is at stage
        # a + d: still in the pipeline (a + d <= w, its sum in ``sums[a + d]``, the add
        # register) or already written (a + d > w, its sum kept in ``sums[a + d]`` for this
        # alone). The newest writing tile of T's address (smallest d) holds the sum the memory
        # would give T with no pipeline; none means the memory data is right. T's address is
        # compared with stages a .. a+w-1 one clock ahead (at stage a-1, the port when a = 1)
        # and the match vector is registered, so the adder's operand is a priority multiplexer
        # on flip-flops. Every stage shifts on every clock, so the tile compared at stage
        # a - 1 + d is at a + d when T is at a.
        sums = [None] * (a + 1) + [Signal(sums_layout, name=f"sum{k}", reset_less=True)
                                   for k in range(a + 1, a + w + 1)]
        m.d.sync += sums[a + 1].eq(adder.sums)
        for k in range(a + 2, a + w + 1):
            m.d.sync += sums[k].eq(sums[k - 1])
        t_addr = tile.addr if a == 1 else ctrl[a - 1].addr
        match = Signal(w, name="fwd_match", reset_less=True)     # bit d-1: stage a + d matches
        m.d.sync += match.eq(Cat(writes(k) & (ctrl[k].addr == t_addr) for k in range(a, a + w)))
        stored = Signal(sums_layout, name="stored")
        if self._forward:
            with m.If(match[0]):
                m.d.comb += stored.eq(sums[a + 1])
            for d in range(2, w + 1):
                with m.Elif(match[d - 1]):
                    m.d.comb += stored.eq(sums[a + d])
            with m.Else():
                m.d.comb += stored.eq(read_data)
        else:
            m.d.comb += stored.eq(read_data)

        # ---- Add at stage a, write at stage w (from the add register if there is one).
        wr_sums = adder.sums if w == a else sums[w]
        m.d.comb += [
            adder.first.eq(ctrl[a].first),
            adder.stored.eq(stored),
            adder.data.eq(tp[a]),
            wr.addr.eq(ctrl[w].addr),
            wr.data.eq(wr_sums),
            wr.en.eq(writes(w)),
            quant.x.eq(wr_sums),
            quant.exp.eq(ctrl[w].exp),
        ]

        # ---- Result: the quantizer's output at stage w + lq into the result FIFO.
        r = w + lq
        result = results.w.payload
        m.d.comb += [
            results.w.valid.eq(valid[r] & ctrl[r].ok & ctrl[r].last),
            result.addr.eq(ctrl[r].addr),
            result.exp.eq(ctrl[r].exp),
            result.sat.eq(quant_sat),
            result.data.eq(quant.q),
        ]
        wiring.connect(m, results.r, wiring.flipped(self.o))

        # ---- Credits (the engine's scheme): a result is owed from the edge that accepts its
        # tile to the edge that takes it; the port takes a tile only while a registered check
        # says a FIFO slot is free, whatever the tile (in_ready cannot look at ``last``).
        outstanding = Signal(range(results.capacity + 1))
        owe = accept & tile.last & in_ok
        paid = self.o.valid & self.o.ready
        with m.If(owe & ~paid):
            m.d.sync += outstanding.eq(outstanding + 1)
        with m.Elif(paid & ~owe):
            m.d.sync += outstanding.eq(outstanding - 1)
        m.d.sync += credit_ok.eq(outstanding < results.capacity - _CREDIT_CHECK_AGE)

        # ---- Errors and busy.
        with m.If(accept & ~in_ok):
            m.d.sync += self.err[1].eq(1)
        with m.Elif(self.err_clear):
            m.d.sync += self.err.eq(0)
        m.d.comb += self.busy.eq(Cat(valid[1:r + 1]).any() | (outstanding != 0))
        return m
