"""The protocol checker written beside the Verilog (gen/protocol_checker.py), instantiated in
the top module the way ``bind`` would: silent on the functional tests, and it stops a
simulation that changes a waiting tile's payload."""

import re

import pytest

from apsq_rae.gen.generate import generate_verilog
from apsq_rae.gen.protocol_checker import checker_text
from apsq_rae.hdl.params import RAEParams
from apsq_rae.tb.sim import run


PARAMS = RAEParams(lanes=2, depth=4, max_group_size=2)


def _with_checker(text):
    """The generated Verilog with the checker instantiated in its top module (Icarus has no
    ``bind``)."""
    _, manifest = generate_verilog(PARAMS, "apsq_rae")
    ports = ", ".join(f".{p['name']}({p['name']})" for p in manifest["ports"])
    end = text.index("endmodule")          # the top module comes first
    return (text[:end] + f"  apsq_rae_checker u_checker ({ports});\n" + text[end:]
            + checker_text(manifest))


def test_checker_silent_on_the_functional_tests(capfd):
    run(PARAMS, ["orders", "errors", "midreset"], run_name="checked",
        build_name="l2-checked", edit=_with_checker)
    captured = capfd.readouterr()
    out = captured.out + captured.err
    counted = re.findall(r"apsq_rae_checker: (\d+) transfers checked", out)
    assert counted and int(counted[-1]) > 100, out[-2000:]
    assert "apsq_rae_checker: in_" not in out and "apsq_rae_checker: out_" not in out


def test_checker_stops_a_payload_change(capfd):
    with pytest.raises(AssertionError):
        run(PARAMS, "payload_changes_while_waiting", module="apsq_rae.tb.cocotb_checker",
            run_name="violation", build_name="l2-checked", edit=_with_checker)
    captured = capfd.readouterr()
    out = captured.out + captured.err
    assert "apsq_rae_checker: in_* changed while in_valid = 1 and in_ready = 0" in out, \
        out[-3000:]


def test_checker_finds_in_ready_following_in_valid(capfd):
    """A top whose in_ready is ANDed with in_valid still works (a transfer needs both), but
    has the combinational path the spec forbids: the checker stops it."""
    def gate_ready(text):
        assert text.count(".i__ready(in_ready),") == 1
        end = text.index("endmodule")
        text = (text[:end] + "  wire ready_from_engine;\n"
                "  assign in_ready = ready_from_engine & in_valid;\n" + text[end:])
        return _with_checker(text.replace(".i__ready(in_ready),", ".i__ready(ready_from_engine),"))
    with pytest.raises(AssertionError):
        run(PARAMS, "orders", run_name="gated", build_name="l2-gated-ready", edit=gate_ready)
    captured = capfd.readouterr()
    out = captured.out + captured.err
    assert "apsq_rae_checker: in_ready changed with in_valid or in_* alone" in out, out[-3000:]
