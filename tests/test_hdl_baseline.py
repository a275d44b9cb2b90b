"""The INT32 baseline PSUM buffer (hdl/baseline.py) in the Amaranth simulator, against golden/.

Expected values: ``apsq_rae.golden.exact_sum`` of an address's tiles (wrapped to ``psum_bits`` bits,
as the baseline's accumulator is), then ``apsq_rae.golden.quantize`` with the last tile's exponent.
Random tests print their seed and take ``APSQ_SEED`` from the environment.

Every test of the whole buffer runs at every pipeline setting and at single knobs
(``SETTINGS``); the forwarding tests put tiles of one address closer than the pipeline's
read-to-write distance, and are shown to fail with forwarding switched off.
"""

import random
import re

import numpy as np
import pytest
from amaranth.back import rtlil
from amaranth.hdl import signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from apsq_rae import golden
from apsq_rae.hdl.baseline import PIPELINES, Baseline, BaselineQuantizer, _Adder, _Bank
from apsq_rae.hdl.params import RAEParams

from sim_helpers import seed_from_env


# Many tests build a Baseline only to read its knobs, latency or signature; Amaranth warns about
# every such unelaborated component when it is collected.
pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")


#: Baseline keyword sets every whole-buffer test runs with: the three settings, then single
#: knobs and a mixed set (each knob alone must also be correct).
SETTINGS = [
    {"pipeline": "min"},
    {"pipeline": "default"},
    {"pipeline": "max"},
    {"read_register": True},
    {"add_register": True},
    {"quantizer_levels_per_stage": 2},
    {"pipeline": "max", "quantizer_levels_per_stage": 3},
]
SETTING_IDS = ["min", "default", "max", "read_reg", "add_reg", "quant2", "max_quant3"]
#: The settings that forward (their read misses writes still in flight).
FORWARDING = [k for k in SETTINGS if k not in ({"pipeline": "min"}, {"pipeline": "default"})]
FORWARDING_IDS = [i for k, i in zip(SETTINGS, SETTING_IDS) if k in FORWARDING]

settings = pytest.mark.parametrize("kwargs", SETTINGS, ids=SETTING_IDS)


def _wrap(x, bits):
    x = int(x) & ((1 << bits) - 1)
    return x - (1 << bits) if x >> (bits - 1) else x


# --- the quantizer ---------------------------------------------------------------------------

def _run_quantizer(rounding, cases, *, width, q_bits, exp_bits):
    lanes = len(cases[0][0])
    dut = BaselineQuantizer(width=width, q_bits=q_bits, exp_bits=exp_bits, lanes=lanes,
                            rounding=rounding)
    got = []

    async def bench(ctx):
        for xs, e in cases:
            for j, x in enumerate(xs):
                ctx.set(dut.x[j], x)
            ctx.set(dut.exp, e)
            await ctx.delay(1e-9)
            got.append(([ctx.get(dut.q[j]) for j in range(lanes)], ctx.get(dut.sat)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return got


@pytest.mark.parametrize("rounding", ["half_up", "half_even", "trunc"])
def test_quantizer_spec_examples(rounding):
    # Spec section 2: e = 2, x = -7,-6,-5,-2,2,5,6,7.
    expected = {
        "half_up":   [-2, -1, -1, 0, 1, 1, 2, 2],
        "half_even": [-2, -2, -1, 0, 0, 1, 2, 2],
        "trunc":     [-2, -2, -2, -1, 0, 1, 1, 1],
    }[rounding]
    xs = [-7, -6, -5, -2, 2, 5, 6, 7]
    [(q, sat)] = _run_quantizer(rounding, [(xs, 2)], width=8, q_bits=8, exp_bits=3)
    assert q == expected
    assert sat == 0


@pytest.mark.parametrize("rounding", ["half_up", "half_even", "trunc"])
def test_quantizer_random_against_golden(rounding):
    rng = np.random.default_rng(seed_from_env())
    width, q_bits, exp_bits, lanes = 13, 4, 4, 8
    cases = []
    for _ in range(150):
        xs = rng.integers(-(1 << (width - 1)), 1 << (width - 1), size=lanes)
        xs[rng.random(lanes) < 0.1] = -(1 << (width - 1))       # the extremes
        xs[rng.random(lanes) < 0.1] = (1 << (width - 1)) - 1
        cases.append(([int(x) for x in xs], int(rng.integers(0, 1 << exp_bits))))
    got = _run_quantizer(rounding, cases, width=width, q_bits=q_bits, exp_bits=exp_bits)
    for (xs, e), (q, sat) in zip(cases, got):
        exp_q, exp_sat = golden.quantize(np.array(xs), e, q_bits=q_bits, rounding=rounding)
        assert q == [int(v) for v in exp_q], (xs, e)
        assert sat == int(exp_sat.any()), (xs, e)


def test_quantizer_signature_and_argument_errors():
    dut = BaselineQuantizer(width=13, q_bits=4, exp_bits=4, lanes=8, rounding="trunc")
    assert dict(dut.signature.members) == {
        "x":   In(data.ArrayLayout(signed(13), 8)),
        "exp": In(4),
        "q":   Out(data.ArrayLayout(signed(4), 8)),
        "sat": Out(1),
    }
    for kwargs, error, message in [
        (dict(width=1), ValueError, r"width = 1 is out of range \(legal: >= 2\)"),
        (dict(q_bits=14), ValueError, r"q_bits = 14 is out of range \(legal: 2\.\.13\)"),
        (dict(exp_bits=7), ValueError, r"exp_bits = 7 is out of range \(legal: 1\.\.6\)"),
        (dict(lanes=0), ValueError, r"lanes = 0 is out of range \(legal: >= 1\)"),
        (dict(rounding="up"), ValueError, r"rounding = 'up' is not a rounding rule"),
        (dict(lanes=2.0), TypeError, r"lanes must be an integer, not 2\.0"),
    ]:
        args = dict(width=13, q_bits=4, exp_bits=4, lanes=8, rounding="trunc") | kwargs
        with pytest.raises(error, match=message):
            BaselineQuantizer(**args)

    async def bench(ctx):                             # and it works through its members
        for j, x in enumerate([-7, -6, -5, -2, 2, 5, 6, 7]):
            ctx.set(dut.x[j], x)
        ctx.set(dut.exp, 2)
        await ctx.delay(1e-9)
        assert [ctx.get(dut.q[j]) for j in range(8)] == [-2, -2, -2, -1, 0, 1, 1, 1]
        assert ctx.get(dut.sat) == 0

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()


def test_private_helpers_check_arguments():
    with pytest.raises(ValueError, match=r"depth = 0 is out of range \(legal: >= 1\)"):
        _Bank(data.ArrayLayout(signed(8), 2), 0)
    with pytest.raises(ValueError, match=r"lanes = 0 is out of range \(legal: >= 1\)"):
        _Adder(8, 0)
    with pytest.raises(TypeError, match=r"psum_bits must be an integer, not '8'"):
        _Adder("8", 2)


# --- the whole buffer ------------------------------------------------------------------------

def _run_baseline(params, tiles, *, rows=None, ready_prob=1.0, seed=0, gap_prob=0.0,
                  kwargs=None, forward=True, clear_err=False, hold=0):
    """Push ``tiles`` (tuples addr, step, last, exp, data) and collect every result
    (``out_ready = 0`` for the first ``hold`` clocks, then 1 with probability ``ready_prob``).

    Returns ``(dut, results, stalls, state)``: ``stalls`` counts clocks on which a tile was
    offered and not taken; ``state`` holds ``accepted`` (the clock of every accepting edge),
    ``err`` and ``busy`` once everything has drained, and ``err_cleared`` after an
    ``err_clear`` pulse if ``clear_err``.
    """
    dut = Baseline(params, rows=rows, **(kwargs or {}))
    if not forward:
        dut._forward = False
    rng = random.Random(seed)
    results = []
    state = {"done": False, "stalls": 0, "clock": 0, "accepted": []}

    async def producer(ctx):
        for addr, step, last, exp, values in tiles:
            while rng.random() < gap_prob:
                await ctx.tick()
                state["clock"] += 1
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload.addr, addr)
            ctx.set(dut.i.payload.step, step)
            ctx.set(dut.i.payload.last, last)
            ctx.set(dut.i.payload.exp, exp)
            for j, v in enumerate(values):
                ctx.set(dut.i.payload.data[j], v)
            while True:
                _, _, ready = await ctx.tick().sample(dut.i.ready)
                state["clock"] += 1
                if ready:
                    state["accepted"].append(state["clock"])
                    break
                state["stalls"] += 1
            ctx.set(dut.i.valid, 0)
        # Drain: until nothing is in flight (bounded, so a hang fails instead of looping).
        for _ in range(dut.latency + 2):
            await ctx.tick()
        for _ in range(5000):
            if not ctx.get(dut.busy):
                break
            await ctx.tick()
        state["busy"] = ctx.get(dut.busy)
        state["err"] = ctx.get(dut.err)
        if clear_err:
            ctx.set(dut.err_clear, 1)
            await ctx.tick()
            ctx.set(dut.err_clear, 0)
            state["err_cleared"] = ctx.get(dut.err)
        state["done"] = True

    async def consumer(ctx):
        clock = 0
        while not state["done"]:
            clock += 1
            ctx.set(dut.o.ready, clock > hold and rng.random() < ready_prob)
            _, _, valid, ready, payload = await ctx.tick().sample(
                dut.o.valid, dut.o.ready, dut.o.payload)
            if valid and ready:
                results.append((payload.addr, payload.exp, payload.sat,
                                [payload.data[j] for j in range(params.lanes)]))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(producer)
    sim.add_testbench(consumer, background=True)
    sim.run()
    assert state["busy"] == 0, "still busy 5000 clocks after the last tile"
    return dut, results, state["stalls"], state


def _expected(params, tiles):
    """Golden results in the order the last tiles arrive."""
    open_tiles = {}
    out = []
    for addr, step, last, exp, values in tiles:
        open_tiles.setdefault(addr, []).append(values)
        if last:
            exact = golden.exact_sum(np.array(open_tiles.pop(addr)))
            wrapped = np.array([_wrap(v, params.psum_bits) for v in exact])
            q, sat = golden.quantize(wrapped, exp, q_bits=params.q_bits,
                                     rounding=params.rounding)
            out.append((addr, exp, int(sat.any()), [int(v) for v in q]))
    return out


def _random_tiles(params, rng, *, n_addr, max_steps, back_to_back, wrap=False, rounds=1):
    """Interleaved accumulations; sums stay inside psum_bits unless ``wrap`` (then the tiles
    take the whole range). With ``rounds > 1`` every address runs that many accumulations,
    one after the other (its next step 0 may follow its ``last`` at once)."""
    lim = 1 << (params.psum_bits - 1)
    per_tile = lim if wrap else lim // max_steps
    pending = {}
    for addr in rng.sample(range(n_addr), n_addr):
        pending[addr] = []
        for _ in range(rounds):
            n = rng.randint(1, max_steps)
            pending[addr] += [(i, i == n - 1, rng.randrange(params.max_exp + 1),
                               [rng.randrange(-per_tile, per_tile) for _ in range(params.lanes)])
                              for i in range(n)]
    tiles = []
    while pending:
        addr = rng.choice(list(pending))
        burst = rng.randint(1, 3) if back_to_back else 1
        for _ in range(burst):
            if addr not in pending:
                break
            step, last, exp, data = pending[addr].pop(0)
            tiles.append((addr, step, int(last), exp, data))
            if not pending[addr]:
                del pending[addr]
    return tiles


def test_streams_match_the_engine():
    from apsq_rae.hdl.rae import RAE
    for p in (RAEParams(), RAEParams(lanes=3, psum_bits=12, q_bits=5, max_group_size=3, depth=5)):
        engine = RAE(p)
        for kwargs in SETTINGS:
            baseline = Baseline(p, **kwargs)
            for port in ("i", "o"):
                assert baseline.signature.members[port] == engine.signature.members[port]


# --- pipeline settings -----------------------------------------------------------------------

def test_pipeline_settings_resolve_to_knobs():
    knobs = lambda b: (b.read_register, b.add_register, b.quantizer_levels_per_stage)
    assert PIPELINES == {"min": (False, False, 0), "default": (False, False, 0),
                         "max": (True, True, 1)}
    assert knobs(Baseline()) == (False, False, 0)
    assert Baseline().pipeline == "default"
    for name, expected in PIPELINES.items():
        assert knobs(Baseline(pipeline=name)) == expected
    # An explicit knob overrides the setting's value.
    assert knobs(Baseline(pipeline="max", quantizer_levels_per_stage=0)) == (True, True, 0)
    assert knobs(Baseline(pipeline="min", add_register=True)) == (False, True, 0)


def test_latency_numbers():
    # Spec defaults, exp_bits 5. One-clock design: accept edge 0 -> output register on edge 1,
    # taken on edge 2. max: add at stage 2 (read register), write at stage 3 (add register),
    # quantizer ceil(5/1) + 2 = 7 clocks, result FIFO 1: 3 + 7 + 1 = 11.
    p = RAEParams()
    assert Baseline(p).latency == 2
    assert Baseline(p, pipeline="min").latency == 2
    assert Baseline(p, pipeline="max").latency == 11
    assert Baseline(p, read_register=True).latency == 3
    assert Baseline(p, add_register=True).latency == 3
    assert Baseline(p, quantizer_levels_per_stage=2).latency == 1 + (3 + 2) + 1
    assert Baseline(p, pipeline="max", quantizer_levels_per_stage=0).latency == 4


@pytest.mark.parametrize("kwargs, latency", [
    ({"pipeline": "default"}, 2),
    ({"pipeline": "max"}, 3 + (3 + 2) + 1),             # exp_bits 3, a register per level
    ({"read_register": True}, 3),
    ({"add_register": True}, 3),
    ({"quantizer_levels_per_stage": 2}, 1 + (2 + 2) + 1),
    ({"pipeline": "max", "quantizer_levels_per_stage": 3}, 3 + (1 + 2) + 1),
], ids=["default", "max", "read_reg", "add_reg", "quant2", "max_quant3"])
def test_latency_measured(kwargs, latency):
    # Spec section 5.4's definition: from the edge accepting a lone ``last`` tile to the first
    # edge at which its result can be taken, out_ready = 1.
    p = RAEParams(lanes=2, psum_bits=16, q_bits=8, max_group_size=1, depth=2, exp_bits=3,
                  step_bits=4)
    dut = Baseline(p, **kwargs)
    assert dut.latency == latency
    edges = {}

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.i.valid, 1)
        ctx.set(dut.i.payload, {"addr": 1, "step": 0, "last": 1, "exp": 0, "data": [3, -4]})
        for edge in range(1, 40):
            _, _, in_ready, out_valid, payload = await ctx.tick().sample(
                dut.i.ready, dut.o.valid, dut.o.payload)
            if in_ready and "accept" not in edges:
                edges["accept"] = edge
                ctx.set(dut.i.valid, 0)
            if out_valid:
                edges["take"] = edge
                assert [payload.data[0], payload.data[1]] == [3, -4]
                return

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert edges["take"] - edges["accept"] == latency


@pytest.mark.parametrize("p", [
    RAEParams(),
    RAEParams(lanes=3, psum_bits=12, q_bits=5, max_group_size=3, depth=5),
    RAEParams(lanes=1, max_group_size=1, depth=2),
], ids=["spec", "small", "tiny"])
def test_min_is_default(p):
    # "min" and "default" are one design: the same RTLIL as Baseline(p), no FIFO, no forwarding.
    text = rtlil.convert(Baseline(p), name="baseline", emit_src=False)
    for name in ("min", "default"):
        assert rtlil.convert(Baseline(p, pipeline=name), name="baseline", emit_src=False) == text
    assert "results" not in text and "fwd_match" not in text
    maxed = rtlil.convert(Baseline(p, pipeline="max"), name="baseline", emit_src=False)
    assert "fwd_match" in maxed and "results" in maxed


@pytest.mark.parametrize("kwargs, error, message", [
    ({"pipeline": "fast"}, ValueError,
     "pipeline = 'fast' is not a pipeline setting (legal: min, default, max)"),
    ({"pipeline": None}, ValueError, "pipeline = None is not a pipeline setting"),
    ({"read_register": 1}, TypeError, "read_register must be True or False, not 1"),
    ({"add_register": "yes"}, TypeError, "add_register must be True or False, not 'yes'"),
    ({"quantizer_levels_per_stage": -1}, ValueError,
     "quantizer_levels_per_stage = -1 is out of range (legal: >= 0)"),
    ({"quantizer_levels_per_stage": 1.5}, TypeError,
     "quantizer_levels_per_stage must be an integer, not 1.5"),
])
def test_pipeline_arguments_checked(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        Baseline(RAEParams(), **kwargs)


# --- results against golden, at every setting ------------------------------------------------

@settings
def test_worked_example(kwargs):
    # Spec section 3, worked example: exact sums 8924 and -1108, Q_7 gives 70 and -9.
    p = RAEParams(lanes=2, max_group_size=2, depth=4)
    data = [[1000, -1000], [2047, -300], [-3000, 129], [9000, 70], [-123, -7]]
    exps = [4, 5, 5, 7, 7]
    tiles = [(3, i, int(i == 4), exps[i], data[i]) for i in range(5)]
    _, results, stalls, _ = _run_baseline(p, tiles, kwargs=kwargs)
    assert results == [(3, 7, 0, [70, -9])]
    assert stalls == 0


@settings
@pytest.mark.parametrize("rounding", ["half_up", "half_even", "trunc"])
def test_random_interleaved_with_backpressure(rounding, kwargs):
    seed = seed_from_env()
    rng = random.Random(seed)
    p = RAEParams(lanes=3, psum_bits=16, q_bits=6, max_group_size=2, depth=4, exp_bits=4,
                  step_bits=4, rounding=rounding)
    tiles = _random_tiles(p, rng, n_addr=8, max_steps=8, back_to_back=True)
    _, results, _, _ = _run_baseline(p, tiles, ready_prob=0.6, gap_prob=0.2, seed=seed,
                                     kwargs=kwargs)
    assert results == _expected(p, tiles)


@settings
def test_full_throughput_back_to_back_same_address(kwargs):
    # One tile per clock, same address every clock: the one-clock design's transparent read
    # port, the pipelined designs' forwarding.
    p = RAEParams(lanes=2, psum_bits=16, q_bits=8, max_group_size=1, depth=2, exp_bits=3,
                  step_bits=4)
    tiles = [(1, i, int(i == 5), 0, [i + 1, -2 * i]) for i in range(6)]
    tiles += [(0, i, int(i == 2), 2, [100, 101]) for i in range(3)]
    _, results, stalls, state = _run_baseline(p, tiles, kwargs=kwargs)
    assert stalls == 0
    # Every one of the 9 tiles on consecutive edges.
    first = state["accepted"][0]
    assert state["accepted"] == list(range(first, first + 9))
    assert results == _expected(p, tiles)
    assert results == [(1, 0, 0, [21, -30]), (0, 2, 0, [75, 76])]


@settings
def test_full_throughput_results_every_clock(kwargs):
    # 40 one-tile accumulations in a row, out_ready = 1: a result is owed every clock, and the
    # credits (pipelined designs) must never hold a tile back.
    p = RAEParams(lanes=1, psum_bits=12, q_bits=6, max_group_size=2, depth=32, exp_bits=3,
                  step_bits=2)
    tiles = [(a, 0, 1, a % 8, [37 * a - 700]) for a in range(40)]
    _, results, stalls, state = _run_baseline(p, tiles, kwargs=kwargs)
    assert stalls == 0
    assert state["accepted"] == list(range(state["accepted"][0], state["accepted"][0] + 40))
    assert results == _expected(p, tiles)


@settings
def test_results_held_back_lose_nothing(kwargs):
    # out_ready = 0 for 150 clocks while 60 results are owed (more than any result queue
    # holds): the port must refuse tiles in time, and every result must come out afterwards.
    p = RAEParams(lanes=1, psum_bits=12, q_bits=6, max_group_size=2, depth=32, exp_bits=3,
                  step_bits=2)
    tiles = [(a, 0, 1, a % 8, [25 * a - 700]) for a in range(60)]
    _, results, stalls, _ = _run_baseline(p, tiles, kwargs=kwargs, hold=150)
    assert stalls > 0
    assert results == _expected(p, tiles)


@settings
def test_wrap_and_saturation(kwargs):
    # The accumulator is psum_bits wide: 3 * 30000 wraps at 16 bits to 24464.
    p = RAEParams(lanes=1, psum_bits=16, q_bits=4, max_group_size=1, depth=1, exp_bits=4,
                  step_bits=2)
    tiles = [(0, i, int(i == 2), 12, [30000]) for i in range(3)]
    _, results, _, _ = _run_baseline(p, tiles, kwargs=kwargs)
    assert results == _expected(p, tiles)
    assert results == [(0, 12, 0, [6])]          # round(24464 / 4096) = 6
    tiles = [(0, 0, 1, 0, [-100])]
    _, results, _, _ = _run_baseline(p, tiles, kwargs=kwargs)
    assert results == [(0, 0, 1, [-8])]


@settings
def test_out_of_range_address_sets_err(kwargs):
    p = RAEParams(lanes=1, psum_bits=8, q_bits=4, max_group_size=3, depth=1, exp_bits=2,
                  step_bits=2)                 # addresses 0..2 held, addr_bits 2
    # Address 3 is dropped, even between two tiles of address 2 (no write, no forwarding).
    tiles = [(3, 0, 1, 0, [5]), (2, 0, 0, 0, [5]), (3, 0, 0, 0, [60]), (2, 1, 1, 0, [1])]
    _, results, _, state = _run_baseline(p, tiles, kwargs=kwargs, clear_err=True)
    assert results == [(2, 0, 0, [6])]
    assert state["err"] == 0b10
    assert state["err_cleared"] == 0
    _, _, _, state = _run_baseline(p, [(2, 0, 1, 0, [5])], kwargs=kwargs)
    assert state["err"] == 0


@settings
def test_busy(kwargs):
    # busy rises with the edge that accepts a tile: a non-last tile until its sum is written,
    # a ``last`` tile until its result is taken (held back here by out_ready = 0 for 30 clocks).
    p = RAEParams(lanes=1, psum_bits=12, q_bits=6, max_group_size=1, depth=4, exp_bits=3,
                  step_bits=2)
    dut = Baseline(p, **kwargs)
    seen = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 0)
        assert ctx.get(dut.busy) == 0
        for last in (0, 1):
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload, {"addr": 2, "step": last, "last": last, "exp": 0,
                                    "data": [7]})
            await ctx.tick().until(dut.i.ready)
            ctx.set(dut.i.valid, 0)
            assert ctx.get(dut.busy) == 1, f"busy after accepting last={last}"
            if not last:
                await ctx.tick().repeat(dut.latency)
                assert ctx.get(dut.busy) == 0, "busy after a non-last tile was written"
        await ctx.tick().repeat(30)
        assert ctx.get(dut.busy) == 1, "busy while the result waits"
        ctx.set(dut.o.ready, 1)
        payload, = await ctx.tick().sample(dut.o.payload).until(dut.o.valid)
        seen.append((payload.addr, payload.data[0]))
        ctx.set(dut.o.ready, 0)
        assert ctx.get(dut.busy) == 0, "busy after the result was taken"

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [(2, 14)]


# --- forwarding ------------------------------------------------------------------------------

#: A small configuration for the forwarding tests: 2 lanes, 16-bit sums, 4 addresses.
_FWD = RAEParams(lanes=2, psum_bits=16, q_bits=8, max_group_size=2, depth=2, exp_bits=3,
                 step_bits=6)


def _cyclic_tiles(params, rng, addrs, steps):
    """Accumulations of ``steps`` tiles at each of ``addrs``, sent round-robin (address a's
    step i, then the next address's step i, ...): tiles of one address ``len(addrs)`` clocks
    apart. Full-range data, so the sums wrap."""
    lim = 1 << (params.psum_bits - 1)
    tiles = []
    for i in range(steps):
        for addr in addrs:
            tiles.append((addr, i, int(i == steps - 1), rng.randrange(params.max_exp + 1),
                          [rng.randrange(-lim, lim) for _ in range(params.lanes)]))
    return tiles


@settings
@pytest.mark.parametrize("addrs", [[2], [2, 1], [0, 3, 1], [1, 2, 3, 0]],
                         ids=["same", "alternating", "period3", "period4"])
def test_same_address_at_every_distance(kwargs, addrs):
    # Tiles of one address 1, 2, 3 and 4 clocks apart, one tile per clock with out_ready = 1:
    # every distance inside the pipeline's read-to-write window (up to 3 at "max") and one
    # beyond it. Exact count: 16 steps x len(addrs) tiles on consecutive edges.
    seed = seed_from_env()
    rng = random.Random(seed)
    tiles = _cyclic_tiles(_FWD, rng, addrs, 16)
    _, results, stalls, state = _run_baseline(_FWD, tiles, kwargs=kwargs, seed=seed)
    assert stalls == 0
    first = state["accepted"][0]
    assert state["accepted"] == list(range(first, first + 16 * len(addrs)))
    assert results == _expected(_FWD, tiles)


@settings
def test_address_reused_right_after_last(kwargs):
    # One address, five accumulations back to back: the step 0 after a ``last`` must ignore
    # every sum in flight, and its step 1 must see step 0's sum, not the older one written
    # before the ``last`` (which is never written back).
    seed = seed_from_env()
    rng = random.Random(seed)
    tiles = []
    for n in (3, 1, 4, 2, 5):
        tiles += _cyclic_tiles(_FWD, rng, [1], n)
    _, results, stalls, _ = _run_baseline(_FWD, tiles, kwargs=kwargs, seed=seed)
    assert stalls == 0
    assert results == _expected(_FWD, tiles)
    assert len(results) == 5


@settings
@pytest.mark.parametrize("trial", range(4))
def test_random_forwarding_with_backpressure(kwargs, trial):
    # Few addresses, bursts of one address, several accumulations per address, wrapping sums,
    # gaps and out_ready backpressure: same-address tiles at every distance, with stalls.
    seed = seed_from_env() + trial
    rng = random.Random(seed)
    tiles = _random_tiles(_FWD, rng, n_addr=3, max_steps=6, back_to_back=True, wrap=True,
                          rounds=4)
    ready_prob, gap_prob = [(1.0, 0.0), (0.5, 0.1), (0.2, 0.3), (0.7, 0.0)][trial]
    _, results, _, _ = _run_baseline(_FWD, tiles, ready_prob=ready_prob, gap_prob=gap_prob,
                                     seed=seed, kwargs=kwargs)
    assert results == _expected(_FWD, tiles)


#: The pipelined settings and their read-to-write window ``w`` (the stage that writes): a read
#: misses the writes of the ``w`` tiles accepted just before it (see Baseline.elaborate).
_WINDOWS = [({"pipeline": "max"}, 3), ({"read_register": True}, 2), ({"add_register": True}, 2),
            ({"quantizer_levels_per_stage": 2}, 1),
            ({"pipeline": "max", "quantizer_levels_per_stage": 3}, 3)]


@pytest.mark.parametrize("kwargs, window", _WINDOWS, ids=FORWARDING_IDS)
def test_forwarding_tests_fail_without_forwarding(kwargs, window):
    # The tests above can fail: with the forwarding multiplexer removed, the adder takes the
    # stale memory data whenever a tile of the same address came 1 .. window clocks before,
    # so round-robin runs over 1 .. window addresses give wrong sums; over window + 1
    # addresses no read misses a write, and the results stay right.
    assert [k for k, _ in _WINDOWS] == FORWARDING
    rng = random.Random(1)
    for n_addr in range(1, window + 2):
        tiles = _cyclic_tiles(_FWD, rng, list(range(n_addr)), 12)
        dut, results, _, _ = _run_baseline(_FWD, tiles, kwargs=kwargs, forward=False)
        assert dut._write_stage == window
        assert len(results) == n_addr
        if n_addr <= window:
            assert results != _expected(_FWD, tiles), n_addr
        else:
            assert results == _expected(_FWD, tiles)
        _, results, _, _ = _run_baseline(_FWD, tiles, kwargs=kwargs)
        assert results == _expected(_FWD, tiles)


# --- arguments -------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"rows": 0}, "rows = 0 is out of range"),
    ({"rows": 2048}, "rows = 2048 is out of range (legal: 1..1024)"),
])
def test_rows_checked(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Baseline(RAEParams(), **kwargs)


def test_params_type_checked():
    with pytest.raises(TypeError, match="params must be an RAEParams"):
        Baseline({"lanes": 4})
    with pytest.raises(TypeError, match="rows must be an integer"):
        Baseline(RAEParams(), rows=2.5)
