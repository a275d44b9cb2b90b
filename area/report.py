"""The area report: per-block summaries, engine-vs-baseline comparison, area.json/md/png.

Everything here works on the parsed synthesis results of :mod:`apsq_rae.area.yosys`; nothing runs
Yosys. Blocks are found from the instance path of each synthesized module (the RTLIL keeps the
Amaranth hierarchy): the first path element below the top that names a known block decides.
"""

import json
import re
from pathlib import Path

from apsq_rae.hdl.params import RAEParams
from .timing import FANOUT_LIMIT
from .yosys import ABC_GAIN, FF_CELL, cell_areas


__all__ = ["SRAM_GE_PER_BIT", "BLOCKS", "block_of", "summarize_timing", "summarize_design",
           "compare", "write_outputs", "render_markdown", "plot", "TIMING_LEAVES_OUT"]


#: SRAM area estimate per memory bit, in NAND2 gate equivalents: a 1R1W SRAM macro of a few
#: kbit to a few hundred kbit in a 45 nm-class process, bit cell plus periphery at roughly 50 %
#: array efficiency. A documented assumption, not a memory compiler's number; a flip-flop
#: bit of the cell library costs 5.67 GE plus its write-enable mux.
SRAM_GE_PER_BIT = 1.2

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


def glance_table(entry, flows):
    """Markdown lines: engine vs baseline of one configuration, one row per figure."""
    e, b = entry["engine"], entry["baseline"]
    rows = [
        ("ASIC logic (GE, memories excluded)", e["asic"]["logic_ge"], b["asic"]["logic_ge"]),
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
    lines = ["| | engine | INT32 baseline | change |", "|---|---|---|---|"]
    for name, ev, bv in rows:
        lines.append(f"| {name} | {_n(ev)} | {_n(bv)} | {_pct(_ratio(ev, bv))} |")
    for name, ev, bv, fmt in timed:
        change = _ratio(ev, bv) if ev is not None and bv else None
        lines.append(f"| {name} | {fmt(ev)} | {fmt(bv)} | {_pct(change)} |")
    return lines


def render_markdown(configs, *, flows, sram_ge_per_bit):
    """The text of ``area.md``."""
    base = configs[0]
    bp = base["params"]
    fixed = ", ".join(f"{k} {bp[k]}" for k in ("psum_bits", "depth", "exp_bits", "step_bits",
                                                "rounding"))
    e, b = base["engine"]["asic"], base["baseline"]["asic"]
    ff_share = lambda a: a["seq_ge"] / a["logic_ge"] * 100 if a["logic_ge"] else 0.0
    lines = [
        "# Area: Reconfigurable APSQ Engine vs INT32 PSUM buffer",
        "",
        "**Estimates, not sign-off numbers.** ASIC: Yosys `synth` with the hierarchy kept and "
        "memories kept as memories, then `dfflibmap` and `abc -liberty` onto "
        f"`area/cells/ge45.lib`, a library of {len(cell_areas())} cells whose areas are NAND2 "
        "gate equivalents (GE) of a typical 45 nm library; no placement or clock tree. The "
        "timing estimate times a second, delay-driven mapping of the same netlist with the "
        "library's delay model (see its section). "
        "Memories are left out of the gate count: their bits are listed and their "
        f"area is estimated at {sram_ge_per_bit} GE per bit (1R1W SRAM macro with periphery, an "
        "assumption). FPGA: cell counts of `synth_ecp5` / `synth_ice40` before place and route.",
        "",
        "The baseline is `hdl/baseline.py`: a conventional buffer keeping `psum_bits`-wide "
        "partial sums for the engine's whole address space (`depth * max_group_size` "
        "addresses), a read-add-write accumulator and one final quantizer with the same "
        "rounding, with a 1-clock pipeline (its quantizer has no pipeline registers). "
        "*Logic overhead* = engine logic / baseline logic - 1; *memory change* = engine memory "
        "bits / baseline memory bits - 1 (negative: the engine needs less); *total change* "
        "compares logic plus the SRAM estimate.",
        "",
        "How to read it: the engine trades logic for memory. In the base configuration its logic "
        f"is {_pct(base['compare']['logic_overhead'])} against the baseline "
        f"({_n(e['logic_ge'])} vs {_n(b['logic_ge'])} GE; flip-flops are {ff_share(e):.0f} % of "
        f"the engine's logic and {ff_share(b):.0f} % of the baseline's), its memory "
        f"{_pct(base['compare']['mem_change'])} ({_n(e['mem_bits'])} vs {_n(b['mem_bits'])} "
        f"bits), and logic plus SRAM {_pct(base['compare']['total_change'])}.",
        "",
        "## Base configuration at a glance",
        "",
    ] + glance_table(base, flows) + [
        "",
        f"Fixed in every row below: {fixed}. G = `max_group_size`, the base configuration "
        "is marked **base**.",
        "",
        "## ASIC estimate, per configuration",
        "",
        "| | G | lanes | q_bits | engine logic (GE) | baseline logic (GE) | logic overhead "
        "| engine FFs | baseline FFs | engine memory (bits) | baseline memory (bits) "
        "| memory change | engine total incl. SRAM (GE) | baseline total (GE) | total change |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in _sorted(configs):
        e, b, k = c["engine"]["asic"], c["baseline"]["asic"], c["compare"]
        mark = "**base**" if c["label"] == "base" else ""
        lines.append(
            f"| {mark} | {_cfg_cols(c['params'])} | {_n(e['logic_ge'])} | {_n(b['logic_ge'])} "
            f"| {_pct(k['logic_overhead'])} | {_n(e['ff'])} | {_n(b['ff'])} "
            f"| {_n(e['mem_bits'])} | {_n(b['mem_bits'])} | {_pct(k['mem_change'])} "
            f"| {_n(e['total_ge'])} | {_n(b['total_ge'])} | {_pct(k['total_change'])} |")

    if any(_timing(c["engine"]["asic"]) for c in configs):
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
        for c in _sorted(configs):
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
        for c in _sorted(configs):
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


def write_outputs(configs, out, *, flows, sram_ge_per_bit=SRAM_GE_PER_BIT):
    """Write ``area.json``, ``area.md`` and ``area.png`` into ``out``; return the JSON data."""
    out = Path(out)
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
            "estimate": True,
        },
        "flows": list(flows),
        "blocks": {key: title for key, title, _ in BLOCKS},
        "configs": configs,
    }
    tmp = out / "area.json.tmp"
    tmp.write_text(json.dumps(report, indent=1, sort_keys=False) + "\n")
    tmp.replace(out / "area.json")
    (out / "area.md").write_text(render_markdown(configs, flows=flows,
                                                 sram_ge_per_bit=sram_ge_per_bit))
    plot(configs, out / "area.png")
    return report
