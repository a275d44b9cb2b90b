"""The result FIFO alone (Amaranth simulator)."""

import random

import pytest

from apsq_rae.hdl.results import ResultFIFO

from sim_helpers import run_sim, seed_from_env


@pytest.mark.parametrize("depth,p_w,p_r", [(15, 0.6, 0.5), (1, 0.5, 0.7), (4, 0.9, 0.3),
                                           (16, 0.5, 0.9)])
def test_order_level_and_flags(depth, p_w, p_r):
    """A writer that never overfills it: words leave in order, ``level`` counts them,
    ``r.valid`` = level != 0 and does not follow ``r.ready``/``w.valid`` within a clock."""
    seed = seed_from_env(default=depth)
    rng = random.Random(seed)
    dut = ResultFIFO(16, depth=depth)
    queue, got = [], []

    async def tb(ctx):
        n = 0
        for _ in range(500):
            valid_before = ctx.get(dut.r.valid)
            write = int(len(queue) < depth and rng.random() < p_w)
            read = int(rng.random() < p_r)
            ctx.set(dut.w.valid, write)
            ctx.set(dut.w.payload, n)
            ctx.set(dut.r.ready, read)
            assert ctx.get(dut.w.ready) == 1
            assert ctx.get(dut.r.valid) == valid_before == int(bool(queue)), f"APSQ_SEED={seed}"
            assert ctx.get(dut.level) == len(queue), f"APSQ_SEED={seed}"
            if read and queue:
                assert ctx.get(dut.r.payload) == queue[0], f"APSQ_SEED={seed}"
                got.append(queue.pop(0))
            if write:
                queue.append(n)
                n += 1
            await ctx.tick()

    run_sim(dut, tb)
    print(f"APSQ_SEED={seed}: {len(got)} words read")
    assert got == list(range(len(got))) and len(got) > 100


def test_full_rate_through_a_full_queue():
    """Full, then one write and one read per clock: stays full, order kept."""
    dut = ResultFIFO(8, depth=3)

    async def tb(ctx):
        ctx.set(dut.w.valid, 1)
        for n in range(3):
            ctx.set(dut.w.payload, n)
            await ctx.tick()
        ctx.set(dut.r.ready, 1)
        for n in range(3, 20):
            assert ctx.get(dut.level) == 3 and ctx.get(dut.r.payload) == n - 3
            ctx.set(dut.w.payload, n)
            await ctx.tick()

    run_sim(dut, tb)


def test_parameter_errors():
    with pytest.raises(ValueError, match=r"depth = 0 is out of range \(legal: >= 1\)"):
        ResultFIFO(8, depth=0)
    with pytest.raises(TypeError, match=r"depth must be an integer, not '4'"):
        ResultFIFO(8, depth="4")
