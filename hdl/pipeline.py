"""Pipeline settings of the engine: where the registers of the datapath and the issue queue go.

The specification fixes what the engine computes, not how many clocks it takes (spec section
5.3 only asks for one tile per clock when tiles of an address are at least the latency apart).
Every register of the datapath is therefore an elaboration choice that trades clock rate for
latency and area. :class:`Pipeline` holds those choices, one knob per block, and three named
settings cover the useful range:

``min``
    The fewest registers: combinational shifters and adder tree, one quantizer stage, no
    bank output or write register, no issue-queue input register, and the banks' read bypass.
    Smallest and shortest; slowest clock.
``default``
    The engine tuned for the ECP5: two shifter levels and one adder-tree level per clock, a
    two-stage quantizer, the bank output register and the issue queue's input register.
``max``
    ``default`` and three more things for the ECP5: a copy of the shifters' exponent registers
    per four lanes, the quantizer's wide checks over two clocks, and the result FIFO's write
    registered. A register after every shifter level (``shift_levels_per_stage=1``), on the
    adder tree's operands (``tree_input_register``) and for the tile decoder
    (``decode_register``) bought no measured clock rate on either ECP5 speed grade, since the
    issue queue, which every setting shares, limits first (docs/results.md).
"""

from dataclasses import asdict, dataclass, fields

from ._checks import check_bool, check_int


__all__ = ["Pipeline", "SETTINGS", "as_pipeline", "register_after"]


def register_after(level, n_levels, levels_per_stage):
    """Whether a chain of ``n_levels`` logic levels with a register every ``levels_per_stage``
    levels (0: none) has a register after level ``level`` (from 0): after every
    ``levels_per_stage``-th level and after the last, so it takes
    ``ceil(n_levels / levels_per_stage)`` clocks. The shifters and the adder tree place their
    registers by this rule."""
    return bool(levels_per_stage) and ((level + 1) % levels_per_stage == 0 or
                                       level == n_levels - 1)


@dataclass(frozen=True)
class Pipeline:
    """Register placement of the engine, checked on construction.

    Parameters
    ----------
    shift_levels_per_stage : int
        Barrel-shifter mux levels (dequantizer and quantizer) between two registers; 0 puts no
        register inside the shifters (0..6: ``exp_bits`` is at most 6).
    shift_select_lanes : int
        Lanes that share one copy of each exponent register inside the shifters (dequantizers
        and quantizer); 0 (every named setting but ``max``) keeps one register for all lanes.
        Copies split the exponent's fan-out, which on the ECP5 spans the die; they are equal
        flip-flops, so the FPGA flow marks them ``keep`` (docs/design.md). 4 in ``max``.
    tree_levels_per_stage : int
        Adder-tree levels between two registers; 0 makes the tree combinational (0..5: the tree
        has at most ``ceil(log2(16 + 1))`` = 5 levels).
    tree_input_register : bool
        Register the adder tree's operands before its first level (one clock of latency), so
        that each lane's first carry chains start at flip-flops placed beside them instead of
        at the dequantizers and the tile data, which sit by the block RAMs and the queue. Off
        in every named setting (on the ECP5 it bought no clock rate in ``max``).
    quantizer_stages : int
        Registers of the quantizer's rounding and saturation after its shifter: 2 (first the wide
        comparisons and the in-range sum, then the decision and the output), 1 (all in one
        clock, then the output register) or 3 (the wide comparisons over two clocks, two LUT
        levels each, the decision into registers of each lane's saturation, then the output;
        ``max``).
    bank_output_register : bool
        Register the bank read data once more before the dequantizers.
    bank_write_register : bool
        Register the bank write before the memories (latency unchanged; a tile that reads the
        banks then waits one clock longer behind an earlier tile of its address). Off in every
        named setting.
    result_write_register : bool
        Register the result FIFO's write before its memory (one clock of latency), so that the
        memory's write enables start at a flip-flop; the FIFO holds one result more for the
        credits. On in ``max``.
    queue_input_register : bool
        Give the issue queue an input register in front of its skid and head registers (one
        clock of latency; the port's address comparisons then have a clock of their own).
    decode_register : bool
        Register the tile decoder (:class:`~apsq_rae.hdl.mode.TileDecoder` ``register``) between
        the input port and the issue queue, one clock of latency and one tile more held: its
        per-group-size results (``step mod gs``, the AP, range and mode bits) end at flip-flops,
        the issue stage's registered group size selects among them on the way into the queue,
        and the queue's address comparisons start at the registered address instead of the
        port. Off in every named setting (no clock rate measured, docs/results.md).
    bank_bypass : bool
        Let a bank read see the row written on its own edge (a multiplexer per bank after the
        memory, see :class:`~apsq_rae.hdl.banks.Banks`), so that a tile that reads the banks
        waits one clock less behind an earlier tile of its address. Latency unchanged; the
        multiplexer sits on the path from the block RAMs to the dequantizers.

    Raises
    ------
    ValueError
        A knob is out of its legal range; the message names it, the value and the range.
    TypeError
        A knob has the wrong type.
    """

    shift_levels_per_stage: int = 2
    shift_select_lanes: int = 0
    tree_levels_per_stage: int = 1
    tree_input_register: bool = False
    quantizer_stages: int = 2
    bank_output_register: bool = True
    bank_write_register: bool = False
    result_write_register: bool = False
    queue_input_register: bool = True
    decode_register: bool = False
    bank_bypass: bool = False

    def __post_init__(self):
        check_int("shift_levels_per_stage", self.shift_levels_per_stage, 0, 6)
        check_int("shift_select_lanes", self.shift_select_lanes, 0)
        check_int("tree_levels_per_stage", self.tree_levels_per_stage, 0, 5)
        check_bool("tree_input_register", self.tree_input_register)
        check_int("quantizer_stages", self.quantizer_stages, 1, 3)
        check_bool("bank_output_register", self.bank_output_register)
        check_bool("bank_write_register", self.bank_write_register)
        check_bool("result_write_register", self.result_write_register)
        check_bool("queue_input_register", self.queue_input_register)
        check_bool("decode_register", self.decode_register)
        check_bool("bank_bypass", self.bank_bypass)

    @classmethod
    def setting(cls, name):
        """The named setting ``"min"``, ``"default"`` or ``"max"``.

        Raises
        ------
        ValueError
            ``name`` is not a setting (the message lists the legal ones).
        """
        if name not in SETTINGS:
            raise ValueError(f"pipeline = {name!r} is not a pipeline setting "
                             f"(legal: {', '.join(SETTINGS)})")
        return SETTINGS[name]

    @property
    def name(self):
        """The name of the setting these knobs equal, or ``"custom"``."""
        for name, pipeline in SETTINGS.items():
            if pipeline == self:
                return name
        return "custom"

    def as_dict(self):
        """``{"setting": name, knob: value, ...}`` (the manifest's ``pipeline`` entry)."""
        return {"setting": self.name, **asdict(self)}

    @property
    def record(self):
        """What a report keeps of these knobs (``fpga build``'s ``report.json``, ``fmax.json``):
        the setting's name, or :meth:`as_dict` for a custom setting. :meth:`from_record` reads
        it back."""
        return self.name if self.name != "custom" else self.as_dict()

    @classmethod
    def from_record(cls, record):
        """The :class:`Pipeline` of a report's :attr:`record`: a setting name, or a dictionary
        of knobs (its ``setting`` entry is ignored)."""
        if isinstance(record, str):
            return cls.setting(record)
        return cls(**{k: v for k, v in record.items() if k != "setting"})

    def changes(self, other):
        """``{knob: value}``: the knobs whose value here differs from ``other``'s."""
        return {name: getattr(self, name) for name in self.knobs()
                if getattr(self, name) != getattr(other, name)}

    @property
    def nearest(self):
        """The named setting with the fewest knobs that differ from these (on a tie the first
        of ``min``, ``default``, ``max``); a named setting's own name."""
        return min(SETTINGS, key=lambda name: len(self.changes(SETTINGS[name])))

    @property
    def label(self):
        """Short text for labels and messages: the setting's name, or the :attr:`nearest`
        setting followed by ``+knob=value`` for each knob that differs from it, on/off knobs
        as 1 and 0 (``max+decode_register=1``)."""
        changes = self.changes(SETTINGS[self.nearest])
        return self.nearest + "".join(f"+{name}={int(value)}" for name, value in changes.items())

    @classmethod
    def knobs(cls):
        return [f.name for f in fields(cls)]


#: The named settings, from the fewest registers to the most.
SETTINGS = {
    "min": Pipeline(shift_levels_per_stage=0, tree_levels_per_stage=0, quantizer_stages=1,
                    bank_output_register=False, bank_write_register=False,
                    queue_input_register=False, bank_bypass=True),
    "default": Pipeline(),
    "max": Pipeline(shift_select_lanes=4, quantizer_stages=3, result_write_register=True),
}


def as_pipeline(pipeline=None):
    """The :class:`Pipeline` a component was given: a setting name, a :class:`Pipeline`, or
    ``None`` for ``"default"``.

    Raises
    ------
    ValueError
        An unknown setting name.
    TypeError
        Neither a name nor a :class:`Pipeline`.
    """
    if pipeline is None:
        return SETTINGS["default"]
    if isinstance(pipeline, str):
        return Pipeline.setting(pipeline)
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"pipeline must be a setting name or a Pipeline, not {pipeline!r}")
    return pipeline
