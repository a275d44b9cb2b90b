"""Rewrites of Yosys' ``write_verilog`` text: the spec's port order and Icarus-friendly nets.

Each function takes the whole Verilog text and returns it with one kind of change, always the
same netlist: :func:`reorder_header` (the module header's port list in the spec's order),
:func:`merge_part_assigns` (one concatenation per part-assigned net),
:func:`merge_register_blocks` (one ``always`` block per module and clock edge),
:func:`plain_module_names` (plain identifiers for Yosys' escaped module and instance names),
:func:`explicit_widths` and :func:`default_case_items` (lint-clean operand widths and case
statements) and :func:`strip_initial_values` (no power-up values, for ``--init none``). The output depends on
the input text only.
"""

import collections
import re


__all__ = ["reorder_header", "merge_part_assigns", "merge_register_blocks", "plain_module_names",
           "strip_initial_values", "explicit_widths", "default_case_items", "drop_zero_width_nets"]


def reorder_header(text, name, order):
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
    downstream 16 times per clock; in a wide engine that work would dominate the simulation.
    ``assign net = { partN, ..., part0 };`` is the same netlist (each bit still has exactly one
    driver), and one assignment drives the whole net, so Icarus needs no resolver. Only a net
    whose parts cover its declared ``[W-1:0]`` exactly, each bit once, is rewritten; anything
    else is left as Yosys wrote it. Deterministic: the output depends on the input text only.
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
    and suspends again, a cost per register (a 16-lane engine with ``max_group_size`` 16 has
    about 1400) that one block per module and edge pays once. That block, holding the same
    non-blocking assignments, is the same logic: every right-hand side is still read before
    any register changes. Only blocks of exactly one unconditional non-blocking assignment
    are merged; memories and anything else stay as written.
    """
    return _per_module(text, _merge_module_register_blocks)


# A module header and an instance as ``write_verilog`` writes them: ``module NAME(`` (an escaped
# name ends in a space: ``module \\a.b (``) and, indented by two, ``TYPE INSTANCE (`` alone on
# its line (the connections follow, one per line).
_MODULE = re.compile(r"module " + _NAME + r" ?\(")
_INSTANCE = re.compile(r"  " + _NAME + r" " + _NAME + r" ?\(\Z")
# Lines that look like ``WORD WORD (`` but are not instances.
_KEYWORDS_BEFORE_PAREN = frozenset({"always", "if", "else", "case", "casez", "function", "task"})
_TOKEN = re.compile(r"\\\S+ |[A-Za-z_][A-Za-z0-9_$]*")


def _plain(name):
    """``\\apsq_rae.engine.banks `` -> ``apsq_rae_engine_banks``; a simple name is kept."""
    if not name.startswith("\\"):
        return name
    plain = re.sub(r"[^A-Za-z0-9_$]", "_", name[1:].rstrip())
    return plain if re.match(r"[A-Za-z_]", plain) else "_" + plain


def _check_unique(mapping, kind, taken=()):
    seen = {}
    for old, new in sorted(mapping.items()):
        if new in seen or (new in taken and new != old):
            other = seen.get(new, new)
            raise RuntimeError(f"{kind} names {old.rstrip()!r} and {other.rstrip()!r} would "
                               f"both become {new!r}")
        seen[new] = old


def plain_module_names(text):
    """Give every module and instance a plain identifier instead of an escaped one.

    Yosys names a submodule by its hierarchical path, an escaped identifier such as
    ``\\apsq_rae.engine.banks ``; some tools (and readers) do poorly with those. Every character
    that a simple identifier cannot hold becomes ``_`` (``apsq_rae_engine_banks``), and ``_`` is
    put in front of a name that would start with a digit or ``$``. Module declarations and the
    module type of every instance are renamed together; an escaped instance name is renamed
    the same way within its module. Only names change, so the netlist is the same. Two names
    that would become one (a module name with another module's, an instance name with any
    identifier already used in its module) are refused with :class:`RuntimeError`, never
    merged. Deterministic: the output depends on the input text only.
    """
    lines = text.split("\n")
    modules = [m.group(1) for m in map(_MODULE.match, lines) if m]
    renamed = {name: _plain(name) for name in modules}
    _check_unique(renamed, "module")

    def rename_module(lines):
        used = {token.rstrip() for line in lines for token in _TOKEN.findall(line)}
        instances = {}
        for line in lines:
            match = _INSTANCE.match(line)
            if match and match.group(1).rstrip() not in _KEYWORDS_BEFORE_PAREN:
                instances[match.group(2)] = _plain(match.group(2))
        _check_unique({k: v for k, v in instances.items() if k != v}, "instance", used)
        out = []
        for line in lines:
            match = _MODULE.match(line)
            if match:
                line = f"module {renamed[match.group(1)]}(" + line[match.end():]
            else:
                match = _INSTANCE.match(line)
                if match and match.group(2) in instances:
                    kind = renamed.get(match.group(1), match.group(1))
                    line = f"  {kind} {instances[match.group(2)]} ("
            out.append(line)
        return out

    return _per_module(text, rename_module)


# What carries a power-up value in ``write_verilog`` output: a register declared with an
# initialiser, an ``init`` attribute on a net (a register Amaranth had merged into a wire), and
# an ``initial`` block that fills a memory, one ``mem[i] = value;`` per row.
_INITIALISED_REG = re.compile(r"(  reg(?: signed)?(?: \[\d+:\d+\])? " + _NAME + r") = [^;]*;\Z")
_INIT_ATTRIBUTE = re.compile(r"  \(\* init = [^*]*\*\)\Z")
_MEMORY_INIT = re.compile(r"    " + _NAME + r"\[\d+\] = [^;]*;\Z")
# Yosys' time-zero trigger: a 1-bit ``reg`` that nothing assigns, read by empty ``if``s in its
# combinational ``always @*`` blocks so that a simulator evaluates them once at time zero. It
# holds no state (synthesis sees a constant), so it keeps its ``= 0``.
_TIME_ZERO_TRIGGER = "\\$auto$verilog_backend.cc:"


def _strip_module_initial_values(lines):
    out = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line == "  initial begin":
            end = index + 1
            while end < len(lines) and _MEMORY_INIT.match(lines[end]):
                end += 1
            if end == index + 1 or end == len(lines) or lines[end] != "  end":
                raise RuntimeError(f"an initial block that does not only fill a memory: "
                                   f"{lines[index + 1:index + 2]}")
            index = end + 1
            continue
        match = _INITIALISED_REG.match(line)
        if match and not match.group(2).startswith(_TIME_ZERO_TRIGGER):
            line = match.group(1) + ";"
        elif _INIT_ATTRIBUTE.match(line):
            index += 1
            continue
        out.append(line)
        index += 1
    return out


def strip_initial_values(text):
    """Remove every power-up value: register initialisers, ``init`` attributes and the
    ``initial`` blocks that fill memories (``--init none``).

    Amaranth gives every register an initial value equal to its reset value, and Yosys writes
    it as ``reg [7:0] x = 8'h00;``. FPGA bitstreams load those values; ASIC synthesis ignores
    them, so in silicon every register and memory powers up unknown, and a simulation that
    starts from them hides a register that ``rst`` does not reset. Without them, simulation
    starts where silicon does. Only initial values go: every register, assignment and reset
    stays, so the logic after reset is the same. The one ``reg`` with a value that stays is
    Yosys' time-zero trigger (``\\$auto$verilog_backend.cc:...``), which holds no state. An
    ``initial`` block that does anything but fill a memory is refused (:class:`RuntimeError`).
    Deterministic: the output depends on the input text only.
    """
    return _per_module(text, _strip_module_initial_values)


# Operands and the expressions of one ``assign`` as ``write_verilog`` writes a cell: a net
# (simple or escaped, then an optional bit or part select) or a sized constant, optionally
# inside ``$signed(...)``; a binary operator between two operands, or ``!`` before one.
_OPERAND = (r"(\$signed\()?((?:\\\S+ |[A-Za-z_][A-Za-z0-9_$]*)(?: ?\[\d+(?::\d+)?\])?"
            r"|\d+'s?[hbd][0-9a-fA-F]+)\)?")
_BINARY = re.compile(r"  assign " + _NAME + r" = " + _OPERAND + r" (\+|-|\*|==|!=|<|<=|>|>=) "
                     + _OPERAND + r";\Z")
_LOGIC_NOT = re.compile(r"  assign " + _NAME + r" = ! " + _OPERAND + r";\Z")
_SELECT = re.compile(r"(.*?) ?\[(\d+)(?::(\d+))?\]\Z")
_CONSTANT = re.compile(r"(\d+)'(s?)([hbd])([0-9a-fA-F]+)\Z")
_ARITHMETIC = frozenset("+-*")


def _widths(lines):
    """Declared width of every net of one module, by name (escaped names without their
    trailing blank)."""
    widths = {}
    for line in lines:
        match = _DECLARATION.match(line)
        if match:
            _, high, low, net = match.groups()
            widths[net.rstrip()] = 1 if high is None else abs(int(high) - int(low)) + 1
    return widths


def _operand_width(term, widths):
    match = _CONSTANT.match(term)
    if match:
        return int(match.group(1))
    match = _SELECT.match(term)
    if match:
        high, low = match.group(2), match.group(3)
        return 1 if low is None else int(high) - int(low) + 1
    return widths.get(term.rstrip())


def _msb(term, width):
    """The sign bit of a net operand of ``width`` bits, as an operand (an escaped name needs a
    blank before its select)."""
    match = _SELECT.match(term)
    net, index = (match.group(1), match.group(2)) if match else (term.rstrip(), width - 1)
    if width == 1 and not match:
        return term
    return f"{net} [{index}]" if net.startswith("\\") else f"{net}[{index}]"


def _extend(signed, term, width, target):
    """``term`` (``width`` bits, inside ``$signed`` if ``signed``) written as ``target`` bits
    with the same value in its context: zero-extended, or sign-extended if signed."""
    constant = _CONSTANT.match(term)
    if constant:
        base = {"h": 16, "b": 2, "d": 10}[constant.group(3)]
        value = int(constant.group(4), base)
        if signed and value >> (width - 1) & 1:
            value += (1 << target) - (1 << width)
        text = f"{target}'h{value:x}"
    elif signed:
        text = f"{{ {{{target - width}{{{_msb(term, width)}}}}}, {term} }}"
    else:
        text = f"{{ {target - width}'h0, {term} }}"
    return f"$signed({text})" if signed else text


def _explicit_module_widths(lines):
    widths = _widths(lines)
    out = []
    for line in lines:
        match = _LOGIC_NOT.match(line)
        if match:
            y, signed, term = match.groups()
            if not signed and (_operand_width(term, widths) or 1) > 1:
                line = f"  assign {y} = ~| {term};"
            out.append(line)
            continue
        match = _BINARY.match(line)
        if match:
            y, signed_a, a, op, signed_b, b = match.groups()
            width_a, width_b = _operand_width(a, widths), _operand_width(b, widths)
            if width_a and width_b and bool(signed_a) == bool(signed_b):
                target = widths.get(y.rstrip()) if op in _ARITHMETIC \
                    else max(width_a, width_b)
                if target and max(width_a, width_b) <= target:
                    operands = []
                    for signed, term, width in ((signed_a, a, width_a), (signed_b, b, width_b)):
                        if width < target:
                            operands.append(_extend(bool(signed), term, width, target))
                        else:
                            operands.append(f"$signed({term})" if signed else term)
                    line = f"  assign {y} = {operands[0]} {op} {operands[1]};"
        out.append(line)
    return out


def explicit_widths(text):
    """Write every operand of an arithmetic operator or a comparison at the width Verilog
    gives it in its context, and ``!`` of a vector as ``~|``.

    ``write_verilog`` writes a cell with operands narrower than its result as, for example,
    ``assign y = $signed(a) + $signed(b);`` and leaves the extension to Verilog's
    context-determined widths; a comparison with a constant keeps the constant's own width
    (``x == 7'h7f`` on a 42-bit ``x``), and the logical not of a vector is ``! v``. The value
    is right, but lint tools flag each one (Verilator's WIDTHEXPAND and WIDTHTRUNC). Here the
    extension is written out: ``$signed({ {8{a[31]}}, a })``, ``{ 3'h0, b }``, ``42'h7f``,
    ``~| v``. Operands of an addition, subtraction or product are extended to the result's
    declared width, those of a comparison to the wider operand's width; constants are
    re-sized, sign-extended inside ``$signed``. The value of every expression is the same.
    Only lines of exactly this form are touched. Deterministic: the output depends on the
    input text only.
    """
    return _per_module(text, _explicit_module_widths)


_CASE_START = re.compile(r"    (casez?) \(")


def _default_module_cases(lines):
    out = []
    stack = []
    for line in lines:
        if _CASE_START.match(line):
            stack.append(False)
        elif stack and line.strip().startswith("default"):
            stack[-1] = True
        elif stack and line == "    endcase":
            if not stack.pop():
                out.extend(["      default:", "          ;"])
        out.append(line)
    return out


def default_case_items(text):
    """Give every ``case``/``casez`` of a process without a ``default`` an empty one.

    ``write_verilog`` writes a process's switch as ``casez (sel)`` with one item per value
    that assigns something, after the default assignments at the top of the ``always``
    block; values that assign nothing have no item, which lint tools report as an incomplete
    case (Verilator's CASEINCOMPLETE). ``default: ;`` does nothing, which is what happens
    without it, so the logic is the same. Deterministic: the output depends on the input text
    only.
    """
    return _per_module(text, _default_module_cases)


_ZERO_WIDTH = re.compile(r"  wire \[-1:0\] " + _NAME + r";\Z")


def _drop_module_zero_width_nets(lines):
    used = collections.Counter(token.rstrip() for line in lines
                               for token in _TOKEN.findall(line))
    out = []
    for line in lines:
        match = _ZERO_WIDTH.match(line)
        if match and used[match.group(1).rstrip()] == 1:
            continue
        out.append(line)
    return out


def drop_zero_width_nets(text):
    """Remove the declarations of zero-width nets that nothing uses.

    A field of no bits (the group phase of an engine with ``max_group_size`` 1, for example)
    reaches ``write_verilog`` as ``wire [-1:0] phase;``, an ascending range that lint tools
    report (Verilator's ASCRANGE) and that Verilog reads as two bits. Such a net carries
    nothing; a declaration that no other line names is dropped, any other is left alone.
    Deterministic: the output depends on the input text only.
    """
    return _per_module(text, _drop_module_zero_width_nets)
