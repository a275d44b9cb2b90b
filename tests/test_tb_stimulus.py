"""The cocotb tests' stimulus (no simulator): the edge sweeps reach what they promise."""

import random

import pytest

from apsq_rae.golden import quantize
from apsq_rae.hdl.params import RAEParams
from apsq_rae.tb.stimulus import Stimulus

from sim_helpers import seed_from_env


#: 16 lanes; odd widths; a narrow PSUM with truncation and the narrowest q.
SWEEP_PARAMS = pytest.mark.parametrize("params", [
    RAEParams(lanes=16, depth=4),
    RAEParams(lanes=3, psum_bits=12, q_bits=5, max_group_size=3, depth=5, exp_bits=3,
              step_bits=5, rounding="half_even"),
    RAEParams(lanes=2, psum_bits=20, q_bits=2, depth=16, rounding="trunc"),
], ids=["lanes16", "odd", "trunc-q2"])


@SWEEP_PARAMS
def test_exponent_sweep_keeps_saturating_lanes_apart(params):
    """Every tile of the sweep saturates in all its lanes or in none (a result has one ``sat``
    flag), and every lane still meets every value of every exponent."""
    stim = Stimulus(params, random.Random(seed_from_env(default=1)))
    tiles = stim.exponent_sweep([0, 1])
    seen, offered = {}, {}
    for t in tiles:
        _, sat = quantize(list(t.data), t.exp, q_bits=params.q_bits, rounding=params.rounding)
        assert len(set(bool(s) for s in sat)) == 1, f"mixed saturation in {t}"
        for j, v in enumerate(t.data):
            seen.setdefault((t.exp, j), set()).add(v)
            offered.setdefault(t.exp, set()).add(v)
    assert {e for e, _ in seen} == set(range(params.max_exp + 1))
    for (e, j), values in seen.items():
        assert values == offered[e], f"lane {j} at exponent {e} misses {offered[e] - values}"


@SWEEP_PARAMS
def test_dequantizer_sweep_shows_every_dequantized_bit(params):
    """At group size 1 each pair stores -1 at its exponent and its result is -1, 0 or 1 per
    lane (the golden model), for every exponent whose ``2**e`` fits the PSUM range: a bit
    left standing in the dequantized -2**e would show in the result."""
    from apsq_rae.golden import Engine
    stim = Stimulus(params, random.Random(seed_from_env(default=3)))
    tiles = stim.dequantizer_sweep()
    engine = Engine(**params.as_dict())
    engine.configure(1)
    exps, banks = [], set()
    for t in tiles:
        result = engine.push(t.addr, t.step, t.last, t.exp, t.data)
        if t.step == 0:
            exps.append(t.exp)
            banks.add(t.addr // params.depth)
            assert result is None
        else:
            assert [int(v) for v in result.data] == [j % 3 - 1 for j in range(params.lanes)]
            assert not result.sat
    fits = [e for e in range(params.max_exp + 1) if (1 << e) < (1 << (params.psum_bits - 1))]
    assert sorted(set(exps)) == fits
    assert banks == set(range(params.max_group_size))     # every bank's dequantizer


def test_same_scale_takes_the_exponent_it_is_given():
    p = RAEParams(lanes=4, depth=16)
    stim = Stimulus(p, random.Random(seed_from_env(default=2)))
    tiles = stim.same_scale(3, 9, exp=0)
    assert [t.step for t in tiles] == list(range(9))
    assert [t.last for t in tiles] == [False] * 8 + [True]
    assert {t.exp for t in tiles} == {0}
    assert any(v % 2 for t in tiles for v in t.data)       # the lowest bit is exercised
