"""The result FIFO alone (Amaranth simulator)."""

import random

import pytest

from apsq_rae.hdl.results import ResultFIFO

from sim_helpers import run_sim, seed_from_env


@pytest.mark.parametrize("depth,p_w,p_r,write_register", [
    (15, 0.6, 0.5, False), (1, 0.5, 0.7, False), (4, 0.9, 0.3, False), (16, 0.5, 0.9, False),
    (20, 0.8, 0.7, True), (1, 0.5, 0.7, True), (4, 0.9, 0.3, True)])
def test_order_level_and_flags(depth, p_w, p_r, write_register):
    """A writer that never overfills it: words leave in order, ``level`` counts them,
    ``r.valid`` = level != 0 and does not follow ``r.ready``/``w.valid`` within a clock. With
    the write register a word is readable one clock later, and not counted until then."""
    seed = seed_from_env(default=depth)
    rng = random.Random(seed)
    dut = ResultFIFO(16, depth=depth, write_register=write_register)
    assert dut.latency == 1 + write_register
    queue, got, pending = [], [], []

    async def tb(ctx):
        n = 0
        for _ in range(500):
            valid_before = ctx.get(dut.r.valid)
            write = int(len(queue) + len(pending) < depth and rng.random() < p_w)
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
            queue.extend(pending)
            pending.clear()
            if write:
                (pending if write_register else queue).append(n)
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


def test_latency_and_capacity():
    """A word written on an edge is shown (``r.valid``, ``r.payload``) right after it, so the
    next edge can read it; and the queue holds ``depth`` words, which leave in order."""
    assert ResultFIFO.pipeline_latency() == 1
    dut = ResultFIFO(8, depth=5)
    assert (dut.latency, dut.capacity) == (1, 5)
    trace = {}

    async def tb(ctx):
        ctx.set(dut.r.ready, 1)
        ctx.set(dut.w.valid, 1)
        ctx.set(dut.w.payload, 42)
        await ctx.tick()                                  # edge 1 writes the word
        ctx.set(dut.w.valid, 0)
        for edge in range(2, 6):
            _, _, valid, word = await ctx.tick().sample(dut.r.valid, dut.r.payload)
            if valid:
                trace["read"] = (edge, word)
                break
        ctx.set(dut.r.ready, 0)
        ctx.set(dut.w.valid, 1)
        for n in range(dut.capacity):
            ctx.set(dut.w.payload, 100 + n)
            await ctx.tick()
        ctx.set(dut.w.valid, 0)
        trace["level"] = ctx.get(dut.level)
        ctx.set(dut.r.ready, 1)
        words = []
        for _ in range(8):
            _, _, valid, word = await ctx.tick().sample(dut.r.valid, dut.r.payload)
            if valid:
                words.append(word)
        trace["words"] = words

    run_sim(dut, tb)
    assert trace["read"] == (1 + dut.latency, 42)
    assert trace["level"] == dut.capacity
    assert trace["words"] == [100, 101, 102, 103, 104]
