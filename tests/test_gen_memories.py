"""``--memories macro``: each bank an instance of a separate 1R1W memory module with a
replaceable behavioural model; the functional cocotb tests pass on it; lint-clean."""

import json
import re

import pytest

from apsq_rae.gen.generate import generate_verilog, memory_files, vlt_text, write_outputs
from apsq_rae.gen.memories import macro_name, model_text
from apsq_rae.hdl.banks import row_layout
from apsq_rae.hdl.params import RAEParams
from apsq_rae.tb.configs import FAST, pipeline_of
from apsq_rae.tb.sim import run

from apsq_rae.tb.configs import FUNCTIONAL, traffic_scale
from test_gen_lint import verilator_lint, yosys_check


def test_row_width_and_names():
    """Width = lanes x q_bits + exp_bits + 1 (the row of docs/spec.md), depth = depth."""
    p = RAEParams(lanes=2, q_bits=8, exp_bits=5, depth=8)
    assert row_layout(p).size == 2 * 8 + 5 + 1 == 22
    assert macro_name(p, "my_rae") == "my_rae_sram_22x8"
    assert macro_name(RAEParams(), "apsq_rae") == "apsq_rae_sram_134x256"


@pytest.mark.parametrize("setting", ["min", "default", "max"])
def test_macro_output_instantiates_one_module_per_bank(setting):
    p = RAEParams(lanes=2, depth=8, max_group_size=3)
    text, manifest = generate_verilog(p, "eng", pipeline=setting, memories="macro")
    module = "eng_sram_22x8"
    instances = re.findall(r"^  " + module + r" (bank\d+) \($", text, re.MULTILINE)
    assert instances == ["bank0", "bank1", "bank2"]
    assert f"module {module}(" not in text            # the model is not in the engine's file
    assert not re.search(r"reg \[21:0\] \S+ \[", text)      # no bank array left inside
    assert "\\" not in "".join(re.findall(r"^  \S+ (\S+) \($", text, re.MULTILINE))
    assert manifest["memory_models"] == [f"{module}.v"]
    assert [m["instance"] for m in manifest["memories"]] == \
        [f"eng_engine_banks.bank{b}" for b in range(3)]
    for entry in manifest["memories"]:
        assert entry["module"] == module and entry["kind"] == "macro"
        assert (entry["width"], entry["depth"], entry["read_latency"]) == (22, 8, 1)
        assert [(q["name"], q["direction"], q["width"]) for q in entry["ports"]] == [
            ("clk", "in", 1), ("rd_en", "in", 1), ("rd_addr", "in", 3), ("rd_data", "out", 22),
            ("wr_en", "in", 1), ("wr_addr", "in", 3), ("wr_data", "in", 22)]


def test_behavioural_manifest_lists_the_banks_without_a_module():
    p = RAEParams()
    text, manifest = generate_verilog(p)
    assert manifest["memory_models"] == [] and len(manifest["memories"]) == 4
    assert all(m["module"] is None and m["kind"] == "behavioural" and m["width"] == 134
               and m["depth"] == 256 for m in manifest["memories"])
    assert memory_files(p, "apsq_rae", "behavioural") == {}


def test_model_of_depth_one_has_a_one_bit_address():
    p = RAEParams(lanes=1, depth=1, max_group_size=1)
    text = model_text(p, "t")
    assert "input [0:0] rd_addr;" not in text and "input rd_addr;" in text
    assert "reg [13:0] mem [0:0];" in text       # 1 x 8 + 5 + 1 bits


def test_cli_writes_the_model_and_refuses_bad_values(tmp_path, capsys):
    from apsq_rae.cli import main

    out = tmp_path / "out"
    assert main(["generate", "--lanes", "2", "--depth", "8", "--memories", "macro",
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "apsq_rae.core", "apsq_rae.h", "apsq_rae.json", "apsq_rae.sdc", "apsq_rae.v",
        "apsq_rae.vlt", "apsq_rae_checker.sv", "apsq_rae_inst.sv", "apsq_rae_pkg.sv",
        "apsq_rae_smoke_tb.v",
        "apsq_rae_sram_22x8.v"]
    # The FuseSoC core lists the model with the Verilog.
    assert "      - apsq_rae.v\n      - apsq_rae_sram_22x8.v\n" in (out / "apsq_rae.core").read_text()
    assert "apsq_rae_sram_22x8.v (behavioural model" in capsys.readouterr().out
    assert json.loads((out / "apsq_rae.json").read_text())["memory_models"] == \
        ["apsq_rae_sram_22x8.v"]
    assert main(["generate", "--memories", "sram", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["apsq-rae generate: error: --memories = 'sram' is not one of behavioural, "
                   "macro"]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("name", ["g2", "max"])
def test_macro_output_is_lint_clean(tmp_path, name):
    p = FAST[name]
    text, manifest = generate_verilog(p, pipeline=pipeline_of(name), memories="macro")
    models = memory_files(p, "apsq_rae", "macro")
    write_outputs(tmp_path, "apsq_rae", text, manifest, vlt=vlt_text(), extra=models)
    files = ["apsq_rae.vlt", "apsq_rae.v", *models]
    assert verilator_lint(tmp_path, files[1:])[0] == []
    assert verilator_lint(tmp_path, files, wall=True)[0] == []
    (tmp_path / "all.v").write_text(text + "".join(models.values()))
    ok, log = yosys_check(tmp_path, "apsq_rae", "all.v")
    assert ok, log[-2000:]


#: ``make test``: the functional tests on the macro output with the behavioural model.
@pytest.mark.parametrize("name", ["g2", "odd_min", "max"])
def test_functional_on_macro_output(name):
    params = FAST[name]
    assert run(params, FUNCTIONAL, run_name="functional-macro", memories="macro",
               pipeline=pipeline_of(name),
               extra_env={"APSQ_TB_SCALE": str(traffic_scale(params))}) == len(FUNCTIONAL)
