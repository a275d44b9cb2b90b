"""Elaborate the engine behind its flat ports and write it as Verilog plus its manifest.

The Verilog has the flat port list of docs/spec.md section 5 (in the spec's order) and is
deterministic: no source locations, no paths, no dates, so the same options give the same
bytes from any checkout and into any output directory. Both files are first written to
temporary names in the output directory and renamed only when everything succeeded.
"""

import math
import os
import re
import tempfile
from pathlib import Path

from apsq_rae.hdl.axis import AxisRAE, axis_port_table
from apsq_rae.hdl.pipeline import as_pipeline
from apsq_rae.hdl.top import FlatRAE, port_table
from .manifest import build_manifest, manifest_json
from .memories import check_memories, macro_name, model_text
from .verilog_text import (default_case_items, drop_zero_width_nets, explicit_widths,
                           merge_part_assigns, merge_register_blocks, plain_module_names,
                           reorder_header, strip_initial_values)


__all__ = ["DEFAULT_NAME", "DEFAULT_CLOCK_PERIOD", "DEFAULT_IO_DELAY_FRACTION", "INIT_CHOICES",
           "INTERFACE_CHOICES", "check_name", "check_init", "check_interface", "check_timing",
           "top_ports", "generate_verilog", "sdc_text", "vlt_text", "write_outputs",
           "memory_files"]


DEFAULT_NAME = "apsq_rae"

#: Clock period of the SDC file, in ns (``--clock-period``).
DEFAULT_CLOCK_PERIOD = 5.0
#: Input and output delays of the SDC file as a fraction of the period
#: (``--io-delay-fraction``).
DEFAULT_IO_DELAY_FRACTION = 0.2

#: Power-up values (``--init``): ``reset`` gives every register and memory an initial value
#: equal to its reset value (Amaranth's output; what FPGA bitstreams load), ``none`` writes no
#: initial values (ASIC flows: state is unknown until ``rst``). The first is the default.
INIT_CHOICES = ("reset", "none")

#: Port conventions of the top module (``--interface``): ``flat`` (spec section 5: ``clk``,
#: ``rst``, ``in_*``, ``out_*``; the default) or ``axis`` (AXI4-Stream,
#: :mod:`apsq_rae.hdl.axis`).
INTERFACE_CHOICES = ("flat", "axis")

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")

# IEEE 1364-2005 and 1800 (SystemVerilog) keywords that a tool would refuse as a module name.
_KEYWORDS = frozenset("""
always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign
default defparam design disable edge else end endcase endconfig endfunction endgenerate
endmodule endprimitive endspecify endtable endtask event for force forever fork function
generate genvar highz0 highz1 if ifnone incdir include initial inout input instance integer
join large liblist library localparam macromodule medium module nand negedge nmos nor
noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive pull0 pull1
pulldown pullup pulsestyle_ondetect pulsestyle_onevent rcmos real realtime reg release repeat
rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled signed small specify specparam
strong0 strong1 supply0 supply1 table task time tran tranif0 tranif1 tri tri0 tri1 triand
trior trireg unsigned use uwire vectored wait wand weak0 weak1 while wire wor xnor xor
alias always_comb always_ff always_latch assert assume bit break byte chandle class clocking
const constraint context continue cover do endclass endclocking endinterface endpackage
endprogram endproperty endsequence enum export extends extern final first_match foreach
forkjoin iff import inside int interface intersect join_any join_none local logic longint
modport new null package packed priority program property protected pure rand randc randcase
randsequence ref return sequence shortint shortreal solve static string struct super this
throughout timeprecision timeunit type typedef union unique var virtual void wait_order
wildcard with within
""".split())


def check_name(name):
    """Refuse a module name that is not a legal (simple, non-keyword) Verilog identifier.

    Raises
    ------
    ValueError
        One line naming ``--name``, the value and what is legal.
    """
    if not isinstance(name, str) or not _IDENT.match(name) or name in _KEYWORDS:
        raise ValueError(f"--name = {name!r} is not a legal Verilog identifier (legal: a letter "
                         f"or _ followed by letters, digits, _ or $; not a keyword)")
    return name


def check_init(init):
    """Refuse an ``--init`` value other than those of :data:`INIT_CHOICES`.

    Raises
    ------
    ValueError
        One line naming ``--init``, the value and the legal ones.
    """
    if init not in INIT_CHOICES:
        raise ValueError(f"--init = {init!r} is not one of {', '.join(INIT_CHOICES)}")
    return init


def check_interface(interface):
    """``interface`` if it is one of :data:`INTERFACE_CHOICES`, else ``ValueError``."""
    if interface not in INTERFACE_CHOICES:
        raise ValueError(f"--interface = {interface!r} is not one of "
                         f"{', '.join(INTERFACE_CHOICES)}")
    return interface


def top_ports(params, interface="flat"):
    """``[(name, direction, width)]`` of the top module, clock and reset first."""
    if check_interface(interface) == "axis":
        return axis_port_table(params)
    return [("clk", "in", 1), ("rst", "in", 1)] + port_table(params)


def generate_verilog(params, name=DEFAULT_NAME, *, pipeline=None, engine=None, init="reset",
                     memories="behavioural", interface="flat"):
    """Elaborate the flat-port engine and convert it to Verilog.

    Parameters
    ----------
    params : RAEParams
        Elaboration parameters.
    name : str
        Verilog module name.
    pipeline : str or Pipeline, optional
        Pipeline setting of the engine (:class:`apsq_rae.hdl.pipeline.Pipeline`); ``"default"``
        if omitted.
    engine : wiring.Component, optional
        Engine to wrap instead of ``apsq_rae.hdl.rae.RAE(params, pipeline=pipeline)`` (for
        tests; then ``pipeline`` must be the engine's, for the manifest).
    init : str
        Power-up values, one of :data:`INIT_CHOICES`: ``"reset"`` (default) or ``"none"``
        (:func:`apsq_rae.gen.verilog_text.strip_initial_values`).
    memories : str
        ``"behavioural"`` (default: each bank a Verilog array) or ``"macro"`` (each bank an
        instance of :func:`apsq_rae.gen.memories.macro_name`, whose model
        :func:`apsq_rae.gen.memories.model_text` gives; it is not in the returned text).
    interface : str
        ``"flat"`` (default: the spec's ports) or ``"axis"`` (AXI4-Stream,
        :class:`apsq_rae.hdl.axis.AxisRAE`; ``engine`` must then be ``None``).

    Returns
    -------
    (str, dict)
        The Verilog text and the manifest.
    """
    from amaranth.back import verilog

    check_name(name)
    check_init(init)
    check_memories(memories)
    check_interface(interface)
    pipeline = as_pipeline(pipeline)
    os.environ["AMARANTH_USE_YOSYS"] = "builtin"
    macro = macro_name(params, name) if memories == "macro" else None
    if interface == "axis":
        if engine is not None:
            raise ValueError("engine= is for the flat interface only")
        top = AxisRAE(params, pipeline=pipeline, memory_macro=macro)
    else:
        top = FlatRAE(params, pipeline=pipeline, engine=engine, memory_macro=macro)
    text = verilog.convert(top, name=name, emit_src=False, strip_internal_attrs=True)
    order = [port for port, _, _ in top_ports(params, interface)]
    text = merge_register_blocks(merge_part_assigns(reorder_header(text, name, order)))
    text = plain_module_names(text)
    text = drop_zero_width_nets(default_case_items(explicit_widths(text)))
    if init == "none":
        text = strip_initial_values(text)
    return text, build_manifest(params, name, top.latency, pipeline, init=init,
                                memories=memories, interface=interface,
                                reread_distance=top.reread_distance)


def check_timing(clock_period, io_delay_fraction):
    """Refuse a clock period that is not a finite number > 0 (ns) and an I/O delay fraction
    outside 0..0.9.

    Raises
    ------
    ValueError
        One line naming the option, the value and what is legal.
    """
    if not isinstance(clock_period, (int, float)) or isinstance(clock_period, bool) \
            or not math.isfinite(clock_period) or clock_period <= 0:
        raise ValueError(f"--clock-period = {clock_period!r} is out of range "
                         f"(legal: a number of ns > 0)")
    if not isinstance(io_delay_fraction, (int, float)) or isinstance(io_delay_fraction, bool) \
            or not 0 <= io_delay_fraction <= 0.9:
        raise ValueError(f"--io-delay-fraction = {io_delay_fraction!r} is out of range "
                         f"(legal: 0..0.9)")


def _ns(value):
    """A time in ns as SDC text: at most 4 decimals, no trailing zeros (``5``, ``1.25``)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def sdc_text(params, name=DEFAULT_NAME, clock_period=DEFAULT_CLOCK_PERIOD,
             io_delay_fraction=DEFAULT_IO_DELAY_FRACTION, interface="flat"):
    """The timing constraints of the generated module as SDC text.

    The clock ``clk`` on the clock port (``clk``, or ``aclk`` for ``interface="axis"``) with
    period ``clock_period`` (ns), and on every other port, the reset included, an input or
    output delay of ``io_delay_fraction`` of the period relative to ``clk``: one line per
    port, in the top module's port order. No paths or dates.
    """
    check_name(name)
    check_timing(clock_period, io_delay_fraction)
    period, delay = _ns(clock_period), _ns(clock_period * io_delay_fraction)
    (clock, _, _), *others = top_ports(params, interface)
    lines = [f"# {name}.sdc: timing constraints of module {name} (apsq-rae generate)",
             f"# clock period {period} ns; input and output delays "
             f"{_ns(io_delay_fraction * 100)}% of the period ({delay} ns)",
             f"create_clock -name clk -period {period} [get_ports {clock}]"]
    ports = [(port, direction) for port, direction, _ in others]
    for port, direction in ports:
        command = "set_input_delay" if direction == "in" else "set_output_delay"
        lines.append(f"{command} -clock clk {delay} [get_ports {port}]")
    return "\n".join(lines) + "\n"


def vlt_text(name=DEFAULT_NAME, init="reset"):
    """The Verilator configuration file shipped beside ``<name>.v``: the waivers that make
    ``verilator --lint-only -Wall <name>.vlt <name>.v`` clean, each with its reason.

    At Verilator's default warning set the Verilog needs no waiver; these are the ``-Wall``
    style rules that generated code cannot meet without losing information. Each waiver
    names its rule and the one file. No paths or dates.
    """
    check_name(name)
    check_init(init)
    lines = ["`verilator_config",
             f"// {name}.vlt: reviewed lint waivers for {name}.v (apsq-rae generate).",
             f"// Lint with: verilator --lint-only -Wall {name}.vlt {name}.v (no warnings).",
             "// At the default warning set it needs no waiver at all.",
             "// (No comment here starts with the tool name: that would make it a directive.)",
             "",
             "// The file holds the top module and its submodules, named after the top",
             f"// ({name}_engine, {name}_engine_banks, ...), so only the top matches the file name.",
             f'lint_off -rule DECLFILENAME -file "*{name}.v"',
             "",
             "// Every named signal of the Amaranth design is kept as a net for readability: the",
             "// fields of packed payloads (in_data lanes, the tile's address, step and exponent),",
             "// the bits of a bus that one block reads only in part, and stage outputs kept by name",
             "// beside the value a later stage uses. Unused nets add no logic.",
             f'lint_off -rule UNUSEDSIGNAL -file "*{name}.v"']
    if init == "reset":
        lines += ["",
                  "// --init reset: every register starts at its reset value (an initialiser on its",
                  "// declaration), which FPGA bitstreams load and which the register's process",
                  "// then assigns; --init none writes no initialisers and needs no waiver.",
                  f'lint_off -rule PROCASSINIT -file "*{name}.v"']
    return "\n".join(lines) + "\n"


def _write_atomically(files):
    """Write ``{path: text}``: every file to a temporary sibling first, then rename all."""
    temporaries = []
    try:
        for path, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temporaries.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as file:
                file.write(text)
            os.chmod(tmp, 0o644)
        for tmp, path in temporaries:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temporaries:
            if os.path.exists(tmp):
                os.unlink(tmp)


def write_outputs(out_dir, name, verilog_text, manifest, sdc=None, vlt=None, extra=None):
    """Write ``out_dir/<name>.v``, ``out_dir/<name>.json``, when their texts are given
    ``out_dir/<name>.sdc`` and ``out_dir/<name>.vlt``, and ``extra`` (``{file name: text}``,
    the memory model), all or none; return their paths in that order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    v_path, j_path = out_dir / f"{name}.v", out_dir / f"{name}.json"
    files = {v_path: verilog_text, j_path: manifest_json(manifest)}
    if sdc is not None:
        files[out_dir / f"{name}.sdc"] = sdc
    if vlt is not None:
        files[out_dir / f"{name}.vlt"] = vlt
    for file_name, text in (extra or {}).items():
        files[out_dir / file_name] = text
    _write_atomically(files)
    return tuple(files)


def memory_files(params, name, memories):
    """``{file name: text}`` of the memory model that ``--memories macro`` needs beside the
    Verilog (empty for ``behavioural``)."""
    if check_memories(memories) == "behavioural":
        return {}
    module = macro_name(params, name)
    return {f"{module}.v": model_text(params, name)}
