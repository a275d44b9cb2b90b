"""The formal harness's unpipelined reference (formal/reference.py) computes what the golden
model computes: random protocol-abiding tile streams at every group size and rounding rule, and
the worked example of spec section 3."""

import random

import pytest

from apsq_rae.formal.reference import Reference
from apsq_rae.golden import Engine
from apsq_rae.hdl.params import RAEParams

from sim_helpers import run_sim, seed_from_env


def _check(params, gs, tiles):
    """Feed ``tiles`` (addr, step, last, exp, data) one per clock; compare every result and the
    expected next step with the golden model."""
    dut = Reference(params)
    golden = Engine(**params.as_dict())
    golden.configure(gs)
    checked = []

    async def bench(ctx):
        ctx.set(dut.group_size, gs)
        ctx.set(dut.accept, 1)
        next_step = {}
        for addr, step, last, exp, data in tiles:
            ctx.set(dut.tile, {"addr": addr, "step": step, "last": last, "exp": exp,
                               "data": list(data)})
            assert ctx.get(dut.next_step) == next_step.get(addr, 0)
            want = golden.push(addr, step, last, exp, data)
            assert ctx.get(dut.push) == last
            if want is not None:
                got = ctx.get(dut.expected)
                assert (got.addr, got.exp, got.sat, list(got.data)) == \
                    (want.addr, want.exp, int(want.sat), list(want.data)), (addr, step)
                checked.append(want)
            next_step[addr] = 0 if last else step + 1
            await ctx.tick()

    run_sim(dut, bench)
    return checked


def _random_tiles(params, gs, rng, count):
    p = params
    lo, hi = -(1 << (p.psum_bits - 1)), (1 << (p.psum_bits - 1)) - 1
    capacity = p.capacity(gs)
    steps, tiles = {}, []
    for _ in range(count):
        addr = rng.randrange(capacity)
        step = steps.get(addr, 0)
        last = step == (1 << p.step_bits) - 1 or rng.random() < 0.3
        tiles.append((addr, step, last, rng.randrange(1 << p.exp_bits),
                      [rng.randint(lo, hi) for _ in range(p.lanes)]))
        steps[addr] = 0 if last else step + 1
    return tiles


@pytest.mark.parametrize("rounding", ["half_up", "half_even", "trunc"])
@pytest.mark.parametrize("gs", [1, 2, 3])
def test_reference_matches_golden(rounding, gs):
    seed = seed_from_env(gs * 7 + len(rounding))
    rng = random.Random(seed)
    params = RAEParams(lanes=2, psum_bits=6, q_bits=3, max_group_size=3, depth=2, exp_bits=2,
                       step_bits=3, rounding=rounding)
    results = _check(params, gs, _random_tiles(params, gs, rng, 300))
    assert len(results) > 30, seed
    assert any(r.sat for r in results) and not all(r.sat for r in results), seed


def test_reference_worked_example():
    # Spec section 3: [70, -8] at exponent 7 with no saturation, at every group size 1..4.
    params = RAEParams(lanes=2, psum_bits=16, q_bits=8, max_group_size=4, depth=1,
                       exp_bits=3, step_bits=3)
    data = [[1000, -1000], [2047, -300], [-3000, 129], [9000, 70], [-123, -7]]
    exps = [4, 5, 5, 7, 7]
    for gs in (1, 2, 3, 4):
        tiles = [(0, i, i == 4, e, d) for i, (e, d) in enumerate(zip(exps, data))]
        results = _check(params, gs, tiles)
        assert [(r.exp, r.sat, r.data) for r in results] == [(7, False, (70, -8))]
