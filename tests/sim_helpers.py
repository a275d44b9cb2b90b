"""Helpers for Amaranth 0.5 async testbenches: stream drivers, backpressure, seeds."""

import os
import random

from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator


__all__ = ["seed_from_env", "stream_put", "stream_get", "run_sim", "run_pipeline",
           "with_clock", "Backpressure"]


def seed_from_env(default=None):
    """The test seed: ``$APSQ_SEED`` if set, else ``default``, else a fresh random one. Printed,
    so a failing run can be replayed with ``APSQ_SEED=<seed>``."""
    env = os.environ.get("APSQ_SEED")
    if env is not None:
        seed = int(env, 0)
    elif default is not None:
        seed = default
    else:
        seed = random.SystemRandom().randrange(1 << 32)
    print(f"APSQ_SEED={seed}")
    return seed


async def stream_put(ctx, stream, payload):
    """Offer ``payload`` on ``stream`` until it is taken (returns after the transfer edge)."""
    ctx.set(stream.valid, 1)
    ctx.set(stream.payload, payload)
    await ctx.tick().until(stream.ready)
    ctx.set(stream.valid, 0)


async def stream_get(ctx, stream):
    """Take one payload from ``stream`` (returns after the transfer edge)."""
    ctx.set(stream.ready, 1)
    payload, = await ctx.tick().sample(stream.payload).until(stream.valid)
    ctx.set(stream.ready, 0)
    return payload


class Backpressure:
    """Random 0/1 pattern: 1 with probability ``p_ready`` (1.0 gives a steady 1)."""

    def __init__(self, rng, p_ready=1.0):
        self.rng = rng
        self.p_ready = p_ready

    def __call__(self):
        return 1 if self.p_ready >= 1.0 or self.rng.random() < self.p_ready else 0


def run_sim(dut, *testbenches, processes=(), vcd=None, deadline=None):
    """Simulate ``dut`` with a 1 MHz ``sync`` clock (if it has one) and the given testbenches."""
    sim = Simulator(dut)
    sim.add_clock(1e-6, if_exists=True)
    for tb in testbenches:
        sim.add_testbench(tb)
    for proc in processes:
        sim.add_process(proc)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run() if deadline is None else sim.run_until(deadline)
    else:
        sim.run() if deadline is None else sim.run_until(deadline)


def with_clock(dut):
    """``dut`` inside a module that defines the ``sync`` domain, so testbenches can step a
    clock also when ``dut`` is combinational (a pipeline with latency 0)."""
    m = Module()
    m.domains.sync = ClockDomain()
    m.submodules.dut = dut
    return m


def run_pipeline(dut, latency, vectors, set_inputs, get_outputs):
    """Present one input vector per clock to a pipeline that never stalls; return the outputs,
    aligned with the inputs (``latency`` clocks later; 0 for a combinational one)."""
    outputs = []

    async def tb(ctx):
        for t in range(len(vectors) + latency):
            if t < len(vectors):
                set_inputs(ctx, vectors[t])
            if latency == 0:
                outputs.append(get_outputs(ctx))
            await ctx.tick()
            if latency and 0 <= t + 1 - latency < len(vectors):
                outputs.append(get_outputs(ctx))

    run_sim(with_clock(dut), tb)
    return outputs
