"""The mutation run (`make mutate`, apsq_rae.mutate): its parsing, and one small netlist end to
end (the engine survives its own tests, mutants are killed, a hang is cut off)."""

import re
import subprocess

import pytest

from apsq_rae.hdl.params import RAEParams
from apsq_rae.area.yosys import yosys_command
from apsq_rae.mutate.equiv import EQUIVALENT, check_state_matched
from apsq_rae.mutate.formal import formal_kills
from apsq_rae.mutate.netlist import MODES, parse_mutations, prepare
from apsq_rae.mutate.run import main
from apsq_rae.tb.configs import config_from_manifest
from apsq_rae.mutate.simulate import compile_netlist, run_mutant
from apsq_rae.mutate.sources import locate, parse_rtlil_sources
from apsq_rae.tb.configs import FUNCTIONAL

TINY = RAEParams(lanes=1, psum_bits=8, q_bits=4, max_group_size=1, depth=2, exp_bits=2,
                 step_bits=2)

LISTING = r"""
mutate -ctrl mutsel 8 1 -mode inv -module apsq_rae -cell $flatten\engine.\quant.$or$apsq_rae.v:1021$211 -port A -portbit 0 -wire engine.quant.$7 -wirebit 0 -src apsq_rae.v:99.3-99.9 -src apsq_rae.v:1021.15-1021.40
mutate -ctrl mutsel 8 2 -mode cnot1 -module apsq_rae -cell $flatten\engine.\results.$procmux$425 -port B -portbit 2 -ctrlbit 0 -src apsq_rae.v:1449.7-1449.30
"""

RTLIL = r"""
module \apsq_rae.engine.quant
  attribute \src "/somewhere/hdl/quantizer.py:120"
  wire width 4 \lane0_v
  wire width 42 $7
  attribute \src "/somewhere/hdl/quantizer.py:131"
  cell $or $211
    connect \A \lane0_v
    connect \Y $7 [41:0]
  end
end
"""


def test_parse_mutations():
    first, second = parse_mutations(LISTING)
    assert (first.index, first.mode, first.wire, first.bit, first.verilog_line) == \
        (1, "inv", "engine.quant.$7", 0, 1021)
    assert first.command == ("mutate -mode inv -module apsq_rae -cell "
                             "$flatten\\engine.\\quant.$or$apsq_rae.v:1021$211 -port A "
                             "-portbit 0")
    assert (second.index, second.mode, second.wire, second.verilog_line) == \
        (2, "cnot1", "", 1449)
    assert "-ctrlbit 0" in second.command and "-ctrl " not in second.command


def test_rtlil_sources():
    sources = parse_rtlil_sources(RTLIL)
    assert locate(sources, "engine.quant.$7") == "quantizer.py:131"
    assert locate(sources, "engine.quant.lane0_v") == "quantizer.py:120"
    assert locate(sources, "engine.quant.nothing") is None


@pytest.mark.parametrize("option", ["--formal-seconds", "--reset-seconds"])
def test_negative_seconds(option, capsys):
    with pytest.raises(SystemExit) as stop:
        main([option, "-5"])
    assert stop.value.code == 2
    assert f"argument {option}: -5 is out of range (legal: >= 0)" in capsys.readouterr().err


def test_bad_config_name(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--configs", "narrow-min,wide"])
    assert stop.value.code == 2
    assert "'wide' is not one of narrow-min, odd-default, lanes16-max" in capsys.readouterr().err


def test_tiny_netlist_end_to_end(tmp_path):
    """Ten mutants (two per mode) of a one-lane engine: the unmutated netlist passes the quick
    tests, most mutants fail them, a run that exceeds its time limit is reported hung, and
    the equivalence check proves no killed mutant equivalent."""
    mutations, manifest = prepare(TINY, "min", tmp_path, count=10, seed=1)
    assert [m.index for m in mutations] == list(range(1, 11))
    assert sorted({m.mode for m in mutations}) == sorted(MODES)
    assert all(m.verilog_line for m in mutations)
    compile_netlist(tmp_path)
    config = config_from_manifest(manifest, None)
    assert run_mutant(tmp_path, 0, config, FUNCTIONAL, timeout=300).verdict == "survived"
    verdicts = [run_mutant(tmp_path, m.index, config, FUNCTIONAL, timeout=300).verdict
                for m in mutations]
    print("verdicts", verdicts)
    assert set(verdicts) <= {"survived", "killed"}
    assert verdicts.count("killed") >= 5
    assert run_mutant(tmp_path, 0, config, FUNCTIONAL, timeout=0.01,
                      tag="hang").verdict == "hung"
    killed = [m for m, v in zip(mutations, verdicts) if v == "killed"]
    for m in killed[:2]:
        verdict, detail = check_state_matched(tmp_path, m, timeout=120)
        assert verdict != EQUIVALENT, f"killed mutant {m.index} proved equivalent: {detail}"


def test_survivor_location_without_wire():
    """A mutation of a cell input names no wire: the report takes the wire the cell's Verilog
    line assigns, in the cell's module, and names the input."""
    from dataclasses import asdict
    from apsq_rae.mutate.run import _driven_wire, _where
    (m,) = parse_mutations(r"mutate -ctrl mutsel 8 7 -mode const1 -module apsq_rae -cell "
                           r"$flatten\engine.\quant.$ternary$apsq_rae.v:5496$1210 -port A "
                           r"-portbit 33 -src apsq_rae.v:5496.19-5496.45")
    assert _driven_wire(m, r"assign \$578  = exp[0] ? \$577  : x[83:42];") == "engine.quant.$578"
    assert _where(asdict(m)) == "input A[33] of the cell"


_DEAD_BIT = """
module apsq_rae(input clk, input rst, input [1:0] d, output o);
  reg [1:0] r;
  always @(posedge clk)
    if (rst) r <= 2'b00; else r <= {r[1] ^ d[1], d[0]};
  assign o = r[0];
endmodule
"""


@pytest.mark.parametrize("bit, verdict", [(1, EQUIVALENT), (0, "not proved")])
def test_a_register_bit_nothing_reads_is_equivalent(bit, verdict, tmp_path):
    # Bit 1 of r feeds only itself: a mutant of it differs as whole-register state but not
    # once the bit is removed. Bit 0 reaches the output: never proved.
    (tmp_path / "d.v").write_text(_DEAD_BIT)
    subprocess.run([yosys_command(), "-q", "-p", "read_verilog d.v; proc; opt_clean; "
                    "mutate -list 1000 -mode inv -ctrl mutsel 8 1 -o list.ys; write_rtlil design.il"],
                   cwd=tmp_path, check=True, capture_output=True)
    # The flip-flop's name from the listed mutants; its D input bit inverted.
    dff = re.search(r"-cell (\$procdff\S*)", (tmp_path / "list.ys").read_text()).group(1)
    mutation, = parse_mutations(f"mutate -ctrl mutsel 8 1 -mode inv -module apsq_rae -cell {dff} "
                                f"-port D -portbit {bit} -wire r -wirebit {bit}")
    status, detail = check_state_matched(tmp_path, mutation, timeout=120)
    assert status == verdict, detail
    if bit == 1:
        assert "nothing reads" in detail


def test_port_level_formal_checks_on_the_netlist(tmp_path):
    """``--formal-seconds``: the harness of ``make formal`` around the mutation netlist passes
    ``port``, ``order`` and ``err`` on the engine (``mutsel = 0``) and fails ``order`` with a
    trace when the netlist drops the results of odd addresses."""
    _, manifest = prepare(TINY, "min", tmp_path, count=10, seed=1)
    latency = manifest["latency"]
    assert formal_kills(tmp_path, TINY, "min", latency, 0, timeout=300) is None
    netlist = tmp_path / "mutated.v"
    line = "  assign out_valid = \\engine.results.r__valid ;"
    assert line in netlist.read_text()
    netlist.write_text(netlist.read_text().replace(
        line, "  assign out_valid = \\engine.results.r__valid  & ~out_addr[0];"))
    failed = formal_kills(tmp_path, TINY, "min", latency, 0, timeout=300)
    assert failed is not None and failed[0] == "order", failed
    assert failed[1].status == "FAIL" and failed[1].trace.endswith(".vcd")
