"""cocotb test of the power-up state itself: what the engine's outputs show before any clock
edge (for the test that randomized power-up really randomizes; tests/test_cocotb_powerup.py)."""

import json
import os

import cocotb
from cocotb.triggers import Timer


#: Output ports, every one driven by a register or a memory.
OUTPUTS = ("in_ready", "out_valid", "out_addr", "out_exp", "out_sat", "out_data", "busy", "err")


@cocotb.test()
async def snapshot(dut):
    """Write the outputs at time 1 ns, before any clock edge, to ``APSQ_POWERUP_SNAPSHOT``.
    Every input is held at 0 (``rst`` too), so the outputs show the power-up state alone."""
    for name in ("clk", "rst", "in_valid", "out_ready", "err_clear", "in_addr", "in_step",
                 "in_last", "in_exp", "in_data"):
        getattr(dut, name).value = 0
    dut.cfg_group_size.value = 1
    await Timer(1, unit="ns")
    state = {name: str(getattr(dut, name).value) for name in OUTPUTS}
    with open(os.environ["APSQ_POWERUP_SNAPSHOT"], "w") as file:
        json.dump(state, file)
