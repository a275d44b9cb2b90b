"""The Reconfigurable APSQ Engine (RAE): top level with stream interfaces (spec sections 3 to 5).

Block diagram (one tile enters per clock)::

    i (tile) ──► TileDecoder ──► IssueQueue ──► issue: BankSelect ─────► Banks read (all banks, row)
                 (row, group,     (a few tiles, hazard flag (registered,     │ read_latency
                  phase, s2,       in_ready     match vectors): a tile       ▼
                  no_read,         from FFs)    that reads stalls while  ShiftDequantizer x G
                  capacity)                     its address is in            │ q << e, masked
                                                flight; credit check         ▼
                                                for results
                         Tp (delayed) ───────────────────────────────►  AdderTree (Tp + G values)
                                                                             │ exact
                                                                             ▼
                                                                         Quantizer (round, sat)
                                                                             │
                                   Banks write (slot p / AP) ◄───────────────┤ write-back stage
                                                                             ▼ last only
                                                                     result FIFO ──► o (result)

The datapath behind the issue point never stalls: the result FIFO is as deep as the results
that can be in flight, and a ``last`` tile is only issued while a credit is free, so
``out_ready`` only reaches the FIFO and the credit counter.
"""

from amaranth.hdl import Assert, Cat, Module, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .adder_tree import AdderTree
from .banks import Banks
from .dequant import ShiftDequantizer
from .mode import BankSelect, TileDecoder, group_size_ok, in_capacity
from ._checks import quiet_on_error
from .params import as_params
from .pipeline import as_pipeline
from .proof import for_proofs, with_invariants
from .quantizer import Quantizer
from .issue import IssueQueue
from .results import ResultFIFO


__all__ = ["RAE", "rae_signature", "tile_layout", "result_layout"]


#: Clocks by which the credit check lags ``outstanding``: ``credit_ok`` is a register.
_CREDIT_CHECK_AGE = 1


def tile_layout(params):
    """Payload of the tile stream: ``addr, step, last, exp, data`` (in this order)."""
    return data.StructLayout({
        "addr": unsigned(params.addr_bits),
        "step": unsigned(params.step_bits),
        "last": unsigned(1),
        "exp":  unsigned(params.exp_bits),
        "data": data.ArrayLayout(signed(params.psum_bits), params.lanes),
    })


def result_layout(params):
    """Payload of the result stream: ``addr, exp, sat, data`` (in this order)."""
    return data.StructLayout({
        "addr": unsigned(params.addr_bits),
        "exp":  unsigned(params.exp_bits),
        "sat":  unsigned(1),
        "data": data.ArrayLayout(signed(params.q_bits), params.lanes),
    })


def _issue_layout(params):
    # What the issue queue holds: the tile's control fields (its data waits in a small memory
    # beside it), plus the tile decoder's outputs.
    G = params.max_group_size
    return data.StructLayout({
        "addr":     unsigned(params.addr_bits),
        "last":     unsigned(1),
        "exp":      unsigned(params.exp_bits),
        "in_range": unsigned(1),
        "row":      range(params.depth),
        "group":    range(G),
        "phase":    range(G),
        "has_ap":   unsigned(1),
        "mode":     unsigned(1),
        "no_read":  unsigned(1),
    })


def _exempt(entry):
    # Issue-queue entries that never wait for the hazard: a tile that reads no bank, and an
    # out-of-range tile (dropped without issuing).
    return entry.no_read | ~entry.in_range


def _stage_layout(params):
    # Side band that travels with a tile through the datapath (data not included).
    return data.StructLayout({
        "valid":   unsigned(1),
        "addr":    unsigned(params.addr_bits),
        "last":    unsigned(1),
        "exp":     unsigned(params.exp_bits),
        "row":     range(params.depth),
        "wr_bank": range(params.max_group_size),
        "sat":     unsigned(1),
    })


def rae_signature(params):
    """The engine's ports (:class:`RAE`'s signature), without building an engine: for
    components that stand in for it or wrap its netlist."""
    p = params
    return wiring.Signature({
        "cfg_group_size": In(p.gs_bits),
        "i":              In(stream.Signature(tile_layout(p))),
        "o":              Out(stream.Signature(result_layout(p))),
        "busy":           Out(1),
        "err":            Out(2),
        "err_clear":      In(1),
    })


class RAE(wiring.Component):
    """Reconfigurable APSQ Engine.

    Parameters
    ----------
    params : RAEParams, optional
        Elaboration parameters. Alternatively pass them as keyword arguments
        (``RAE(lanes=8, max_group_size=2)``); not both.
    pipeline : str or Pipeline, optional
        Where the registers go: a setting name (``"min"``, ``"default"``, ``"max"``) or a
        :class:`~apsq_rae.hdl.pipeline.Pipeline` with the knobs set one by one; ``"default"``
        if omitted. It changes the latency and the clock rate, never the results.
    memory_macro : str, optional
        Build each bank as an instance of this module (an SRAM macro; see
        :class:`~apsq_rae.hdl.banks.Banks`) instead of an Amaranth memory.

    Members
    -------
    cfg_group_size : In(params.gs_bits)
        Run-time group size ``gs``; change it only while ``busy`` is 0 and no address is
        mid-accumulation.
    i : In(stream.Signature(tile_layout(params)))
        Tiles: ``addr``, ``step``, ``last``, ``exp``, ``data`` (lanes x signed ``psum_bits``).
    o : Out(stream.Signature(result_layout(params)))
        Results: ``addr``, ``exp``, ``sat``, ``data`` (lanes x signed ``q_bits``), in the order
        their ``last`` tiles were accepted.
    busy : Out(1)
        An accepted tile has not yet had its full effect, or a result is waiting.
    err : Out(2)
        Sticky. Bit 0: ``cfg_group_size`` is 0 or above ``max_group_size`` (set every clock it
        is; input is refused meanwhile). Bit 1: a tile with ``addr >= capacity(gs)`` was
        accepted (and dropped).
    err_clear : In(1)
        Clears ``err``; a set in the same clock wins.

    Attributes
    ----------
    params : RAEParams
    pipeline : Pipeline
    latency : int
        Clocks from the edge accepting a ``last`` tile to the first edge its result can be
        taken (``out_ready = 1``, nothing else in flight).
    reread_distance : int
        Clocks between the issue of a tile that writes and the earliest issue of a later tile
        of its address that reads the banks (``latency - 2`` at ``min`` and ``default``; one
        more with ``bank_write_register``, one fewer with ``result_write_register``, so
        ``latency - 3`` at ``max``).
    """

    @quiet_on_error
    def __init__(self, params=None, *, pipeline=None, memory_macro=None, **kwargs):
        self.params = p = as_params(params, **kwargs)
        self.pipeline = as_pipeline(pipeline)
        self.memory_macro = memory_macro
        super().__init__(dict(rae_signature(p).members))

    # Pipeline bookkeeping: stage 0 is the clock after issue; the bank rows are visible at
    # stage ``_read_latency - 1``; the last stage ("write-back") writes the banks and pushes the
    # result FIFO. Every latency is the owning component's, computed from the arguments it will
    # be built with (``latency`` is used without elaborating).

    @staticmethod
    def _stage_latencies(params, pipeline):
        """``(bank read, dequantizer, adder tree, quantizer)`` latencies of an engine with these
        parameters and pipeline setting, each its component's own."""
        p, pipe = as_params(params), as_pipeline(pipeline)
        return (Banks.pipeline_read_latency(pipe.bank_output_register),
                ShiftDequantizer.pipeline_latency(p.exp_bits, pipe.shift_levels_per_stage),
                AdderTree.pipeline_latency(p.max_group_size, pipe.tree_levels_per_stage,
                                           pipe.tree_input_register),
                Quantizer.pipeline_latency(p.exp_bits, pipe.shift_levels_per_stage,
                                           pipe.quantizer_stages))

    @property
    def _read_latency(self):
        return self._stage_latencies(self.params, self.pipeline)[0]

    @property
    def _dequant_latency(self):
        return self._stage_latencies(self.params, self.pipeline)[1]

    @property
    def _tree_latency(self):
        return self._stage_latencies(self.params, self.pipeline)[2]

    @property
    def _quant_latency(self):
        return self._stage_latencies(self.params, self.pipeline)[3]

    @staticmethod
    def pipeline_stages(params=None, pipeline=None):
        """Datapath stages from issue to write-back (bank read, dequantizer, adder tree,
        quantizer) of an engine with these parameters and pipeline setting, without building
        one."""
        return sum(RAE._stage_latencies(params, pipeline))

    @staticmethod
    def pipeline_latency(params=None, pipeline=None):
        """:attr:`latency` of an engine with these parameters and pipeline setting, without
        building one."""
        pipe = as_pipeline(pipeline)
        return (int(pipe.decode_register) +
                IssueQueue.pipeline_latency(pipe.queue_input_register) +
                RAE.pipeline_stages(params, pipe) +
                ResultFIFO.pipeline_latency(pipe.result_write_register))

    @property
    def _n_stages(self):
        return self.pipeline_stages(self.params, self.pipeline)

    @property
    def _n_watched(self):
        # Stages the issue queue watches for a reading tile: the datapath stages and the clocks a
        # registered bank write takes to land, less the last of them with the banks' bypass (its
        # write lands on the edge that reads, and the bypass hands the new row to that read).
        return (self._n_stages + Banks.pipeline_write_latency(self.pipeline.bank_write_register)
                - int(self.pipeline.bank_bypass))

    @property
    def _result_depth(self):
        # Result FIFO slots for full rate. A ``last`` tile's result is owed (counted in
        # ``outstanding``) from the edge that issues it to the edge that takes it: through the
        # datapath stages, then the FIFO's latency; at one result per clock that many are owed
        # at once. The credit check sees ``outstanding`` ``_CREDIT_CHECK_AGE`` clocks old, so it
        # keeps that many slots for tiles issued since, and one for the tile it lets issue.
        owed = self._n_stages + ResultFIFO.pipeline_latency(self.pipeline.result_write_register)
        return owed + _CREDIT_CHECK_AGE + 1

    @property
    def latency(self):
        """Clocks from accepting a ``last`` tile to its result being takeable: the decoder's
        register if there is one + the issue queue's latency (input register, head) + the
        datapath stages (bank read, dequantizer, adder tree, quantizer) + the result FIFO's
        latency."""
        return self.pipeline_latency(self.params, self.pipeline)

    @property
    def reread_distance(self):
        """Clocks from the issue of a tile that writes the banks to the first clock at which a
        later tile of its address that reads them can issue: the datapath stages, the clocks
        its registered write takes to land, and one more unless the banks' bypass lets a read
        on the edge that writes the row see the new row. A tile that reads nothing does not
        wait."""
        return self._n_watched + 1

    def capacity(self, group_size):
        """Addresses held at once with run-time group size ``group_size``."""
        return self.params.capacity(group_size)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        G = p.max_group_size
        n_stages = self._n_stages
        d_lat = self._dequant_latency
        pipe = self.pipeline
        lps = pipe.shift_levels_per_stage
        r = self._read_latency - 1            # stage at which the bank rows are visible

        m.submodules.decoder = decoder = TileDecoder(p, register=pipe.decode_register)
        m.submodules.select = select = BankSelect(p)
        m.submodules.banks = banks = Banks(p, output_register=pipe.bank_output_register,
                                           write_register=pipe.bank_write_register,
                                           macro=self.memory_macro, bypass=pipe.bank_bypass)
        assert banks.read_latency == self._read_latency
        # The queue also watches the clocks a registered bank write takes to land.
        w_lat = banks.write_latency
        # A tile that reads no bank (``no_read``) has no read-after-write hazard: it is exempt
        # from the wait, but stays in every match vector (docs/design.md, hazards). So is an
        # out-of-range tile, which is dropped without issuing.
        # With the banks' bypass, the last of them lands on the edge that would read it, which
        # the bypass covers, so the queue watches one stage less (``_n_watched``).
        m.submodules.queue = queue = IssueQueue(_issue_layout(p), n_stages=self._n_watched,
                                                input_register=pipe.queue_input_register,
                                                exempt=_exempt)
        dequant = []
        for b in range(G):
            dequant.append(ShiftDequantizer(lanes=p.lanes, q_bits=p.q_bits, exp_bits=p.exp_bits,
                                            levels_per_stage=lps,
                                            select_lanes=pipe.shift_select_lanes))
            m.submodules[f"dequant{b}"] = dequant[-1]
        m.submodules.tree = tree = AdderTree(lanes=p.lanes, tp_bits=p.psum_bits,
                                             term_bits=p.deq_bits, n_terms=G,
                                             levels_per_stage=pipe.tree_levels_per_stage,
                                             input_register=pipe.tree_input_register)
        m.submodules.quant = quant = Quantizer(lanes=p.lanes, in_bits=tree.sum_bits,
                                               q_bits=p.q_bits, exp_bits=p.exp_bits,
                                               rounding=p.rounding, levels_per_stage=lps,
                                               round_stages=pipe.quantizer_stages,
                                               select_lanes=pipe.shift_select_lanes)
        assert tree.latency == self._tree_latency and quant.latency == self._quant_latency
        m.submodules.results = results = ResultFIFO(
            result_layout(p), depth=self._result_depth,
            write_register=pipe.result_write_register)

        # ---- Input port: decode, refuse while the configuration is illegal.
        tile = self.i.payload
        # The issue stage sees the group size one clock late: ``take`` then starts at flip-flops
        # instead of at the port's group-size check. A head was accepted at least one clock
        # earlier under the same group size (it changes only while ``busy`` is 0), so only a
        # change against that rule sees the lag (docs/design.md, errors). The decoder's register
        # selects its candidates by the same register.
        issue_gs = Signal.like(self.cfg_group_size, name="issue_gs")
        issue_cfg_ok = Signal(name="issue_cfg_ok")
        m.d.comb += [
            decoder.group_size.eq(issue_gs if pipe.decode_register else self.cfg_group_size),
            decoder.addr.eq(tile.addr),
            decoder.step.eq(tile.step),
            decoder.last.eq(tile.last),
        ]
        front = []                            # entries in front of the queue (for the proofs)
        if not pipe.decode_register:
            cfg_ok, in_range = decoder.cfg_ok, decoder.in_range
            m.d.comb += [
                self.i.ready.eq(queue.i.ready & cfg_ok),
                queue.i.valid.eq(self.i.valid & cfg_ok),
                queue.i.payload.addr.eq(tile.addr),
                queue.i.payload.last.eq(tile.last),
                queue.i.payload.exp.eq(tile.exp),
            ]
        else:
            # The tile waits one clock in the decoder's register (``decoded``, the decoder's
            # candidates beside it), which loads whenever it is empty or its tile moves into the
            # queue: a register of a stream with ``ready`` passed through, full rate, and
            # ``i.ready`` still from flip-flops (the queue's ready is). The port's checks are
            # formed here again from the port's group size.
            cfg_ok = group_size_ok(self.cfg_group_size, G)
            in_range = in_capacity(tile.addr, self.cfg_group_size, p)
            decoded_valid = Signal()
            decoded = Signal(data.StructLayout({"addr": unsigned(p.addr_bits),
                                                "last": unsigned(1),
                                                "exp": unsigned(p.exp_bits)}),
                             name="decoded", reset_less=True)
            load = ~decoded_valid | queue.i.ready
            m.d.comb += [
                decoder.en.eq(load),
                self.i.ready.eq(load & cfg_ok),
                queue.i.valid.eq(decoded_valid),
                queue.i.payload.addr.eq(decoded.addr),
                queue.i.payload.last.eq(decoded.last),
                queue.i.payload.exp.eq(decoded.exp),
            ]
            with m.If(load):
                m.d.sync += [decoded_valid.eq(self.i.valid & cfg_ok), decoded.addr.eq(tile.addr),
                             decoded.last.eq(tile.last), decoded.exp.eq(tile.exp)]
            front.append((decoded_valid, queue.i.payload, None))
        m.d.comb += [
            queue.i.payload.in_range.eq(decoder.in_range),
            queue.i.payload.row.eq(decoder.row),
            queue.i.payload.group.eq(decoder.group),
            queue.i.payload.phase.eq(decoder.phase),
            queue.i.payload.has_ap.eq(decoder.has_ap),
            queue.i.payload.mode.eq(decoder.mode),
            queue.i.payload.no_read.eq(decoder.no_read),
        ]

        # ---- Error flags.
        accepted = self.i.valid & self.i.ready
        set_err = Cat(~cfg_ok, accepted & ~in_range)
        with m.If(self.err_clear):
            m.d.sync += self.err.eq(set_err)
        with m.Else():
            m.d.sync += self.err.eq(self.err | set_err)

        # ---- Issue: hazard and credit checks one or two registers after the port.
        # The issue queue keeps, for each tile it holds, which pipeline stages hold its address
        # (compared on the way in) and gives the head's hazard flag as a register, so ``take``
        # is one LUT level (five inputs) from flip-flops: the queue's ``clear`` (valid, no
        # hazard), the registered group-size check, the head's ``in_range`` and ``last`` and
        # the credit check. A tile that reads no bank never has a hazard (the flag is 0 for
        # it), so it issues behind an earlier tile of its address without waiting: writes land
        # in issue order. An out-of-range tile has none either, and needs no credit: it is
        # taken and dropped.
        stages = [Signal(_stage_layout(p), name=f"stage{s}") for s in range(n_stages)]
        # Stages whose tile has not yet written its row: the datapath, and the registered write
        # while it lands (a ``last`` tile writes nothing). The last of them writes on the edge
        # that would read the row; with the bypass the banks hand the new row to that read,
        # and the queue watches all but the last.
        watched = list(stages)
        if w_lat:
            landing = Signal(_stage_layout(p), name="landing")
            m.d.sync += [landing.valid.eq(stages[-1].valid & ~stages[-1].last),
                         landing.addr.eq(stages[-1].addr)]
            watched.append(landing)
        queue_watched = watched[:self._n_watched]
        head = queue.o.payload
        m.d.sync += [issue_gs.eq(self.cfg_group_size), issue_cfg_ok.eq(cfg_ok)]
        outstanding = Signal(range(results.capacity + 1))
        credit_ok = Signal()                  # a result slot is free, one clock old
        take = Signal()
        issue = Signal()
        m.d.comb += [
            take.eq(queue.clear & issue_cfg_ok & (~(head.in_range & head.last) | credit_ok)),
            issue.eq(take & head.in_range),
            queue.o.ready.eq(take),
            queue.issue.eq(issue),
            queue.stage_valid.eq(Cat(st.valid for st in queue_watched)),
            banks.rd_en.eq(queue.o.valid),    # read the head's row; used only if it issues
            banks.rd_row.eq(head.row),
            select.group_size.eq(issue_gs),
            select.group.eq(head.group),
            select.phase.eq(head.phase),
            select.has_ap.eq(head.has_ap),
            select.mode.eq(head.mode),
        ]
        m.d.comb += [queue.stage_addr[s].eq(st.addr) for s, st in enumerate(queue_watched)]

        # The wide tile data waits beside the issue queue in a small memory, read in the order
        # the tiles were accepted, so ``take`` only moves a pointer instead of enabling
        # lanes x psum_bits flip-flops. The port's data is written on every clock into the slot
        # after the held tiles, and that slot is kept when the port accepts the tile: no wide
        # write enable at all. So the memory has a slot more than the queue (and the decoder's
        # register) hold, rounded up to a power of two: the pointers wrap by overflowing.
        data_ptr_bits = (queue.capacity + len(front)).bit_length()  # ceil(log2(held + 1))
        m.submodules.tile_data = tile_data = Memory(shape=tile.data.shape(),
                                                    depth=1 << data_ptr_bits, init=[])
        data_wr = tile_data.write_port()
        data_rd = tile_data.read_port(domain="comb")
        data_wp = Signal(data_ptr_bits)
        data_rp = Signal(data_ptr_bits)
        m.d.comb += [
            data_wr.en.eq(1),
            data_wr.addr.eq(data_wp),
            data_wr.data.eq(tile.data),
            data_rd.addr.eq(data_rp),
        ]
        with m.If(accepted):
            m.d.sync += data_wp.eq(data_wp + 1)
        with m.If(take):
            m.d.sync += data_rp.eq(data_rp + 1)

        # ---- Stage 0 side band; every stage then shifts unconditionally.
        rd_mask = [Signal(G, name=f"rd_mask{s}") for s in range(r + 1)]
        tp = [Signal(tile.data.shape(), name=f"tp{s}", reset_less=True)
              for s in range(r + d_lat + 1)]
        m.d.sync += [
            stages[0].valid.eq(issue),
            stages[0].addr.eq(head.addr),
            stages[0].last.eq(head.last),
            stages[0].exp.eq(head.exp),
            stages[0].row.eq(head.row),
            stages[0].wr_bank.eq(select.wr_bank),
            rd_mask[0].eq(select.rd_mask),
            tp[0].eq(data_rd.data),
        ]
        m.d.sync += [rd_mask[s].eq(rd_mask[s - 1]) for s in range(1, r + 1)]
        m.d.sync += [tp[s].eq(tp[s - 1]) for s in range(1, len(tp))]
        for s in range(1, n_stages):
            m.d.sync += stages[s].eq(stages[s - 1])
        # The saturation bits of the values read join the side band where the rows are visible.
        m.d.sync += stages[r + 1].sat.eq(
            Cat(rd_mask[r][b] & banks.rd_data[b].sat for b in range(G)).any())

        # ---- Datapath.
        for b, dq in enumerate(dequant):
            m.d.comb += [
                dq.q.eq(banks.rd_data[b].data),
                dq.exp.eq(banks.rd_data[b].exp),
                dq.en.eq(rd_mask[r][b]),
                tree.terms[b].eq(dq.value),
            ]
        m.d.comb += tree.tp.eq(tp[r + d_lat])
        m.d.comb += [
            quant.x.eq(tree.sum),
            quant.exp.eq(stages[r + d_lat + tree.latency].exp),
        ]

        # ---- Write-back and result.
        wb = stages[-1]
        sat = wb.sat | quant.any_sat
        m.d.comb += [
            banks.wr_en.eq(wb.valid & ~wb.last),
            banks.wr_bank.eq(wb.wr_bank),
            banks.wr_row.eq(wb.row),
            banks.wr_data.data.eq(quant.q),
            banks.wr_data.exp.eq(wb.exp),
            banks.wr_data.sat.eq(sat),
        ]
        result = results.w.payload
        m.d.comb += [
            results.w.valid.eq(wb.valid & wb.last),
            result.addr.eq(wb.addr),
            result.exp.eq(wb.exp),
            result.sat.eq(sat),
            result.data.eq(quant.q),
        ]
        wiring.connect(m, results.r, wiring.flipped(self.o))

        # ---- Credits for the result FIFO (a result is owed from issue until it is taken).
        owe = issue & head.last
        paid = self.o.valid & self.o.ready
        # ``outstanding + 1`` and ``- 1`` are formed from the register alone; ``owe`` (the issue
        # decision) and ``paid`` (the port) only select.
        with m.If(owe & ~paid):
            m.d.sync += outstanding.eq(outstanding + 1)
        with m.Elif(paid & ~owe):
            m.d.sync += outstanding.eq(outstanding - 1)
        # Registered, so ``_CREDIT_CHECK_AGE`` clocks old: leave room for the tiles issued
        # since (see ``_result_depth``).
        m.d.sync += credit_ok.eq(outstanding < results.capacity - _CREDIT_CHECK_AGE)

        # ---- Busy.
        held = queue.busy
        for valid, _, _ in front:
            held = held | valid
        m.d.comb += self.busy.eq(held |
                                 Cat(st.valid for st in watched).any() | (outstanding != 0))

        if for_proofs(platform):
            # The tile data memory's slots, read without a clock, only for the invariants.
            tile_slots = []
            if with_invariants(platform):
                for k in range(1 << data_ptr_bits):
                    port = tile_data.read_port(domain="comb")
                    m.d.comb += port.addr.eq(k)
                    tile_slots.append(port.data)
            platform.record("rae", stages=stages, outstanding=outstanding, queue=queue,
                            results=results, tp=tp, data_rp=data_rp, data_wp=data_wp,
                            tile_slots=tile_slots, landing=landing if w_lat else None,
                            front=front,
                            bypass=pipe.bank_bypass)
        if with_invariants(platform):
            # Invariants for the proofs (docs/formal.md): every result owed is in a datapath
            # stage, in the FIFO's write register or in the FIFO, and never more than the
            # FIFO holds.
            in_flight = sum(st.valid & st.last for st in stages)
            if results.write_register:
                in_flight = in_flight + results.held_valid
            # The issue stage's group size is the port's while the engine is busy (the proofs
            # hold the group size for the whole trace; a tile is accepted one clock after reset
            # at the earliest). Stronger than "while a tile waits", and it makes the write-back
            # proofs several times faster.
            m.d.comb += [
                Assert(outstanding == results.level + in_flight),
                Assert(outstanding <= results.capacity),
                Assert(~self.busy | ((issue_gs == self.cfg_group_size) &
                                     (issue_cfg_ok == cfg_ok))),
            ]
        return m
