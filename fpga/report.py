"""Read what Yosys and nextpnr say about a build: utilization, Fmax and the critical path."""

import json
import re
import subprocess
from pathlib import Path


__all__ = ["parse_yosys_stat", "parse_nextpnr_report", "summarize", "format_line",
           "critical_path_sources", "critical_path_blocks", "endpoint_blocks", "source_revision"]


#: Cell types counted in each utilization column, per family.
CELL_CLASSES = {
    "ecp5": {
        "luts": ("LUT4",),
        "ffs": ("TRELLIS_FF",),
        "bram": ("DP16KD", "PDPW16KD"),
        "carry": ("CCU2C",),
        "lutram": ("TRELLIS_DPR16X4",),
        "dsp": ("MULT18X18D", "ALU54B"),
    },
    "ice40": {
        "luts": ("SB_LUT4",),
        "ffs": ("SB_DFF", "SB_DFFE", "SB_DFFSR", "SB_DFFR", "SB_DFFS", "SB_DFFESR", "SB_DFFER",
                "SB_DFFES", "SB_DFFSS", "SB_DFFESS", "SB_DFFN", "SB_DFFNE", "SB_DFFNSR",
                "SB_DFFNR", "SB_DFFNS", "SB_DFFNESR", "SB_DFFNER", "SB_DFFNES", "SB_DFFNSS",
                "SB_DFFNESS"),
        "bram": ("SB_RAM40_4K",),
        "carry": ("SB_CARRY",),
        "lutram": (),
        "dsp": ("SB_MAC16",),
    },
}

#: nextpnr utilization entries that give a device total for a column.
CAPACITY = {
    "ecp5": {"luts": "TRELLIS_COMB", "ffs": "TRELLIS_FF", "bram": "DP16KD", "dsp": "MULT18X18D"},
    "ice40": {"luts": "ICESTORM_LC", "ffs": "ICESTORM_LC", "bram": "ICESTORM_RAM",
              "dsp": "ICESTORM_DSP"},
}

_STAT_LINE = re.compile(r"^\s+(\d+)\s+(\$?[A-Za-z_][\w$]*)\s*$")


def parse_yosys_stat(text):
    """Cell counts ``{type: n}`` from the last ``stat`` of a Yosys log (first count of each
    type, i.e. the top module's, which holds everything after ``flatten``)."""
    start = text.rfind("Printing statistics")
    if start < 0:
        raise ValueError("no 'Printing statistics' section in the Yosys log")
    cells = {}
    for line in text[start:].splitlines():
        match = _STAT_LINE.match(line)
        if match:
            cells.setdefault(match.group(2), int(match.group(1)))
    return cells


def critical_path_sources(path, limit=8):
    """Source locations (``file:line``, project files first) along one nextpnr critical path."""
    seen = []
    for hop in path.get("path", []):
        for source in hop.get("sources", []):
            file, _, lines = source.rpartition(":")
            loc = f"{file}:{lines.split('.')[0].split('-')[0]}" if file else source
            if "/share/" in loc or loc in seen:
                continue
            seen.append(loc)
    # Project files by their folder, installed packages by their import path: no absolute path
    # of the machine that built the report.
    short = []
    for loc in seen:
        for marker, keep in (("/hdl/", "hdl/"), ("/fpga/", "fpga/"), ("/site-packages/", "")):
            if marker in loc:
                loc = keep + loc.split(marker, 1)[1]
                break
        if loc not in short:
            short.append(loc)
    return short[:limit]


def critical_path_blocks(path, limit=12):
    """Hierarchy prefixes (``core.engine.banks``) of the cells along one critical path, in
    order, without repeats: which blocks the path crosses."""
    blocks = []
    for hop in path.get("path", []):
        for end in ("from", "to"):
            cell = hop.get(end, {}).get("cell", "")
            prefix = cell.rsplit(".", 1)[0] if "." in cell else ""
            # Drop the tool's suffixes of the last name (``x_SB_LUT4_O``, ``x_TRELLIS_FF_Q``).
            if prefix and prefix not in blocks:
                blocks.append(prefix)
    return blocks[:limit]


def endpoint_blocks(data, blocks, period_ns=None):
    """The latest arrival at the clocked inputs of each block, from nextpnr's detailed net
    timings (``--detailed-timing-report``), which list every register, LUT RAM and block RAM
    input with its arrival time.

    A path counts for the block it ends in. The arrival leaves out the input's setup time
    (0 for a flip-flop's data input in nextpnr's ECP5 model, about 0.4 ns for a LUT RAM's
    write enable), so ``1000 / worst_ns`` bounds the clock the block allows from above.

    Parameters
    ----------
    data : dict
        nextpnr's report JSON.
    blocks : sequence of (str, str)
        ``(prefix, label)`` pairs; an input belongs to the first block whose prefix starts its
        cell's name, or to ``"other"``.
    period_ns : float, optional
        Count the inputs whose arrival exceeds it (``over``).

    Returns
    -------
    list of dict
        ``{"block", "endpoints", "worst_ns", "over"}`` per block with inputs, latest first;
        empty when the report has no detailed timings.
    """
    found = {}
    for net in data.get("detailed_net_timings", []):
        for end in net.get("endpoints", []):
            delay = end.get("delay", 0)
            arrival = max(delay) if isinstance(delay, list) else delay
            cell = end.get("cell", "")
            label = next((label for prefix, label in blocks if cell.startswith(prefix)), "other")
            entry = found.setdefault(label, {"block": label, "endpoints": 0, "worst_ns": 0.0,
                                             "over": 0})
            entry["endpoints"] += 1
            entry["worst_ns"] = max(entry["worst_ns"], round(arrival, 3))
            if period_ns is not None and arrival > period_ns:
                entry["over"] += 1
    return sorted(found.values(), key=lambda e: (-e["worst_ns"], e["block"]))


def parse_nextpnr_report(data):
    """``(fmax, utilization, critical)`` from nextpnr's ``--report`` JSON: ``fmax`` maps clock
    name to ``{"achieved": MHz, "constraint": MHz}``; ``critical`` lists, per clock, the path's
    total delay, end points and source lines."""
    fmax = {name: {"achieved": round(v["achieved"], 2), "constraint": round(v["constraint"], 2)}
            for name, v in data.get("fmax", {}).items()}
    utilization = {name: v for name, v in data.get("utilization", {}).items()}
    critical = []
    for path in data.get("critical_paths", []):
        hops = path.get("path", [])
        if not hops:
            continue
        critical.append({
            "from": path.get("from"), "to": path.get("to"),
            "delay_ns": round(sum(h.get("delay", 0) for h in hops), 3),
            "logic_ns": round(sum(h.get("delay", 0) for h in hops if h.get("type") == "logic"), 3),
            "start_cell": hops[0]["from"]["cell"], "end_cell": hops[-1]["to"]["cell"],
            "nets": [h["net"] for h in hops if h.get("type") == "routing" and "net" in h][:40],
            "sources": critical_path_sources(path),
            "blocks": critical_path_blocks(path),
        })
    return fmax, utilization, critical


def _engine_clock(fmax):
    """The sync-domain clock among nextpnr's clock names."""
    for name in fmax:
        if "sync" in name:
            return name
    return next(iter(fmax), None)


def summarize(family, build_dir, name="top", blocks=None):
    """The report dictionary of one build directory (Yosys ``.rpt`` + nextpnr report JSON).
    With ``blocks`` (see :func:`endpoint_blocks`) and detailed timings in the report, it has
    ``endpoint_blocks`` too."""
    build_dir = Path(build_dir)
    cells = parse_yosys_stat((build_dir / f"{name}.rpt").read_text())
    nextpnr = json.loads((build_dir / f"{name}.report.json").read_text())
    fmax, utilization, critical = parse_nextpnr_report(nextpnr)
    classes = CELL_CLASSES[family]
    counts = {col: sum(cells.get(t, 0) for t in types) for col, types in classes.items()}
    capacity = {col: utilization.get(entry, {}).get("available")
                for col, entry in CAPACITY[family].items()}
    clock = _engine_clock(fmax)
    # The ECP5 netlist pass (fpga/outreg.py) moved fabric flip-flops into the block RAMs after
    # Yosys counted them.
    outreg_path = build_dir / f"{name}.outreg.json"
    outreg = json.loads(outreg_path.read_text()) if outreg_path.exists() else None
    if outreg:
        counts["ffs"] -= outreg["flip_flops_removed"]
    extra = {}
    if blocks is not None and "detailed_net_timings" in nextpnr:
        period = 1000 / fmax[clock]["constraint"] if clock else None
        extra["endpoint_blocks"] = endpoint_blocks(nextpnr, blocks, period)
    return {
        "utilization": counts,
        "device_capacity": capacity,
        "nextpnr_utilization": {k: v for k, v in utilization.items() if v.get("used")},
        "clock": clock,
        "fmax_mhz": fmax[clock]["achieved"] if clock else None,
        "constraint_mhz": fmax[clock]["constraint"] if clock else None,
        "fmax_all": fmax,
        "critical_paths": critical,
        "block_ram_output_registers": outreg,
        "yosys_cells": {k: v for k, v in cells.items() if not k.startswith("$")
                        and k not in ("wires", "cells", "ports", "submodules", name)
                        and not k.endswith("bits")},
        **extra,
    }


def source_revision():
    """``git`` commit of the sources being built (``-dirty`` when ``hdl/`` or ``fpga/`` have
    uncommitted changes), or ``None`` outside a work tree."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "hdl", "fpga"], cwd=root,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if dirty else "")


def format_line(label, report):
    """One terminal line: utilization, Fmax and (when present) the bitstream path."""
    u = report["utilization"]
    cap = report.get("device_capacity", {})

    def col(key, text):
        total = cap.get(key)
        return f"{text} {u[key]}" + (f"/{total}" if total else "")

    parts = [col("luts", "LUT4"), col("ffs", "FF"), col("bram", "BRAM"), f"carry {u['carry']}"]
    if u.get("dsp"):
        parts.append(f"DSP {u['dsp']}")
    fmax = report.get("fmax_mhz")
    line = f"[fpga] {label}: " + ", ".join(parts)
    if fmax is not None:
        ok = "met" if fmax >= report["constraint_mhz"] else "MISSED"
        line += f"; Fmax {fmax:.1f} MHz ({ok} {report['constraint_mhz']:g} MHz)"
    if report.get("bitstream"):
        line += f"; bitstream {report['bitstream']}"
    return line
