"""Mode encoder of the RAE: where an incoming tile's slots live and what it does with them.

From the run-time group size ``gs`` and a tile's ``addr``, ``step`` and ``last`` it derives

* the static bank/row mapping (the paper's s0/s1): the banks are split into
  ``k = max_group_size // gs`` bank groups of ``gs`` banks; address ``a`` lives in bank group
  ``a // depth`` at row ``a % depth``; its slot ``s`` is bank ``group*gs + s``, the AP sits in the
  last slot ``gs-1``;
* the phase ``p = step mod gs`` (constant-modulus reduction per candidate ``gs``, muxed by the
  run-time ``gs``: no divider), whether an AP exists (``step >= gs``; this and the other
  comparisons with constants are AND/OR logic, no carry chain), the mode bit
  ``s2 = (p == gs-1) | last`` and whether the step reads nothing from the banks (a PSQ step, or
  an APSQ step at phase 0 without an AP);
* the banks to read (``rd_mask``: the pendings ``0..p-1`` and, if an AP exists, slot ``gs-1``;
  nothing for a PSQ step) and the one bank to write (``wr_bank``: slot ``p`` for PSQ, slot ``gs-1``
  for APSQ).

It is split in two halves so the engine can put a register between them: :class:`TileDecoder`
(everything that needs the wide ``addr``/``step``: mapping, capacity, phase, mode bit) and
:class:`BankSelect` (the per-bank read mask and the write bank, from the narrow decoded fields).
"""

from amaranth.hdl import Array, Cat, Const, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._checks import quiet_on_error
from .params import as_params


__all__ = ["TileDecoder", "BankSelect", "mod_const", "ge_const"]


def ge_const(value, bound):
    """``value >= bound`` for an unsigned ``value`` and a constant ``bound``, as AND/OR logic.

    From the most significant bit down: where ``bound`` has a 1, ``value`` needs it too and the
    rest must be at least the rest of ``bound``; where ``bound`` has a 0, a 1 in ``value``
    suffices. Synthesis maps that to a small LUT tree (the high bits of a small bound are one
    OR), where a comparison operator becomes a carry chain the length of ``value`` on the
    FPGA.

    Parameters
    ----------
    value : Value
        Unsigned value.
    bound : int
        Constant, ``>= 0``.

    Returns
    -------
    Value
        One bit.
    """
    if bound < 0:
        raise ValueError(f"bound = {bound} is out of range (legal: >= 0)")
    if bound == 0:
        return Const(1, 1)
    if bound >= 1 << len(value):
        return Const(0, 1)
    top = len(value) - 1
    rest = ge_const(value[:top], bound & ~(1 << top))
    if bound >> top & 1:
        return value[top] & rest
    return value[top] | rest


def mod_const(value, modulus):
    """``value mod modulus`` for an unsigned ``value`` and a constant ``modulus``, without a divider.

    Powers of two are a bit slice. Otherwise every 4-bit digit ``d_k`` of ``value`` is mapped by a
    16-entry table to ``(d_k * 16**k) mod modulus``, and the residues are combined pairwise by
    tables of ``(a + b) mod modulus`` (indexed by both residues). Depth: one table, then
    ``ceil(log2(digits))`` small tables, no carry chain; for a modulus below 5 every table is a
    single LUT4 per result bit.

    Parameters
    ----------
    value : Value
        Unsigned value.
    modulus : int
        Constant modulus, ``>= 1``.

    Returns
    -------
    Value
        Unsigned value in ``range(modulus)``.
    """
    if modulus < 1:
        raise ValueError(f"modulus = {modulus} is out of range (legal: >= 1)")
    if modulus == 1:
        return Const(0, 1)
    if modulus & (modulus - 1) == 0:
        return value[:modulus.bit_length() - 1]
    residues = []
    for k in range(0, len(value), 4):
        digit = value[k:k + 4]
        table = [(d << k) % modulus for d in range(1 << len(digit))]
        residues.append(Array(Const(t, range(modulus)) for t in table)[digit])
    width = Const(modulus - 1).shape().width
    add = [(a + b) % modulus if a < modulus and b < modulus else 0
           for b in range(1 << width) for a in range(1 << width)]
    while len(residues) > 1:
        pairs = [residues[n:n + 2] for n in range(0, len(residues), 2)]
        residues = [Array(Const(t, range(modulus)) for t in add)[Cat(*pair)]
                    if len(pair) == 2 else pair[0] for pair in pairs]
    return residues[0]


class TileDecoder(wiring.Component):
    """First half of the mode encoder: mapping, capacity check, phase and mode bit.

    Parameters
    ----------
    params : RAEParams, optional
        Elaboration parameters; the spec defaults if omitted.

    Members
    -------
    group_size : In(params.gs_bits)
        Run-time group size ``gs``.
    addr : In(params.addr_bits)
        Address of the tile.
    step : In(params.step_bits)
        Step index ``i`` of the tile.
    last : In(1)
        The tile is the final step of its address.
    cfg_ok : Out(1)
        ``1 <= gs <= max_group_size``.
    in_range : Out(1)
        ``addr < capacity(gs)`` (0 while ``cfg_ok`` is 0).
    row : Out(range(depth))
        Row of the address in every bank, ``addr mod depth``.
    group : Out(range(max_group_size))
        Bank group of the address, ``addr div depth``.
    phase : Out(range(max_group_size))
        ``p = step mod gs``.
    has_ap : Out(1)
        An AP exists (``step >= gs``).
    mode : Out(1)
        The mode bit ``s2``: 1 for an APSQ step, 0 for a PSQ step.
    no_read : Out(1)
        The step reads no bank: a PSQ step, or an APSQ step with no pending value and no AP
        (``p = 0`` and ``step < gs``, e.g. step 0 at ``gs = 1`` or a one-step accumulation). Its
        :class:`BankSelect` read mask is 0.
    """

    @quiet_on_error
    def __init__(self, params=None):
        self.params = params = as_params(params)
        G = params.max_group_size
        super().__init__({
            "group_size": In(params.gs_bits),
            "addr":       In(params.addr_bits),
            "step":       In(params.step_bits),
            "last":       In(1),
            "cfg_ok":     Out(1),
            "in_range":   Out(1),
            "row":        Out(range(params.depth)),
            "group":      Out(range(G)),
            "phase":      Out(range(G)),
            "has_ap":     Out(1),
            "mode":       Out(1),
            "no_read":    Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        G, depth = p.max_group_size, p.depth

        # No upper bound where G is the largest value group_size can hold (a comparison that
        # is always true, which lint tools flag).
        in_bounds = self.group_size.any()
        if G < 2 ** len(self.group_size) - 1:
            in_bounds &= ~ge_const(self.group_size, G + 1)
        m.d.comb += self.cfg_ok.eq(in_bounds)

        # Static mapping: group = addr div depth, row = addr mod depth.
        if depth & (depth - 1) == 0:
            shift = depth.bit_length() - 1
            m.d.comb += [
                self.row.eq(self.addr[:shift]),
                self.group.eq(self.addr[shift:]),
            ]
        else:
            m.d.comb += [self.row.eq(self.addr), self.group.eq(0)]
            for j in range(1, G):
                with m.If(ge_const(self.addr, j * depth)):
                    m.d.comb += [self.row.eq(self.addr - j * depth), self.group.eq(j)]

        # Per candidate gs: constant capacity and constant-modulus phase, muxed by gs.
        with m.Switch(self.group_size):
            for gs in range(1, G + 1):
                with m.Case(gs):
                    phase = mod_const(self.step, gs)
                    has_ap = ge_const(self.step, gs)
                    mode = (phase == gs - 1) | self.last
                    m.d.comb += [
                        self.in_range.eq(~ge_const(self.addr, p.capacity(gs))),
                        self.phase.eq(phase),
                        self.has_ap.eq(has_ap),
                        self.mode.eq(mode),
                        # BankSelect reads pendings 0..p-1 and the AP: none when p = 0 and
                        # there is no AP.
                        self.no_read.eq(~mode | ((phase == 0) & ~has_ap)),
                    ]
        return m


class BankSelect(wiring.Component):
    """Second half of the mode encoder: which banks a tile reads and which one it writes.

    With ``gs`` slots per address in bank group ``group`` (banks ``group*gs .. group*gs+gs-1``):
    an APSQ step (``mode = 1``) reads the pendings ``0..phase-1`` and, if ``has_ap``, the AP slot
    ``gs-1``, and writes the AP slot; a PSQ step reads nothing and writes slot ``phase``.

    Parameters
    ----------
    params : RAEParams, optional
        Elaboration parameters; the spec defaults if omitted.

    Members
    -------
    group_size : In(params.gs_bits)
        Run-time group size ``gs`` (outputs are 0 for an illegal one).
    group, phase : In(range(max_group_size))
        As decoded by :class:`TileDecoder`.
    has_ap, mode : In(1)
        As decoded by :class:`TileDecoder`.
    rd_mask : Out(max_group_size)
        Bit ``b`` set: bank ``b`` holds a value that this tile adds (pending or AP).
    wr_bank : Out(range(max_group_size))
        The bank this tile's quantized value is written to.
    """

    @quiet_on_error
    def __init__(self, params=None):
        self.params = params = as_params(params)
        G = params.max_group_size
        super().__init__({
            "group_size": In(params.gs_bits),
            "group":      In(range(G)),
            "phase":      In(range(G)),
            "has_ap":     In(1),
            "mode":       In(1),
            "rd_mask":    Out(G),
            "wr_bank":    Out(range(G)),
        })

    def elaborate(self, platform):
        m = Module()
        G = self.params.max_group_size
        with m.Switch(self.group_size):
            for gs in range(1, G + 1):
                with m.Case(gs):
                    with m.If(self.mode):
                        m.d.comb += self.wr_bank.eq(self.group * gs + gs - 1)
                    with m.Else():
                        m.d.comb += self.wr_bank.eq(self.group * gs + self.phase)
                    for b in range(G // gs * gs):
                        slot, bgroup = b % gs, b // gs
                        hit = (self.phase > slot) if slot < gs - 1 else self.has_ap
                        m.d.comb += self.rd_mask[b].eq(self.mode & (self.group == bgroup) & hit)
        return m
