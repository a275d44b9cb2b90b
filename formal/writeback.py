"""The ``arith`` group in the form a proof by induction needs: the engine's arithmetic checked
where each tile leaves the datapath, against the unpipelined reference run one tile behind.

The bounded ``arith`` check of :mod:`apsq_rae.formal.harness` runs the reference in the clock a
tile is accepted and compares results at the port. That form has no inductive invariant short
of describing every in-flight tile's partial sums (docs/formal.md). This one moves the
reference to the write-back stage instead:

- the harness keeps the accepted in-range tiles (payload and step) in a record, oldest first;
- in the clock the write-back stage holds a tile, the record's oldest entry goes into the
  reference (:class:`~apsq_rae.formal.reference.Reference`), so the reference's state of every
  address is exactly what the engine has written back;
- the result the engine writes into its result FIFO must equal the reference's, bit for bit,
  and the results taken at the port must be those, in order.

The invariants tie the harness's state to the engine's, so that every clock's check follows
from the previous clocks' (with an induction depth that covers the datapath stages):

- **banks**: for every address in range, the reference's sum of pending values equals the sum
  of the dequantized rows in the address's pending slots ``0 .. p - 1`` (``p`` the phase of the
  step it expects next), its dequantized AP equals the AP slot's (once there is one), and its
  saturation flag equals the OR of the ``sat`` bits of those slots. This is the abstraction
  between the spec's state (sums) and the engine's (quantized values in bank slots), with the
  mapping of docs/design.md (address ``a`` in bank group ``a div depth``, row ``a mod depth``,
  slot ``s`` in bank ``group * gs + s``, the AP in slot ``gs - 1``);
- **record**: its entries are, oldest first, the tiles in the datapath stages (write-back
  first) and the in-range tiles in the issue queue (head first), then in the decoder's
  register if the pipeline has one; each of those holds the tile decoder's outputs for its tile and its data waits in the tile data memory; each entry's
  step is the one the protocol expected of it;
- **results**: the record of pending results is the result FIFO's words, oldest first, then
  the word in its write register if it has one.

The protocol assumption (steps in order per address from 0) is made from the same state: a
tile's expected step follows the youngest recorded tile of its address, else the reference's
next step. With a registered bank write the banks lag the reference by a clock: the bank
invariant reads every row as it will be once the write still landing has landed, and that
write is tied to the engine's landing register. The invariants do not describe the datapath
registers after the first stage, so the induction depth must cover the datapath stages.
"""

from amaranth.hdl import Array, Assert, Assume, Mux, Signal

from apsq_rae.hdl.banks import row_layout
from apsq_rae.hdl.mode import TileDecoder
from apsq_rae.hdl.rae import tile_layout

from .record import held_tiles, shift_record
from .reference import Reference


__all__ = ["check_at_writeback", "require_behavioural_banks"]


def _expected_step(m, params, reference, entries, count, k_max, addr, name):
    """The step the protocol expects next of ``addr``, given the reference's state and the
    first ``k_max`` recorded tiles (oldest first)."""
    p = params
    step = Signal(p.step_bits + 1, name=name)
    m.d.comb += step.eq(reference.next_steps[addr])
    for k in range(k_max):
        with m.If((k < count) & (entries[k].addr == addr)):
            m.d.comb += step.eq(Mux(entries[k].last, 0, entries[k].step + 1))
    return step


def require_behavioural_banks(inside):
    """Raise ValueError unless the engine's recorded internals (``inside``) hold the banks'
    rows: the write-back form reads every row, and an SRAM macro's rows are outside the
    design."""
    if "banks" not in inside:
        raise ValueError("the write-back form of arith needs behavioural banks (not "
                         "--memories macro)")


def check_at_writeback(m, params, dut, inside, cfg, in_range, accept, take):
    """Add the write-back form of ``arith`` (assumptions, checks and invariants) to ``m``.

    ``dut`` is the engine (elaborated for a :class:`~apsq_rae.hdl.proof.ProofPlatform` with
    invariants, whose ``internals`` are ``inside``); ``cfg`` the group size; ``in_range``,
    ``accept`` and ``take`` the harness's flags for the port's tile and result."""
    p = params
    G = p.max_group_size
    require_behavioural_banks(inside)
    rae = inside["rae"]
    rows = _rows_after_landing(p, inside["banks"])
    stages = list(reversed(rae["stages"]))          # write-back first
    wb = stages[0]
    legal = (cfg >= 1) & (cfg <= G)
    m.d.comb += Assume(legal)                       # the err group covers illegal sizes

    # ---- The record of accepted in-range tiles, and the reference one tile behind.
    n = len(stages) + len(held_tiles(inside)) + 1
    tile = dut.i.payload
    tiles, count = shift_record(m, "tile", tile_layout(p), n, accept & in_range, wb.valid,
                                tile.as_value())
    m.submodules.lazy = ref = Reference(p)
    m.d.comb += [ref.group_size.eq(cfg), ref.accept.eq(wb.valid), ref.tile.eq(tiles[0])]

    # ---- Protocol: each address's steps in order from 0, never wrapping.
    expect = _expected_step(m, p, ref, tiles, count, n, tile.addr, "port_step")
    with m.If(dut.i.valid & in_range):
        m.d.comb += Assume(tile.step == expect)
        with m.If(tile.step == (1 << p.step_bits) - 1):
            m.d.comb += Assume(tile.last)
    capacity = _capacity(m, p, cfg)
    for k in range(n):
        with m.If(k < count):
            step = _expected_step(m, p, ref, tiles, count, k, tiles[k].addr, f"tile{k}_step")
            m.d.comb += Assert(tiles[k].step == step)
            m.d.comb += Assert(tiles[k].addr < capacity)

    # ---- Write-back: the oldest recorded tile, its result the reference's.
    results = rae["results"]
    with m.If(wb.valid):
        m.d.comb += [Assert(count != 0), Assert(wb.addr == tiles[0].addr),
                     Assert(wb.last == tiles[0].last), Assert(wb.exp == tiles[0].exp)]
        with m.If(wb.last):
            m.d.comb += Assert(results.w.payload.as_value() == ref.expected.as_value())

    # ---- Results: pushed at write-back, taken at the port in order.
    word = results.w.payload.as_value()
    # Room for every word the FIFO holds, and the one in its write register if it has one.
    pending, n_pending = shift_record(m, "result", len(word),
                                      results.capacity + 1 + results.write_register,
                                      results.w.valid, take, word)
    with m.If(take):
        m.d.comb += [Assert(n_pending != 0),
                     Assert(dut.o.payload.as_value() == pending[0])]
    with m.If(~dut.busy):
        m.d.comb += [Assert(count == 0), Assert(n_pending == 0)]

    # ---- Invariants.
    _landing_invariants(m, p, rae, inside["banks"], cfg)
    _bank_invariants(m, p, ref, rows, cfg)
    _record_invariants(m, p, rae, held_tiles(inside), stages, tiles, count, cfg)
    fifo = inside["results"]
    depth, consume = len(fifo["slots"]), fifo["consume"]
    slots = Array(fifo["slots"])
    record = Array(pending)
    for k in range(depth):
        index = consume + k
        with m.If(k < results.level):
            m.d.comb += Assert(record[k] == slots[Mux(index >= depth, index - depth, index)]
                               .as_value())
    held = results.level
    if results.write_register:              # the word in the FIFO's write register comes next
        with m.If(results.held_valid):
            m.d.comb += Assert(record[results.level] == results.held.as_value())
        held = held + results.held_valid
    m.d.comb += Assert(n_pending == held)


def _capacity(m, params, cfg):
    capacity = Signal(range(params.capacity(1) + 1), name="capacity")
    with m.Switch(cfg):
        for gs in range(1, params.max_group_size + 1):
            with m.Case(gs):
                m.d.comb += capacity.eq(params.capacity(gs))
    return capacity


def _rows_after_landing(params, banks):
    """Every bank row as it will be once a registered write still landing has landed: the
    reference took that tile in the clock it left the write-back stage, the banks one clock
    later."""
    rows, landing = banks["rows"], banks["landing"]
    if landing is None:
        return rows
    wr_en, wr_row, wr_data = landing
    layout = row_layout(params)
    return {b: [layout(Mux(wr_en[b] & (wr_row == row), wr_data.as_value(), word.as_value()))
                for row, word in enumerate(words)]
            for b, words in rows.items()}


def _landing_invariants(m, params, rae, banks, cfg):
    """A registered bank write still landing is the landing register's tile (which the issue
    queue watches): same presence, its row, a bank of its group."""
    if banks["landing"] is None:
        return
    wr_en, wr_row, _ = banks["landing"]
    landing = rae["landing"]
    m.submodules.decode_landing = decode = TileDecoder(params)
    m.d.comb += [decode.group_size.eq(cfg), decode.addr.eq(landing.addr)]
    m.d.comb += Assert((wr_en != 0) == landing.valid)
    with m.If(landing.valid):
        m.d.comb += Assert(wr_row == decode.row)
        with m.Switch(cfg):
            for gs in range(1, params.max_group_size + 1):
                with m.Case(gs):
                    for b in range(params.max_group_size):
                        with m.If(wr_en[b]):
                            m.d.comb += Assert(decode.group == b // gs)


def _bank_invariants(m, params, ref, rows, cfg):
    """The reference's state of every address in range, read from the bank slots."""
    p = params
    with m.Switch(cfg):
        for gs in range(1, p.max_group_size + 1):
            with m.Case(gs):
                for a in range(p.capacity(gs)):
                    group, row = divmod(a, p.depth)
                    slot = [rows[group * gs + s][row] for s in range(gs)]
                    nxt = ref.next_steps[a]
                    phase = Signal(range(gs), name=f"phase_gs{gs}_a{a}")
                    m.d.comb += phase.eq(nxt % gs)
                    has_ap = nxt >= gs
                    sat = has_ap & slot[gs - 1].sat
                    for s in range(gs - 1):
                        sat = sat | ((s < phase) & slot[s].sat)
                    m.d.comb += Assert(ref.sat[a] == sat)
                    for j in range(p.lanes):
                        def deq(row_word):
                            return row_word.data[j].as_signed() << row_word.exp
                        pend = 0
                        for s in range(gs - 1):
                            pend = pend + Mux(s < phase, deq(slot[s]), 0)
                        m.d.comb += [
                            Assert(ref.pend[j][a] == pend),
                            Assert(ref.ap_deq[j][a] == Mux(has_ap, deq(slot[gs - 1]), 0)),
                        ]


def _record_invariants(m, params, rae, held, stages, tiles, count, cfg):
    """The record's entries, oldest first, are the tiles in the datapath stages and the
    in-range ``held`` tiles (:func:`~.record.held_tiles`: the issue queue's, then the decoder's
    register's); a held entry holds its tile's decoded fields, and its data waits in the tile
    data memory; a stage still carrying the tile's data holds it."""
    p = params
    record = Array(tiles)
    tp = rae["tp"]                              # tp[s] travels with stage s
    n_stages = len(stages)
    position = 0
    for index, stage in enumerate(stages):      # write-back first
        s = n_stages - 1 - index
        with m.If(stage.valid):
            entry = record[position]
            m.d.comb += [Assert(position < count), Assert(stage.addr == entry.addr),
                         Assert(stage.last == entry.last), Assert(stage.exp == entry.exp)]
            if s < len(tp):
                m.d.comb += Assert(tp[s].as_value() == entry.data.as_value())
        position = position + stage.valid
    slots = Array(rae["tile_slots"])
    size = len(rae["tile_slots"])
    data_index = rae["data_rp"]                 # the held tiles, in range or not, in order
    for k, (valid, entry, _) in enumerate(held):
        flag = valid & entry.in_range
        tile = record[position]
        m.submodules[f"decode{k}"] = decode = TileDecoder(p)
        m.d.comb += [decode.group_size.eq(cfg), decode.addr.eq(tile.addr),
                     decode.step.eq(tile.step), decode.last.eq(tile.last)]
        with m.If(flag):
            m.d.comb += [Assert(position < count), Assert(entry.addr == tile.addr),
                         Assert(entry.last == tile.last), Assert(entry.exp == tile.exp)]
            m.d.comb += [Assert(getattr(entry, name) == getattr(decode, name))
                         for name in ("row", "group", "phase", "has_ap", "mode", "no_read")]
            m.d.comb += Assert(slots[data_index[:(size - 1).bit_length()]].as_value() ==
                               tile.data.as_value())
        position = position + flag
        data_index = data_index + valid
    m.d.comb += Assert(count == position)
    # The port writes its tile into the slot after the held ones on every clock.
    m.d.comb += Assert(rae["data_wp"] == data_index[:len(rae["data_wp"])])
