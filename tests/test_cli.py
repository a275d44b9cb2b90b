"""The one command line: subcommands, shared engine options, integer lists, errors."""

import os
import subprocess
import sys

import pytest

from apsq_rae.cli import build_parser, main
from apsq_rae.options import (add_engine_options, engine_params, int_list, parse_int_list,
                              chosen_pipeline)


SUBCOMMANDS = ["generate", "area", "fpga", "explore", "capture"]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "apsq_rae", *args], capture_output=True,
                          text=True, timeout=300)


def test_help_lists_every_subcommand():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    for name in SUBCOMMANDS:
        assert f"    {name} " in result.stdout, name
    result = run_cli("fpga", "--help")
    assert result.returncode == 0, result.stderr
    for name in ("build", "fmax", "host"):
        assert f"    {name} " in result.stdout, name


@pytest.mark.parametrize("argv, line", [
    (["generate", "--q-bits", "40"],
     "apsq-rae generate: error: --q-bits = 40 is out of range (legal: 2..32)"),
    (["area", "--lanes", "0"],
     "apsq-rae area: error: --lanes = 0 is out of range (legal: >= 1)"),
    (["fpga", "build", "--board", "icebreaker", "--q-bits", "30"],
     "apsq-rae fpga build: error: --q-bits = 30 is out of range (legal: 2..24)"),
    (["fpga", "fmax", "--exp-bits", "9"],
     "apsq-rae fpga fmax: error: --exp-bits = 9 is out of range (legal: 1..6)"),
    (["explore", "--model", "tiny", "--max-group-size", "17"],
     "apsq-rae explore: error: --max-group-size = 17 is out of range (legal: 1..16)"),
    (["capture", "--model", "tiny", "--q-bits", "33"],
     "apsq-rae capture: error: --q-bits = 33 is out of range (legal: 2..32)"),
])
def test_bad_engine_option_is_one_line_exit_2(argv, line, tmp_path):
    """Every subcommand that takes engine options refuses them the same way."""
    result = run_cli(*argv, "--out", str(tmp_path / "never"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [line]
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize("argv, fragment", [
    (["fpga", "fmax", "--seed", "1,x"], "--seed = '1,x' is not a list of integers"),
    (["fpga", "host", "--port", "/dev/null", "--group-size", "0"], "--group-size holds 0"),
    (["generate", "--rounding", "nearest"], "argument --rounding: invalid choice"),
    (["generate", "--pipeline", "fast"], "argument --pipeline: invalid choice: 'fast'"),
    (["area", "--pipeline", "deep"], "argument --pipeline: invalid choice: 'deep'"),
    (["fpga", "build", "--pipeline", "x"], "argument --pipeline: invalid choice: 'x'"),
    (["fpga", "fmax", "--pipeline", "MAX"], "argument --pipeline: invalid choice: 'MAX'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_argparse_errors_are_one_line_exit_2(argv, fragment):
    result = run_cli(*argv)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert lines[0].startswith("apsq-rae"), lines[0]        # names the command
    option = next((word for word in fragment.split() if word.startswith("--")), None)
    assert option is None or lines[0].count(option) == 1, lines[0]     # named once
    if "--pipeline" in fragment:                      # names the legal values
        assert all(name in lines[0] for name in ("min", "default", "max")), lines[0]


@pytest.mark.parametrize("module", ["formal", "mutate", "tb.coverage_report", "tb.waves"])
def test_module_tools_errors_are_one_line_exit_2(module):
    """The tools behind make formal, make mutate, the coverage report and make waves refuse
    arguments like the command line does."""
    result = subprocess.run([sys.executable, "-m", f"apsq_rae.{module}", "--no-such-option"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"python -m apsq_rae.{module}: error: "
        + ("the following arguments are required: folder" if module == "tb.coverage_report"
           else "unrecognized arguments: --no-such-option")
        + f" (see python -m apsq_rae.{module} --help)"], result.stderr


def test_engine_options_are_declared_once():
    """The same options, help and defaults wherever they appear (explore and capture take a
    subset; fpga leaves them unset for the board defaults)."""
    parser = build_parser()
    args = parser.parse_args(["generate"])
    assert engine_params(args) == engine_params(parser.parse_args(["area"]))
    args = parser.parse_args(["explore", "--lanes", "8", "--rounding", "trunc"])
    assert (args.lanes, args.exp_bits, args.rounding, args.depth) == (8, 5, "trunc", 256)
    args = parser.parse_args(["capture"])
    assert (args.lanes, args.psum_bits, args.q_bits) == (16, 32, 8)
    args = parser.parse_args(["fpga", "build"])
    assert args.lanes is None and args.rounding is None
    assert engine_params(args, {"lanes": 2, "depth": 64}).lanes == 2
    with pytest.raises(ValueError, match="not engine parameters: width"):
        add_engine_options(build_parser(), names=("width",))
    # --pipeline: the same choices and default on every command that elaborates the engine.
    for argv in (["generate"], ["area"], ["fpga", "build"], ["fpga", "fmax"]):
        assert parser.parse_args(argv).pipeline == "default"
        assert parser.parse_args(argv + ["--pipeline", "min"]).pipeline == "min"


KNOB_NAMES = ("shift_levels_per_stage, shift_select_lanes, tree_levels_per_stage, "
              "tree_input_register, quantizer_stages, bank_output_register, bank_write_register, "
              "result_write_register, queue_input_register, decode_register, bank_bypass")


@pytest.mark.parametrize("knob, message", [
    ("foo=1", f"--knob 'foo' is not a pipeline knob (legal: {KNOB_NAMES})"),
    ("decode_register", "--knob = 'decode_register' is not NAME=VALUE (e.g. decode_register=1)"),
    ("quantizer_stages=", "--knob = 'quantizer_stages=' is not NAME=VALUE "
                          "(e.g. decode_register=1)"),
    ("quantizer_stages=7", "--knob quantizer_stages = 7 is out of range (legal: 1..3)"),
    ("shift_select_lanes=-1", "--knob shift_select_lanes = -1 is out of range (legal: >= 0)"),
    ("quantizer_stages=two", "--knob quantizer_stages = 'two' is not an integer (legal: 1..3)"),
    ("decode_register=2", "--knob decode_register = '2' is not on or off "
                          "(legal: 1, true, yes, on, 0, false, no, off)"),
])
@pytest.mark.parametrize("command", [["generate"], ["area"], ["fpga", "fmax"]])
def test_bad_knob_is_one_line_exit_2(command, knob, message, tmp_path, capsys):
    """``--knob`` names the knob, its value and the legal names or values, and writes
    nothing."""
    with pytest.raises(SystemExit) as exit:
        main([*command, "--knob", knob, "--out", str(tmp_path / "never")])
    assert exit.value.code == 2
    prog = "apsq-rae " + " ".join(command)
    assert capsys.readouterr().err.splitlines() == [f"{prog}: error: {message} "
                                                    f"(see {prog} --help)"]
    assert not (tmp_path / "never").exists()


def test_knobs_over_a_setting():
    """``--knob`` changes single knobs of ``--pipeline``'s setting; without any, or when the
    result is a named setting, the pipeline stays that setting's name."""
    from apsq_rae.hdl.pipeline import SETTINGS, Pipeline
    parser = build_parser()
    for argv in (["generate"], ["area"], ["fpga", "build"], ["fpga", "fmax"]):
        assert chosen_pipeline(parser.parse_args(argv + ["--pipeline", "max"])) == "max"
        args = parser.parse_args(argv + ["--pipeline", "max", "--knob", "decode_register=on",
                                         "--knob", "shift-levels-per-stage=1",
                                         "--knob", "decode_register=1"])
        pipeline = chosen_pipeline(args)
        assert pipeline == Pipeline(shift_levels_per_stage=1, shift_select_lanes=4,
                                    quantizer_stages=3, result_write_register=True,
                                    decode_register=True)
        assert pipeline.label == "max+shift_levels_per_stage=1+decode_register=1"
    # Knobs that give a setting's values: that setting, by name.
    args = parser.parse_args(["generate", "--pipeline", "default", "--knob",
                              "decode_register=false", "--knob", "quantizer_stages=2"])
    assert chosen_pipeline(args) == "default"
    args = parser.parse_args(["generate", "--knob", "shift_select_lanes=4", "--knob",
                              "quantizer_stages=3", "--knob", "result_write_register=yes"])
    assert chosen_pipeline(args) == "max" and SETTINGS["max"].shift_select_lanes == 4


def test_explorer_settings_stay_in_the_explorer(monkeypatch):
    """Building the command line (every subcommand's module) sets no environment variable;
    the explorer's BLAS setting is applied only when explore or capture runs."""
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    before = dict(os.environ)
    parser = build_parser()
    assert dict(os.environ) == before
    assert parser.parse_args(["explore"]).environment == {"OPENBLAS_NUM_THREADS": "1"}
    assert not hasattr(parser.parse_args(["generate"]), "environment")


def test_parse_int_list():
    assert parse_int_list("1-4", "x", 1, 8) == [1, 2, 3, 4]
    assert parse_int_list("8,6,4,8", "x", 2, 32) == [8, 6, 4]
    assert parse_int_list("-3,-1-1", "x") == [-3, -1, 0, 1]
    assert parse_int_list((4, 1, 16), "x") == [4, 1, 16]
    with pytest.raises(ValueError, match=r"--group-sizes holds 0, out of range \(legal: 1..8\)"):
        parse_int_list("0-2", "--group-sizes", 1, 8)
    with pytest.raises(ValueError, match=r"--q-bits = 'a' is not a list of integers"):
        parse_int_list("a", "--q-bits", 1, 8)
    with pytest.raises(ValueError, match=r"--seed = ',' is empty"):
        parse_int_list(",", "--seed")
    with pytest.raises(ValueError, match=r"legal: >= 1"):
        parse_int_list("0", "--lanes", 1)


def test_int_list_type_reports_through_argparse(capsys):
    parse = int_list("--lanes", 1)
    assert parse("4,8") == [4, 8]
    with pytest.raises(SystemExit) as stop:
        main(["fpga", "fmax", "--lanes", "0"])
    assert stop.value.code == 2
    assert "--lanes holds 0, out of range (legal: >= 1)" in capsys.readouterr().err
