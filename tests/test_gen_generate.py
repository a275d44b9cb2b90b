"""``apsq-rae generate``: files written, deterministic, bad options refused cleanly."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--lanes", "2", "--max-group-size", "2", "--depth", "4", "--psum-bits", "16"]


def run_generate(args, cwd=ROOT, pythonpath=None):
    env = dict(os.environ, AMARANTH_USE_YOSYS="builtin")
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-m", "apsq_rae", "generate", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_writes_verilog_manifest_and_sdc(tmp_path):
    out = tmp_path / "out"
    result = run_generate([*SMALL, "--name", "my_rae", "--out", str(out)])
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "my_rae.core", "my_rae.h", "my_rae.json", "my_rae.sdc", "my_rae.v", "my_rae.vlt",
        "my_rae_checker.sv", "my_rae_inst.sv", "my_rae_pkg.sv", "my_rae_smoke_tb.v"]
    assert "package my_rae_pkg;" in (out / "my_rae_pkg.sv").read_text()
    assert "my_rae u_my_rae (" in (out / "my_rae_inst.sv").read_text()
    assert "#define MY_RAE_LANES 2" in (out / "my_rae.h").read_text()
    assert "name: apsq-rae:generated:my_rae:" in (out / "my_rae.core").read_text()
    assert "module my_rae(" in (out / "my_rae.v").read_text()
    assert "module my_rae_engine(" in (out / "my_rae.v").read_text()
    assert "my_rae.v" in result.stdout and "my_rae.json" in result.stdout
    assert "wrote " + str(out / "my_rae.vlt") + " (Verilator lint waivers" in result.stdout
    assert 'lint_off -rule UNUSEDSIGNAL -file "*my_rae.v"' in (out / "my_rae.vlt").read_text()
    assert "wrote " + str(out / "my_rae.sdc") + " (clock clk 5 ns; input and output delays " \
        "20% of the period)" in result.stdout
    assert "latency" in result.stdout
    sdc = (out / "my_rae.sdc").read_text()
    assert "create_clock -name clk -period 5 [get_ports clk]\n" in sdc
    assert "set_input_delay -clock clk 1 [get_ports rst]\n" in sdc


def test_byte_identical_from_two_checkouts(tmp_path):
    """Same options, different checkout paths and output directories: same bytes."""
    outputs = []
    for k in range(2):
        # The package as installed: apsq_rae/ with its subpackages inside.
        checkout = tmp_path / f"checkout{k}" / ("deeper" * k)
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / "apsq_rae", checkout / "apsq_rae", ignore=ignore)
        for package in ("gen", "hdl", "golden", "area", "fpga", "explore"):
            shutil.copytree(ROOT / package, checkout / "apsq_rae" / package, ignore=ignore)
        out = tmp_path / f"out{k}" / ("x" * k)
        result = run_generate([*SMALL, "--rounding", "half_even", "--out", str(out)],
                              cwd=checkout, pythonpath=checkout)
        assert result.returncode == 0, result.stderr
        outputs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert sorted(outputs[0]) == ["apsq_rae.core", "apsq_rae.h", "apsq_rae.json", "apsq_rae.sdc",
                                  "apsq_rae.v", "apsq_rae.vlt", "apsq_rae_checker.sv",
                                  "apsq_rae_inst.sv", "apsq_rae_pkg.sv", "apsq_rae_smoke_tb.v"]
    assert outputs[0] == outputs[1]
    for blob in outputs[0].values():
        assert str(tmp_path).encode() not in blob


@pytest.mark.parametrize("args, fragment", [
    (["--lanes", "0"], "--lanes = 0 is out of range (legal: >= 1)"),
    (["--psum-bits", "65"], "--psum-bits = 65 is out of range (legal: 2..64)"),
    (["--q-bits", "40"], "--q-bits = 40 is out of range (legal: 2..32)"),
    (["--max-group-size", "17"], "--max-group-size = 17 is out of range (legal: 1..16)"),
    (["--depth", "0"], "--depth = 0 is out of range (legal: >= 1)"),
    (["--exp-bits", "7"], "--exp-bits = 7 is out of range (legal: 1..6)"),
    (["--step-bits", "33"], "--step-bits = 33 is out of range (legal: 1..32)"),
    (["--name", "1rae"], "--name = '1rae' is not a legal Verilog identifier"),
    (["--name", "module"], "--name = 'module' is not a legal Verilog identifier"),
    (["--name", "a-b"], "--name = 'a-b' is not a legal Verilog identifier"),
    (["--clock-period", "0"], "--clock-period = 0.0 is out of range (legal: a number of ns > 0)"),
    (["--clock-period", "-2.5"], "--clock-period = -2.5 is out of range"),
    (["--clock-period", "inf"], "--clock-period = inf is out of range"),
    (["--io-delay-fraction", "0.95"], "--io-delay-fraction = 0.95 is out of range (legal: 0..0.9)"),
    (["--io-delay-fraction", "-0.1"], "--io-delay-fraction = -0.1 is out of range"),
    (["--init", "zero"], "--init = 'zero' is not one of reset, none"),
])
def test_bad_option_one_line_exit_2_nothing_written(tmp_path, capsys, args, fragment):
    from apsq_rae.cli import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "apsq_rae.v").write_text("old")          # an earlier result stays untouched
    assert main(["generate", *args, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("apsq-rae generate: error: ")
    assert fragment in lines[0]
    assert captured.out == ""
    assert sorted(p.name for p in out.iterdir()) == ["apsq_rae.v"]
    assert (out / "apsq_rae.v").read_text() == "old"


def test_bad_option_creates_no_directory(tmp_path):
    """The real process: exit status 2, one line, no traceback, no directory."""
    result = run_generate(["--exp-bits", "0", "--out", str(tmp_path / "never")])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "apsq-rae generate: error: --exp-bits = 0 is out of range (legal: 1..6)"]
    assert not (tmp_path / "never").exists()


def test_rounding_choices_are_checked(tmp_path):
    result = run_generate(["--rounding", "nearest", "--out", str(tmp_path / "o")])
    assert result.returncode == 2
    assert "--rounding" in result.stderr and "half_up" in result.stderr
    assert not (tmp_path / "o").exists()


def test_failed_write_leaves_no_temporaries(tmp_path, monkeypatch):
    """If writing fails half way, neither final nor temporary files remain."""
    from apsq_rae.gen import generate

    calls = []
    real_replace = os.replace

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(generate.os, "replace", failing_replace)
    with pytest.raises(OSError):
        generate._write_atomically({tmp_path / "a.v": "x", tmp_path / "a.json": "y"})
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_merge_part_assigns_joins_only_exactly_covered_nets():
    """A net assigned part by part becomes one concatenation when its parts cover it exactly
    once; partial, overlapping, undeclared and register targets are left as written."""
    from apsq_rae.gen.generate import merge_part_assigns

    text = "\n".join([
        "module m(a, b, y);",
        "  input [3:0] a;",
        "  input [3:0] b;",
        "  output [8:0] y;",
        "  wire [8:0] y;",
        "  wire [4:0] \\p$1 ;",
        "  wire [7:0] part;",
        "  wire [3:0] over;",
        "  assign y[3:0] = b;",
        "  assign \\p$1 [4] = a[0];",
        "  assign y[8] = 1'h1;",
        "  assign y[7:4] = a;",
        "  assign \\p$1 [3:0] = { a[1], b[2:0] };",
        "  assign part[3:0] = a;",
        "  assign part[5:4] = b[1:0];",
        "  assign over[3:0] = a;",
        "  assign over[1:0] = b[1:0];",
        "  assign undeclared[1:0] = b[1:0];",
        "  assign undeclared[3:2] = a[1:0];",
        "endmodule",
        "module n(a, y);",
        "  input [1:0] a;",
        "  output [3:0] y;",
        "  wire [3:0] y;",
        "  assign y[1:0] = a;",
        "endmodule",
        ""])
    merged = merge_part_assigns(text).split("\n")
    assert "  assign y = { 1'h1, a, b };" in merged
    assert "  assign \\p$1  = { a[0], { a[1], b[2:0] } };" in merged
    assert not any(line.startswith(("  assign y[", "  assign \\p$1 [")) for line in merged[:20])
    for kept in ("  assign part[3:0] = a;", "  assign part[5:4] = b[1:0];",
                 "  assign over[3:0] = a;", "  assign over[1:0] = b[1:0];",
                 "  assign undeclared[1:0] = b[1:0];", "  assign y[1:0] = a;"):
        assert kept in merged
    assert merge_part_assigns("\n".join(merged)) == "\n".join(merged)


@pytest.mark.parametrize("config", ["odd", "g1"])
def test_merged_verilog_is_equivalent_to_yosys_output(tmp_path, monkeypatch, config):
    """The generated Verilog (parts joined, registers in one block per module, plain module
    names, explicit operand widths, default case items, no zero-width nets) and Yosys' own
    output are the same netlist: Yosys proves every net of the flattened top module equal
    (an odd-sized configuration, and one with ``max_group_size`` 1)."""
    from apsq_rae.gen import generate
    from apsq_rae.hdl.params import RAEParams

    params = {"odd": RAEParams(lanes=2, psum_bits=12, q_bits=5, max_group_size=3, depth=5,
                               exp_bits=3, step_bits=5, rounding="half_even"),
              "g1": RAEParams(lanes=2, max_group_size=1, depth=4, psum_bits=16)}[config]
    merged, _ = generate.generate_verilog(params)
    for rewrite in ("merge_part_assigns", "merge_register_blocks", "plain_module_names",
                    "explicit_widths", "default_case_items", "drop_zero_width_nets"):
        monkeypatch.setattr(generate, rewrite, lambda text: text)
    written, _ = generate.generate_verilog(params)
    vector_not = re.compile(r"= ! \S+ ?\[\d+:\d+\];$", re.MULTILINE)
    assert vector_not.search(written) and not vector_not.search(merged) and "~| " in merged
    if config == "odd":
        assert written.count("default:") < merged.count("default:")
        assert re.search(r"\$signed\(\{ \{\d+\{", merged)      # a sign extension
    else:
        assert "[-1:0]" in written and "[-1:0]" not in merged
    escaped = re.compile(r"^module \\", re.MULTILINE)
    assert len(escaped.findall(written)) >= 8 and escaped.findall(merged) == []
    part = re.compile(r"^  assign \S+ ?\[\d+(:\d+)?\] = ", re.MULTILINE)
    assert len(part.findall(written)) > 10 and part.findall(merged) == []
    clocked = re.compile(r"^  always @\(posedge clk\)", re.MULTILINE)
    assert len(clocked.findall(merged)) * 5 < len(clocked.findall(written))
    assert _equivalent(tmp_path, written, merged), (tmp_path / "equiv.log").read_text()[-2000:]


def test_merge_register_blocks_joins_plain_registers_per_edge():
    """Single plain non-blocking registers on the same edge share one block; conditional,
    multi-line and memory blocks and other edges stay as written."""
    from apsq_rae.gen.generate import merge_register_blocks

    text = "\n".join([
        "module m(clk, rst, a, q);",
        "  always @(posedge clk)",
        "    q <= a;",
        "  assign x = a;",
        "  always @(posedge clk)",
        "    \\r$1 [3:0] <= \\n$2 ;",
        "  always @(posedge clk)",
        "    if (rst) s <= 1'h0;",
        "  always @(posedge clk)",
        "    t <= a;",
        "    u <= a;",
        "  always @(posedge clk) begin",
        "    mem[addr] <= a;",
        "  end",
        "  always @(negedge clk)",
        "    n <= a;",
        "  always @(posedge clk)",
        "    w <= { a, \\n$2  };",
        "endmodule",
        "module k(clk);",
        "  always @(posedge clk)",
        "    v <= 1'h1;",
        "endmodule",
        ""])
    merged = merge_register_blocks(text).split("\n")
    assert merged[:7] == ["module m(clk, rst, a, q);", "  always @(posedge clk) begin",
                          "    q <= a;", "    \\r$1 [3:0] <= \\n$2 ;",
                          "    w <= { a, \\n$2  };", "  end", "  assign x = a;"]
    rest = "\n".join(merged[7:])
    for kept in ("  always @(posedge clk)\n    if (rst) s <= 1'h0;",
                 "  always @(posedge clk)\n    t <= a;\n    u <= a;",
                 "  always @(posedge clk) begin\n    mem[addr] <= a;\n  end",
                 "  always @(negedge clk)\n    n <= a;",
                 "module k(clk);\n  always @(posedge clk)\n    v <= 1'h1;\nendmodule"):
        assert kept in rest
    assert merge_register_blocks("\n".join(merged)) == "\n".join(merged)


@pytest.fixture(scope="module")
def fast_verilog():
    """The generated Verilog of every quick-sweep configuration (tb.configs.FAST), at its
    pipeline setting: ``{name: text}``."""
    from apsq_rae.gen.generate import generate_verilog
    from apsq_rae.tb.configs import FAST, pipeline_of

    return {name: generate_verilog(params, pipeline=pipeline_of(name))[0]
            for name, params in FAST.items()}


# A module header ``module NAME(`` (or ``module NAME (``), at the start of a line; an instance,
# as write_verilog writes it: two spaces, the module type, one or more spaces, the instance
# name, optional space, ``(`` ending the line. An escaped identifier is ``\\`` followed by
# non-blanks and ended by a blank.
_ANY_NAME = r"(\\\S+|[A-Za-z_][A-Za-z0-9_$]*)"
MODULE_HEADER = re.compile(r"^module\s+" + _ANY_NAME + r"\s*\(", re.MULTILINE)
INSTANCE = re.compile(r"^  " + _ANY_NAME + r"\s+" + _ANY_NAME + r"\s*\($", re.MULTILINE)
PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")


def test_fast_configurations_have_plain_module_and_instance_names(fast_verilog):
    """Every module declaration and every instance (its module type and its name) is a plain
    identifier, module names are unique, instances are unique within their module, every
    instance names a module of the file, and the submodules are named after the top."""
    from apsq_rae.tb.configs import FAST

    assert sorted(fast_verilog) == sorted(FAST)
    for name, text in fast_verilog.items():
        assert "module \\" not in text, name
        modules = MODULE_HEADER.findall(text)
        assert len(modules) == text.count("\nendmodule") >= 10, name
        assert len(set(modules)) == len(modules), name
        assert modules[0] == "apsq_rae"
        for module in modules:
            assert PLAIN.match(module), (name, module)
            assert module == "apsq_rae" or module.startswith("apsq_rae_engine"), (name, module)
        for body in text.split("\nendmodule")[:-1]:
            instances = INSTANCE.findall(body)
            for kind, instance in instances:
                assert PLAIN.match(kind) and PLAIN.match(instance), (name, kind, instance)
                assert kind in modules, (name, kind)
            assert len({i for _, i in instances}) == len(instances), name
        # Every module but the top is instantiated (once: this engine has no shared modules).
        kinds = [kind for kind, _ in INSTANCE.findall(text)]
        assert sorted(kinds) == sorted(modules[1:]), name


def test_plain_module_names_renames_modules_and_instances_consistently():
    from apsq_rae.gen.verilog_text import plain_module_names

    text = "\n".join([
        "module top(a, y);",
        "  \\top.sub  sub (",
        "    .a(a)",
        "  );",
        "  \\top.sub  \\u$1  (",
        "    .a(a)",
        "  );",
        "endmodule",
        "module \\top.sub (a);",
        "  input a;",
        "endmodule",
        "module \\0x (a);",
        "endmodule",
        ""])
    assert plain_module_names(text).split("\n") == [
        "module top(a, y);",
        "  top_sub sub (",
        "    .a(a)",
        "  );",
        "  top_sub u$1 (",
        "    .a(a)",
        "  );",
        "endmodule",
        "module top_sub(a);",
        "  input a;",
        "endmodule",
        "module _0x(a);",
        "endmodule",
        ""]
    assert plain_module_names(plain_module_names(text)) == plain_module_names(text)


@pytest.mark.parametrize("text, message", [
    ("module \\a.b (x);\nendmodule\nmodule a_b(x);\nendmodule\n",
     "module names 'a_b' and '\\\\a.b' would both become 'a_b'"),
    ("module \\a.b (x);\nendmodule\nmodule \\a-b (x);\nendmodule\n",
     "module names '\\\\a.b' and '\\\\a-b' would both become 'a_b'"),
    ("module t(x);\n  wire u_1;\n  m \\u.1  (\n  );\nendmodule\n",
     "instance names '\\\\u.1' and 'u_1' would both become 'u_1'"),
])
def test_plain_module_names_refuses_collisions(text, message):
    from apsq_rae.gen.verilog_text import plain_module_names

    with pytest.raises(RuntimeError) as error:
        plain_module_names(text)
    assert str(error.value) == message


def test_sdc_text_literal():
    """Odd-sized engine, 4 ns, 25 %: 1 ns on every port but clk, in spec order."""
    from apsq_rae.gen.generate import sdc_text
    from apsq_rae.hdl.params import RAEParams

    params = RAEParams(lanes=3, psum_bits=12, q_bits=5, max_group_size=3, depth=5, exp_bits=3,
                       step_bits=5, rounding="half_even")
    assert sdc_text(params, "rae3", 4, 0.25) == """\
# rae3.sdc: timing constraints of module rae3 (apsq-rae generate)
# clock period 4 ns; input and output delays 25% of the period (1 ns)
create_clock -name clk -period 4 [get_ports clk]
set_input_delay -clock clk 1 [get_ports rst]
set_input_delay -clock clk 1 [get_ports cfg_group_size]
set_input_delay -clock clk 1 [get_ports in_valid]
set_output_delay -clock clk 1 [get_ports in_ready]
set_input_delay -clock clk 1 [get_ports in_addr]
set_input_delay -clock clk 1 [get_ports in_step]
set_input_delay -clock clk 1 [get_ports in_last]
set_input_delay -clock clk 1 [get_ports in_exp]
set_input_delay -clock clk 1 [get_ports in_data]
set_output_delay -clock clk 1 [get_ports out_valid]
set_input_delay -clock clk 1 [get_ports out_ready]
set_output_delay -clock clk 1 [get_ports out_addr]
set_output_delay -clock clk 1 [get_ports out_exp]
set_output_delay -clock clk 1 [get_ports out_sat]
set_output_delay -clock clk 1 [get_ports out_data]
set_output_delay -clock clk 1 [get_ports busy]
set_output_delay -clock clk 1 [get_ports err]
set_input_delay -clock clk 1 [get_ports err_clear]
"""


def test_sdc_options_reach_the_file(tmp_path):
    """--clock-period 3.3 --io-delay-fraction 0.15: delays 0.495 ns."""
    out = tmp_path / "o"
    result = run_generate([*SMALL, "--clock-period", "3.3", "--io-delay-fraction", "0.15",
                           "--out", str(out)])
    assert result.returncode == 0, result.stderr
    lines = (out / "apsq_rae.sdc").read_text().splitlines()
    assert lines[2] == "create_clock -name clk -period 3.3 [get_ports clk]"
    assert lines[3] == "set_input_delay -clock clk 0.495 [get_ports rst]"
    assert lines[-1] == "set_input_delay -clock clk 0.495 [get_ports err_clear]"
    assert len(lines) == 3 + 18


def test_strip_initial_values_literal():
    """Initialisers, init attributes and memory-filling initial blocks go; the time-zero
    trigger, assignments and resets stay; any other initial block is refused."""
    from apsq_rae.gen.verilog_text import strip_initial_values

    text = "\n".join([
        "module m(clk, rst);",
        "  reg \\$auto$verilog_backend.cc:2355:dump_module$1  = 0;",
        "  reg [1:0] err = 2'h0;",
        "  reg signed [7:0] \\x$3  = 8'sh00;",
        "  reg ok;",
        "  (* init = 8'h00 *)",
        "  wire [7:0] row;",
        "  reg [3:0] mem [1:0];",
        "  initial begin",
        "    mem[0] = 4'h0;",
        "    mem[1] = 4'h0;",
        "  end",
        "  always @(posedge clk)",
        "    if (rst) err <= 2'h0;",
        "endmodule", ""])
    assert strip_initial_values(text) == "\n".join([
        "module m(clk, rst);",
        "  reg \\$auto$verilog_backend.cc:2355:dump_module$1  = 0;",
        "  reg [1:0] err;",
        "  reg signed [7:0] \\x$3 ;",
        "  reg ok;",
        "  wire [7:0] row;",
        "  reg [3:0] mem [1:0];",
        "  always @(posedge clk)",
        "    if (rst) err <= 2'h0;",
        "endmodule", ""])
    with pytest.raises(RuntimeError, match="initial block that does not only fill a memory"):
        strip_initial_values("module m;\n  initial begin\n    $display(1);\n  end\nendmodule\n")


def _equivalent(tmp_path, gold, gate, top="apsq_rae"):
    """Yosys' verdict on two Verilog texts (flattened, memories mapped): proven or not."""
    from apsq_rae.area.yosys import yosys_command

    # Relative paths: YoWASP's Yosys cannot open every absolute host path.
    (tmp_path / "gold.v").write_text(gold)
    (tmp_path / "gate.v").write_text(gate)
    steps = []
    for design in ("gold", "gate"):
        steps += [f"read_verilog {design}.v", f"hierarchy -check -top {top}",
                  "proc; memory; flatten; opt_clean", f"rename {top} {design}",
                  f"design -stash {design}"]
    steps += ["design -copy-from gold -as gold gold", "design -copy-from gate -as gate gate",
              "equiv_make gold gate equiv", "hierarchy -top equiv", "equiv_simple",
              "equiv_status -assert"]
    (tmp_path / "equiv.ys").write_text("\n".join(steps) + "\n")
    result = subprocess.run([yosys_command(), "-q", "-l", "equiv.log", "equiv.ys"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600)
    log = (tmp_path / "equiv.log").read_text()
    return result.returncode == 0 and "Equivalence successfully proven!" in log


@pytest.mark.parametrize("pipeline", ["default", "max"])
def test_init_none_is_the_same_netlist_without_power_up_values(tmp_path, pipeline):
    """``--init none`` has no initial value left but the time-zero trigger, and Yosys proves
    it the same logic as ``--init reset``; a changed reset value is caught."""
    from apsq_rae.gen.generate import generate_verilog
    from apsq_rae.hdl.params import RAEParams

    params = RAEParams(lanes=2, psum_bits=12, q_bits=5, max_group_size=3, depth=5, exp_bits=3,
                       step_bits=5, rounding="half_even")
    reset, manifest = generate_verilog(params, pipeline=pipeline)
    none, manifest_none = generate_verilog(params, pipeline=pipeline, init="none")
    assert manifest["init"] == "reset" and manifest_none["init"] == "none"
    initialised = re.compile(r"^  reg [^;]* = [^;]*;$", re.MULTILINE)
    assert len(initialised.findall(reset)) > 50
    assert all("$auto$verilog_backend" in line for line in initialised.findall(none))
    assert "initial" in reset and "initial" not in none and "(* init" not in none
    assert _equivalent(tmp_path, reset, none)
    broken = none.replace("      err = 2'h0;", "      err = 2'h1;", 1)
    if broken == none:      # the reset of err as this Yosys writes it
        broken = re.sub(r"(if \(rst\) begin\n      \S+ ?) = 2'h0;", r"\1 = 2'h1;", none, count=1)
    assert broken != none
    assert not _equivalent(tmp_path, reset, broken)


def test_lint_rewrites_literal():
    """Operands extended to the width Verilog gives them (sign-extended inside ``$signed``,
    constants re-sized), ``!`` of a vector as ``~|``, an empty default item, zero-width nets
    dropped only when unused; other lines untouched."""
    from apsq_rae.gen.verilog_text import (default_case_items, drop_zero_width_nets,
                                           explicit_widths)

    text = "\n".join([
        "module m(a, b, c, y, z);",
        "  wire [31:0] a;",
        "  wire [38:0] b;",
        "  wire [41:0] c;",
        "  wire [39:0] y;",
        "  wire [4:0] \\s$1 ;",
        "  wire z;",
        "  wire [-1:0] unused;",
        "  wire [-1:0] used;",
        "  assign y = $signed(a) + $signed(b[38:0]);",
        "  assign z = c == 7'h7f;",
        "  assign z = $signed(a[3:0]) < $signed(4'h8);",
        "  assign \\s$1  = a[1:0] + 2'h3;",
        "  assign z = ! c[41:7];",
        "  assign z = ! a[0];",
        "  assign y = a & b;",
        "  always @* begin",
        "    casez (a[1:0])",
        "      2'h1:",
        "          z = 1'h0;",
        "    endcase",
        "    case (a[1:0])",
        "      default:",
        "          z = 1'h1;",
        "    endcase",
        "  end",
        "  assign z = used;",
        "endmodule", ""])
    out = drop_zero_width_nets(default_case_items(explicit_widths(text))).split("\n")
    assert "  assign y = $signed({ {8{a[31]}}, a }) + $signed({ {1{b[38]}}, b[38:0] });" in out
    assert "  assign z = c == 42'h7f;" in out
    assert "  assign z = $signed(a[3:0]) < $signed(4'h8);" in out      # same widths: kept
    assert "  assign \\s$1  = { 3'h0, a[1:0] } + 5'h3;" in out
    assert "  assign z = ~| c[41:7];" in out
    assert "  assign z = ! a[0];" in out
    assert "  assign y = a & b;" in out
    assert out.count("      default:") == 2 and out.count("          ;") == 1
    assert "  wire [-1:0] unused;" not in out and "  wire [-1:0] used;" in out
    assert explicit_widths("module m;\n  assign z = $signed(a) + $signed(5'h10);\nendmodule") \
        == "module m;\n  assign z = $signed(a) + $signed(5'h10);\nendmodule"  # widths unknown
    assert explicit_widths("module m;\n  wire [7:0] a;\n  assign z = $signed(a) < $signed(4'h8);"
                           "\nendmodule").split("\n")[2] == \
        "  assign z = $signed(a) < $signed(8'hf8);"                    # sign-extended


def test_knobs_reach_the_engine_and_the_manifest(tmp_path, capsys):
    """``generate --pipeline min --knob decode_register=1``: the engine has the decoder's
    register (one clock more than ``min``) and the manifest records every knob as a custom
    setting; the summary line names the knob."""
    from apsq_rae.cli import main
    from apsq_rae.hdl.params import RAEParams
    from apsq_rae.hdl.pipeline import SETTINGS, Pipeline
    from apsq_rae.hdl.rae import RAE
    small = ["--lanes", "2", "--depth", "8", "--max-group-size", "2"]
    for knobs, out in (([], "min"), (["--knob", "decode_register=1"], "dec")):
        assert main(["generate", *small, "--pipeline", "min", *knobs,
                     "--out", str(tmp_path / out)]) == 0
    text = capsys.readouterr().out
    assert "pipeline=min)" in text and "pipeline=min+decode_register=1)" in text
    plain, knob = (json.loads((tmp_path / out / "apsq_rae.json").read_text())
                   for out in ("min", "dec"))
    expected = Pipeline(**{**SETTINGS["min"].__dict__, "decode_register": True})
    assert knob["pipeline"] == {**expected.as_dict(), "setting": "custom"}
    assert plain["pipeline"]["setting"] == "min" and not plain["pipeline"]["decode_register"]
    assert knob["latency"] == plain["latency"] + 1 == RAE.pipeline_latency(
        RAEParams(lanes=2, depth=8, max_group_size=2), expected)
    assert (tmp_path / "dec" / "apsq_rae.v").read_text() != \
        (tmp_path / "min" / "apsq_rae.v").read_text()
