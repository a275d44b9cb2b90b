"""The area report (:mod:`apsq_rae.area`) on tiny configurations: it runs, its numbers make
sense and its files parse. The full sweep is `make area`, not part of the tests."""

import dataclasses
import json
import re

import pytest

from apsq_rae.area import timing
from apsq_rae.area.flow import (run_area, sweep_configs, sweep_points, parse_pipelines,
                                DEFAULT_SWEEP, DEFAULT_PIPELINES)
from apsq_rae.area.report import (BLOCKS, block_of, summarize_timing, SRAM_GE_PER_BIT, NAND2_UM2,
                                  ge_to_um2, match_baseline, pipeline_rows, load_fmax, fmax_of)
from apsq_rae.area.yosys import CELL_LIBRARY, cell_areas, rtlil_memories, synthesize
from apsq_rae.cli import main
from apsq_rae.hdl.params import RAEParams
from apsq_rae.hdl.pipeline import SETTINGS


TINY = RAEParams(lanes=1, psum_bits=8, q_bits=4, max_group_size=2, depth=4, exp_bits=3,
                 step_bits=3)


def test_cell_library_areas():
    areas = cell_areas()
    assert areas["NAND2"] == 1.0                     # the unit: NAND2 equivalents
    assert areas["DFF"] == 5.67
    assert areas["INV"] < areas["NAND2"] < areas["XOR2"] < areas["MUX2"] < areas["DFF"]
    assert len(areas) == 18


def test_cell_library_timing():
    text = CELL_LIBRARY.read_text()
    assert "NanGate FreePDK45 Open Cell Library" in text and "rounded" in text.lower()
    lib = timing.read_library(CELL_LIBRARY)
    cells = lib["cells"]
    assert set(cells) == set(cell_areas())
    assert {c: info["area"] for c, info in cells.items()} == cell_areas()
    # Literal figures of the file: intrinsic ns, slope ns/pF (= ps/fF), pin capacitance pF.
    assert cells["INV"]["arcs"] == {("A", "Y"): (0.01, 3.0)}
    assert cells["INV"]["inputs"] == {"A": 0.0017}
    assert cells["MUX2"]["arcs"][("S", "Y")] == (0.06, 3.0)
    assert cells["AOI21"]["arcs"][("C", "Y")] == (0.015, 5.0)
    assert cells["DFF"]["arcs"] == {("CK", "Q"): (0.08, 3.0)}
    assert cells["DFF"]["setup"] == {"D": 0.035} and cells["DFF"]["clock"] == "CK"
    assert cells["TIEHI"]["arcs"] == {}
    for name, info in cells.items():
        if not info["sequential"]:
            assert set(info["arcs"]) == {(i, "Y") for i in info["inputs"]}, name
    # The area mapping reads the same cells and areas without any timing.
    untimed = re.sub(r"/\*.*?\*/", "", timing.area_view(text), flags=re.S)
    for word in ("timing", "capacitance", "lu_table_template", "values", "index_"):
        assert word in text and word not in untimed, word
    assert untimed.count("cell(") == 18
    assert untimed.count("{") == untimed.count("}")


def _broken_library(tmp_path, old, new):
    text = CELL_LIBRARY.read_text()
    assert old in text
    path = tmp_path / "broken.lib"
    path.write_text(text.replace(old, new, 1))
    return path


_INV_TABLE = 'values("0.01, 0.04, 0.31", "0.01, 0.04, 0.31")'


@pytest.mark.parametrize("old, new, message", [
    ('related_pin : "B"; timing_sense : negative_unate;',
     'related_pin : "B"; timing_type : hold_rising; timing_sense : negative_unate;',
     "timing_type 'hold_rising' is not supported"),
    (_INV_TABLE, 'values("0.01, 0.04, 0.31", "0.02, 0.05, 0.32")', "depends on input slew"),
    (_INV_TABLE, 'values("0.01, 0.05, 0.31", "0.01, 0.05, 0.31")', "not linear in the load"),
    (_INV_TABLE, 'values("0.01, 0.04", "0.01, 0.04")', "rows do not match index_2"),
    ('related_pin : "CK"; timing_type : setup_rising;',
     'related_pin : "Q"; timing_type : setup_rising;', "related_pin is not an input"),
    ('time_unit : "1ns";', 'time_unit : "1ps";', "time_unit must be '1ns'"),
    ("cell(INV) { area : 0.67;", "cell(INV) {", "cell INV has no area"),
])
def test_malformed_cell_library(tmp_path, old, new, message):
    with pytest.raises(ValueError, match=message):
        timing.read_library(_broken_library(tmp_path, old, new))


def test_missing_arc_is_an_error(tmp_path):
    text = CELL_LIBRARY.read_text()
    start = text.index('      timing() { related_pin : "B"', text.index("cell(NAND2)"))
    end = text.index("} }\n", start) + 4
    path = tmp_path / "broken.lib"
    path.write_text(text[:start] + text[end:])
    with pytest.raises(ValueError, match="NAND2 has no timing arc B -> Y"):
        timing.read_library(path)


def test_net_delay_and_fanout_buffering():
    assert timing.FANOUT_LIMIT == 8
    buf = ((0.025, 3.0), 0.001)
    # Unbuffered: 0.01 + 3 * 0.0032.
    assert timing.net_delay((0.01, 3.0), 2, 0.0032, buf) == pytest.approx(0.0196, abs=1e-9)
    # 20 sinks of 1.6 fF: one buffer level. Driver into 8 buffer inputs (0.01 + 3 * 0.008),
    # buffer into 8 of the sinks (0.025 + 3 * 8 * 0.032 / 20).
    assert timing.net_delay((0.01, 3.0), 20, 0.032, buf) == pytest.approx(0.0974, abs=1e-9)
    # 100 sinks: two levels (64 < 100 <= 512): one more 0.025 + 3 * 0.008.
    assert timing.net_delay((0.01, 3.0), 100, 0.16, buf) == pytest.approx(0.1464, abs=1e-9)


def _dff(d, q):
    return {"type": "DFF", "connections": {"CK": [2], "D": [d], "Q": [q]}}


def _netlist(extra_top_cells=None):
    """top t: ff1 -> t.quant (INV, NAND2) -> ff2; ff1 -> ff3 directly; input a -> ff1."""
    top_cells = {
        "ff1": _dff(3, 10),
        "q": {"type": "t.quant", "connections": {"i": [10], "o": [12]}},
        "ff2": _dff(12, 13),
        "ff3": _dff(10, 14),
    }
    top_cells.update(extra_top_cells or {})
    return {"modules": {
        "t": {"ports": {"clk": {"direction": "input", "bits": [2]},
                        "a": {"direction": "input", "bits": [3]}},
              "cells": top_cells},
        "t.quant": {"ports": {"i": {"direction": "input", "bits": [5]},
                              "o": {"direction": "output", "bits": [7]}},
                    "cells": {"inv": {"type": "INV", "connections": {"A": [5], "Y": [6]}},
                              "nand": {"type": "NAND2",
                                       "connections": {"A": [6], "B": [5], "Y": [7]}}}},
    }}


def test_worst_path_of_a_hand_made_netlist():
    lib = timing.read_library(CELL_LIBRARY)
    worst = timing.worst_path(_netlist(), "t", lib)
    # ff1.Q drives INV.A 1.7 fF, NAND2.B 1.6 fF and ff3.D 1.1 fF: 0.08 + 3 * 0.0044 = 0.0932.
    # INV into NAND2.A: 0.01 + 3 * 0.0016 = 0.0148. NAND2 into ff2.D: 0.012 + 4 * 0.0011 =
    # 0.0164. Setup 0.035. Total 0.0932 + 0.0148 + 0.0164 + 0.035 = 0.1594.
    assert worst["delay_ns"] == pytest.approx(0.1594, abs=1e-9)
    assert worst["setup_ns"] == 0.035
    assert worst["levels"] == 2
    assert worst["start"] == {"module": "t", "cell": "ff1", "type": "DFF"}
    assert worst["end"] == {"module": "t", "cell": "ff2", "type": "DFF", "pin": "D"}
    assert [(s["module"], s["type"]) for s in worst["path"]] == \
        [("t", "DFF"), ("t.quant", "INV"), ("t.quant", "NAND2")]
    assert [s["arrival_ns"] for s in worst["path"]] == [0.0932, 0.108, 0.1244]
    assert [s["fanout"] for s in worst["path"]] == [3, 1, 1]
    assert worst["endpoints"] == 3
    # The report: clock 1000 / 0.1594 ns; the top (glue) holds 0.0932 ns, the quantizer 0.0312.
    summary = summarize_timing({"delay_target_ps": 1000, "logic_ge": 1.0, "worst": worst}, "t")
    assert summary["clock_mhz"] == 6273.5
    assert summary["block"] == "glue"
    assert summary["path_blocks"] == [{"block": "glue", "delay_ns": 0.0932},
                                      {"block": "quant", "delay_ns": 0.0312}]
    assert summary["end"]["block"] == "glue"


@pytest.mark.parametrize("clk_enable, delay, end_type", [
    # Asynchronous read: ff1 -> memory address -> data (0 ns) -> ff2.D. ff1.Q drives one
    # memory pin (default_input_pin_cap 1 fF): 0.08 + 3 * 0.001 + 0.035 = 0.118.
    ("0", 0.118, "DFF"),
    # Synchronous read: the worst path ends at the memory's address pin (no setup): 0.083;
    # the memory's data reaches ff2.D at 0 + 0.035.
    ("1", 0.083, "$mem_v2"),
])
def test_worst_path_through_a_memory(clk_enable, delay, end_type):
    lib = timing.read_library(CELL_LIBRARY)
    mem = {"type": "$mem_v2",
           "parameters": {"RD_PORTS": "00000000000000000000000000000001",
                          "ABITS": "00000000000000000000000000000001",
                          "RD_CLK_ENABLE": clk_enable},
           "connections": {"RD_ADDR": [10], "RD_DATA": [20], "RD_CLK": [2], "RD_EN": ["1"]}}
    netlist = _netlist({"mem": mem, "ff2": _dff(20, 13)})
    del netlist["modules"]["t"]["cells"]["q"], netlist["modules"]["t"]["cells"]["ff3"]
    worst = timing.worst_path(netlist, "t", lib)
    assert worst["delay_ns"] == pytest.approx(delay, abs=1e-9)
    assert worst["end"]["type"] == end_type


def test_worst_path_errors():
    lib = timing.read_library(CELL_LIBRARY)
    looped = _netlist({"x": {"type": "NAND2", "connections": {"A": [10], "B": [31], "Y": [30]}},
                       "y": {"type": "INV", "connections": {"A": [30], "Y": [31]}}})
    with pytest.raises(ValueError, match="combinational loop"):
        timing.worst_path(looped, "t", lib)
    unknown = _netlist({"x": {"type": "NAND4", "connections": {"A": [10], "Y": [30]}}})
    with pytest.raises(ValueError, match="t.x of type NAND4 is not in the library"):
        timing.worst_path(unknown, "t", lib)
    with pytest.raises(ValueError, match="top module 'u' not in the netlist"):
        timing.worst_path(_netlist(), "u", lib)
    no_regs = {"modules": {"t": {"ports": {}, "cells": {
        "i": {"type": "INV", "connections": {"A": [3], "Y": [4]}}}}}}
    assert timing.worst_path(no_regs, "t", lib) is None


@pytest.mark.parametrize("target", [0, -5, 1.5, True])
def test_delay_target_out_of_range(target, tmp_path):
    with pytest.raises(ValueError, match=r"delay target = .* ps is out of range"):
        synthesize("", "top", "asic", tmp_path, delay_target_ps=target)


def test_rtlil_memories():
    text = ("module \\top.banks\n  memory width 134 size 256 \\bank0\n"
            "  memory size 8 $tmp\n  cell \\rae_sram_22x8 \\bank1\n  end\nend\n"
            "module \\top\nend\n")
    assert rtlil_memories(text) == [
        {"module": "top.banks", "name": "bank0", "width": 134, "depth": 256, "bits": 34304,
         "macro": None},
        {"module": "top.banks", "name": "$tmp", "width": 1, "depth": 8, "bits": 8,
         "macro": None},
        {"module": "top.banks", "name": "bank1", "width": 22, "depth": 8, "bits": 176,
         "macro": "rae_sram_22x8"},
    ]


@pytest.mark.parametrize("module, block", [
    ("rae", "glue"), ("rae.banks", "banks"), ("rae.mode", "mode"), ("rae.decoder", "mode"), ("rae.select", "mode"), ("rae.dequant3", "dequant"),
    ("rae.tree", "adder"), ("rae.quant", "quant"), ("rae.queue", "glue"),
    ("rae.results", "glue"), ("rae.datapath.quant", "quant"), ("baseline.bank", "banks"), ("baseline.adder", "adder"),
    ("baseline.quantizer", "quant"), ("baseline", "glue"),
])
def test_block_of(module, block):
    assert block_of(module, module.split(".")[0]) == block


def test_sweep_configs_one_parameter_at_a_time():
    base = RAEParams()
    configs = sweep_configs(base, DEFAULT_SWEEP)
    assert configs[0] == base
    assert len(configs) == len(set(configs)) == 7      # 1 + 3 (G 1,2,8) + 2 (lanes 1,4) + 1 (q 4)
    assert sorted(c.max_group_size for c in configs if c.lanes == 16 and c.q_bits == 8) == \
        [1, 2, 4, 8]
    with pytest.raises(ValueError, match=r"max_group_size = 17 is out of range \(legal: 1..16\)"):
        sweep_configs(base, {"max_group_size": (17,)})


@pytest.mark.parametrize("argv, message", [
    (["--sweep-max-group-size", "0"], "max_group_size = 0 is out of range"),
    (["--sweep-lanes", "1,x"], "--sweep-lanes = '1,x' is not a list of integers"),
    (["--flows", "asic,vhdl"], "'vhdl' is not a flow"),
    (["--jobs", "0"], "--jobs = 0 is out of range"),
    (["--lanes", "0"], "--lanes = 0 is out of range"),
    (["--sweep-pipeline", "min,fast"], "--sweep-pipeline = 'min,fast': 'fast' is not a "
                                       "pipeline setting (legal: min, default, max)"),
    (["--sweep-pipeline", ","], "--sweep-pipeline = ',' is empty"),
    (["--fmax-json", "no/such/fmax.json"], "--fmax-json: cannot read no/such/fmax.json"),
    (["--memories", "sram"], "--memories = 'sram' is not one of behavioural, macro"),
    (["--memories", "macro"], "--memories macro needs --flows asic"),
])
def test_cli_errors_exit_2(argv, message, tmp_path, capsys):
    assert main(["area", "--out", str(tmp_path)] + argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_sweep_on_tiny_configuration(tmp_path):
    lines = []
    configs = sweep_configs(TINY, {"max_group_size": (1, 2, 4)})
    report = run_area(configs, tmp_path, flows=("asic",), jobs=2, log=lines.append)
    assert sum(line.startswith("[area] ") and "engine logic" in line for line in lines) == 3

    data = json.loads((tmp_path / "area.json").read_text())
    assert data["configs"] == json.loads(json.dumps(report["configs"]))
    assert data["method"]["estimate"] is True
    assert data["method"]["sram_ge_per_bit"] == SRAM_GE_PER_BIT
    assert "clock tree" in data["method"]["asic_timing_leaves_out"]
    by_g = {c["params"]["max_group_size"]: c for c in data["configs"]}
    assert sorted(by_g) == [1, 2, 4]
    for c in data["configs"]:
        for design in ("engine", "baseline"):
            a = c[design]["asic"]
            assert a["logic_ge"] > 0 and a["ff"] > 0 and a["mem_bits"] > 0
            assert a["cells"]["DFF"] == a["ff"]
            assert a["total_ge"] == pytest.approx(a["logic_ge"] + a["mem_bits"] * SRAM_GE_PER_BIT,
                                                  abs=0.05)
            assert sum(b["logic_ge"] for b in a["blocks"].values()) == \
                pytest.approx(a["logic_ge"], abs=0.05)
            assert "banks" in a["blocks"] and a["blocks"]["banks"]["mem_bits"] > 0
            # Timing: a register-to-register path of at least clock-to-Q (0.08 ns), one gate
            # (0.01 ns) and setup (0.035 ns), far from a clock the logic could not reach.
            t = a["timing"]
            assert 0.125 < t["delay_ns"] < 10.0
            assert t["clock_mhz"] == round(1000.0 / t["delay_ns"], 1)
            assert t["block"] in [key for key, _, _ in BLOCKS]
            assert t["block"] in [b["block"] for b in t["path_blocks"]]
            assert sum(b["delay_ns"] for b in t["path_blocks"]) + t["setup_ns"] == \
                pytest.approx(t["delay_ns"], abs=1e-3)
            assert t["levels"] >= 1 and t["path"][-1]["arrival_ns"] < t["delay_ns"]
            assert t["delay_target_ps"] == 1000 and t["logic_ge"] > 0
            assert t["start"]["type"] in ("DFF", "$mem_v2")
        # Memories stay memories: the engine's banks are max_group_size memories of depth rows.
        banks = c["engine"]["asic"]["blocks"]["banks"]
        g = c["params"]["max_group_size"]
        assert [m["depth"] for m in banks["memories"]] == [TINY.depth] * g
        # Baseline: depth * max_group_size rows of lanes * psum_bits.
        assert c["baseline"]["asic"]["blocks"]["banks"]["mem_bits"] == \
            TINY.depth * g * TINY.lanes * TINY.psum_bits
        assert c["baseline"]["asic"]["blocks"]["quant"]["logic_ge"] > 0
        assert c["baseline"]["asic"]["blocks"]["adder"]["logic_ge"] > 0
    # The engine grows with max_group_size: more banks, dequantizers and adder inputs.
    logic = [by_g[g]["engine"]["asic"]["logic_ge"] for g in (1, 2, 4)]
    assert logic[0] < logic[1] < logic[2]
    deq = [by_g[g]["engine"]["asic"]["blocks"]["dequant"]["logic_ge"] for g in (1, 2, 4)]
    assert deq[0] < deq[1] < deq[2]
    # Equal-capacity table: capacity(gs) = depth * (G // gs).
    rows = by_g[4]["compare"]["by_group_size"]
    assert [r["capacity"] for r in rows] == [16, 8, 4, 4]
    assert [r["baseline_bits_same_capacity"] for r in rows] == [128, 64, 32, 32]

    md = (tmp_path / "area.md").read_text()
    assert md.startswith("# Area")
    assert "Estimates, not sign-off numbers" in md
    assert "| **base** | 2 | 1 | 4 |" in md
    assert "## ASIC timing estimate, per configuration" in md
    assert "**What this estimate leaves out.**" in md and "placement" in md
    tables = [block.splitlines() for block in md.split("\n\n") if block.startswith("|")]
    # at a glance, pipeline settings (one), baseline settings (one), per configuration, timing
    # per configuration, per gs, engine/baseline blocks
    assert len(tables) == 8
    for table in tables:
        assert len({line.count("|") for line in table}) == 1, table[0]
    assert len(tables[0]) == 2 + 9
    assert tables[0][3].startswith("| ASIC logic (\u00b5m\u00b2 = GE x NAND2_X1 area) | ")
    assert tables[0][-2].startswith("| ASIC worst register-to-register delay (ns) | ")
    assert len(tables[1]) == 2 + 1 and len(tables[2]) == 2 + 1
    assert len(tables[3]) == 2 + 3
    assert len(tables[4]) == 2 + 3
    png = (tmp_path / "area.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    # A second run is served from the cache and gives the same numbers.
    again = run_area(configs, tmp_path, flows=("asic",), jobs=1, log=lambda line: None)
    assert [c.pop("yosys")["cached"] for c in again["configs"]] == [2, 2, 2]
    assert [c.pop("yosys")["cached"] for c in report["configs"]] == [0, 0, 0]
    assert again["configs"] == report["configs"]


def test_fpga_flows_on_tiny_configuration(tmp_path):
    report = run_area([TINY], tmp_path, flows=("asic", "ecp5", "ice40"), jobs=2,
                      log=lambda line: None)
    [c] = report["configs"]
    for design in ("engine", "baseline"):
        for flow in ("ecp5", "ice40"):
            r = c[design][flow]
            assert r["lut"] > 0 and r["ff"] > 0
            assert r["carry"] >= 0 and r["bram"] >= 0
            assert sum(r["cells"].values()) > r["lut"]
    md = (tmp_path / "area.md").read_text()
    assert "## ECP5" in md and "## iCE40" in md


def test_asic_script_names_no_absolute_path():
    # YoWASP's Yosys cannot open every absolute host path (nothing under /tmp, where a fresh
    # clone may live), so the script must only name files in its work directory.
    from apsq_rae.area.yosys import _script
    words = _script("asic", "top").split()
    assert [w for w in words if w.startswith("/")] == []
    assert "ge45.lib" in words and "ge45_area.lib" in words
    assert _script("asic", "top", 750).count("-D 750") == 1


# --- pipeline settings, matched clocks, um^2 -----------------------------------------------

def test_sweep_points_add_the_pipeline_dimension_at_the_base_only():
    assert DEFAULT_PIPELINES == ("min", "default", "max")
    base = RAEParams()
    configs = sweep_configs(base, {"lanes": (1, 16)})           # base (lanes 16), lanes 1
    lanes1 = configs[1]
    assert lanes1.lanes == 1

    def labels(points):
        return [(params, pipeline.label) for params, pipeline in points]
    assert labels(sweep_points(configs, "default", DEFAULT_PIPELINES)) == [
        (base, "default"), (base, "min"), (base, "max"), (lanes1, "default")]
    # --default-only: no further settings; another base setting leads.
    assert labels(sweep_points([base], "max", ())) == [(base, "max")]
    assert labels(sweep_points(configs, "max", ("min",))) == [(base, "max"), (base, "min"),
                                                               (lanes1, "max")]
    # A custom base pipeline (--knob): every configuration at it, the settings besides.
    custom = dataclasses.replace(SETTINGS["max"], decode_register=True)
    assert labels(sweep_points(configs, custom, DEFAULT_PIPELINES)) == [
        (base, "max+decode_register=1"), (base, "min"), (base, "default"), (base, "max"),
        (lanes1, "max+decode_register=1")]
    assert parse_pipelines(" max, min,max ") == ("max", "min")
    with pytest.raises(ValueError, match="'deep' is not a pipeline setting"):
        parse_pipelines("min,deep")


def test_um2_conversion():
    assert NAND2_UM2 == 0.798                          # NanGate FreePDK45 NAND2_X1, 0.38 x 2.1
    assert ge_to_um2(18_527) == pytest.approx(14_784.546, abs=1e-6)
    assert ge_to_um2(1000, nand2_um2=0.5) == 500.0
    assert ge_to_um2(None) is None
    header = CELL_LIBRARY.read_text().split("*/", 1)[0]
    assert "NAND2_X1, 0.798 um^2" in header and "no placement" in header


def _design(clock, logic, total, ff=10):
    return {"asic": {"logic_ge": logic, "total_ge": total, "ff": ff,
                     "timing": None if clock is None else {"clock_mhz": clock}}}


def test_match_baseline_by_hand():
    # Baseline clocks: min = default 400 MHz (the same design), max 650 MHz.
    baselines = {"min": _design(400.0, 1000, 9000), "default": _design(400.0, 1000, 9000),
                 "max": _design(650.0, 1500, 9500)}
    # 300 MHz: 400 and 650 are fast enough; 400 is the closest; min and default tie in clock
    # and area, min has the fewer registers.
    assert match_baseline(_design(300.0, 1, 1), baselines) == ("min", False)
    # 500 MHz: only max (650) is fast enough.
    assert match_baseline(_design(500.0, 1, 1), baselines) == ("max", False)
    # 650 MHz: max is exactly as fast, not slower.
    assert match_baseline(_design(650.0, 1, 1), baselines) == ("max", False)
    # 700 MHz: none is as fast: the fastest, max, flagged slower.
    assert match_baseline(_design(700.0, 1, 1), baselines) == ("max", True)
    # A tie in clock goes to the smaller baseline.
    assert match_baseline(_design(300.0, 1, 1), {"min": _design(400.0, 1200, 1),
                                                 "default": _design(400.0, 1000, 1)}) == \
        ("default", False)
    assert match_baseline(_design(None, 1, 1), baselines) is None
    assert match_baseline(_design(300.0, 1, 1), {"min": _design(None, 1, 1)}) is None


def _entry(setting, engine, baseline, lat_e, lat_b, params=None):
    return {"label": "x", "params": params or TINY.as_dict(), "pipeline": setting,
            "latency": {"engine": lat_e, "baseline": lat_b}, "engine": engine,
            "baseline": baseline,
            "compare": {"logic_overhead": engine["asic"]["logic_ge"] / baseline["asic"]["logic_ge"]
                        - 1, "total_change": None}}


def test_pipeline_rows_by_hand():
    configs = [
        _entry("default", _design(500.0, 3000, 5000, ff=300), _design(400.0, 1000, 9000), 16, 2),
        _entry("min", _design(300.0, 2000, 4000, ff=100), _design(400.0, 1000, 9000), 4, 2),
        _entry("max", _design(700.0, 4000, 6000, ff=400), _design(650.0, 1500, 10000), 20, 11),
        # Another configuration: not part of the rows.
        _entry("default", _design(900.0, 1, 1), _design(900.0, 1, 1), 1, 1,
               params=dict(TINY.as_dict(), lanes=2)),
    ]
    runs = [{"label": "a", "params": TINY.as_dict(), "pipeline": "default", "fmax_mhz": 180.0},
            {"label": "b", "params": TINY.as_dict(), "pipeline": "default", "fmax_mhz": 200.0},
            {"label": "c", "params": dict(TINY.as_dict(), lanes=2), "pipeline": "default",
             "fmax_mhz": 100.0}]
    rows = pipeline_rows(configs, runs)
    assert [(r["setting"], r["match"], r["slower"]) for r in rows] == [
        ("min", "min", False), ("default", "max", False), ("max", "max", True)]
    by = {r["setting"]: r for r in rows}
    d = by["default"]
    # default engine 3000 GE logic, 5000 GE with SRAM; max baseline 1500 and 10000.
    assert d["logic_change"] == pytest.approx(1.0) and d["total_change"] == pytest.approx(-0.5)
    assert d["engine"] == {"latency": 16, "ff": 300, "logic_ge": 3000, "logic_um2": 2394.0,
                           "total_ge": 5000, "total_um2": 3990.0, "clock_mhz": 500.0}
    assert d["baseline"]["latency"] == 11 and d["baseline"]["clock_mhz"] == 650.0
    assert d["baseline"]["logic_um2"] == 1197.0
    # Same setting: 3000 / 1000 - 1.
    assert d["same_setting"]["logic_change"] == pytest.approx(2.0)
    assert d["ecp5_fmax"] == {"median_mhz": 190.0, "min_mhz": 180.0, "max_mhz": 200.0,
                              "runs": 2}
    assert by["min"]["ecp5_fmax"] is None
    # min: 2000 / 1000 - 1 and 4000 / 9000 - 1.
    assert by["min"]["logic_change"] == pytest.approx(1.0)
    assert by["min"]["total_change"] == pytest.approx(-5 / 9)
    assert by["max"]["logic_change"] == pytest.approx(4000 / 1500 - 1)


def test_load_fmax(tmp_path):
    p = TINY.as_dict()
    path = tmp_path / "fmax.json"
    path.write_text(json.dumps({"runs": [
        {"label": "e1", "device": "LFE5U-85F-CABGA381", "params": p, "pipeline": "max",
         "fmax_mhz": 210.5},
        {"label": "e2", "device": "LFE5U-85F-CABGA381", "params": p, "fmax_mhz": 150.0},
        {"label": "i", "device": "iCE40UP5K-SG48", "params": p, "fmax_mhz": 40.0},
        {"label": "n", "device": "LFE5U-85F-CABGA381", "params": p, "fmax_mhz": None},
        # Another speed grade than the board's (fpga fmax --speed-grade 8): not this column's.
        {"label": "g8", "device": "LFE5U-85F-CABGA381", "params": p, "fmax_mhz": 190.0,
         "speed_grade": "8", "board_speed_grade": "6"},
        {"label": "g6", "device": "LFE5U-85F-CABGA381", "params": p, "fmax_mhz": 140.0,
         "speed_grade": "6", "board_speed_grade": "6"},
    ]}))
    runs = load_fmax(path)
    assert [(r["label"], r["pipeline"], r["fmax_mhz"]) for r in runs] == [
        ("e1", "max", 210.5), ("e2", "default", 150.0), ("g6", "default", 140.0)]
    # A custom pipeline (fpga fmax --knob) is recorded as its knobs: named by its label.
    knobs = dict(SETTINGS["max"].as_dict(), setting="custom", decode_register=True)
    path.write_text(json.dumps({"runs": [
        {"label": "k", "device": "LFE5U-85F-CABGA381", "params": p, "pipeline": knobs,
         "fmax_mhz": 201.0}]}))
    assert [(r["pipeline"], r["fmax_mhz"]) for r in load_fmax(path)] == [
        ("max+decode_register=1", 201.0)]
    path.write_text(json.dumps({"runs": [
        {"label": "k", "device": "LFE5U-85F-CABGA381", "params": p,
         "pipeline": {"setting": "custom", "no_such_knob": 1}, "fmax_mhz": 201.0}]}))
    with pytest.raises(ValueError, match="is not an fmax.json"):
        load_fmax(path)
    assert fmax_of(runs, p, "default") == {"median_mhz": 145.0, "min_mhz": 140.0,
                                           "max_mhz": 150.0, "runs": 2}
    assert fmax_of(runs, p, "min") is None
    path.write_text("{}")
    with pytest.raises(ValueError, match="is not an fmax.json"):
        load_fmax(path)


def test_pipeline_sweep_on_tiny_configuration(tmp_path):
    lines = []
    fmax = [{"label": "a", "params": TINY.as_dict(), "pipeline": "default", "fmax_mhz": 150.0},
            {"label": "b", "params": TINY.as_dict(), "pipeline": "default", "fmax_mhz": 170.0}]
    report = run_area([TINY], tmp_path, flows=("asic",), jobs=2, log=lines.append,
                      sweep_pipelines=DEFAULT_PIPELINES, fmax_runs=fmax)
    configs = report["configs"]
    assert [(c["label"], c["pipeline"]) for c in configs] == [
        ("base", "default"), ("pipeline=min", "min"), ("pipeline=max", "max")]
    # Latency (docs/design.md), E = 3, ceil(log2(G + 1)) = 2: min 1 + 1 + 0 + 0 + (0 + 1) + 1;
    # default 2 + 2 + 2 + 2 + (2 + 2) + 1; max 2 + 2 + 2 + 2 + (2 + 3) + 2. Baseline: 2 at
    # min = default; max 2 + 2 more (read and add registers) + 3 + 2 (quantizer, E levels).
    assert {c["pipeline"]: c["latency"] for c in configs} == {
        "default": {"engine": 13, "baseline": 2}, "min": {"engine": 4, "baseline": 2},
        "max": {"engine": 15, "baseline": 9}}
    by = {c["pipeline"]: c for c in configs}
    ff = [by[s]["engine"]["asic"]["ff"] for s in ("min", "default", "max")]
    assert ff[0] < ff[1] < ff[2]
    # The baseline's min and default are one design.
    assert by["min"]["baseline"]["asic"]["logic_ge"] == \
        by["default"]["baseline"]["asic"]["logic_ge"]
    rows = report["pipeline_settings"]
    assert [r["setting"] for r in rows] == ["min", "default", "max"]
    clocks = {s: c["baseline"]["asic"]["timing"]["clock_mhz"] for s, c in by.items()}
    for r in rows:
        e = r["engine"]["clock_mhz"]
        fast = [c for c in clocks.values() if c >= e]
        assert r["baseline"]["clock_mhz"] == (min(fast) if fast else max(clocks.values()))
        assert r["slower"] == (not fast)
        assert r["engine"]["logic_um2"] == pytest.approx(r["engine"]["logic_ge"] * 0.798,
                                                         abs=0.06)
    assert rows[1]["ecp5_fmax"]["median_mhz"] == 160.0
    assert sum("pipeline" in line and "MHz" in line for line in lines) == 3

    data = json.loads((tmp_path / "area.json").read_text())
    assert data["method"]["um2_per_ge"] == 0.798
    assert data["method"]["paper"]["rae_um2"] == 86_410
    md = (tmp_path / "area.md").read_text()
    assert "## Pipeline settings at matched clocks (base configuration)" in md
    assert "86,410 \u00b5m\u00b2" in md and "neither the process node" in md
    assert "| 160 (150-170, 2 runs) |" in md
    tables = [block.splitlines() for block in md.split("\n\n") if block.startswith("|")]
    # at a glance, settings, baseline settings, per configuration, timing, per gs, 2 x blocks
    assert len(tables) == 8
    for table in tables:
        assert len({line.count("|") for line in table}) == 1, table[0]
    assert tables[0][0].startswith("| | engine `default`, ")
    assert [line.split(" | ")[0] for line in tables[1][2:]] == ["| min", "| **default**",
                                                               "| max"]
    assert len(tables[2]) == 2 + 3
    assert len(tables[3]) == 2 + 1                     # per configuration: the base setting
    for name in ("area.png", "area_vs_clock.png"):
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, name


def test_cli_pipeline_sweep_and_default_only(tmp_path, capsys):
    tiny = ["--lanes", "1", "--psum-bits", "8", "--q-bits", "4", "--max-group-size", "2",
            "--depth", "4", "--exp-bits", "3", "--step-bits", "3", "--flows", "asic",
            "--out", str(tmp_path)]
    # The sweep lists hold the base values only: the base configuration, at default and min.
    assert main(["area", "--sweep-max-group-size", "2", "--sweep-lanes", "1",
                 "--sweep-q-bits", "4", "--sweep-pipeline", "min"] + tiny) == 0
    data = json.loads((tmp_path / "area.json").read_text())
    assert [(c["label"], c["pipeline"]) for c in data["configs"]] == [
        ("base", "default"), ("pipeline=min", "min")]
    out = capsys.readouterr().out
    assert "[area] pipeline min: " in out and "[area] pipeline default: " in out
    # --default-only: one configuration, one setting, whatever --sweep-pipeline says.
    assert main(["area", "--default-only", "--pipeline", "min"] + tiny) == 0
    data = json.loads((tmp_path / "area.json").read_text())
    assert [(c["label"], c["pipeline"]) for c in data["configs"]] == [("base", "min")]
    assert [r["setting"] for r in data["pipeline_settings"]] == ["min"]
    assert "[area] pipeline min:" not in capsys.readouterr().out


def test_cli_knobs_engine_custom_baseline_nearest(tmp_path, capsys):
    """``area --pipeline min --knob decode_register=1 --sweep-pipeline min``: the engine at the
    custom pipeline, labelled by it, against the baseline at the nearest setting; the same
    baseline is synthesized once for both points, and the report lists it once."""
    tiny = ["--lanes", "1", "--psum-bits", "8", "--q-bits", "4", "--max-group-size", "2",
            "--depth", "4", "--exp-bits", "3", "--step-bits", "3", "--flows", "asic",
            "--sweep-max-group-size", "2", "--sweep-lanes", "1", "--sweep-q-bits", "4",
            "--no-cache", "--out", str(tmp_path)]
    assert main(["area", "--pipeline", "min", "--knob", "decode_register=1",
                 "--sweep-pipeline", "min"] + tiny) == 0
    out = capsys.readouterr().out
    assert "configuration(s) at pipeline min+decode_register=1 + the base at 1 more" in out
    data = json.loads((tmp_path / "area.json").read_text())
    configs = data["configs"]
    assert [(c["label"], c["pipeline"], c["baseline_pipeline"]) for c in configs] == [
        ("base", "min+decode_register=1", "min"), ("pipeline=min", "min", "min")]
    assert configs[0]["pipeline_knobs"] == dict(SETTINGS["min"].as_dict(), setting="custom",
                                                decode_register=True)
    # One clock more than min for the engine, the same baseline design (one Yosys run).
    assert configs[0]["latency"]["engine"] == configs[1]["latency"]["engine"] + 1
    assert configs[0]["baseline"]["asic"]["logic_ge"] == \
        configs[1]["baseline"]["asic"]["logic_ge"]
    assert [c["yosys"]["cached"] for c in configs] == [0, 1]
    rows = data["pipeline_settings"]
    assert [(r["setting"], r["match"]) for r in rows] == [("min", "min"),
                                                          ("min+decode_register=1", "min")]
    md = (tmp_path / "area.md").read_text()
    baseline_table = md.split("The baseline at each setting:")[1].split("\n\n")[1]
    assert [line.split(" | ")[0] for line in baseline_table.splitlines()[2:]] == ["| min"]
    assert "Baseline settings synthesized: `min` (" in md
    assert "The engine at the pipeline `min+decode_register=1`, the baseline at the nearest " \
        "named setting, `min`." in md
    # --default-only: the custom pipeline alone, against its nearest setting's baseline.
    assert main(["area", "--default-only", "--pipeline", "min", "--knob",
                 "decode_register=1"] + tiny) == 0
    data = json.loads((tmp_path / "area.json").read_text())
    assert [(r["setting"], r["match"]) for r in data["pipeline_settings"]] == [
        ("min+decode_register=1", "min")]
    assert "INT32 baseline `min`" in (tmp_path / "area.md").read_text()


def test_macro_banks_count_as_memory_bits_not_flip_flops(tmp_path):
    """``--memories macro``: the banks are black-box instances; the ASIC estimate counts them
    as the same memory bits as the behavioural banks and adds no flip-flop for them (the
    macro holds the read register that the behavioural bank keeps in the memory)."""
    from apsq_rae.area.flow import _elaborate, ENGINE_TOP
    from apsq_rae.area.yosys import synthesize

    params = RAEParams(lanes=2, depth=8, max_group_size=2, psum_bits=16)
    counts = {}
    for memories in ("behavioural", "macro"):
        il, _ = _elaborate(params, engine=True, memories=memories)
        result = synthesize(il, ENGINE_TOP, "asic", tmp_path / memories)
        modules = result["asic"]["modules"] if "asic" in result else result["modules"]
        counts[memories] = {
            "mem_bits": sum(m["mem_bits"] for m in modules.values()),
            "ff": sum(m["ff"] for m in modules.values()),
            "banks_bits": modules[f"{ENGINE_TOP}.banks"]["mem_bits"],
            "macros": [m["name"] for m in modules[f"{ENGINE_TOP}.banks"]["memories"]],
            "names": sorted(modules)}
    row = 2 * 8 + 5 + 1
    assert counts["behavioural"]["banks_bits"] == counts["macro"]["banks_bits"] == 2 * 8 * row
    assert counts["behavioural"]["mem_bits"] == counts["macro"]["mem_bits"]
    assert counts["macro"]["macros"] == ["bank0", "bank1"]
    assert counts["macro"]["ff"] == counts["behavioural"]["ff"]
    assert counts["macro"]["names"] == counts["behavioural"]["names"]   # no black box listed
