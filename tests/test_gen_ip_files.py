"""The integration files `apsq-rae generate` writes beside the Verilog: C header, SystemVerilog
package and instantiation template, smoke testbench, FuseSoC core, the manifest's JSON Schema
and the Python fields. Each is checked by the tool its users would run on it."""

import json
import os
import re
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import jsonschema
import pyslang
import pytest

from apsq_rae.cli import main
from apsq_rae.gen.fields import EngineFields
from apsq_rae.tb.sim import use_verilator


ARGS = ["--lanes", "3", "--psum-bits", "12", "--q-bits", "5", "--max-group-size", "3",
        "--depth", "5", "--exp-bits", "3", "--step-bits", "5", "--rounding", "half_even"]
IP_FILES = ["apsq_rae.h", "apsq_rae_pkg.sv", "apsq_rae_inst.sv", "apsq_rae_smoke_tb.v",
            "apsq_rae_checker.sv", "apsq_rae.core"]


def _generate(out, *extra):
    assert main(["generate", *ARGS, *extra, "--out", str(out)]) == 0
    return json.loads((out / "apsq_rae.json").read_text())


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("ip")
    return out, _generate(out)


def test_files_written_deterministic_and_path_free(generated, tmp_path):
    out, _ = generated
    other = tmp_path / "elsewhere" / "deeper"
    _generate(other)
    for name in IP_FILES:
        text = (out / name).read_text()
        assert text == (other / name).read_text(), name
        assert str(out) not in text and "/tmp" not in text and "/work" not in text, name


def test_manifest_matches_published_schema(generated, tmp_path):
    out, manifest = generated
    schema = json.loads(files("apsq_rae.gen").joinpath("manifest.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(manifest)
    validator.validate(_generate(tmp_path / "macro", "--memories", "macro"))
    broken = dict(manifest)
    del broken["payloads"]
    with pytest.raises(jsonschema.ValidationError, match="'payloads' is a required property"):
        validator.validate(broken)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**manifest, "parameters": {**manifest["parameters"],
                                                       "rounding": "half_down"}})


def test_c_header_compiles_with_the_manifest_values(generated, tmp_path):
    out, m = generated
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "no C compiler (Verilator needs one too)"
    source = tmp_path / "probe.c"
    source.write_text(f'#include "{out / "apsq_rae.h"}"\n#include "{out / "apsq_rae.h"}"\n'
                      "#include <stdio.h>\nint main(void) {\n"
                      '  printf("%d %d %d %d %s %d %d %d %d %d\\n", APSQ_RAE_LANES, '
                      "APSQ_RAE_LATENCY, APSQ_RAE_REREAD_DISTANCE, APSQ_RAE_CAPACITY_GS3, APSQ_RAE_ROUNDING, "
                      "APSQ_RAE_ROUNDING_ID, APSQ_RAE_IN_DATA_WIDTH, APSQ_RAE_TILE_DATA_OFFSET, "
                      "APSQ_RAE_RESULT_SAT_OFFSET, APSQ_RAE_RESULT_DATA_LANE_WIDTH);\n"
                      "  return 0;\n}\n")
    subprocess.run([cc, "-Wall", "-Werror", "-o", str(tmp_path / "probe"), str(source)],
                   check=True, capture_output=True, text=True)
    printed = subprocess.run([str(tmp_path / "probe")], check=True, capture_output=True,
                             text=True).stdout.split()
    # Literal values of the configuration: 3 lanes of 12 bits, capacity 5 at gs 3; the tile
    # packs addr (4 bits), step (5), last (1), exp (3) below data; the result addr, exp, sat.
    assert printed == ["3", str(m["latency"]), str(m["reread_distance"]), "5", "half_even", "1",
                       "36", "13", "7", "5"]


def _pyslang_errors(sources):
    """``(errors, report)`` of elaborating ``sources`` (texts) together with pyslang."""
    compilation = pyslang.ast.Compilation()
    trees = [pyslang.syntax.SyntaxTree.fromText(text) for text in sources]
    for tree in trees:
        compilation.addSyntaxTree(tree)
    diagnostics = compilation.getAllDiagnostics()
    report = pyslang.DiagnosticEngine.reportAll(trees[0].sourceManager, diagnostics)
    return [d for d in diagnostics if d.isError()], report


def _wrapper(out, manifest):
    """A module declaring one signal per port and including the instantiation template."""
    decls = "\n".join(f"  logic [{p['width'] - 1}:0] {p['name']};" for p in manifest["ports"])
    return (f"module wrapper;\n{decls}\n  import apsq_rae_pkg::*;\n  tile_t tile;\n"
            f"  result_t result;\n  assign result = {{out_data, out_sat, out_exp, out_addr}};\n"
            f"{(out / 'apsq_rae_inst.sv').read_text()}endmodule\n")


def test_pyslang_parses_every_generated_systemverilog_file(generated):
    out, manifest = generated
    verilog, package, smoke = [(out / name).read_text() for name in (
        "apsq_rae.v", "apsq_rae_pkg.sv", "apsq_rae_smoke_tb.v")]
    errors, report = _pyslang_errors([verilog, package, _wrapper(out, manifest)])
    assert errors == [], report
    errors, report = _pyslang_errors([verilog, smoke])
    assert errors == [], report
    checker = (out / "apsq_rae_checker.sv").read_text()
    errors, report = _pyslang_errors([verilog, checker, "module bound;\n  bind apsq_rae "
                                      "apsq_rae_checker u_checker (.*);\nendmodule\n"])
    assert errors == [], report
    sources = [verilog, package]
    # It would notice: the template connecting a port the module does not have.
    bad = _wrapper(out, manifest).replace(".busy ", ".bussy ")
    errors, report = _pyslang_errors(sources + [bad])
    assert errors and "bussy" in report


def test_package_structs_match_the_payload_layout(generated):
    out, manifest = generated
    text = (out / "apsq_rae_pkg.sv").read_text()
    for kind, layout in manifest["payloads"].items():
        assert f"localparam int {kind.upper()}_WIDTH = {layout['width']};" in text
        body = re.search(r"typedef struct packed \{([^}]*)\} " + kind + "_t;", text)[1]
        names = re.findall(r"(\w+);", body)
        assert names == [f["name"] for f in reversed(layout["fields"])]


def test_verilator_lints_the_instantiation_template(generated, tmp_path):
    out, manifest = generated
    use_verilator()
    decls = "\n".join(f"  logic [{p['width'] - 1}:0] {p['name']};" for p in manifest["ports"])
    (tmp_path / "wrapper.sv").write_text(
        f"module wrapper;\n{decls}\n`include \"apsq_rae_inst.sv\"\nendmodule\n")
    command = ["verilator", "--lint-only", "--top-module", "wrapper", f"-I{out}",
               str(out / "apsq_rae.vlt"), str(out / "apsq_rae.v"), str(tmp_path / "wrapper.sv")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    # A width mismatch in the connection is what the lint is for.
    width = {p["name"]: p["width"] for p in manifest["ports"]}["in_data"]
    (tmp_path / "wrapper.sv").write_text((tmp_path / "wrapper.sv").read_text().replace(
        f"logic [{width - 1}:0] in_data", f"logic [{width}:0] in_data"))
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "WIDTH" in result.stdout + result.stderr


def _fusesoc(core_dir, work, target, tool=None):
    use_verilator()
    command = ["fusesoc", "--cores-root", str(core_dir), "run", "--target", target,
               *(["--tool", tool] if tool else []),
               f"apsq-rae:generated:apsq_rae:{json.loads((core_dir / 'apsq_rae.json').read_text())['generator']['version']}"]
    fusesoc = shutil.which("fusesoc") or str(Path(os.sys.executable).parent / "fusesoc")
    command[0] = fusesoc
    return subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=600)


def test_fusesoc_runs_the_core_smoke_test_and_lint(generated, tmp_path):
    out, _ = generated
    sim = _fusesoc(out, tmp_path, "sim", "icarus")
    log = sim.stdout + sim.stderr
    assert sim.returncode == 0, log
    assert re.search(r"^smoke: PASS \(\d+ clocks\)$", log, re.M), log
    lint = _fusesoc(out, tmp_path, "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_fusesoc_synth_target_maps_the_engine_to_ecp5(tmp_path):
    """The core's ``synth`` target (Yosys through edalize, ECP5) on a 3-lane engine at the
    default depth: it runs, and the four banks become four block RAMs (a row of 3 x 8 data
    bits, 5 exponent bits and the saturation flag is 30 bits; 256 of them fit one DP16KD,
    512 x 36), with no latch."""
    if shutil.which("yosys") is None:
        pytest.fail("the synth target needs a native `yosys` on PATH (Debian package yosys; "
                    "`make test` installs it)")
    out = tmp_path / "ip"
    assert main(["generate", "--lanes", "3", "--out", str(out)]) == 0
    synth = _fusesoc(out, tmp_path, "synth")
    assert synth.returncode == 0, synth.stdout + synth.stderr
    build = next(tmp_path.glob("build/*/synth-yosys"))
    log = (build / "yosys.log").read_text()
    # The last statistics are those of the mapped top level.
    stats = log[log.rindex("Number of cells"):]
    cells = {name: int(n) for name, n in re.findall(r"^\s+(\$?\w+)\s+(\d+)\s*$", stats, re.M)}
    assert cells.get("DP16KD") == 4, cells
    assert cells.get("TRELLIS_FF", 0) > 0 and cells.get("LUT4", 0) > 0, cells
    assert not any("LATCH" in name.upper() for name in cells), cells
    assert list(build.glob("*.blif")), sorted(p.name for p in build.iterdir())


def test_smoke_test_fails_on_a_wrong_result(generated, tmp_path):
    """The smoke testbench checks values: with one expected lane changed it fails."""
    out, _ = generated
    broken = tmp_path / "core"
    shutil.copytree(out, broken)
    tb = broken / "apsq_rae_smoke_tb.v"
    text = tb.read_text()
    calls = re.findall(r"expect_result\((\d+), (\d+), (\d), (\d+)'h([0-9a-f]+)\);", text)
    assert len(calls) == 2
    addr, exp, sat, width, data = calls[0]
    wrong = f"{int(width)}'h{int(data, 16) ^ 1:x}"
    tb.write_text(text.replace(f"expect_result({addr}, {exp}, {sat}, {width}'h{data});",
                               f"expect_result({addr}, {exp}, {sat}, {wrong});", 1))
    sim = _fusesoc(broken, tmp_path, "sim", "icarus")
    log = sim.stdout + sim.stderr
    assert "smoke: FAIL 1 checks" in log and "smoke: PASS" not in log, log


def test_python_fields_pack_and_unpack(generated):
    out, manifest = generated
    f = EngineFields.load(out / "apsq_rae.json")
    assert f.parameters["lanes"] == 3 and f.latency == manifest["latency"]
    assert f.reread_distance == manifest["reread_distance"]
    assert f.capacity(1) == 15 and f.capacity(3) == 5
    word = f.pack_tile(addr=9, step=3, last=True, exp=5, data=[-1, 2047, -2048])
    # addr 4 bits, step 5, last 1, exp 3, then 3 lanes of 12 bits.
    assert word == (9 | 3 << 4 | 1 << 9 | 5 << 10 | 0xfff << 13 | 0x7ff << 25 | 0x800 << 37)
    assert f.unpack_tile(word) == {"addr": 9, "step": 3, "last": 1, "exp": 5,
                                   "data": [-1, 2047, -2048]}
    result = f.pack_result(addr=4, exp=7, sat=False, data=[-16, 15, 0])
    assert f.unpack_result(result) == {"addr": 4, "exp": 7, "sat": 0, "data": [-16, 15, 0]}
    with pytest.raises(ValueError, match=r"data\[1\] = 16 is out of range \(legal: -16..15\)"):
        f.pack_result(addr=0, exp=0, sat=0, data=[0, 16, 0])
    with pytest.raises(ValueError, match=r"group_size = 4 is out of range \(legal: 1..3\)"):
        f.capacity(4)


def test_axis_interface_files(tmp_path, capsys):
    out = tmp_path / "axis"
    manifest = _generate(out, "--interface", "axis")
    other = tmp_path / "elsewhere" / "axis"
    _generate(other, "--interface", "axis")
    for path in out.iterdir():        # deterministic and path-free too
        assert path.read_text() == (other / path.name).read_text(), path.name
        assert str(tmp_path) not in path.read_text(), path.name
    assert manifest["interface"] == "axis"
    assert sorted(p.name for p in out.iterdir()) == [
        "apsq_rae.core", "apsq_rae.h", "apsq_rae.json", "apsq_rae.sdc", "apsq_rae.v",
        "apsq_rae.vlt", "apsq_rae_inst.sv", "apsq_rae_pkg.sv"]
    # 3 lanes of 12 bits: tdata 36 bits in 5 bytes; tuser addr (4), step (5), exp (3).
    s_axis = manifest["axis"]["s_axis"]
    assert s_axis["tdata"] == {"width": 40, "lanes": 3, "lane_width": 12}
    assert [(f["name"], f["offset"], f["width"]) for f in s_axis["tuser"]] == [
        ("addr", 0, 4), ("step", 4, 5), ("exp", 9, 3)]
    assert [p["name"] for p in manifest["ports"]][:4] == ["aclk", "aresetn", "cfg_group_size",
                                                          "s_axis_tvalid"]
    schema = json.loads(files("apsq_rae.gen").joinpath("manifest.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(manifest)
    errors, report = _pyslang_errors([(out / "apsq_rae.v").read_text(),
                                      (out / "apsq_rae_pkg.sv").read_text(),
                                      _wrapper(out, manifest).replace(
                                          "  assign result = {out_data, out_sat, out_exp, "
                                          "out_addr};\n", "")])
    assert errors == [], report
    assert "create_clock -name clk -period 5 [get_ports aclk]" in (out / "apsq_rae.sdc").read_text()
    assert "sim:" not in (out / "apsq_rae.core").read_text()


def test_unknown_interface_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["generate", "--interface", "axi", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["apsq-rae generate: error: --interface = 'axi' is not one of flat, axis"]
    assert not (tmp_path / "o").exists()
