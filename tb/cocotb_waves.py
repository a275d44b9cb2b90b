"""cocotb test that records the port traces drawn in docs/integration.md
(:mod:`apsq_rae.tb.waves`): a handshake with a gap and backpressure, the latency of a lone
``last`` tile, and a hazard stall. Every result is scored as in the regression; the traces go
to the JSON file named by ``APSQ_WAVES_OUT``."""

import json
import os

import cocotb

from apsq_rae.golden import Tile

from .bench import Bench, load_config
from .stimulus import Configure


def _tile(p, addr, step, last, exp=4):
    return Tile(addr, step, last, exp, tuple((40 * (addr + 1) + 7 * step) * (-1) ** j
                                             for j in range(p.lanes)))


async def _script(bench, steps):
    """``steps``: ``(tile or None, out_ready)`` per clock; a refused tile is offered again
    on the next clock (its step repeats)."""
    steps = list(steps)
    while steps:
        tile, ready = steps[0]
        accepted = await bench.clock(tile, backpressure=0.0 if ready else 1.0)
        if tile is None or accepted:
            steps.pop(0)


@cocotb.test()
async def waves(dut):
    config = load_config()
    bench = Bench(dut, config, "waves")
    p = bench.p
    bench.attach_probes()
    await bench.start()
    await bench.run([Configure(1)])
    traces = {}

    # Handshake: tiles of four addresses, a gap, then out_ready low for two clocks.
    bench.trace = []
    await _script(bench, [(_tile(p, 0, 0, False), 1), (_tile(p, 1, 0, True), 1), (None, 1),
                          (_tile(p, 2, 0, True), 1), (_tile(p, 0, 1, True), 1)]
                  + [(None, 1)] * (config["latency"] - 3) + [(None, 0), (None, 0)]
                  + [(None, 1)] * 4)
    traces["handshake"] = bench.trace

    # Latency: one lone last tile and its result.
    await bench.run([Configure(1)])
    bench.trace = []
    await _script(bench, [(_tile(p, 3, 0, True), 1)] + [(None, 1)] * (config["latency"] + 2))
    traces["latency"] = bench.trace

    # Hazard: three steps of one address back to back at group size 1 (each reads the AP
    # the one before writes) next to another address's tile.
    await bench.run([Configure(1)])
    bench.trace = []
    await _script(bench, [(_tile(p, 1, 0, False), 1), (_tile(p, 1, 1, False), 1),
                          (_tile(p, 1, 2, True), 1), (_tile(p, 2, 0, True), 1)]
                  + [(None, 1)] * (config["latency"] + 4))
    traces["hazard"] = bench.trace
    bench.trace = None
    await bench.finish()
    with open(os.environ["APSQ_WAVES_OUT"], "w") as f:
        json.dump({"latency": config["latency"], "traces": traces}, f, indent=1)
