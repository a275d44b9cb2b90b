"""Timing of the ASIC estimate: the cell library's delay model and a static timing analysis.

The cell library ``area/cells/ge45.lib`` gives every combinational arc of a cell a delay that
is linear in the load it drives (``intrinsic + slope * load``, written as NLDM tables that do
not depend on input slew) and the flip-flop a clock-to-Q arc and a setup time. This module
reads those numbers (:func:`read_library`), derives the untimed view of the library that the
area mapping uses (:func:`area_view`), and computes the worst register-to-register delay of a
mapped netlist (:func:`worst_path`), from Yosys' JSON of the hierarchical design.

Why our own timing analysis rather than Yosys ``sta`` or ABC ``stime``: the area flow keeps
the hierarchy, so ABC maps (and ``stime`` would time) one module at a time and never sees a
path that crosses a module boundary; Yosys ``sta`` only times paths inside one module (the
design would have to be flattened, losing the blocks) and takes its delays from the cells'
``specify`` data, not from a Liberty file. Here the netlist is flattened in Python (keeping
each cell's module), every path from a register to a register is timed across the
hierarchy, and the worst path keeps the module of every cell it passes through, so the
report can name its block.

The model (what the numbers mean, and what they leave out):

* startpoints: flip-flop outputs (arrival = clock-to-Q with the load on Q) and the data
  outputs of synchronous memory read ports (arrival 0: the SRAM's own clock-to-data time is
  left out);
* endpoints: flip-flop D pins (required: arrival + setup) and every input of a memory
  (write address/data/enable, synchronous read address/enable; no setup);
* an asynchronous memory read port is a combinational arc from its address and enable to its
  data with zero delay (the access time is left out);
* a net's load is the sum of its sinks' input-pin capacitances (memory inputs count the
  library's ``default_input_pin_cap``); no wire load;
* a net with more than :data:`FANOUT_LIMIT` sinks is assumed buffered by an ideal tree of the
  library's ``BUF``, each stage driving at most ``FANOUT_LIMIT`` pins (the buffers' delay is
  counted, their area is not);
* rise and fall are not told apart (the library's tables are the slower edge); no clock
  skew, clock tree, wires, placement, corners or margins.

Top-level inputs and outputs are neither startpoints nor endpoints: only register-to-register
paths are timed.
"""

import re
from pathlib import Path


__all__ = ["FANOUT_LIMIT", "read_library", "area_view", "net_delay", "worst_path"]


#: Nets with more sinks than this are timed as if buffered (see the module docstring).
FANOUT_LIMIT = 8


# --- Liberty ---------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(/\*.*?\*/)|("(?:[^"\\]|\\.)*")|([{}();:,])|([^\s{}();:,"]+))',
                    re.S)


def _tokens(text):
    pos = 0
    out = []
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos:].strip():
                raise ValueError(f"Liberty: cannot read {text[pos:pos + 30]!r}")
            break
        pos = match.end()
        comment, string, punct, word = match.groups()
        if comment is not None:
            continue
        if string is not None:
            out.append(("str", string[1:-1]))
        elif punct is not None:
            out.append(("p", punct))
        elif word is not None:
            out.append(("w", word))
    return out


def _parse_group_body(toks, i):
    """Statements until the closing brace: list of (name, args, value, children)."""
    items = []
    while i < len(toks):
        kind, tok = toks[i]
        if (kind, tok) == ("p", "}"):
            return items, i + 1
        if kind not in ("w", "str"):
            raise ValueError(f"Liberty: unexpected {tok!r}")
        name = tok
        i += 1
        if i < len(toks) and toks[i] == ("p", ":"):          # simple attribute
            i += 1
            value = []
            while i < len(toks) and toks[i] != ("p", ";") and toks[i] != ("p", "}"):
                value.append(toks[i][1])
                i += 1
            if i < len(toks) and toks[i] == ("p", ";"):
                i += 1
            items.append((name, None, " ".join(value), None))
        elif i < len(toks) and toks[i] == ("p", "("):          # group or complex attribute
            i += 1
            args = []
            while i < len(toks) and toks[i] != ("p", ")"):
                if toks[i] != ("p", ","):
                    args.append(toks[i][1])
                i += 1
            i += 1
            if i < len(toks) and toks[i] == ("p", "{"):
                children, i = _parse_group_body(toks, i + 1)
                items.append((name, args, None, children))
            else:
                if i < len(toks) and toks[i] == ("p", ";"):
                    i += 1
                items.append((name, args, None, None))
        else:
            raise ValueError(f"Liberty: expected ':' or '(' after {name!r}")
    raise ValueError("Liberty: missing '}'")


def _parse(text):
    toks = _tokens(text)
    if len(toks) < 5 or toks[0] != ("w", "library"):
        raise ValueError("Liberty: the file does not start with library(...)")
    items, i = _parse_group_body([("w", "library")] + toks[1:] + [("p", "}")], 0)
    [(name, args, _, children)] = items
    if children is None:
        raise ValueError("Liberty: library(...) has no body")
    return args[0] if args else "", children


def _attrs(children):
    return {name: value for name, args, value, sub in children if value is not None}


def _groups(children, kind):
    return [(args, sub) for name, args, value, sub in children if name == kind and sub is not None]


def _numbers(text):
    return [float(x) for x in text.replace(",", " ").split()]


def _linear(table, templates, where):
    """``(intrinsic, slope)`` of a delay table that is linear in the load and flat in slew."""
    args, body = table
    complex_ = {name: a for name, a, value, sub in body if a is not None and sub is None}
    if "values" not in complex_:
        raise ValueError(f"{where}: table without values")
    rows = [_numbers(row) for row in complex_["values"]]
    tmpl = templates.get(args[0] if args else "scalar")
    if tmpl is None:
        raise ValueError(f"{where}: unknown table template {args[0]!r}")
    index = dict(tmpl)
    for key in ("index_1", "index_2"):
        if key in complex_:
            index[key] = _numbers(complex_[key][0])
    if tmpl.get("scalar"):
        if len(rows) != 1 or len(rows[0]) != 1:
            raise ValueError(f"{where}: a scalar table holds one value")
        return rows[0][0], 0.0
    loads = index.get("index_2") or []
    if index.get("variable_2") != "total_output_net_capacitance" or len(loads) < 2:
        raise ValueError(f"{where}: the table's second index must be the output load "
                         f"(two or more points)")
    if any(len(row) != len(loads) for row in rows):
        raise ValueError(f"{where}: table rows do not match index_2")
    if any(row != rows[0] for row in rows):
        raise ValueError(f"{where}: the delay depends on input slew (rows differ); "
                         f"only slew-independent tables are supported")
    row = rows[0]
    slope = (row[-1] - row[0]) / (loads[-1] - loads[0])
    intrinsic = row[0] - slope * loads[0]
    for load, value in zip(loads, row):
        if abs(intrinsic + slope * load - value) > 1e-6:
            raise ValueError(f"{where}: the delay is not linear in the load")
    intrinsic, slope = round(intrinsic, 9), round(slope, 9)
    if intrinsic < 0 or slope < 0:
        raise ValueError(f"{where}: negative delay")
    return intrinsic, slope


def read_library(path):
    """Cells of a Liberty file with the delay model of :mod:`.timing`.

    Returns
    -------
    dict
        ``{"name", "default_input_pin_cap", "cells": {cell: {"area", "inputs": {pin: cap},
        "outputs": [pins], "arcs": {(in, out): (intrinsic_ns, slope_ns_per_pf)},
        "clock": pin or None, "setup": {pin: ns}, "sequential": bool}}}``. Capacitances in
        the library's load unit (pF here), times in its time unit (ns).

    Raises
    ------
    ValueError
        The file is not the Liberty subset used here, or a timing arc is missing or malformed
        (every output of a combinational cell with inputs needs an arc from every input).
    """
    text = Path(path).read_text()
    name, items = _parse(text)
    lib = _attrs(items)
    if lib.get("time_unit") != "1ns":
        raise ValueError(f"Liberty {path}: time_unit must be '1ns', not {lib.get('time_unit')!r}")
    cap_unit = [a for n, a, v, s in items if n == "capacitive_load_unit"]
    if not cap_unit or [x.strip() for x in cap_unit[0]] != ["1", "pf"]:
        raise ValueError(f"Liberty {path}: capacitive_load_unit must be (1, pf)")
    templates = {"scalar": {"scalar": True}}
    for args, body in _groups(items, "lu_table_template"):
        tmpl = _attrs(body)
        for key, a, v, s in body:
            if a is not None and s is None:
                tmpl[key] = _numbers(a[0])
        templates[args[0]] = tmpl
    default_cap = float(lib.get("default_input_pin_cap", 0.0))
    cells = {}
    for args, body in _groups(items, "cell"):
        cell = args[0]
        attrs = _attrs(body)
        if "area" not in attrs:
            raise ValueError(f"Liberty {path}: cell {cell} has no area")
        info = {"area": float(attrs["area"]), "inputs": {}, "outputs": [], "arcs": {},
                "clock": None, "setup": {}, "sequential": bool(_groups(body, "ff"))}
        timings = []
        for pin_args, pin_body in _groups(body, "pin"):
            pin = pin_args[0]
            pa = _attrs(pin_body)
            direction = pa.get("direction")
            if direction == "input":
                info["inputs"][pin] = float(pa.get("capacitance", default_cap))
                if pa.get("clock") == "true":
                    info["clock"] = pin
            elif direction == "output":
                info["outputs"].append(pin)
            else:
                raise ValueError(f"Liberty {path}: {cell}.{pin} has direction {direction!r}")
            timings += [(pin, t) for _, t in _groups(pin_body, "timing")]
        for pin, body_t in timings:
            ta = _attrs(body_t)
            related = ta.get("related_pin")
            where = f"Liberty {path}: {cell} {related} -> {pin}"
            if related not in info["inputs"]:
                raise ValueError(f"{where}: related_pin is not an input of the cell")
            kind = ta.get("timing_type", "combinational")
            tables = {n: (a, s) for n, a, v, s in body_t if s is not None}
            if kind in ("setup_rising",):
                values = [_linear(tables[t], templates, where)[0]
                          for t in ("rise_constraint", "fall_constraint") if t in tables]
                if not values:
                    raise ValueError(f"{where}: setup without rise/fall_constraint")
                info["setup"][pin] = max(values)
                continue
            if kind not in ("combinational", "rising_edge"):
                raise ValueError(f"{where}: timing_type {kind!r} is not supported")
            if pin not in info["outputs"]:
                raise ValueError(f"{where}: a delay arc must end on an output")
            models = [_linear(tables[t], templates, where)
                      for t in ("cell_rise", "cell_fall") if t in tables]
            if not models:
                raise ValueError(f"{where}: no cell_rise/cell_fall table")
            info["arcs"][related, pin] = (max(m[0] for m in models), max(m[1] for m in models))
        for out in info["outputs"]:
            for inp in info["inputs"]:
                if inp == info["clock"] and not info["sequential"]:
                    continue
                if info["sequential"] and inp != info["clock"]:
                    continue
                if (inp, out) not in info["arcs"]:
                    raise ValueError(f"Liberty {path}: {cell} has no timing arc {inp} -> {out}")
        if info["sequential"]:
            data = [p for p in info["inputs"] if p != info["clock"]]
            if info["clock"] is None or any(p not in info["setup"] for p in data):
                raise ValueError(f"Liberty {path}: flip-flop {cell} needs a clock pin and a "
                                 f"setup time on every data input")
        cells[cell] = info
    return {"name": name, "default_input_pin_cap": default_cap, "cells": cells}


def area_view(text):
    """The library text without its timing: what the area mapping reads.

    ``timing()`` and ``lu_table_template()`` groups and ``capacitance`` attributes are removed,
    so ABC maps for area exactly as it did before the library had timing (``&nf`` with no
    delays).
    """
    out = []
    pos = 0
    group = re.compile(r"\b(?:timing|lu_table_template)\s*\([^)]*\)\s*\{")
    while True:
        match = group.search(text, pos)
        if match is None:
            out.append(text[pos:])
            break
        out.append(text[pos:match.start()])
        depth = 1
        i = match.end()
        while depth:
            if i >= len(text):
                raise ValueError("Liberty: unbalanced braces in a timing group")
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        pos = i
    text = re.sub(r"\s*\bcapacitance\s*:\s*[0-9.eE+-]+\s*;", "", "".join(out))
    return "".join(line for line in text.splitlines(keepends=True) if line.strip())


# --- the delay of one net --------------------------------------------------------------------

def net_delay(arc, sinks, load, buf):
    """Delay of a driving arc into a net of ``sinks`` pins with total capacitance ``load``.

    ``arc`` and ``buf`` (the library's buffer arc) are ``(intrinsic, slope)``. Up to
    :data:`FANOUT_LIMIT` sinks: ``intrinsic + slope * load``. More: the driver feeds a tree
    of buffers, each driving at most ``FANOUT_LIMIT`` pins, with the fewest levels ``L`` such
    that ``FANOUT_LIMIT ** (L + 1) >= sinks``; the driver and the inner buffers drive
    ``FANOUT_LIMIT`` buffer inputs, the last buffers ``FANOUT_LIMIT`` average sinks.
    """
    intrinsic, slope = arc
    if sinks <= FANOUT_LIMIT:
        return intrinsic + slope * load
    (b_int, b_slope), b_cap = buf
    levels = 0
    reach = FANOUT_LIMIT
    while reach < sinks:
        reach *= FANOUT_LIMIT
        levels += 1
    tree_load = FANOUT_LIMIT * b_cap
    leaf_load = FANOUT_LIMIT * load / sinks
    return (intrinsic + slope * tree_load + (levels - 1) * (b_int + b_slope * tree_load)
            + b_int + b_slope * leaf_load)


# --- static timing of a Yosys JSON netlist ---------------------------------------------------

def _int_param(value):
    if isinstance(value, int):
        return value
    text = str(value)
    if text and set(text) <= set("01xz"):
        return int(text.replace("x", "0").replace("z", "0"), 2)
    return int(text)


class _Nets:
    """Union-find over net ids (module port bits alias nets of the parent)."""

    def __init__(self):
        self.parent = []

    def new(self):
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, x):
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[b] = a


def _flatten(netlist, top):
    """Leaf cells of the design below ``top``: list of ``(module, name, type, params, conns)``
    with ``conns = {port: [net id or None]}`` (None: a constant)."""
    modules = {name.lstrip("\\"): body for name, body in netlist["modules"].items()}
    if top not in modules:
        raise ValueError(f"top module {top!r} not in the netlist")
    nets = _Nets()
    leaves = []

    def visit(name, portmap, depth):
        if depth > 64:
            raise ValueError(f"module hierarchy too deep at {name}")
        local = portmap

        def net(bit):
            if isinstance(bit, str):
                return None
            if bit not in local:
                local[bit] = nets.new()
            return local[bit]

        for cname, cell in modules[name].get("cells", {}).items():
            ctype = cell["type"].lstrip("\\")
            conns = {port: [net(b) for b in bits] for port, bits in cell["connections"].items()}
            if ctype in modules:
                childmap = {}
                for port, pdesc in modules[ctype].get("ports", {}).items():
                    for bit, outer in zip(pdesc["bits"], conns.get(port, [])):
                        if isinstance(bit, str) or outer is None:
                            continue
                        if bit in childmap:
                            nets.union(childmap[bit], outer)
                        else:
                            childmap[bit] = outer
                visit(ctype, childmap, depth + 1)
            else:
                leaves.append((name, cname.lstrip("\\"), ctype, cell.get("parameters", {}),
                               conns))

    visit(top, {}, 0)
    return [(m, c, t, p, {port: [None if n is None else nets.find(n) for n in ids]
                          for port, ids in conns.items()})
            for m, c, t, p, conns in leaves]


_MEM_INPUTS = ("WR_ADDR", "WR_DATA", "WR_EN", "RD_ADDR", "RD_EN", "RD_SRST", "RD_ARST")


def _memory_ports(params, conns):
    """``(async arcs [(inputs, outputs)], startpoint nets, endpoint nets)`` of a memory."""
    nrd = _int_param(params.get("RD_PORTS", 0))
    abits = _int_param(params.get("ABITS", 0))
    clk_en = _int_param(params.get("RD_CLK_ENABLE", 0))
    data = conns.get("RD_DATA", [])
    addr = conns.get("RD_ADDR", [])
    en = conns.get("RD_EN", [])
    width = len(data) // nrd if nrd else 0
    arcs, starts = [], []
    for port in range(nrd):
        pdata = data[port * width:(port + 1) * width]
        if clk_en >> port & 1:
            starts += pdata
        else:
            inputs = addr[port * abits:(port + 1) * abits] + en[port:port + 1]
            arcs.append(([n for n in inputs if n is not None],
                         [n for n in pdata if n is not None]))
    ends = [n for port in _MEM_INPUTS for n in conns.get(port, [])]
    return arcs, [n for n in starts if n is not None], [n for n in ends if n is not None]


def worst_path(netlist, top, library):
    """The worst register-to-register path of a mapped netlist (see the module docstring).

    Parameters
    ----------
    netlist : dict
        Yosys ``write_json`` output of the design (hierarchical or flat).
    top : str
        Top module.
    library : dict
        :func:`read_library` of the library the netlist is mapped to.

    Returns
    -------
    dict or None
        ``None`` when the design has no register-to-register path. Otherwise ``delay_ns``
        (clock-to-Q or 0 at the start, cell delays, setup at the end: the shortest clock
        period the path allows), ``setup_ns``, ``start`` and ``end`` (``{"module", "cell",
        "type"}``), ``levels`` (cells after the start), ``path``: one step per cell from the
        start (``{"module", "cell", "type", "delay_ns", "arrival_ns", "fanout"}``),
        ``endpoints`` (timed endpoint pins).

    Raises
    ------
    ValueError
        A cell type that is neither in the library nor a memory, or a combinational loop.
    """
    cells = library["cells"]
    bufs = [c for c, info in cells.items() if not info["sequential"]
            and len(info["inputs"]) == 1 and len(info["outputs"]) == 1
            and info["arcs"] and c.upper().startswith("BUF")]
    if not bufs:
        raise ValueError("the library has no BUF cell (needed for high-fanout nets)")
    buf = cells[bufs[0]]
    (buf_arc,) = buf["arcs"].values()
    buf_model = (buf_arc, next(iter(buf["inputs"].values())))
    mem_cap = library["default_input_pin_cap"]

    leaves = _flatten(netlist, top)
    load, sinks = {}, {}

    def add_sink(net, cap):
        if net is not None:
            load[net] = load.get(net, 0.0) + cap
            sinks[net] = sinks.get(net, 0) + 1

    # Loads first: every input pin on a net.
    for module, name, ctype, params, conns in leaves:
        if ctype in cells:
            info = cells[ctype]
            for pin, cap in info["inputs"].items():
                if pin == info["clock"]:
                    continue                        # the clock net is not timed
                for net in conns.get(pin, []):
                    add_sink(net, cap)
        elif ctype.startswith("$mem"):
            for port in _MEM_INPUTS:
                for net in conns.get(port, []):
                    add_sink(net, mem_cap)
        elif ctype != "$scopeinfo":
            raise ValueError(f"cell {module}.{name} of type {ctype} is not in the library")

    def delay(arc, net):
        return net_delay(arc, sinks.get(net, 0), load.get(net, 0.0), buf_model)

    # Arcs: (input net, output net, delay, cell index); startpoints; endpoints.
    edges = {}
    indeg = {}
    start_arrival = {}                       # net -> (arrival, cell index)
    endpoints = []                           # (net, setup, cell index, pin)
    for index, (module, name, ctype, params, conns) in enumerate(leaves):
        if ctype in cells:
            info = cells[ctype]
            if info["sequential"]:
                for (inp, out), arc in info["arcs"].items():
                    for net in conns.get(out, []):
                        if net is not None:
                            start_arrival[net] = (delay(arc, net), index)
                for pin, setup in info["setup"].items():
                    for net in conns.get(pin, []):
                        if net is not None:
                            endpoints.append((net, setup, index, pin))
                continue
            for (inp, out), arc in info["arcs"].items():
                for src in conns.get(inp, []):
                    for dst in conns.get(out, []):
                        if src is None or dst is None:
                            continue
                        edges.setdefault(src, []).append((dst, delay(arc, dst), index))
                        indeg[dst] = indeg.get(dst, 0) + 1
        elif ctype.startswith("$mem"):
            arcs, starts, ends = _memory_ports(params, conns)
            for net in starts:
                start_arrival[net] = (0.0, index)
            for inputs, outputs in arcs:
                for src in inputs:
                    for dst in outputs:
                        edges.setdefault(src, []).append((dst, 0.0, index))
                        indeg[dst] = indeg.get(dst, 0) + 1
            endpoints += [(net, 0.0, index, "mem") for net in ends]

    # Longest path in topological order (Kahn); nets no startpoint reaches stay unreached.
    arrival = {net: a for net, (a, _) in start_arrival.items()}
    came = {net: (None, index) for net, (_, index) in start_arrival.items()}
    ready = [net for net in set(edges) | set(indeg) if indeg.get(net, 0) == 0]
    seen = 0
    while ready:
        net = ready.pop()
        seen += 1
        here = arrival.get(net)
        for dst, d, index in edges.get(net, ()):
            if here is not None and (arrival.get(dst) is None or here + d > arrival[dst]):
                if dst in start_arrival:
                    raise ValueError(f"net driven by a register and by logic "
                                     f"(cell {leaves[index][0]}.{leaves[index][1]})")
                arrival[dst] = here + d
                came[dst] = (net, index)
            indeg[dst] -= 1
            if indeg[dst] == 0:
                ready.append(dst)
    if seen < len(set(edges) | set(indeg)):
        stuck = next(n for n, k in indeg.items() if k > 0)
        raise ValueError(f"combinational loop (through net {stuck})")

    best = None
    for net, setup, index, pin in endpoints:
        if net in arrival:
            total = arrival[net] + setup
            if best is None or total > best[0]:
                best = (total, net, setup, index, pin)
    if best is None:
        return None
    total, net, setup, end_index, end_pin = best
    steps = []
    while True:
        prev, index = came[net]
        module, name, ctype, _, _ = leaves[index]
        step_delay = arrival[net] - (arrival[prev] if prev is not None else 0.0)
        steps.append({"module": module, "cell": name, "type": ctype,
                      "delay_ns": round(step_delay, 4), "arrival_ns": round(arrival[net], 4),
                      "fanout": sinks.get(net, 0)})
        if prev is None:
            break
        net = prev
    steps.reverse()

    def where(index):
        module, name, ctype, _, _ = leaves[index]
        return {"module": module, "cell": name, "type": ctype}

    start = steps[0]
    return {
        "delay_ns": round(total, 4),
        "setup_ns": round(setup, 4),
        "start": {k: start[k] for k in ("module", "cell", "type")},
        "end": dict(where(end_index), pin=end_pin),
        "levels": len(steps) - 1,
        "path": steps,
        "endpoints": len(endpoints),
    }
