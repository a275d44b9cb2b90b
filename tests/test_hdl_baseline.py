"""The INT32 baseline PSUM buffer (hdl/baseline.py) in the Amaranth simulator, against golden/.

Expected values: ``apsq_rae.golden.exact_sum`` of an address's tiles (wrapped to ``psum_bits`` bits,
as the baseline's accumulator is), then ``apsq_rae.golden.quantize`` with the last tile's exponent.
Random tests print their seed and take ``APSQ_SEED`` from the environment.
"""

import os
import random

import numpy as np
import pytest
from amaranth.hdl import signed
from amaranth.lib import data
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from apsq_rae import golden
from apsq_rae.hdl.baseline import Baseline, BaselineQuantizer, _Adder, _Bank
from apsq_rae.hdl.params import RAEParams


def _seed():
    seed = int(os.environ.get("APSQ_SEED", random.randrange(1 << 32)))
    print(f"APSQ_SEED={seed}")
    return seed


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
    rng = np.random.default_rng(_seed())
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

def _run_baseline(params, tiles, *, rows=None, ready_prob=1.0, seed=0, gap_prob=0.0):
    """Push ``tiles`` (tuples addr, step, last, exp, data) and collect every result."""
    dut = Baseline(params, rows=rows)
    rng = random.Random(seed)
    results = []
    state = {"done": False, "stalls": 0}

    async def producer(ctx):
        for addr, step, last, exp, data in tiles:
            while rng.random() < gap_prob:
                await ctx.tick()
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload.addr, addr)
            ctx.set(dut.i.payload.step, step)
            ctx.set(dut.i.payload.last, last)
            ctx.set(dut.i.payload.exp, exp)
            for j, v in enumerate(data):
                ctx.set(dut.i.payload.data[j], v)
            while True:
                _, _, ready = await ctx.tick().sample(dut.i.ready)
                if ready:
                    break
                state["stalls"] += 1
            ctx.set(dut.i.valid, 0)
        for _ in range(20):
            await ctx.tick()
        state["done"] = True

    async def consumer(ctx):
        while not state["done"]:
            ctx.set(dut.o.ready, rng.random() < ready_prob)
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
    return dut, results, state["stalls"]


def _expected(params, tiles):
    """Golden results in the order the last tiles arrive."""
    open_tiles = {}
    out = []
    for addr, step, last, exp, data in tiles:
        open_tiles.setdefault(addr, []).append(data)
        if last:
            exact = golden.exact_sum(np.array(open_tiles.pop(addr)))
            wrapped = np.array([_wrap(v, params.psum_bits) for v in exact])
            q, sat = golden.quantize(wrapped, exp, q_bits=params.q_bits,
                                     rounding=params.rounding)
            out.append((addr, exp, int(sat.any()), [int(v) for v in q]))
    return out


def _random_tiles(params, rng, *, n_addr, max_steps, back_to_back):
    """Interleaved accumulations; sums stay inside psum_bits unless the caller wants wrap."""
    lim = 1 << (params.psum_bits - 1)
    per_tile = lim // max_steps
    pending = {}
    for addr in rng.sample(range(n_addr), n_addr):
        n = rng.randint(1, max_steps)
        pending[addr] = [(rng.randrange(params.max_exp + 1),
                          [rng.randrange(-per_tile, per_tile) for _ in range(params.lanes)])
                         for _ in range(n)]
    step = {a: 0 for a in pending}
    tiles = []
    while pending:
        addr = rng.choice(list(pending))
        burst = rng.randint(1, 3) if back_to_back else 1
        for _ in range(burst):
            if addr not in pending:
                break
            exp, data = pending[addr].pop(0)
            last = not pending[addr]
            tiles.append((addr, step[addr], int(last), exp, data))
            step[addr] += 1
            if last:
                del pending[addr]
    return tiles


def test_streams_match_the_engine():
    from apsq_rae.hdl.rae import RAE
    for p in (RAEParams(), RAEParams(lanes=3, psum_bits=12, q_bits=5, max_group_size=3, depth=5)):
        baseline, engine = Baseline(p), RAE(p)
        for port in ("i", "o"):
            assert baseline.signature.members[port] == engine.signature.members[port]


def test_worked_example():
    # Spec section 3, worked example: exact sums 8924 and -1108, Q_7 gives 70 and -9.
    p = RAEParams(lanes=2, max_group_size=2, depth=4)
    data = [[1000, -1000], [2047, -300], [-3000, 129], [9000, 70], [-123, -7]]
    exps = [4, 5, 5, 7, 7]
    tiles = [(3, i, int(i == 4), exps[i], data[i]) for i in range(5)]
    _, results, _ = _run_baseline(p, tiles)
    assert results == [(3, 7, 0, [70, -9])]


@pytest.mark.parametrize("rounding", ["half_up", "half_even", "trunc"])
def test_random_interleaved_with_backpressure(rounding):
    seed = _seed()
    rng = random.Random(seed)
    p = RAEParams(lanes=3, psum_bits=16, q_bits=6, max_group_size=2, depth=4, exp_bits=4,
                  step_bits=4, rounding=rounding)
    tiles = _random_tiles(p, rng, n_addr=8, max_steps=8, back_to_back=True)
    _, results, _ = _run_baseline(p, tiles, ready_prob=0.6, gap_prob=0.2, seed=seed)
    assert results == _expected(p, tiles)


def test_full_throughput_back_to_back_same_address():
    # One tile per clock, same address every clock: the transparent read port must forward.
    p = RAEParams(lanes=2, psum_bits=16, q_bits=8, max_group_size=1, depth=2, exp_bits=3,
                  step_bits=4)
    tiles = [(1, i, int(i == 5), 0, [i + 1, -2 * i]) for i in range(6)]
    tiles += [(0, i, int(i == 2), 2, [100, 101]) for i in range(3)]
    _, results, stalls = _run_baseline(p, tiles)
    assert stalls == 0
    assert results == _expected(p, tiles)
    assert results == [(1, 0, 0, [21, -30]), (0, 2, 0, [75, 76])]


def test_wrap_and_saturation():
    # The accumulator is psum_bits wide: 3 * 30000 wraps at 16 bits to 24464.
    p = RAEParams(lanes=1, psum_bits=16, q_bits=4, max_group_size=1, depth=1, exp_bits=4,
                  step_bits=2)
    tiles = [(0, i, int(i == 2), 12, [30000]) for i in range(3)]
    _, results, _ = _run_baseline(p, tiles)
    assert results == _expected(p, tiles)
    assert results == [(0, 12, 0, [6])]          # round(24464 / 4096) = 6
    tiles = [(0, 0, 1, 0, [-100])]
    _, results, _ = _run_baseline(p, tiles)
    assert results == [(0, 0, 1, [-8])]


def test_out_of_range_address_sets_err():
    p = RAEParams(lanes=1, psum_bits=8, q_bits=4, max_group_size=3, depth=1, exp_bits=2,
                  step_bits=2)                 # addresses 0..2 held, addr_bits 2
    tiles = [(3, 0, 1, 0, [5]), (2, 0, 1, 0, [5])]
    _, results, _ = _run_baseline(p, tiles)
    assert results == [(2, 0, 0, [5])]


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
