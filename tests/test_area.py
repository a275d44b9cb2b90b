"""The area report (:mod:`apsq_rae.area`) on tiny configurations: it runs, its numbers make
sense and its files parse. The full sweep is `make area`, not part of the tests."""

import json

import pytest

from apsq_rae.area.flow import run_area, sweep_configs, DEFAULT_SWEEP
from apsq_rae.area.report import block_of, SRAM_GE_PER_BIT
from apsq_rae.area.yosys import cell_areas, rtlil_memories
from apsq_rae.cli import main
from apsq_rae.hdl.params import RAEParams


TINY = RAEParams(lanes=1, psum_bits=8, q_bits=4, max_group_size=2, depth=4, exp_bits=3,
                 step_bits=3)


def test_cell_library_areas():
    areas = cell_areas()
    assert areas["NAND2"] == 1.0                     # the unit: NAND2 equivalents
    assert areas["DFF"] == 5.67
    assert areas["INV"] < areas["NAND2"] < areas["XOR2"] < areas["MUX2"] < areas["DFF"]
    assert len(areas) == 18


def test_rtlil_memories():
    text = ("module \\top.banks\n  memory width 134 size 256 \\bank0\n"
            "  memory size 8 $tmp\nend\nmodule \\top\nend\n")
    assert rtlil_memories(text) == [
        {"module": "top.banks", "name": "bank0", "width": 134, "depth": 256, "bits": 34304},
        {"module": "top.banks", "name": "$tmp", "width": 1, "depth": 8, "bits": 8},
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
    tables = [block.splitlines() for block in md.split("\n\n") if block.startswith("|")]
    assert len(tables) == 5        # at a glance, per configuration, per gs, engine/baseline blocks
    for table in tables:
        assert len({line.count("|") for line in table}) == 1, table[0]
    assert len(tables[0]) == 2 + 6
    assert len(tables[1]) == 2 + 3
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
    assert "ge45.lib" in words
