"""The ECP5 netlist pass that folds bank output registers into the block RAMs (fpga/outreg.py):
hand-made netlists for each rule, and the engine's banks through Yosys."""

import copy
import json
import os
import shutil
import subprocess

import pytest

from amaranth.back import rtlil

from apsq_rae.fpga import outreg
from apsq_rae.fpga.boards import BOARDS, set_tool_env
from apsq_rae.hdl.banks import Banks
from apsq_rae.hdl.params import RAEParams


CLK, CE, RST, OTHER_CLK = 2, 3, 4, 5


def _ff(d, q, *, clk=CLK, ce=None, lsr="0", clkmux="CLK"):
    params = {"CLKMUX": clkmux, "GSR": "ENABLED", "LSRMUX": "LSR", "REGSET": "RESET",
              "CEMUX": "CE" if ce is not None else "1 "}
    conns = {"CLK": [clk], "DI": [d], "LSR": [lsr], "Q": [q]}
    dirs = {"CLK": "input", "DI": "input", "LSR": "input", "Q": "output"}
    if ce is not None:
        conns["CE"], dirs["CE"] = [ce], "input"
    return {"type": "TRELLIS_FF", "parameters": params, "connections": conns,
            "port_directions": dirs}


def _netlist(*, pdp=True, n_out=4, ff_kwargs=None, extra_sink=None, rst="0"):
    """One DP16KD whose first ``n_out`` read outputs each feed a flip-flop whose Q feeds a
    LUT. Bits: outputs 100.., flip-flop outputs 200.."""
    ff_kwargs = ff_kwargs or {}
    width = "00000000000000000000000000100100" if pdp else "00000000000000000000000000010010"
    pins = ([f"DOA{i}" for i in range(18)] + [f"DOB{i}" for i in range(18)]) if pdp else \
        [f"DOA{i}" for i in range(18)]
    conns = {"CLKA": [CLK], "CLKB": [CLK], "OCEA": ["0"], "OCEB": ["1"], "RSTA": ["0"],
             "RSTB": [rst], "CEA": ["1"], "CEB": [CE]}
    dirs = {k: "input" for k in conns}
    cells = {}
    for i, pin in enumerate(pins):
        conns[pin], dirs[pin] = [100 + i], "output"
        if i < n_out:
            cells[f"ff{i}"] = _ff(100 + i, 200 + i, **ff_kwargs.get(i, {}))
            cells[f"lut{i}"] = {"type": "LUT4", "parameters": {"INIT": "1010101010101010"},
                                "connections": {"A": [200 + i], "Z": [300 + i]},
                                "port_directions": {"A": "input", "Z": "output"}}
    if extra_sink is not None:
        cells["spy"] = {"type": "LUT4", "parameters": {},
                        "connections": {"A": [100 + extra_sink], "Z": [399]},
                        "port_directions": {"A": "input", "Z": "output"}}
    cells["ram"] = {"type": "DP16KD",
                    "parameters": {"DATA_WIDTH_A": width, "DATA_WIDTH_B": width,
                                   "REGMODE_A": "NOREG", "REGMODE_B": "NOREG",
                                   "CLKAMUX": "CLKA", "CLKBMUX": "CLKB"},
                    "connections": conns, "port_directions": dirs}
    return {"modules": {"top": {"ports": {}, "cells": cells, "netnames": {}}}}


def _ram(netlist):
    return netlist["modules"]["top"]["cells"]["ram"]


def test_pdp_port_folded():
    netlist = _netlist()
    assert outreg.fold_output_registers(netlist) == (1, 4, 0)
    ram = _ram(netlist)
    assert ram["parameters"]["REGMODE_A"] == ram["parameters"]["REGMODE_B"] == "OUTREG"
    assert [ram["connections"][f"DOA{i}"] for i in range(4)] == [[200], [201], [202], [203]]
    assert ram["connections"]["OCEA"] == ram["connections"]["OCEB"] == ["1"]
    cells = netlist["modules"]["top"]["cells"]
    assert not any(c["type"] == "TRELLIS_FF" for c in cells.values())
    assert cells["lut0"]["connections"]["A"] == [200]          # its sinks are untouched


def test_common_clock_enable_becomes_output_enable():
    netlist = _netlist(ff_kwargs={i: {"ce": 7} for i in range(4)})
    assert outreg.fold_output_registers(netlist) == (1, 4, 0)
    assert _ram(netlist)["connections"]["OCEB"] == [7]


def test_tdp_ports_folded_separately():
    netlist = _netlist(pdp=False)
    assert outreg.fold_output_registers(netlist) == (1, 4, 0)
    params = _ram(netlist)["parameters"]
    assert (params["REGMODE_A"], params["REGMODE_B"]) == ("OUTREG", "NOREG")
    assert _ram(netlist)["connections"]["OCEA"] == ["1"]
    assert _ram(netlist)["connections"]["OCEB"] == ["1"]      # port B untouched


@pytest.mark.parametrize("case", [
    dict(extra_sink=2),                                        # output read by logic too
    dict(ff_kwargs={1: {"clk": OTHER_CLK}}),                   # another clock
    dict(ff_kwargs={3: {"lsr": RST}}),                         # a reset the RAM would not do
    dict(ff_kwargs={0: {"ce": 7}, 1: {"ce": 8}, 2: {"ce": 7}, 3: {"ce": 7}}),  # enables differ
    dict(ff_kwargs={0: {"ce": 7}}),                            # some enabled, some always
    dict(ff_kwargs={2: {"clkmux": "INV"}}),                    # falling edge
    dict(rst=RST),                                             # the port's own reset is used
])
def test_port_left_alone(case):
    netlist = _netlist(**case)
    before = copy.deepcopy(netlist)
    assert outreg.fold_output_registers(netlist) == (0, 0, 1)
    assert netlist == before


def test_already_registered_and_unused_ports_skipped():
    netlist = _netlist()
    _ram(netlist)["parameters"]["REGMODE_B"] = "OUTREG"
    before = copy.deepcopy(netlist)
    assert outreg.fold_output_registers(netlist) == (0, 0, 0)
    assert netlist == before
    netlist = _netlist(n_out=0)
    assert outreg.fold_output_registers(netlist) == (0, 0, 0)


def test_command_line(tmp_path, capsys):
    path = tmp_path / "top.json"
    path.write_text(json.dumps(_netlist()))
    assert outreg.main([str(path)]) == 0
    assert "1 block RAM read ports now use their output register" in capsys.readouterr().out
    assert _ram(json.loads(path.read_text()))["parameters"]["REGMODE_B"] == "OUTREG"
    assert json.loads((tmp_path / "top.outreg.json").read_text()) == {
        "ports_folded": 1, "flip_flops_removed": 4, "ports_left": 0}
    assert outreg.main([str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing.json" in err


def test_build_script_runs_the_pass(tmp_path):
    from apsq_rae.fpga.fmax import RegisteredEngine, fmax_platform
    small = RAEParams(lanes=2, depth=64)
    plan = fmax_platform("ulx3s", 100).build(
        RegisteredEngine(small), name="top", do_build=False, **BOARDS["ulx3s"].build_overrides())
    script = plan.files["build_top.sh"]
    lines = [line for line in script.splitlines() if line and not line.startswith(("#", ":", "["))]
    assert "outreg.py" in lines[2] and lines[2].endswith("top.json")
    assert "YOSYS" in lines[1] and "NEXTPNR_ECP5" in lines[3]


def test_engine_banks_fold_completely(tmp_path):
    """Yosys maps the banks with no collision bypass (``no_rw_check``) and the pass then folds
    every read port; a bypass or a reset on the bank output register would leave ports."""
    set_tool_env()                                 # the FPGA flow's own Yosys
    yosys = shutil.which(os.environ["YOSYS"])
    if yosys is None:
        pytest.skip(f"{os.environ['YOSYS']} not installed")
    params = RAEParams(lanes=2, depth=256, max_group_size=2)
    banks = Banks(params, output_register=True)
    (tmp_path / "banks.il").write_text(rtlil.convert(banks, name="top"))
    subprocess.run([yosys, "-q", "-p", "read_rtlil banks.il; synth_ecp5 -top top -run begin:map_luts;"
                    " splitnets; synth_ecp5 -top top -run map_luts:; write_json top.json"],
                   cwd=tmp_path, check=True)
    netlist = json.loads((tmp_path / "top.json").read_text())
    cells = netlist["modules"]["top"]["cells"].values()
    n_ram = sum(c["type"] == "DP16KD" for c in cells)
    n_ff = sum(c["type"] == "TRELLIS_FF" for c in cells)
    row_bits = params.lanes * params.q_bits + params.exp_bits + 1
    assert n_ram == params.max_group_size
    folded, removed, left = outreg.fold_output_registers(netlist)
    assert (folded, removed, left) == (n_ram, params.max_group_size * row_bits, 0)
    cells = netlist["modules"]["top"]["cells"].values()
    assert sum(c["type"] == "TRELLIS_FF" for c in cells) == n_ff - removed
