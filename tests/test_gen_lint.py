"""Lint of the generated Verilog, on every quick-sweep configuration at its pipeline setting:
Verilator's default warning set reports nothing, ``-Wall`` with the shipped ``<name>.vlt``
reports nothing, and Yosys finds no latch, combinational loop or multiple driver."""

import re
import subprocess

import pytest

from apsq_rae.area.yosys import yosys_command
from apsq_rae.gen.generate import generate_verilog, vlt_text, write_outputs
from apsq_rae.tb.configs import FAST, pipeline_of
from apsq_rae.tb.sim import use_verilator


def verilator_lint(directory, files, wall=False):
    """``(warnings, output)`` of ``verilator --lint-only [-Wall] files`` in ``directory``;
    warnings as ``[(rule, line text)]``."""
    command = ["verilator", "--lint-only", *(["-Wall"] if wall else []), *files]
    use_verilator()
    result = subprocess.run(command, cwd=directory, capture_output=True,
                            text=True, timeout=600)
    output = result.stdout + result.stderr
    warnings = re.findall(r"^%Warning-(\w+): (.*)$", output, re.MULTILINE)
    errors = [line for line in re.findall(r"^%Error.*$", output, re.MULTILINE)
              if "Exiting due to" not in line]
    assert errors == [], output[-3000:]
    assert (result.returncode == 0) == (warnings == []), output[-3000:]
    return warnings, output


def yosys_check(directory, top, verilog):
    """Yosys' ``check -assert`` after ``proc``, and no latch cell: ``(ok, log)``."""
    script = (f"read_verilog {verilog}; hierarchy -check -top {top}; proc; check -assert; "
              "select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$sr")
    result = subprocess.run([yosys_command(), "-q", "-l", "check.log", "-p", script],
                            cwd=directory, capture_output=True, text=True, timeout=600)
    return result.returncode == 0, (directory / "check.log").read_text()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Every quick-sweep configuration written with its waiver file, both init choices."""
    cache = {}

    def get(name, init="reset"):
        if (name, init) not in cache:
            directory = tmp_path_factory.mktemp(f"{name}-{init}")
            text, manifest = generate_verilog(FAST[name], pipeline=pipeline_of(name), init=init)
            write_outputs(directory, "apsq_rae", text, manifest, vlt=vlt_text("apsq_rae", init))
            cache[name, init] = directory
        return cache[name, init]
    return get


@pytest.mark.parametrize("name", list(FAST))
def test_verilator_default_and_wall_with_waivers_are_clean(outputs, name):
    directory = outputs(name)
    warnings, output = verilator_lint(directory, ["apsq_rae.v"])
    assert warnings == [], f"{name}: {len(warnings)} warnings\n{output[-3000:]}"
    warnings, output = verilator_lint(directory, ["apsq_rae.vlt", "apsq_rae.v"], wall=True)
    assert warnings == [], f"{name} -Wall: {len(warnings)} warnings\n{output[-3000:]}"


@pytest.mark.parametrize("name", ["g1", "odd", "max"])
def test_init_none_is_lint_clean_too(outputs, name):
    directory = outputs(name, "none")
    warnings, output = verilator_lint(directory, ["apsq_rae.vlt", "apsq_rae.v"], wall=True)
    assert warnings == [], f"{name} -Wall: {len(warnings)} warnings\n{output[-3000:]}"
    assert "PROCASSINIT" not in (directory / "apsq_rae.vlt").read_text()


def test_waivers_are_needed_and_each_has_a_reason(outputs):
    """Without the waiver file, -Wall reports exactly the waived rules (so no waiver is
    stale), and every waiver is preceded by a comment."""
    directory = outputs("odd")
    warnings, _ = verilator_lint(directory, ["apsq_rae.v"], wall=True)
    rules = {rule for rule, _ in warnings}
    vlt = (directory / "apsq_rae.vlt").read_text()
    waived = re.findall(r'^lint_off -rule (\w+) -file "\*apsq_rae\.v"$', vlt, re.MULTILINE)
    assert rules == set(waived) == {"DECLFILENAME", "UNUSEDSIGNAL", "PROCASSINIT"}
    lines = vlt.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("lint_off"):
            assert lines[index - 1].startswith("// "), line


def test_lint_finds_what_it_should(tmp_path):
    """The checks can fail: a width mismatch and an incomplete case for Verilator, a latch,
    a combinational loop and a second driver for Yosys."""
    (tmp_path / "bad.v").write_text("\n".join([
        "module bad(input [1:0] s, input [7:0] a, output reg [3:0] y, output z);",
        "  assign z = a == 3'h7;",
        "  always @* begin",
        "    y = 4'h0;",
        "    case (s)",
        "      2'h1: y = 4'h1;",
        "    endcase",
        "  end",
        "endmodule", ""]))
    warnings, _ = verilator_lint(tmp_path, ["bad.v"])
    assert {rule for rule, _ in warnings} == {"WIDTHEXPAND", "CASEINCOMPLETE"}
    for body in ("  reg q;\n  always @* if (e) q = a;\n  assign y = q;",
                 "  wire l;\n  assign l = ~l & a;\n  assign y = l;",
                 "  assign y = a;\n  assign y = e;"):
        (tmp_path / "bad2.v").write_text(f"module bad2(input e, input a, output y);\n{body}\n"
                                         "endmodule\n")
        ok, log = yosys_check(tmp_path, "bad2", "bad2.v")
        assert not ok, (body, log[-1000:])


@pytest.mark.parametrize("name", list(FAST))
def test_yosys_check_finds_no_latch_loop_or_multiple_driver(outputs, name):
    directory = outputs(name)
    ok, log = yosys_check(directory, "apsq_rae", "apsq_rae.v")
    assert ok, f"{name}:\n{log[-3000:]}"
    assert "Found and reported 0 problems." in log
