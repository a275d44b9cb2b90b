"""Storage of the RAE: ``max_group_size`` banks of ``depth`` rows.

A row holds one stored value per lane (signed ``q_bits``), its exponent and its saturation bit.
Each bank is an :class:`amaranth.lib.memory.Memory` with one synchronous read port and one write
port, so Yosys infers block RAM (or LUT RAM for small rows). All banks are read at the same row in
one clock (an APSQ step reads up to ``gs`` slots at once); at most one bank is written per clock.
"""

from amaranth.hdl import Cat, ClockSignal, Instance, Module, Signal, unsigned, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ._checks import quiet_on_error
from .params import as_params
from .proof import with_invariants


__all__ = ["Banks", "row_layout", "macro_ports"]


def row_layout(params):
    """Layout of one bank row: ``data`` (lanes x signed ``q_bits``), ``exp``, ``sat``."""
    return data.StructLayout({
        "data": data.ArrayLayout(signed(params.q_bits), params.lanes),
        "exp":  unsigned(params.exp_bits),
        "sat":  unsigned(1),
    })


def macro_ports(params):
    """Ports of the memory module that ``Banks(macro=...)`` instantiates once per bank, as
    ``[(name, direction, width)]``: a 1R1W synchronous memory of ``depth`` words of
    ``row_layout(params).size`` bits (address ports at least 1 bit wide)."""
    width = row_layout(params).size
    addr = max(1, (params.depth - 1).bit_length())
    return [("clk", "in", 1), ("rd_en", "in", 1), ("rd_addr", "in", addr),
            ("rd_data", "out", width), ("wr_en", "in", 1), ("wr_addr", "in", addr),
            ("wr_data", "in", width)]


class Banks(wiring.Component):
    """The bank array.

    Reads are synchronous: ``rd_data`` shows the rows addressed by ``rd_row`` on the clock edge
    where ``rd_en`` was 1, ``read_latency`` clocks later. A write to the same row of a bank on
    that edge is seen only with ``bypass``.

    Parameters
    ----------
    params : RAEParams, optional
        Elaboration parameters, the spec defaults if omitted (``lanes``, ``q_bits``,
        ``exp_bits``, ``max_group_size``, ``depth`` are used).
    output_register : bool
        Register the read data once more (``read_latency`` 2 instead of 1): takes the block
        RAM's clock-to-output and its routing off the dequantizer's first stage.
    write_register : bool
        Register the write (enable per bank, row, data) before the memories
        (``write_latency`` 1 instead of 0): the row lands one clock after ``wr_en``, and the
        route from the logic that forms it to the block RAMs starts at a flip-flop.
    macro : str, optional
        Instead of an Amaranth memory and its read register, instantiate a module of this
        name per bank (ports :func:`macro_ports`): on a rising edge of ``clk`` with
        ``rd_en``, ``rd_data`` becomes the word at ``rd_addr`` as it was before that edge, and
        holds until the next read; with ``wr_en``, ``wr_data`` is written at ``wr_addr``.
        The same behaviour as without it, with the memory outside the design (an SRAM macro).
    bypass : bool
        A read sees the write to its row that lands on the same edge: the memory returns the
        old row, and a registered select per bank and one data register put the new row in
        its place after the memory's output (and its output register). The block RAMs stay
        simple 1R1W memories that never need their collision behaviour.

    Members
    -------
    rd_en : In(1)
        Read every bank at ``rd_row`` on this edge.
    rd_row : In(range(depth))
        Row to read.
    rd_data : Out(ArrayLayout(row_layout(params), max_group_size))
        Row of every bank, ``read_latency`` clocks after the read.
    wr_en : In(1)
        Write ``wr_data`` to bank ``wr_bank`` at ``wr_row``, ``write_latency`` clocks after
        this edge.
    wr_bank : In(range(max_group_size))
        Bank to write.
    wr_row : In(range(depth))
        Row to write.
    wr_data : In(row_layout(params))
        Row contents.

    Attributes
    ----------
    read_latency : int
        Clocks from the edge with ``rd_en`` to the rows on ``rd_data``: 1, or 2 with
        ``output_register``.
    write_latency : int
        Clocks from the edge with ``wr_en`` to the edge that writes the memory: 0, or 1 with
        ``write_register``.
    """

    @quiet_on_error
    def __init__(self, params=None, *, output_register=False, write_register=False, macro=None,
                 bypass=False):
        self.params = params = as_params(params)
        self.output_register = bool(output_register)
        self.write_register = bool(write_register)
        self.bypass = bool(bypass)
        if macro is not None and not isinstance(macro, str):
            raise TypeError(f"macro = {macro!r} must be a module name (str) or None")
        self.macro = macro
        row = row_layout(params)
        super().__init__({
            "rd_en":   In(1),
            "rd_row":  In(range(params.depth)),
            "rd_data": Out(data.ArrayLayout(row, params.max_group_size)),
            "wr_en":   In(1),
            "wr_bank": In(range(params.max_group_size)),
            "wr_row":  In(range(params.depth)),
            "wr_data": In(row),
        })

    @staticmethod
    def pipeline_read_latency(output_register=False):
        """``read_latency`` of banks with this ``output_register`` (without building them)."""
        return 2 if output_register else 1

    @staticmethod
    def pipeline_write_latency(write_register=False):
        """``write_latency`` of banks with this ``write_register`` (without building them)."""
        return 1 if write_register else 0

    @property
    def read_latency(self):
        """Clocks from a read to its data on ``rd_data``."""
        return self.pipeline_read_latency(self.output_register)

    @property
    def write_latency(self):
        """Clocks from ``wr_en`` to the row being in the memory (0: written on that edge)."""
        return self.pipeline_write_latency(self.write_register)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        G = p.max_group_size
        wr_en = Signal(G)
        m.d.comb += wr_en.eq(Cat(self.wr_en & (self.wr_bank == b) for b in range(G)))
        wr_row, wr_data = self.wr_row, self.wr_data
        if self.write_register:
            wr_en_reg = Signal(G, name="wr_en_reg")
            wr_row = Signal.like(self.wr_row, name="wr_row_reg", reset_less=True)
            wr_data = Signal(row_layout(p), name="wr_data_reg", reset_less=True)
            m.d.sync += [wr_en_reg.eq(wr_en), wr_row.eq(self.wr_row), wr_data.eq(self.wr_data)]
            wr_en = wr_en_reg
        rows = {}
        mem_out = []                  # with the bypass: each bank's row, read_latency clocks after

        def connect(b, row):
            """Bank ``b``'s row from the memory: ``rd_data`` itself, or the bypass's input."""
            if self.bypass:
                mem_out.append(row)
            else:
                m.d.comb += self.rd_data[b].as_value().eq(row)

        for b in range(G):
            if self.macro is not None:
                connect(b, self._macro_bank(m, b, wr_en[b], wr_row, wr_data))
                continue
            # The read is an asynchronous port followed by a register with the read enable,
            # which Yosys merges into a synchronous block RAM port (memory_dff). Only on that
            # path does it honour ``no_rw_check``: the memory's row read on the edge that writes
            # it is never used (the bypass below replaces it, or, without the bypass, the issue
            # stage holds such a tile), so Yosys builds no collision logic of its own around
            # the block RAM. Amaranth and Verilog simulation read the old row.
            bank = m.submodules[f"bank{b}"] = Memory(shape=row_layout(p), depth=p.depth, init=[],
                                                     attrs={"no_rw_check": 1})
            rd = bank.read_port(domain="comb")
            wr = bank.write_port()
            row = Signal(row_layout(p), name=f"row{b}", reset_less=True)
            with m.If(self.rd_en):
                m.d.sync += row.eq(rd.data)
            if self.output_register:
                out = Signal(row_layout(p), name=f"out{b}", reset_less=True)
                m.d.sync += out.eq(row)
                row = out
            connect(b, row.as_value())
            m.d.comb += [
                rd.addr.eq(self.rd_row),
                wr.en.eq(wr_en[b]),
                wr.addr.eq(wr_row),
                wr.data.eq(wr_data),
            ]
            if with_invariants(platform):
                # For the harness's invariants: every row, read without a clock.
                rows[b] = []
                for row in range(p.depth):
                    port = bank.read_port(domain="comb")
                    m.d.comb += port.addr.eq(row)
                    rows[b].append(port.data)
        self._bypass(m, wr_en, wr_row, wr_data, mem_out)
        if with_invariants(platform) and self.macro is None:
            # The write the banks perform on the next edge (registered, or none pending).
            landing = (wr_en, wr_row, wr_data) if self.write_register else None
            platform.record("banks", rows=rows, landing=landing)
        return m

    def _macro_bank(self, m, b, wr_en, wr_row, wr_data):
        p = self.params
        ports = {name: width for name, _, width in macro_ports(p)}
        rd_addr = Signal(ports["rd_addr"], name=f"rd_addr{b}")
        wr_addr = Signal(ports["wr_addr"], name=f"wr_addr{b}")
        rd_data = Signal(ports["rd_data"], name=f"rd_data{b}")
        m.submodules[f"bank{b}"] = Instance(
            self.macro, i_clk=ClockSignal(), i_rd_en=self.rd_en, i_rd_addr=rd_addr,
            o_rd_data=rd_data, i_wr_en=wr_en, i_wr_addr=wr_addr, i_wr_data=wr_data.as_value())
        m.d.comb += [rd_addr.eq(self.rd_row), wr_addr.eq(wr_row)]
        if self.output_register:
            out = Signal(row_layout(p), name=f"out{b}", reset_less=True)
            m.d.sync += out.as_value().eq(rd_data)
            return out.as_value()
        return rd_data

    def _bypass(self, m, wr_en, wr_row, wr_data, mem_out):
        """``rd_data`` from the memories' rows, with the row written on the read edge in place
        of the old one (``bypass``): per bank a flag that the read hit the landing write, and
        one register with the written row (at most one bank is written per edge), both
        following the read like the memory's output. Behind the output register every bank
        gets its own copy of the row, so that the copies can sit beside the banks' consumers
        instead of one register driving them all across the die."""
        if not self.bypass:
            return
        G = self.params.max_group_size
        hit = Signal(G, name="byp_hit")
        row = Signal(row_layout(self.params), name="byp_row", reset_less=True)
        with m.If(self.rd_en):
            m.d.sync += [hit.eq(wr_en & (wr_row == self.rd_row).replicate(G)),
                         row.eq(wr_data)]
        rows = [row] * G
        if self.output_register:
            hit_out = Signal(G, name="byp_hit_out")
            rows = [Signal(row_layout(self.params), name=f"byp_row_out{b}", reset_less=True)
                    for b in range(G)]
            m.d.sync += hit_out.eq(hit)
            for b, copy in enumerate(rows):
                # Loaded only for its own bank (the row matters only then): copies with
                # different enables are not merged back into one by synthesis.
                with m.If(hit[b]):
                    m.d.sync += copy.eq(row)
            hit = hit_out
        for b, out in enumerate(mem_out):
            with m.If(hit[b]):
                m.d.comb += self.rd_data[b].eq(rows[b])
            with m.Else():
                m.d.comb += self.rd_data[b].as_value().eq(out)
