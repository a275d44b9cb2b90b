"""The issue queue alone (Amaranth simulator): order, handshakes, throughput, and the hazard flag
against a model of the pipeline it watches."""

import random

import pytest

from amaranth.hdl import unsigned
from amaranth.lib import data

from apsq_rae.hdl.issue import IssueQueue

from sim_helpers import run_sim, seed_from_env


LAYOUT = data.StructLayout({"addr": unsigned(3), "tag": unsigned(10), "free": unsigned(1)})


def show_stages(ctx, dut, stages):
    """Drive the modelled pipeline, ``[(valid, addr)]`` from stage 0, onto the queue."""
    ctx.set(dut.stage_valid, sum(v << s for s, (v, _) in enumerate(stages)))
    for s, (_, a) in enumerate(stages):
        ctx.set(dut.stage_addr[s], a)


def _free_or_odd(entry):
    return entry.free | entry.tag[0]


@pytest.mark.parametrize("exempt", [None, "free", _free_or_odd])
@pytest.mark.parametrize("input_register", [True, False])
@pytest.mark.parametrize("n_stages,n_addr,p_in,p_take", [
    (5, 4, 0.7, 0.6), (5, 2, 0.9, 0.9), (1, 2, 0.5, 0.5), (12, 8, 0.95, 0.95), (3, 1, 0.8, 0.3),
    (2, 2, 0.9, 0.7)])
def test_hazard_order_and_handshake(n_stages, n_addr, p_in, p_take, input_register, exempt):
    """Random traffic, a consumer that takes regardless of the flag and issues most of what it
    takes: ``hazard`` always equals "a modelled stage holds the head's address", and ``clear``
    ``o.valid & ~hazard``; nothing is lost, duplicated or reordered; ``i.ready`` does not follow
    ``i.valid``, the payload or ``o.ready`` within a clock."""
    seed = seed_from_env(default=n_stages * 100 + n_addr)
    rng = random.Random(seed)
    dut = IssueQueue(LAYOUT, n_stages=n_stages, input_register=input_register, exempt=exempt)
    sent, got = [], []
    checked = []

    async def tb(ctx):
        stages = [(0, 0)] * n_stages
        tag = 0
        for _ in range(600):
            o_valid = ctx.get(dut.o.valid)
            take = int(o_valid and rng.random() < p_take)
            issue = int(take and rng.random() < 0.85)
            ready_before = ctx.get(dut.i.ready)
            ctx.set(dut.o.ready, take)
            ctx.set(dut.issue, issue)
            show_stages(ctx, dut, stages)
            valid = int(rng.random() < p_in)
            addr = rng.randrange(n_addr)
            ctx.set(dut.i.valid, valid)
            ctx.set(dut.i.payload, {"addr": addr, "tag": tag, "free": int(rng.random() < 0.4)})
            assert ctx.get(dut.i.ready) == ready_before, f"APSQ_SEED={seed}"
            head = ctx.get(dut.o.payload)
            assert ctx.get(dut.clear) == int(o_valid and not ctx.get(dut.hazard)), \
                f"APSQ_SEED={seed}"
            if o_valid:
                # An exempt head never waits, but it is still tracked once issued (stages).
                exempt_head = {None: False, "free": head.free,
                               _free_or_odd: head.free or head.tag & 1}[exempt]
                want = int(any(v and a == head.addr for v, a in stages) and not exempt_head)
                assert ctx.get(dut.hazard) == want, f"APSQ_SEED={seed}"
                checked.append(want)
                if take:
                    got.append((head.addr, head.tag))
            if valid and ready_before:
                sent.append((addr, tag))
                tag += 1
            await ctx.tick()
            stages = [(issue, head.addr if issue else 0)] + stages[:-1]

    run_sim(dut, tb)
    print(f"APSQ_SEED={seed}: {len(sent)} sent, {sum(checked)} hazards seen")
    assert got == sent[:len(got)] and len(sent) - len(got) <= dut.capacity
    assert 0 < sum(checked) < len(checked)       # both values of the flag were exercised


@pytest.mark.parametrize("input_register,latency", [(True, 2), (False, 1)])
def test_full_throughput(input_register, latency):
    """``o.ready`` always 1, addresses never closer than the pipeline: one tile per clock after
    the queue's registers (two, or one without the input register), never a hazard."""
    n = 4
    dut = IssueQueue(LAYOUT, n_stages=n, input_register=input_register)
    out = []

    async def tb(ctx):
        stages = [(0, 0)] * n
        ctx.set(dut.i.valid, 1)
        ctx.set(dut.o.ready, 1)
        for t in range(60):
            ctx.set(dut.i.payload, {"addr": t % 5, "tag": t})
            o_valid, head = ctx.get(dut.o.valid), ctx.get(dut.o.payload)
            ctx.set(dut.issue, o_valid)
            show_stages(ctx, dut, stages)
            assert ctx.get(dut.i.ready) == 1
            if o_valid:
                assert ctx.get(dut.hazard) == 0
                out.append((t, head.tag))
            await ctx.tick()
            stages = [(o_valid, head.addr if o_valid else 0)] + stages[:-1]

    run_sim(dut, tb)
    assert out == [(t, t - latency) for t in range(latency, 60)]


@pytest.mark.parametrize("input_register,latency", [(True, 2), (False, 1)])
def test_back_to_back_same_address_flagged(input_register, latency):
    """Two tiles of one address in a row: the second one's flag is set from the clock after
    the first issues until the first has left the last stage."""
    n = 3
    dut = IssueQueue(LAYOUT, n_stages=n, input_register=input_register)
    flags = []

    async def tb(ctx):
        stages = [(0, 0)] * n
        ctx.set(dut.o.ready, 1)
        for t in range(12):
            ctx.set(dut.i.valid, int(t < 2))
            ctx.set(dut.i.payload, {"addr": 5, "tag": t})
            o_valid, head, hazard = (ctx.get(dut.o.valid), ctx.get(dut.o.payload),
                                     ctx.get(dut.hazard))
            # Issue the head only when the flag allows it (as the engine does).
            issue = int(o_valid and not hazard)
            ctx.set(dut.o.ready, issue)
            ctx.set(dut.issue, issue)
            show_stages(ctx, dut, stages)
            flags.append((o_valid, hazard, issue))
            await ctx.tick()
            stages = [(issue, head.addr if issue else 0)] + stages[:-1]

    run_sim(dut, tb)
    issued_at = [t for t, (_, _, i) in enumerate(flags) if i]
    first = latency
    assert issued_at == [first, first + n + 1]   # the second waits n clocks behind the first
    assert [h for _, h, _ in flags[first + 1:first + 1 + n]] == [1] * n


def test_parameter_errors():
    with pytest.raises(TypeError, match=r"shape must be a StructLayout with an 'addr' field, "
                                        r"not unsigned\(8\)"):
        IssueQueue(unsigned(8), n_stages=2)
    with pytest.raises(TypeError, match=r"'addr' field"):
        IssueQueue(data.StructLayout({"row": 3}), n_stages=2)
    with pytest.raises(ValueError, match=r"n_stages = 0 is out of range \(legal: >= 1\)"):
        IssueQueue(LAYOUT, n_stages=0)
    with pytest.raises(TypeError, match=r"n_stages must be an integer, not 2.0"):
        IssueQueue(LAYOUT, n_stages=2.0)
    with pytest.raises(TypeError, match=r"input_register must be True or False, not 0"):
        IssueQueue(LAYOUT, n_stages=2, input_register=0)
    with pytest.raises(ValueError, match=r"exempt = 'tag' is not a one-bit field"):
        IssueQueue(LAYOUT, n_stages=2, exempt="tag")
    with pytest.raises(ValueError, match=r"exempt = 'x' is not a one-bit field"):
        IssueQueue(LAYOUT, n_stages=2, exempt="x")


@pytest.mark.parametrize("input_register,latency,capacity", [(True, 2, 3), (False, 1, 2)])
def test_latency_and_capacity(input_register, latency, capacity):
    """A tile accepted into an empty queue can be taken two edges later (it passes the input
    register, then the head; one edge without the input register), and with ``o.ready`` held
    at 0 the queue takes three tiles (input, skid and head registers; two without the input
    register) before ``i.ready`` falls; they then leave in order."""
    assert IssueQueue.pipeline_latency(input_register) == latency
    dut = IssueQueue(LAYOUT, n_stages=2, input_register=input_register)
    assert (dut.latency, dut.capacity) == (latency, capacity)
    trace = {"accepted": [], "taken": []}

    async def tb(ctx):
        ctx.set(dut.i.valid, 1)
        ctx.set(dut.i.payload, {"addr": 1, "tag": 7})
        _, _, ready = await ctx.tick().sample(dut.i.ready)
        assert ready                                      # accepted on edge 1
        ctx.set(dut.i.valid, 0)
        ctx.set(dut.o.ready, 1)
        for edge in range(2, 6):
            _, _, valid, head = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            if valid:
                trace["first_take"] = edge
                assert head.tag == 7
                break
        ctx.set(dut.o.ready, 0)
        ctx.set(dut.i.valid, 1)
        for tag in range(8):
            ctx.set(dut.i.payload, {"addr": tag % 4, "tag": tag})
            _, _, ready = await ctx.tick().sample(dut.i.ready)
            if ready:
                trace["accepted"].append(tag)
        ctx.set(dut.i.valid, 0)
        ctx.set(dut.o.ready, 1)
        for _ in range(6):
            _, _, valid, head = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            if valid:
                trace["taken"].append(head.tag)

    run_sim(dut, tb)
    assert trace["first_take"] - 1 == dut.latency
    assert len(trace["accepted"]) == dut.capacity
    assert trace["taken"] == trace["accepted"]
