"""cocotb test that breaks a port rule on purpose, for the protocol checker's test
(``tests/test_cocotb_checker.py``): with results held (``out_ready = 0``) it offers one-step
tiles until the engine refuses one, then changes the payload while ``in_valid`` stays 1. The
checker (:mod:`apsq_rae.gen.protocol_checker`) must stop the simulation."""

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from .bench import Bench, load_config
from .stimulus import Stimulus


@cocotb.test()
async def payload_changes_while_waiting(dut):
    config = load_config()
    bench = Bench(dut, config, "payload_changes_while_waiting")
    stim = Stimulus(bench.p, bench.rng)
    await bench.start()
    tiles = [t for _ in range(64) for a in range(config["capacity"][1])
             for t in stim.accumulation(a, 1)]
    for tile in tiles:
        await FallingEdge(dut.clk)
        bench._drive_tile(tile)
        bench._set("in_valid", 1)
        await ReadOnly()
        if not int(dut.in_ready.value):
            break
    else:
        raise AssertionError("the engine never refused a tile with out_ready = 0")
    # Refused: the rule says the payload stays. Change it.
    await FallingEdge(dut.clk)
    bench._set("in_addr", (tile.addr + 1) % config["capacity"][1])
    for _ in range(4):
        await FallingEdge(dut.clk)
    raise AssertionError("the checker did not stop the simulation")
