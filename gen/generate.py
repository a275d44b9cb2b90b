"""``apsq-rae generate``: write the engine as Verilog plus its JSON manifest.

The Verilog has the flat port list of spec section 5 (in the spec's order) and is
deterministic: no source locations, no paths, no dates, so the same options give the same
bytes from any checkout and into any output directory. Both files are first written to
temporary names in the output directory and renamed only when everything succeeded.
"""

import os
import re
import sys
import tempfile
from pathlib import Path

from .flat_top import FlatRAE, port_table
from .manifest import build_manifest, manifest_json
from .options import add_param_options, params_from_args


__all__ = ["register", "check_name", "generate_verilog", "write_outputs"]


DEFAULT_NAME = "apsq_rae"

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


def _reorder_header(text, name, order):
    """Put the module header's port list in spec order (Yosys lists them in netlist order).

    Only the one ``module <name>(...);`` line is rewritten, and only if it names exactly the
    expected ports; the declarations below it are untouched."""
    pattern = re.compile(r"^module " + re.escape(name) + r"\(([^)]*)\);$", re.MULTILINE)
    matches = pattern.findall(text)
    if len(matches) != 1:
        raise RuntimeError(f"cannot find the header of module {name} in the generated Verilog")
    found = [port.strip() for port in matches[0].split(",")]
    if sorted(found) != sorted(order):
        raise RuntimeError(f"module {name} has ports {found}, expected {order}")
    return pattern.sub(lambda _: f"module {name}({', '.join(order)});", text, count=1)


# One line of Yosys' ``write_verilog`` output: a continuous assignment to a part of a net, and
# a net declaration. Names are simple identifiers or escaped ones (``\name `` ends in a space).
_NAME = r"(\\\S+ |[A-Za-z_][A-Za-z0-9_$]*)"
_PART_ASSIGN = re.compile(r"  assign " + _NAME + r"\[(\d+)(?::(\d+))?\] = ([^;]*);\Z")
_DECLARATION = re.compile(r"  (wire|output|input|inout|reg)(?: signed)? (?:\[(\d+):(\d+)\] )?"
                          + _NAME + r"(?: = [^;]*)?;\Z")


def _merge_module_part_assigns(lines):
    assigns = {}
    declared = {}
    for index, line in enumerate(lines):
        match = _PART_ASSIGN.match(line)
        if match:
            net, high, low, value = match.groups()
            high = int(high)
            low = high if low is None else int(low)
            assigns.setdefault(net.rstrip(), []).append((low, high, value, index))
            continue
        match = _DECLARATION.match(line)
        if match:
            kind, high, low, net = match.groups()
            width = None if high is None or int(low) != 0 else int(high) + 1
            if kind in ("wire", "output") and high is None:
                width = 1
            # Inputs and registers are never continuously assigned; a second declaration
            # (``output`` + ``wire``) must agree.
            if kind in ("input", "inout", "reg"):
                width = None
            previous = declared.get(net.rstrip(), width)
            declared[net.rstrip()] = width if previous == width else None
    replace, drop = {}, set()
    for net, parts in assigns.items():
        width = declared.get(net)
        if len(parts) < 2 or width is None:
            continue
        parts.sort()
        covered = 0
        for low, high, _, _ in parts:
            if low != covered or high < low:
                break
            covered = high + 1
        else:
            if covered != width:
                continue
            ref = net + " " if net.startswith("\\") else net
            values = ", ".join(value for _, _, value, _ in reversed(parts))
            replace[min(index for *_, index in parts)] = f"  assign {ref} = {{ {values} }};"
            drop.update(index for *_, index in parts)
    return [replace.get(index, line) for index, line in enumerate(lines)
            if index in replace or index not in drop]


def _per_module(text, rewrite):
    out, module = [], []
    for line in text.split("\n"):
        module.append(line)
        if line.startswith("endmodule"):
            out.extend(rewrite(module))
            module = []
    out.extend(module)
    return "\n".join(out)


def merge_part_assigns(text):
    """Drive each net that Yosys assigns part by part with one concatenation instead.

    ``write_verilog`` writes a net made of several cells' outputs (a bus of lanes, a payload
    of fields) as one ``assign net[hi:lo] = ...;`` per part. Icarus Verilog gives such a net a
    resolver that, whenever any part changes, resolves the whole vector bit by bit and sends
    it on, so a 16-lane bus whose lanes change one after the other is rebuilt and re-evaluated
    downstream 16 times per clock. That made the 16-lane engine about 30 times slower in
    Icarus (about 30 instead of about 1000 clocks per second with a tile every clock).
    ``assign net = { partN, ..., part0 };`` is the same netlist (each bit still has exactly one
    driver). Only a net whose parts cover its declared ``[W-1:0]`` exactly, each bit once, is
    rewritten; anything else is left as Yosys wrote it. Deterministic: the output depends on
    the input text only.
    """
    return _per_module(text, _merge_module_part_assigns)


# A register as Yosys writes it: the event control on one line, one plain non-blocking
# assignment (no condition, nothing after it) on the next.
_CLOCKED = re.compile(r"  always @\((?:posedge|negedge) " + _NAME + r"\)\Z")
_NONBLOCKING = re.compile(r"    " + _NAME + r"(?: ?\[[0-9:]+\])? <= [^;]*;\Z")


def _merge_module_register_blocks(lines):
    blocks = {}
    index = 0
    while index + 1 < len(lines):
        following = lines[index + 2] if index + 2 < len(lines) else ""
        if (_CLOCKED.match(lines[index]) and _NONBLOCKING.match(lines[index + 1])
                and not following.startswith("   ")):
            blocks.setdefault(lines[index], []).append(index)
            index += 2
        else:
            index += 1
    replace, drop = {}, set()
    for event, starts in blocks.items():
        if len(starts) < 2:
            continue
        replace[starts[0]] = [f"{event} begin", *(lines[i + 1] for i in starts), "  end"]
        drop.update(i + k for i in starts for k in (0, 1))
    out = []
    for index, line in enumerate(lines):
        if index in replace:
            out.extend(replace[index])
        elif index not in drop:
            out.append(line)
    return out


def merge_register_blocks(text):
    """Put all registers of a module that share a clock edge into one ``always`` block.

    ``write_verilog`` writes every register as its own ``always @(posedge clk) q <= d;``.
    Icarus Verilog runs each such block as a thread that every clock edge wakes, schedules
    and suspends again: with 1400 of them (16 lanes, ``max_group_size`` 16) that was half the
    time of an idle clock, and that configuration's nightly cocotb run took 72 s instead of
    55 s. One block per module and
    edge, holding the same non-blocking assignments, is the same logic: every right-hand side
    is still read before any register changes. Only blocks of exactly one unconditional
    non-blocking assignment are merged; memories and anything else stay as written.
    """
    return _per_module(text, _merge_module_register_blocks)


def generate_verilog(params, name=DEFAULT_NAME, *, engine=None):
    """Elaborate the flat-port engine and convert it to Verilog.

    Parameters
    ----------
    params : RAEParams
        Elaboration parameters.
    name : str
        Verilog module name.
    engine : wiring.Component, optional
        Engine to wrap instead of ``hdl.rae.RAE(params)`` (for tests).

    Returns
    -------
    (str, dict)
        The Verilog text and the manifest.
    """
    from amaranth.back import verilog

    check_name(name)
    os.environ["AMARANTH_USE_YOSYS"] = "builtin"
    top = FlatRAE(params, engine=engine)
    text = verilog.convert(top, name=name, emit_src=False, strip_internal_attrs=True)
    order = ["clk", "rst"] + [port for port, _, _ in port_table(params)]
    text = merge_register_blocks(merge_part_assigns(_reorder_header(text, name, order)))
    return text, build_manifest(params, name, top.latency)


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


def write_outputs(out_dir, name, verilog_text, manifest):
    """Write ``out_dir/<name>.v`` and ``out_dir/<name>.json``; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    v_path, j_path = out_dir / f"{name}.v", out_dir / f"{name}.json"
    _write_atomically({v_path: verilog_text, j_path: manifest_json(manifest)})
    return v_path, j_path


def _run(args):
    name = check_name(args.name)
    params = params_from_args(args)
    text, manifest = generate_verilog(params, name)
    v_path, j_path = write_outputs(args.out, name, text, manifest)
    p = params
    print(f"wrote {v_path} (module {name}: lanes={p.lanes} psum_bits={p.psum_bits} "
          f"q_bits={p.q_bits} max_group_size={p.max_group_size} depth={p.depth} "
          f"exp_bits={p.exp_bits} step_bits={p.step_bits} rounding={p.rounding})")
    capacity = ", ".join(f"gs={gs}: {c}" for gs, c in manifest["capacity"].items())
    print(f"wrote {j_path} (latency {manifest['latency']} clocks; capacity {capacity})")
    sys.stdout.flush()
    return 0


def register(subparsers):
    """Add the ``generate`` subcommand."""
    parser = subparsers.add_parser(
        "generate", help="write the engine as Verilog and its JSON manifest",
        description="Write OUT/NAME.v (flat ports of spec section 5) and OUT/NAME.json "
                    "(parameters, ports, latency, capacity, versions).")
    add_param_options(parser)
    parser.add_argument("--name", default=DEFAULT_NAME,
                        help=f"Verilog module name and file stem; default {DEFAULT_NAME}")
    parser.add_argument("--out", default="build", metavar="DIR",
                        help="output directory (created if missing); default build")
    parser.set_defaults(func=_run)
