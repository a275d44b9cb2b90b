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

from amaranth.hdl import Array, Cat, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._checks import check_bool, quiet_on_error
from .params import as_params


__all__ = ["TileDecoder", "BankSelect", "mod_const", "ge_const", "group_size_ok", "in_capacity"]


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


def group_size_ok(group_size, max_group_size):
    """``1 <= group_size <= max_group_size`` as AND/OR logic (no comparison operator).

    No upper bound where ``max_group_size`` is the largest value ``group_size`` can hold (a
    comparison that is always true, which lint tools flag)."""
    in_bounds = group_size.any()
    if max_group_size < 2 ** len(group_size) - 1:
        in_bounds &= ~ge_const(group_size, max_group_size + 1)
    return in_bounds


def in_capacity(addr, group_size, params):
    """``addr < capacity(group_size)``, 0 for an illegal group size: one constant comparison per
    candidate group size (AND/OR logic), selected by ``group_size``."""
    p = params
    table = [Const(0, 1)] + [~ge_const(addr, p.capacity(gs)) for gs in
                             range(1, p.max_group_size + 1)]
    table += [Const(0, 1)] * (2 ** len(group_size) - len(table))
    return Array(table)[group_size]


class TileDecoder(wiring.Component):
    """First half of the mode encoder: mapping, capacity check, phase and mode bit.

    Parameters
    ----------
    params : RAEParams, optional
        Elaboration parameters; the spec defaults if omitted.
    register : bool
        Register the decoding for every candidate group size (the phase, AP, mode and range of
        each, the row and the bank group) on clocks with ``en``, and select among the registered
        candidates with ``group_size`` (latency 1). The slow part, ``step mod gs`` for a ``gs``
        that is not a power of two, then ends at flip-flops, and only a multiplexer by the group
        size follows them. Without it (the default) the decoder is combinational.

    Members
    -------
    group_size : In(params.gs_bits)
        Run-time group size ``gs``; with ``register``, the one the registered tile is decoded
        with (selected after the register).
    addr : In(params.addr_bits)
        Address of the tile.
    step : In(params.step_bits)
        Step index ``i`` of the tile.
    last : In(1)
        The tile is the final step of its address.
    en : In(1)
        Only with ``register``: sample ``addr``, ``step`` and ``last`` on this clock.
    cfg_ok : Out(1)
        ``1 <= gs <= max_group_size`` (of ``group_size`` now, also with ``register``).
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

    Attributes
    ----------
    latency : int
        Clocks from ``addr``, ``step`` and ``last`` to the outputs that describe them: 1 with
        ``register``, else 0.
    """

    #: The outputs decided per candidate group size and selected by the run-time one.
    _CANDIDATE_FIELDS = ("in_range", "phase", "has_ap", "mode", "no_read")

    @quiet_on_error
    def __init__(self, params=None, *, register=False):
        self.params = params = as_params(params)
        check_bool("register", register)
        self.register = register
        G = params.max_group_size
        members = {
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
        }
        if register:
            members["en"] = In(1)
        super().__init__(members)

    @property
    def latency(self):
        """Clocks from the tile's fields to the outputs: 1 with ``register``, else 0."""
        return int(self.register)

    def _candidate(self, m, gs):
        """The candidate group size ``gs``'s outputs for the tile on the inputs, by field."""
        phase = mod_const(self.step, gs)
        if gs > 1:
            # One signal, so the phase output, the mode bit and ``no_read`` share one copy of
            # the residue tables (each use of the expression would repeat its lookups).
            named = Signal(range(gs), name=f"phase_gs{gs}" + ("_now" if self.register else ""))
            m.d.comb += named.eq(phase)
            phase = named
        has_ap = ge_const(self.step, gs)
        mode = (phase == gs - 1) | self.last
        return {
            "in_range": ~ge_const(self.addr, self.params.capacity(gs)),
            "phase":    phase,
            "has_ap":   has_ap,
            "mode":     mode,
            # BankSelect reads pendings 0..p-1 and the AP: none when p = 0 and there is no AP.
            "no_read":  ~mode | ((phase == 0) & ~has_ap),
        }

    def elaborate(self, platform):
        m = Module()
        p = self.params
        G, depth = p.max_group_size, p.depth

        m.d.comb += self.cfg_ok.eq(group_size_ok(self.group_size, G))

        # Static mapping: group = addr div depth, row = addr mod depth.
        row, group = self.row, self.group
        if self.register:              # the port's tile, into the registers ``row``, ``group``
            row, group = Signal.like(row, name="row_now"), Signal.like(group, name="group_now")
        if depth & (depth - 1) == 0:
            shift = depth.bit_length() - 1
            m.d.comb += [row.eq(self.addr[:shift]), group.eq(self.addr[shift:])]
        else:
            m.d.comb += [row.eq(self.addr), group.eq(0)]
            for j in range(1, G):
                with m.If(ge_const(self.addr, j * depth)):
                    m.d.comb += [row.eq(self.addr - j * depth), group.eq(j)]

        # Per candidate gs: constant capacity and constant-modulus phase, muxed by gs.
        candidates = {gs: self._candidate(m, gs) for gs in range(1, G + 1)}
        if self.register:
            held = {}
            for gs, fields in candidates.items():
                held[gs] = {}
                for name, value in fields.items():
                    held[gs][name] = Signal.like(getattr(self, name), name=f"{name}_gs{gs}")
                    with m.If(self.en):
                        m.d.sync += held[gs][name].eq(value)
            candidates = held
            with m.If(self.en):
                m.d.sync += [self.row.eq(row), self.group.eq(group)]
        with m.Switch(self.group_size):
            for gs in range(1, G + 1):
                with m.Case(gs):
                    m.d.comb += [getattr(self, name).eq(candidates[gs][name])
                                 for name in self._CANDIDATE_FIELDS]
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
