"""Helpers for Amaranth 0.5 async testbenches: stream drivers, backpressure, seeds."""

import os
import random

from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator


__all__ = ["seed_from_env", "stream_put", "stream_get", "run_sim", "run_pipeline",
           "with_clock", "Backpressure", "stream_back_to_back"]


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


def stream_back_to_back(dut, gs, tiles, *, max_clocks=None):
    """Offer ``tiles`` (``(addr, step, last, exp, data)``) to the RAE ``dut`` back to back with
    ``out_ready = 1`` at group size ``gs``, and check every result against ``golden.Engine``.

    Returns ``(accepted, taken)``: the clock edges that accepted each tile and that took each
    result. ``max_clocks`` (if given) fails the run as a hang after that many clocks.
    """
    from apsq_rae import golden

    p = dut.params
    ref = golden.Engine(**p.as_dict())
    ref.configure(gs)
    want = [r for r in (ref.push(*t) for t in tiles) if r is not None]
    accepted, taken = [], []

    async def tb(ctx):
        ctx.set(dut.cfg_group_size, gs)
        ctx.set(dut.o.ready, 1)
        await ctx.tick()
        t, k = 0, 0
        while len(taken) < len(want):
            if k < len(tiles):
                addr, step, last, exp, data = tiles[k]
                ctx.set(dut.i.valid, 1)
                ctx.set(dut.i.payload, {"addr": addr, "step": step, "last": last, "exp": exp,
                                        "data": data})
            else:
                ctx.set(dut.i.valid, 0)
            _, _, in_valid, in_ready, out_valid, out = await ctx.tick().sample(
                dut.i.valid, dut.i.ready, dut.o.valid, dut.o.payload)
            t += 1
            if in_valid and in_ready:
                accepted.append(t)
                k += 1
            if out_valid:
                taken.append((t, (out.addr, out.exp, bool(out.sat),
                                  tuple(out.data[j] for j in range(p.lanes)))))
            assert max_clocks is None or t < max_clocks, "hang"

    run_sim(dut, tb)
    assert [r for _, r in taken] == [(r.addr, r.exp, r.sat, tuple(r.data)) for r in want]
    return accepted, [edge for edge, _ in taken]
