"""The area report: per-block summaries, engine-vs-baseline comparison, area.json/md/png.

Everything here works on the parsed synthesis results of :mod:`apsq_rae.area.yosys`; nothing runs
Yosys. Blocks are found from the instance path of each synthesized module (the RTLIL keeps the
Amaranth hierarchy): the first path element below the top that names a known block decides.
"""

import json
import re
import statistics
from pathlib import Path

from apsq_rae.hdl.params import RAEParams
from apsq_rae.hdl.pipeline import SETTINGS, Pipeline
from .timing import FANOUT_LIMIT
from .yosys import ABC_GAIN, FF_CELL, cell_areas


__all__ = ["SRAM_GE_PER_BIT", "NAND2_UM2", "PAPER_RAE_UM2", "PAPER_RAE_SHARE", "PAPER_CAVEAT",
           "BLOCKS", "block_of", "summarize_timing", "summarize_design", "compare",
           "ge_to_um2", "match_baseline", "pipeline_rows", "load_fmax", "fmax_of",
           "write_outputs", "render_markdown", "plot", "plot_vs_clock", "TIMING_LEAVES_OUT"]


#: SRAM area estimate per memory bit, in NAND2 gate equivalents: a 1R1W SRAM macro of a few
#: kbit to a few hundred kbit in a 45 nm-class process, bit cell plus periphery at roughly 50 %
#: array efficiency. A documented assumption, not a memory compiler's number; a flip-flop
#: bit of the cell library costs 5.67 GE plus its write-enable mux.
SRAM_GE_PER_BIT = 1.2

#: Area of one gate equivalent in um^2: the NAND2_X1 of the NanGate FreePDK45 Open Cell Library
#: (0.38 um x 2.1 um = 0.798 um^2), the library whose timing ``area/cells/ge45.lib`` follows
#: (its header names it). um^2 = GE x NAND2_UM2: cell area only, no placement utilisation, no
#: wiring, no clock tree.
NAND2_UM2 = 0.798

#: The paper's figure for the engine (APSQ, DAC 2025): the RAE adds 86,410 um^2, 3.21 % of the
#: accelerator's area. The summary does not state the process node.
PAPER_RAE_UM2 = 86_410
PAPER_RAE_SHARE = 0.0321
PAPER_CAVEAT = ("the paper's RAE: 86,410 \u00b5m\u00b2, 3.21 % of its accelerator; process node "
                "not stated in the summary, so not a like-for-like comparison")

#: Block categories, in report order: (key, title, instance-name pattern). ``glue`` takes
#: everything else, including the top module's own logic.
BLOCKS = (
    ("banks", "banks (memories)", re.compile(r"bank|mem")),
    ("mode", "mode encoder", re.compile(r"mode|enc|phase|decoder|select")),
    ("dequant", "shift dequantizers", re.compile(r"deq")),
    ("adder", "adder pipeline", re.compile(r"add|tree|sum")),
    ("quant", "quantizer", re.compile(r"quant|round")),
    ("glue", "top glue (the rest: pipeline, control, FIFOs)", None),
)
_TITLES = {key: title for key, title, _ in BLOCKS}


def block_of(module, top):
    """Block key of a synthesized module named by its instance path (``top.sub.subsub``)."""
    path = module.split(".")
    if path[0] == top:
        path = path[1:]
    for element in path:
        for key, _, pattern in BLOCKS:
            if pattern is not None and pattern.search(element):
                return key
    return "glue"


#: What the timing estimate leaves out, in the words of area.md and docs/flows.md.
TIMING_LEAVES_OUT = (
    "The delay is the sum of the library's cell delays (intrinsic plus load times slope, "
    "representative values of the NanGate FreePDK45 library's typical corner, rounded) along "
    "the worst register-to-register path of the delay-mapped netlist, plus the flip-flop's "
    "clock-to-Q and setup. It leaves out: placement and wires (no wire load, no routing "
    "delay: on the ECP5 most of the path is routing, see the FPGA results), the clock tree "
    "and its skew and jitter, setup margins and hold, other corners (slow silicon, low "
    "voltage, heat: a sign-off corner is far slower than typical), the SRAM macros' own "
    "timing (a memory read port's data is a startpoint at time 0, its inputs are endpoints "
    "without setup, an asynchronous read costs nothing), gate sizing (every cell is the X1 "
    f"size; nets with more than {FANOUT_LIMIT} sinks are timed as if an ideal buffer tree "
    "drove them) and faster adder architectures (Yosys maps adders as ripple-carry chains). "
    "Paths from the inputs or to the outputs of the design are not timed. Read the clock as "
    "an optimistic bound on what the logic allows, not as a frequency the engine meets.")


def summarize_timing(result, top):
    """The timing figures of one design: worst path, implied clock, block (or ``None``).

    ``result`` is the ``"timing"`` entry of an ASIC synthesis result
    (:func:`apsq_rae.area.yosys.synthesize`). The block of the path is the block holding the
    largest part of its delay (cell delays, the start's clock-to-Q included).
    """
    if not result:
        return None
    out = {"delay_target_ps": result["delay_target_ps"], "logic_ge": result["logic_ge"]}
    worst = result["worst"]
    if worst is None:
        return dict(out, delay_ns=None, clock_mhz=None, block=None, path_blocks=[])
    shares = {}
    for step in worst["path"]:
        key = block_of(step["module"], top)
        shares[key] = shares.get(key, 0.0) + step["delay_ns"]
    block = max(shares, key=lambda k: shares[k])      # first on the path wins a tie
    return dict(
        out,
        delay_ns=worst["delay_ns"],
        clock_mhz=round(1000.0 / worst["delay_ns"], 1),
        block=block,
        block_title=_TITLES[block],
        path_blocks=[{"block": k, "delay_ns": round(v, 4)} for k, v in shares.items()],
        start=dict(worst["start"], block=block_of(worst["start"]["module"], top)),
        end=dict(worst["end"], block=block_of(worst["end"]["module"], top)),
        levels=worst["levels"],
        setup_ns=worst["setup_ns"],
        path=worst["path"],
    )


def _add_cells(into, cells):
    for cell, count in cells.items():
        into[cell] = into.get(cell, 0) + count


def summarize_design(results, top, *, sram_ge_per_bit=SRAM_GE_PER_BIT):
    """Totals and per-block figures of one design from its per-flow synthesis results.

    Parameters
    ----------
    results : dict
        ``{flow: parsed result}`` from :func:`apsq_rae.area.yosys.synthesize`; needs ``"asic"``.
    top : str
        Top module name.
    sram_ge_per_bit : float
        SRAM area estimate per memory bit.

    Returns
    -------
    dict
        ``{"asic": {logic_ge, seq_ge, ff, mem_bits, sram_ge, total_ge, cells, blocks, modules,
        timing}, "ecp5": ..., "ice40": ...}``, ``timing`` from :func:`summarize_timing`.
    """
    modules = results["asic"]["modules"]
    blocks = {key: {"title": title, "modules": [], "logic_ge": 0.0, "ff": 0, "cells": {},
                    "mem_bits": 0, "memories": []} for key, title, _ in BLOCKS}
    for name in sorted(modules):
        mod = modules[name]
        block = blocks[block_of(name, top)]
        block["modules"].append(name)
        block["logic_ge"] += mod["area_ge"]
        block["ff"] += mod["ff"]
        _add_cells(block["cells"], mod["cells"])
        block["mem_bits"] += mod["mem_bits"]
        block["memories"] += [dict(m, module=name) for m in mod["memories"]]
    for block in blocks.values():
        block["logic_ge"] = round(block["logic_ge"], 2)
        block["sram_ge"] = round(block["mem_bits"] * sram_ge_per_bit, 2)
        block["cells"] = dict(sorted(block["cells"].items()))
    blocks = {key: block for key, block in blocks.items() if block["modules"]}
    asic = {
        "logic_ge": round(sum(b["logic_ge"] for b in blocks.values()), 2),
        "seq_ge": round(sum(m["seq_area_ge"] for m in modules.values()), 2),
        "ff": sum(b["ff"] for b in blocks.values()),
        "mem_bits": sum(b["mem_bits"] for b in blocks.values()),
        "cells": {},
    }
    for block in blocks.values():
        _add_cells(asic["cells"], block["cells"])
    asic["cells"] = dict(sorted(asic["cells"].items()))
    asic["sram_ge"] = round(asic["mem_bits"] * sram_ge_per_bit, 2)
    asic["total_ge"] = round(asic["logic_ge"] + asic["sram_ge"], 2)
    asic["blocks"] = blocks
    asic["modules"] = modules
    asic["timing"] = summarize_timing(results["asic"].get("timing"), top)
    summary = {"asic": asic}
    for flow, result in results.items():
        if flow != "asic":
            summary[flow] = {k: v for k, v in result.items() if k not in _RUN_KEYS}
    return summary


#: Bookkeeping keys of a synthesis result that are not area figures.
_RUN_KEYS = ("yosys_cpu_s", "cached")


def _ratio(a, b):
    return (a / b - 1.0) if b else None


def compare(params, engine, baseline):
    """Engine against baseline for one configuration.

    ``logic_overhead`` is engine logic / baseline logic - 1 (ASIC GE, memories excluded);
    ``mem_saved_frac`` is 1 - engine memory bits / baseline memory bits, the baseline holding the
    engine's whole address space (``depth * max_group_size`` addresses of ``psum_bits``).
    ``by_group_size`` compares, for each run-time group size, the engine's bank bits with an
    INT32 buffer holding the same number of addresses (``capacity(gs)``).
    """
    if isinstance(params, dict):
        params = RAEParams(**params)
    e, b = engine["asic"], baseline["asic"]
    out = {
        "logic_overhead": _ratio(e["logic_ge"], b["logic_ge"]),
        "mem_saved_bits": b["mem_bits"] - e["mem_bits"],
        "mem_saved_frac": (1.0 - e["mem_bits"] / b["mem_bits"]) if b["mem_bits"] else None,
        "mem_change": _ratio(e["mem_bits"], b["mem_bits"]),
        "total_change": _ratio(e["total_ge"], b["total_ge"]),
    }
    bank_bits = e["blocks"].get("banks", {}).get("mem_bits", e["mem_bits"])
    out["by_group_size"] = []
    for gs in range(1, params.max_group_size + 1):
        capacity = params.capacity(gs)
        int32_bits = capacity * params.lanes * params.psum_bits
        out["by_group_size"].append({
            "group_size": gs, "capacity": capacity, "engine_bank_bits": bank_bits,
            "baseline_bits_same_capacity": int32_bits,
            "saved_frac": 1.0 - bank_bits / int32_bits,
        })
    te, tb = e.get("timing") or {}, b.get("timing") or {}
    out["delay_change"] = (_ratio(te["delay_ns"], tb["delay_ns"])
                           if te.get("delay_ns") and tb.get("delay_ns") else None)
    for flow in ("ecp5", "ice40"):
        if flow in engine and flow in baseline:
            fe, fb = engine[flow], baseline[flow]
            out[flow] = {key: _ratio(fe[key], fb[key]) for key in ("lut", "ff", "carry", "bram")}
    return out


def ge_to_um2(ge, nand2_um2=NAND2_UM2):
    """Gate equivalents to um^2 (``ge * nand2_um2``): cell area only, no placement utilisation."""
    return None if ge is None else ge * nand2_um2


def _clock_of(summary):
    return ((summary.get("asic") or {}).get("timing") or {}).get("clock_mhz")


def match_baseline(engine, baselines):
    """The baseline setting to compare an engine setting with, at matched clocks.

    Parameters
    ----------
    engine : dict
        The engine's design summary (:func:`summarize_design`) at one setting.
    baselines : dict
        ``{setting: baseline design summary}`` of the same configuration.

    Returns
    -------
    tuple or None
        ``(setting, slower)``: the baseline setting whose ASIC clock estimate is the closest to
        the engine's and not slower (a tie: the smaller logic area, then the setting with fewer
        registers); if every baseline setting is slower, the fastest one and ``slower=True``.
        ``None`` if the engine or no baseline has a clock estimate.
    """
    clock = _clock_of(engine)
    timed = [(name, _clock_of(b), b["asic"]["logic_ge"], _setting_index(name))
             for name, b in baselines.items() if _clock_of(b) is not None]
    if clock is None or not timed:
        return None
    fast_enough = [t for t in timed if t[1] >= clock]
    if fast_enough:
        best = min(fast_enough, key=lambda t: (t[1], t[2], t[3]))
        return best[0], False
    best = min(timed, key=lambda t: (-t[1], t[2], t[3]))
    return best[0], True


def _setting_index(name):
    """Order of settings: ``min``, ``default``, ``max``, each followed by its custom variants
    (``max+decode_register=1``, :attr:`~apsq_rae.hdl.pipeline.Pipeline.label`)."""
    names = list(SETTINGS)
    nearest, plus, _ = str(name).partition("+")
    return (names.index(nearest) if nearest in names else len(names), bool(plus), str(name))


def _design_row(summary, latency):
    a = summary["asic"]
    return {"latency": latency, "ff": a["ff"], "logic_ge": a["logic_ge"],
            "logic_um2": round(ge_to_um2(a["logic_ge"]), 1),
            "total_ge": a["total_ge"], "total_um2": round(ge_to_um2(a["total_ge"]), 1),
            "clock_mhz": _clock_of(summary)}


def pipeline_rows(configs, fmax_runs=()):
    """The per-setting rows of the base configuration, each engine setting against its matched
    baseline (:func:`match_baseline`).

    ``configs`` are the report's entries; those with the first entry's parameters take part,
    one per pipeline setting. Each row: ``setting``, ``engine`` and ``baseline`` (the matched
    one; ``latency``, ``ff``, ``logic_ge``, ``logic_um2``, ``total_ge``, ``total_um2``,
    ``clock_mhz``), ``match`` (the baseline's setting), ``slower`` (no baseline setting is as
    fast as the engine), ``logic_change`` and ``total_change`` (engine / matched baseline - 1,
    logic alone and logic plus the SRAM estimate), ``same_setting`` (the changes against the
    baseline of the same name) and ``ecp5_fmax`` (:func:`fmax_of`, ``None`` when not measured).
    """
    base = configs[0]["params"]
    at_base = sorted((c for c in configs if c["params"] == base),
                     key=lambda c: _setting_index(c.get("pipeline", "default")))
    engines = {c.get("pipeline", "default"): c for c in at_base}
    by_baseline = _baselines(at_base)
    baselines = {name: c["baseline"] for name, c in by_baseline.items()}
    rows = []
    for name, c in engines.items():
        latency = c.get("latency") or {}
        row = {"setting": name,
               "engine": _design_row(c["engine"], latency.get("engine")),
               "same_setting": {"logic_change": c["compare"]["logic_overhead"],
                                "total_change": c["compare"]["total_change"]},
               "ecp5_fmax": fmax_of(fmax_runs, base, name)}
        match = match_baseline(c["engine"], baselines)
        if match is None:
            row.update(match=None, slower=None, baseline=None, logic_change=None,
                       total_change=None)
        else:
            other = by_baseline[match[0]]
            b = other["baseline"]["asic"]
            row.update(match=match[0], slower=match[1],
                       baseline=_design_row(other["baseline"],
                                            (other.get("latency") or {}).get("baseline")),
                       logic_change=_ratio(c["engine"]["asic"]["logic_ge"], b["logic_ge"]),
                       total_change=_ratio(c["engine"]["asic"]["total_ge"], b["total_ge"]))
        rows.append(row)
    return rows


def load_fmax(path):
    """The ECP5 runs of an ``fmax.json`` (``apsq-rae fpga fmax``) that have an Fmax, at the
    board's own speed grade (runs with ``--speed-grade`` at another grade are left out, so
    that one column holds one part).

    Returns a list of ``{"label", "params", "pipeline", "fmax_mhz"}`` (``pipeline``
    ``"default"`` when the run does not name it).

    Raises
    ------
    ValueError
        The file is missing or is not such a file (one line, naming it).
    """
    path = Path(path)
    try:
        runs = json.loads(path.read_text())["runs"]
        out = []
        for run in runs:
            device = str(run.get("device", "")).upper()
            if not device.startswith("LFE5") or run.get("fmax_mhz") is None:
                continue
            if run.get("speed_grade") != run.get("board_speed_grade"):
                continue                  # another grade than the board's (both absent: old)
            pipeline = run.get("pipeline") or "default"
            if isinstance(pipeline, dict):          # a custom pipeline's knobs
                pipeline = Pipeline.from_record(pipeline).label
            out.append({"label": run.get("label"), "params": dict(run["params"]),
                        "pipeline": pipeline,
                        "fmax_mhz": float(run["fmax_mhz"])})
    except OSError as error:
        raise ValueError(f"--fmax-json: cannot read {path}: {error.strerror}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"--fmax-json: {path} is not an fmax.json of apsq-rae fpga fmax "
                         f"({type(error).__name__}: {error})") from None
    return out


def fmax_of(runs, params, pipeline):
    """ECP5 Fmax of the engine at ``params`` and ``pipeline`` from :func:`load_fmax`'s runs:
    ``{"median_mhz", "min_mhz", "max_mhz", "runs"}`` over its runs (seeds), or ``None``."""
    values = [r["fmax_mhz"] for r in runs or ()
              if r["params"] == params and r["pipeline"] == pipeline]
    if not values:
        return None
    return {"median_mhz": round(statistics.median(values), 2), "min_mhz": min(values),
            "max_mhz": max(values), "runs": len(values)}


# --- area.md ---------------------------------------------------------------------------------

def _n(x):
    return f"{x:,.0f}"


def _pct(x):
    return "n/a" if x is None else f"{x * 100:+.0f} %"


def _ns(x):
    return "n/a" if x is None else f"{x:.2f}"


def _mhz(x):
    return "n/a" if x is None else f"{x:,.0f}"


def _timing(asic):
    return asic.get("timing") or {}


def _path_line(name, t):
    """One sentence on a design's worst path (markdown)."""
    if not t or t.get("delay_ns") is None:
        return f"- {name}: no register-to-register path."
    shares = ", ".join(f"{_TITLES[b['block']]} {b['delay_ns']:.2f} ns" for b in t["path_blocks"])
    return (f"- {name}: {t['delay_ns']:.2f} ns ({_mhz(t['clock_mhz'])} MHz), from "
            f"`{t['start']['module']}` ({t['start']['type']}) to `{t['end']['module']}` "
            f"({t['end']['type']} {t['end']['pin']}), {t['levels']} cells after the start; "
            f"delay by block: {shares}; setup {t['setup_ns']:.3f} ns included.")


def _cfg_cols(params):
    return f"{params['max_group_size']} | {params['lanes']} | {params['q_bits']}"


def _sorted(configs):
    return sorted(configs, key=lambda c: (c["label"] != "base", c["params"]["max_group_size"],
                                          c["params"]["lanes"], c["params"]["q_bits"]))


def glance_table(entry, flows, baseline=None, headers=("engine", "INT32 baseline")):
    """Markdown lines: engine vs baseline of one configuration, one row per figure.

    ``baseline`` is the baseline's design summary (default: the entry's own, same setting);
    ``headers`` name the two columns."""
    e, b = entry["engine"], baseline or entry["baseline"]
    rows = [
        ("ASIC logic (GE, memories excluded)", e["asic"]["logic_ge"], b["asic"]["logic_ge"]),
        ("ASIC logic (\u00b5m\u00b2 = GE x NAND2_X1 area)", ge_to_um2(e["asic"]["logic_ge"]),
         ge_to_um2(b["asic"]["logic_ge"])),
        ("of which flip-flops (GE)", e["asic"]["seq_ge"], b["asic"]["seq_ge"]),
        ("flip-flops", e["asic"]["ff"], b["asic"]["ff"]),
        ("memory bits", e["asic"]["mem_bits"], b["asic"]["mem_bits"]),
        ("SRAM estimate (GE)", e["asic"]["sram_ge"], b["asic"]["sram_ge"]),
        ("logic + SRAM (GE)", e["asic"]["total_ge"], b["asic"]["total_ge"]),
    ]
    te, tb = _timing(e["asic"]), _timing(b["asic"])
    timed = [("ASIC worst register-to-register delay (ns)", te.get("delay_ns"),
              tb.get("delay_ns"), _ns),
             ("clock it implies (MHz, typical corner, no wires)", te.get("clock_mhz"),
              tb.get("clock_mhz"), _mhz)] if te or tb else []
    names = {"ecp5": ("ECP5", "LUT4", "TRELLIS_FF", "CCU2C", "DP16KD"),
             "ice40": ("iCE40", "SB_LUT4", "SB_DFF*", "SB_CARRY", "SB_RAM40_4K")}
    for flow in ("ecp5", "ice40"):
        if flow in flows:
            family, *cells = names[flow]
            for key, cell in zip(("lut", "ff", "carry", "bram"), cells):
                rows.append((f"{family} {cell}", e[flow][key], b[flow][key]))
    lines = [f"| | {headers[0]} | {headers[1]} | change |", "|---|---|---|---|"]
    for name, ev, bv in rows:
        lines.append(f"| {name} | {_n(ev)} | {_n(bv)} | {_pct(_ratio(ev, bv))} |")
    for name, ev, bv, fmt in timed:
        change = _ratio(ev, bv) if ev is not None and bv else None
        lines.append(f"| {name} | {fmt(ev)} | {fmt(bv)} | {_pct(change)} |")
    return lines


def _setting_of(entry):
    return entry.get("pipeline", "default")


def _baseline_setting_of(entry):
    """The baseline's setting of an entry: the engine's, or for a custom engine pipeline the
    named setting nearest to it (``baseline_pipeline``)."""
    return entry.get("baseline_pipeline", _setting_of(entry))


def _baselines(entries):
    """``{baseline setting: first entry with it}``, in the entries' order: a custom engine
    pipeline shares its baseline with the named setting nearest to it."""
    out = {}
    for entry in entries:
        out.setdefault(_baseline_setting_of(entry), entry)
    return out


def _same_setting(configs):
    """The entries at the base entry's pipeline setting (the per-configuration tables)."""
    return [c for c in configs if _setting_of(c) == _setting_of(configs[0])]


def _fmax_text(f):
    if not f:
        return "not measured"
    if f["runs"] == 1:
        return _mhz(f["median_mhz"])
    return f"{_mhz(f['median_mhz'])} ({_mhz(f['min_mhz'])}-{_mhz(f['max_mhz'])}, {f['runs']} runs)"


def _lat(x):
    return "n/a" if x is None else str(x)


def pipeline_lines(configs, rows):
    """Markdown lines of the section on pipeline settings at matched clocks."""
    fmax = any(r["ecp5_fmax"] for r in rows)
    base_setting = _setting_of(configs[0])
    lines = [
        "## Pipeline settings at matched clocks (base configuration)",
        "",
        "Each engine setting is set against the baseline setting whose ASIC clock estimate is "
        "the closest to the engine's and not slower (a tie: the smaller baseline), so both "
        "would run at the engine's clock; if no baseline setting is that fast, the fastest one, "
        "marked *slower*. Baseline settings synthesized: "
        + ", ".join(f"`{name}`" for name in _baselines(
            c for c in configs if c["params"] == configs[0]["params"]))
        + " (the baseline's `min` and `default` are the same one-clock design). "
        f"\u00b5m\u00b2 = GE x {NAND2_UM2} \u00b5m\u00b2 (NanGate FreePDK45 NAND2_X1): "
        "cell area "
        "only, no placement utilisation, no wires or clock tree; *logic* leaves the memories "
        "out, *logic + SRAM* adds their estimate. Latency: clocks from a tile to its result "
        "(`RAE(...).latency`, `Baseline(...).latency`). Clocks: the ASIC estimate below "
        "(typical corner, no wires, an optimistic bound).",
        "",
        "| setting | latency | flip-flops | logic (GE) | logic (\u00b5m\u00b2) "
        "| logic + SRAM (\u00b5m\u00b2) | ASIC clock (MHz) "
        + ("| ECP5 Fmax (MHz) " if fmax else "")
        + "| matched baseline | baseline clock (MHz) | baseline logic (\u00b5m\u00b2) "
        "| logic change | logic + SRAM change | logic change, same setting |",
        "|---|---|---|---|---|---|---|" + ("---|" if fmax else "") + "---|---|---|---|---|---|",
    ]
    for r in rows:
        e, b = r["engine"], r["baseline"] or {}
        name = f"**{r['setting']}**" if r["setting"] == base_setting else r["setting"]
        match = ("n/a" if r["match"] is None else
                 f"{r['match']} (latency {_lat(b.get('latency'))})"
                 + (", *slower*" if r["slower"] else ""))
        lines.append(
            f"| {name} | {_lat(e['latency'])} | {_n(e['ff'])} | {_n(e['logic_ge'])} "
            f"| {_n(e['logic_um2'])} | {_n(e['total_um2'])} | {_mhz(e['clock_mhz'])} "
            + (f"| {_fmax_text(r['ecp5_fmax'])} " if fmax else "")
            + f"| {match} | {_mhz(b.get('clock_mhz'))} "
            f"| {_n(b['logic_um2']) if b else 'n/a'} | {_pct(r['logic_change'])} "
            f"| {_pct(r['total_change'])} | {_pct(r['same_setting']['logic_change'])} |")
    lines += [
        "",
        "The baseline at each setting:",
        "",
        "| baseline setting | latency | flip-flops | logic (GE) | logic (\u00b5m\u00b2) "
        "| logic + SRAM (\u00b5m\u00b2) | ASIC clock (MHz) |",
        "|---|---|---|---|---|---|---|",
    ]
    base = configs[0]["params"]
    for name, c in sorted(_baselines(c for c in configs if c["params"] == base).items(),
                          key=lambda item: _setting_index(item[0])):
        b = _design_row(c["baseline"], (c.get("latency") or {}).get("baseline"))
        lines.append(f"| {name} | {_lat(b['latency'])} | {_n(b['ff'])} "
                     f"| {_n(b['logic_ge'])} | {_n(b['logic_um2'])} | {_n(b['total_um2'])} "
                     f"| {_mhz(b['clock_mhz'])} |")
    lines += [
        "",
        f"**The paper's number.** APSQ reports that the RAE adds {PAPER_RAE_SHARE * 100:.2f} % "
        f"area, {_n(PAPER_RAE_UM2)} \u00b5m\u00b2, to its accelerator. The summary states "
        "neither the process node nor how the area was measured, while these are cell areas "
        "of a 45 nm library with no placement utilisation: set the two side by side as "
        "orders of magnitude, not as a like-for-like comparison.",
    ]
    if fmax:
        lines += ["", "ECP5 Fmax: `apsq-rae fpga fmax` (the engine alone, registered I/O, after "
                      "place and route), median over its runs (seeds) with their range; the "
                      "baseline has no Fmax run."]
    return lines


def render_markdown(configs, *, flows, sram_ge_per_bit, fmax_runs=()):
    """The text of ``area.md``."""
    base = configs[0]
    bp = base["params"]
    fixed = ", ".join(f"{k} {bp[k]}" for k in ("psum_bits", "depth", "exp_bits", "step_bits",
                                                "rounding"))
    rows = pipeline_rows(configs, fmax_runs)
    same = _same_setting(configs)
    [head] = [r for r in rows if r["setting"] == _setting_of(base)]
    matched = base["baseline"]
    if head["match"] is not None:
        matched = next(c for c in configs
                       if c["params"] == bp and _baseline_setting_of(c) == head["match"])[
            "baseline"]
    e, b = base["engine"]["asic"], matched["asic"]
    ff_share = lambda a: a["seq_ge"] / a["logic_ge"] * 100 if a["logic_ge"] else 0.0
    if head["match"] is None:
        headline = "(no clock estimate: the baseline at the same setting)"
        headers = ("engine", "INT32 baseline")
    else:
        headline = (f"at matched clocks: the engine at its `{head['setting']}` setting "
                    f"({_mhz(head['engine']['clock_mhz'])} MHz, ASIC estimate) against the "
                    f"baseline at `{head['match']}` ({_mhz(head['baseline']['clock_mhz'])} MHz"
                    + (", slower: no synthesized baseline setting reaches the engine's clock"
                       if head["slower"] else "") + ")")
        headers = (f"engine `{head['setting']}`, {_mhz(head['engine']['clock_mhz'])} MHz",
                   f"INT32 baseline `{head['match']}`, {_mhz(head['baseline']['clock_mhz'])} MHz")
    lines = [
        "# Area: Reconfigurable APSQ Engine vs INT32 PSUM buffer",
        "",
        "**Estimates, not sign-off numbers.** ASIC: Yosys `synth` with the hierarchy kept and "
        "memories kept as memories, then `dfflibmap` and `abc -liberty` onto "
        f"`area/cells/ge45.lib`, a library of {len(cell_areas())} cells whose areas are NAND2 "
        "gate equivalents (GE) of a typical 45 nm library; no placement or clock tree. "
        f"\u00b5m\u00b2 = GE x {NAND2_UM2} \u00b5m\u00b2, the NanGate FreePDK45 NAND2_X1: cell "
        "area only, no placement utilisation. The "
        "timing estimate times a second, delay-driven mapping of the same netlist with the "
        "library's delay model (see its section). "
        "Memories are left out of the gate count: their bits are listed and their "
        f"area is estimated at {sram_ge_per_bit} GE per bit (1R1W SRAM macro with periphery, an "
        "assumption). FPGA: cell counts of `synth_ecp5` / `synth_ice40` before place and route.",
        "",
        "The baseline is `hdl/baseline.py`: a conventional buffer keeping `psum_bits`-wide "
        "partial sums for the engine's whole address space (`depth * max_group_size` "
        "addresses), a read-add-write accumulator and one final quantizer with the same "
        "rounding. Its `min` and `default` settings are one clock from the read to the sum; "
        "`max` registers the read, the sum and the quantizer's shifter and forwards sums in "
        "flight. "
        "*Logic overhead* = engine logic / baseline logic - 1; *memory change* = engine memory "
        "bits / baseline memory bits - 1 (negative: the engine needs less); *total change* "
        "compares logic plus the SRAM estimate.",
        "",
        f"How to read it: the engine trades logic for memory. In the base configuration, "
        f"{headline}, its logic is {_pct(_ratio(e['logic_ge'], b['logic_ge']))} "
        f"({_n(e['logic_ge'])} vs {_n(b['logic_ge'])} GE, {_n(ge_to_um2(e['logic_ge']))} vs "
        f"{_n(ge_to_um2(b['logic_ge']))} \u00b5m\u00b2; flip-flops are {ff_share(e):.0f} % of "
        f"the engine's logic and {ff_share(b):.0f} % of the baseline's), its memory "
        f"{_pct(_ratio(e['mem_bits'], b['mem_bits']))} ({_n(e['mem_bits'])} vs "
        f"{_n(b['mem_bits'])} bits), and logic plus SRAM "
        f"{_pct(_ratio(e['total_ge'], b['total_ge']))}. For comparison, the paper's RAE adds "
        f"{_n(PAPER_RAE_UM2)} \u00b5m\u00b2 ({PAPER_RAE_SHARE * 100:.2f} % of its accelerator; "
        "process node not stated in the summary).",
        "",
        "## Base configuration at a glance",
        "",
    ] + glance_table(base, flows, baseline=matched, headers=headers) + [
        "",
    ] + pipeline_lines(configs, rows) + [
        "",
        f"Fixed in every row below: {fixed}. G = `max_group_size`, the base configuration "
        f"is marked **base**. "
        + (f"Engine and baseline at the same pipeline setting, `{_setting_of(base)}`."
           if _setting_of(base) == _baseline_setting_of(base) else
           f"The engine at the pipeline `{_setting_of(base)}`, the baseline at the nearest "
           f"named setting, `{_baseline_setting_of(base)}`."),
        "",
        "## ASIC estimate, per configuration",
        "",
        "| | G | lanes | q_bits | engine logic (GE) | baseline logic (GE) | logic overhead "
        "| engine FFs | baseline FFs | engine memory (bits) | baseline memory (bits) "
        "| memory change | engine total incl. SRAM (GE) | baseline total (GE) | total change |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in _sorted(same):
        e, b, k = c["engine"]["asic"], c["baseline"]["asic"], c["compare"]
        mark = "**base**" if c["label"] == "base" else ""
        lines.append(
            f"| {mark} | {_cfg_cols(c['params'])} | {_n(e['logic_ge'])} | {_n(b['logic_ge'])} "
            f"| {_pct(k['logic_overhead'])} | {_n(e['ff'])} | {_n(b['ff'])} "
            f"| {_n(e['mem_bits'])} | {_n(b['mem_bits'])} | {_pct(k['mem_change'])} "
            f"| {_n(e['total_ge'])} | {_n(b['total_ge'])} | {_pct(k['total_change'])} |")

    if any(_timing(c["engine"]["asic"]) for c in same):
        t0 = _timing(base["engine"]["asic"]) or _timing(base["baseline"]["asic"])
        lines += [
            "",
            "## ASIC timing estimate, per configuration",
            "",
            "The netlist after `dfflibmap` is mapped a second time, for delay: `abc -liberty "
            f"ge45.lib -liberty_args \"-G {ABC_GAIN}\" -D {t0['delay_target_ps']}` (ABC's "
            "gate delays derived from the library's tables; delay target "
            f"{t0['delay_target_ps']} ps), and its worst register-to-register path is found "
            "by the static timing of `area/timing.py`, across the module hierarchy. *Delay* "
            "includes clock-to-Q and setup; *clock* = 1 / delay; *block* = the block that "
            "holds the largest part of the path's delay. The delay-driven mapping's own logic "
            "area is listed for comparison (the area figures above are the area mapping's).",
            "",
            "| | G | lanes | q_bits | engine delay (ns) | engine clock (MHz) | engine block "
            "| baseline delay (ns) | baseline clock (MHz) | baseline block | delay change "
            "| engine logic, delay mapping (GE) | baseline logic, delay mapping (GE) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in _sorted(same):
            te, tb = _timing(c["engine"]["asic"]), _timing(c["baseline"]["asic"])
            mark = "**base**" if c["label"] == "base" else ""
            lines.append(
                f"| {mark} | {_cfg_cols(c['params'])} | {_ns(te.get('delay_ns'))} "
                f"| {_mhz(te.get('clock_mhz'))} | {te.get('block') or 'n/a'} "
                f"| {_ns(tb.get('delay_ns'))} | {_mhz(tb.get('clock_mhz'))} "
                f"| {tb.get('block') or 'n/a'} | {_pct(c['compare'].get('delay_change'))} "
                f"| {_n(te.get('logic_ge', 0))} | {_n(tb.get('logic_ge', 0))} |")
        lines += [
            "",
            "Worst paths of the base configuration:",
            "",
            _path_line("engine", _timing(base["engine"]["asic"])),
            _path_line("baseline", _timing(base["baseline"]["asic"])),
            "",
            "**What this estimate leaves out.** " + TIMING_LEAVES_OUT,
        ]

    lines += [
        "",
        "## Memory at equal capacity, per run-time group size (base configuration)",
        "",
        "With run-time group size gs the engine holds `depth * floor(G / gs)` addresses. The "
        "INT32 column is what a conventional buffer needs for that many addresses.",
        "",
        "| gs | addresses | engine bank bits | INT32 buffer bits | memory change |",
        "|---|---|---|---|---|",
    ]
    for row in base["compare"]["by_group_size"]:
        lines.append(f"| {row['group_size']} | {_n(row['capacity'])} "
                     f"| {_n(row['engine_bank_bits'])} | {_n(row['baseline_bits_same_capacity'])} "
                     f"| {_pct(-row['saved_frac'])} |")

    ff_ge = cell_areas()[FF_CELL]
    for name, c in (("engine", base["engine"]), ("baseline", base["baseline"])):
        a = c["asic"]
        lines += [
            "",
            f"## Blocks of the {name} (base configuration)",
            "",
            "| block | logic (GE) | share of logic | FFs | of which FFs (GE) | memory bits "
            "| SRAM estimate (GE) | modules |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for block in a["blocks"].values():
            share = block["logic_ge"] / a["logic_ge"] if a["logic_ge"] else 0.0
            mods = ", ".join(f"`{m}`" for m in block["modules"])
            lines.append(f"| {block['title']} | {_n(block['logic_ge'])} | {share * 100:.0f} % "
                         f"| {_n(block['ff'])} | {_n(block['ff'] * ff_ge)} "
                         f"| {_n(block['mem_bits'])} | {_n(block['sram_ge'])} | {mods} |")
        lines.append(f"| **total** | **{_n(a['logic_ge'])}** | 100 % | **{_n(a['ff'])}** "
                     f"| **{_n(a['seq_ge'])}** | **{_n(a['mem_bits'])}** "
                     f"| **{_n(a['sram_ge'])}** | |")

    fpga_names = {"ecp5": ("ECP5 (`synth_ecp5`)", "LUT4", "TRELLIS_FF", "CCU2C", "DP16KD"),
                  "ice40": ("iCE40 (`synth_ice40`)", "SB_LUT4", "SB_DFF*", "SB_CARRY",
                            "SB_RAM40_4K")}
    for flow in ("ecp5", "ice40"):
        if flow not in flows:
            continue
        title, lut, ff, carry, bram = fpga_names[flow]
        lines += [
            "",
            f"## {title}, per configuration",
            "",
            f"Engine / baseline counts: LUTs ({lut}), flip-flops ({ff}), carry cells ({carry}), "
            f"block RAMs ({bram}).",
            "",
            "| | G | lanes | q_bits | LUTs | FFs | carry | BRAM | LUT overhead | BRAM change |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in _sorted(same):
            e, b, k = c["engine"][flow], c["baseline"][flow], c["compare"][flow]
            mark = "**base**" if c["label"] == "base" else ""
            lines.append(
                f"| {mark} | {_cfg_cols(c['params'])} | {_n(e['lut'])} / {_n(b['lut'])} "
                f"| {_n(e['ff'])} / {_n(b['ff'])} | {_n(e['carry'])} / {_n(b['carry'])} "
                f"| {_n(e['bram'])} / {_n(b['bram'])} | {_pct(k['lut'])} "
                f"| {_pct(k['bram'])} |")
    lines.append("")
    return "\n".join(lines)


# --- area.png --------------------------------------------------------------------------------

def _series(configs, name):
    """Configurations that differ from the base in ``name`` only, sorted by it."""
    base = configs[0]["params"]
    picked = [c for c in configs
              if all(c["params"][k] == base[k] for k in base if k != name)]
    return sorted(picked, key=lambda c: c["params"][name])


def plot(configs, path):
    """Logic area vs max_group_size and vs lanes, engine vs baseline (ASIC GE), and memory."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for ax, name, title in ((axes[0], "max_group_size", "logic vs max_group_size"),
                            (axes[1], "lanes", "logic vs lanes")):
        series = _series(configs, name)
        xs = [c["params"][name] for c in series]
        ax.plot(xs, [c["engine"]["asic"]["logic_ge"] for c in series], "o-", label="engine (RAE)")
        ax.plot(xs, [c["baseline"]["asic"]["logic_ge"] for c in series], "s--",
                label="INT32 baseline")
        ax.set_xlabel(name)
        ax.set_ylabel("logic area (GE, memories excluded)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend()
    series = _series(configs, "max_group_size")
    xs = [c["params"]["max_group_size"] for c in series]
    ax = axes[2]
    ax.plot(xs, [c["engine"]["asic"]["mem_bits"] / 1024 for c in series], "o-",
            label="engine (RAE)")
    ax.plot(xs, [c["baseline"]["asic"]["mem_bits"] / 1024 for c in series], "s--",
            label="INT32 baseline")
    ax.set_xlabel("max_group_size")
    ax.set_ylabel("memory (kbit)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_title("memory vs max_group_size")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    p = configs[0]["params"]
    fig.suptitle(f"APSQ engine vs INT32 PSUM buffer (ASIC estimate; base: lanes {p['lanes']}, "
                 f"G {p['max_group_size']}, q_bits {p['q_bits']}, depth {p['depth']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _label_points(ax, points, scale, below=False, **style):
    """Plot ``(x, y, name)`` points; points at the same place share one label ("min/default"),
    labels of points close to each other (5 % of ``scale = (x, y)``) are stacked."""
    places = {}
    for x, y, name in points:
        if x is None or y is None:
            continue
        places.setdefault((round(x, 1), round(y, 1)), []).append(name)
    if not places:
        return
    xs, ys = zip(*places)
    ax.plot(xs, ys, linestyle="none", **style)
    placed = []
    # Stacked away from the points: upwards from the lowest, downwards from the highest.
    for (x, y), names in sorted(places.items(), key=lambda item: item[0][1], reverse=below):
        near = sum(abs(x - px) < 0.05 * scale[0] and abs(y - py) < 0.05 * scale[1]
                   for px, py in placed)
        placed.append((x, y))
        dy = (-12 - 10 * near) if below else (4 + 10 * near)
        ax.annotate("/".join(names), (x, y), textcoords="offset points", xytext=(6, dy),
                    fontsize=8, color=style.get("color"))


def plot_vs_clock(configs, rows, path):
    """Area against clock of the base configuration: engine and baseline at each pipeline
    setting (ASIC clock estimate), the engine's ECP5 Fmax where measured, logic alone and logic
    plus the SRAM estimate (two panels), in um^2 (GE on the right axis), with the paper's
    86,410 um^2 as a reference line."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    base = configs[0]["params"]
    at_base = sorted((c for c in configs if c["params"] == base),
                     key=lambda c: _setting_index(_setting_of(c)))
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.4))
    for ax, key, title in ((axes[0], "logic_ge", "logic alone (memories excluded)"),
                           (axes[1], "total_ge", "logic + SRAM estimate")):
        um2 = lambda summary: ge_to_um2(summary["asic"][key])
        engine = [(_clock_of(c["engine"]), um2(c["engine"]), _setting_of(c)) for c in at_base]
        by_baseline = _baselines(at_base)
        baseline = [(_clock_of(c["baseline"]), um2(c["baseline"]), name)
                    for name, c in by_baseline.items()]
        by_setting = {_setting_of(c): c for c in at_base}
        for r in rows:                       # each engine setting to its matched baseline
            if r["match"] is None or r["engine"]["clock_mhz"] is None:
                continue
            e, b = by_setting[r["setting"]]["engine"], by_baseline[r["match"]]["baseline"]
            ax.plot([_clock_of(e), _clock_of(b)], [um2(e), um2(b)], ":", color="0.6",
                    linewidth=1)
        fmax = [(r, by_setting[r["setting"]]) for r in rows if r["ecp5_fmax"]]
        every = [p for p in engine + baseline if p[0] is not None]
        scale = (max([p[0] for p in every] + [r["ecp5_fmax"]["max_mhz"] for r, _ in fmax]
                     + [1.0]),
                 max([p[1] for p in every] + [PAPER_RAE_UM2]))
        _label_points(ax, engine, scale, marker="o", markersize=8, color="C0",
                      label="engine (RAE), ASIC clock estimate")
        _label_points(ax, baseline, scale, below=True, marker="s", markersize=8, color="C1",
                      label="INT32 baseline, ASIC clock estimate")
        if fmax:
            xs = [r["ecp5_fmax"]["median_mhz"] for r, _ in fmax]
            ys = [um2(c["engine"]) for _, c in fmax]
            err = [[r["ecp5_fmax"]["median_mhz"] - r["ecp5_fmax"]["min_mhz"] for r, _ in fmax],
                   [r["ecp5_fmax"]["max_mhz"] - r["ecp5_fmax"]["median_mhz"] for r, _ in fmax]]
            ax.errorbar(xs, ys, xerr=err, fmt="none", ecolor="C2", capsize=3)
            _label_points(ax, [(x, y, r["setting"]) for (r, _), x, y in zip(fmax, xs, ys)],
                          scale, below=True, marker="^", markersize=8, color="C2",
                          markerfacecolor="none",
                          label="engine, ECP5 Fmax (measured; median, range of seeds)")
        ax.axhline(PAPER_RAE_UM2, color="C3", linestyle="--", linewidth=1.2,
                   label=f"paper: {PAPER_RAE_UM2:,} \u00b5m\u00b2 ({PAPER_RAE_SHARE * 100:.2f} % "
                         "of its accelerator; node not stated)")
        ax.set_xlabel("clock (MHz): ASIC estimate (typical corner, no wires)"
                      + ("; ECP5 Fmax where marked" if fmax else ""))
        ax.set_ylabel("area (\u00b5m\u00b2 = GE x 0.798, no utilisation)")
        sec = ax.secondary_yaxis("right", functions=(lambda y: y / NAND2_UM2,
                                                     lambda g: g * NAND2_UM2))
        sec.set_ylabel("GE")
        thousands = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}")
        ax.yaxis.set_major_formatter(thousands)
        sec.yaxis.set_major_formatter(thousands)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=9, frameon=False)
    fig.suptitle(f"Area against clock, pipeline settings (lanes {base['lanes']}, "
                 f"G {base['max_group_size']}, q_bits {base['q_bits']}, depth {base['depth']}); "
                 "dotted: engine setting to its matched baseline")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_outputs(configs, out, *, flows, sram_ge_per_bit=SRAM_GE_PER_BIT, fmax_runs=()):

    """Write ``area.json``, ``area.md``, ``area.png`` and ``area_vs_clock.png`` into ``out``;
    return the JSON data. ``fmax_runs``: ECP5 runs of :func:`load_fmax` (none: no Fmax)."""
    out = Path(out)
    rows = pipeline_rows(configs, fmax_runs)
    report = {
        "method": {
            "asic": "yosys synth (hierarchy kept, memory -nomap), dfflibmap + abc -liberty "
                    "area/cells/ge45.lib (its untimed view); areas in NAND2 gate equivalents "
                    "(GE); memories excluded from the gate count",
            "asic_timing": "the netlist after dfflibmap mapped again with abc -liberty "
                           f"area/cells/ge45.lib -liberty_args '-G {ABC_GAIN}' -D <target>; "
                           "worst register-to-register path by area/timing.py (cell delays "
                           "intrinsic + slope * load from the library, representative rounded "
                           "values of the NanGate FreePDK45 typical corner; nets with more than "
                           f"{FANOUT_LIMIT} sinks timed as ideally buffered)",
            "asic_timing_leaves_out": TIMING_LEAVES_OUT,
            "sram_ge_per_bit": sram_ge_per_bit,
            "ecp5": "synth_ecp5 -run begin:map_luts; splitnets; synth_ecp5 -run map_luts:",
            "ice40": "synth_ice40 -run begin:map_luts; splitnets; synth_ice40 -run map_luts:",
            "baseline": "hdl/baseline.py, rows = depth * max_group_size",
            "um2_per_ge": NAND2_UM2,
            "um2": "GE x the NanGate FreePDK45 NAND2_X1 area; cell area only, no placement "
                   "utilisation",
            "matched_clocks": "each engine setting of the base configuration against the "
                              "baseline setting whose ASIC clock estimate is the closest to "
                              "the engine's and not slower (tie: smaller logic, fewer "
                              "registers); if none is as fast, the fastest, slower = true",
            "paper": {"rae_um2": PAPER_RAE_UM2, "share_of_accelerator": PAPER_RAE_SHARE,
                      "caveat": "process node not stated in the summary"},
            "estimate": True,
        },
        "flows": list(flows),
        "blocks": {key: title for key, title, _ in BLOCKS},
        "pipeline_settings": rows,
        "ecp5_fmax_runs": list(fmax_runs or ()),
        "configs": configs,
    }
    tmp = out / "area.json.tmp"
    tmp.write_text(json.dumps(report, indent=1, sort_keys=False) + "\n")
    tmp.replace(out / "area.json")
    (out / "area.md").write_text(render_markdown(configs, flows=flows,
                                                 sram_ge_per_bit=sram_ge_per_bit,
                                                 fmax_runs=fmax_runs))
    plot(_same_setting(configs), out / "area.png")
    plot_vs_clock(configs, rows, out / "area_vs_clock.png")
    return report
