"""Property tests: the golden model against a deliberately simple pure-Python implementation.

The reference below is written from the spec with Python integers and exact fractions, one
element at a time, sharing no code with ``golden/``.
"""

import math
import os
import random
from fractions import Fraction

import numpy as np
from hypothesis import given, settings, strategies as st, HealthCheck

from apsq_rae import golden


def ref_round(x, e, rounding):
    v = Fraction(x, 2 ** e)
    if rounding == "trunc":
        return math.floor(v)
    if rounding == "half_up":
        return math.floor(v + Fraction(1, 2))
    return round(v)  # Fraction rounds half to even


def ref_quantize(x, e, k, rounding):
    r = ref_round(x, e, rounding)
    q = min(max(r, -2 ** (k - 1)), 2 ** (k - 1) - 1)
    return q, q != r


def ref_apsq(tiles, exps, gs, k, rounding):
    """One address: tiles is a list of lists (steps x lanes) of Python ints."""
    n, lanes = len(tiles), len(tiles[0])
    out, sat = [], False
    for lane in range(lanes):
        pending, ap = [], None
        for i in range(n):
            x, e = tiles[i][lane], exps[i]
            if i % gs == gs - 1 or i == n - 1:
                s = x + sum(q * 2 ** ej for q, ej in pending)
                if ap is not None:
                    s += ap[0] * 2 ** ap[1]
                q, clipped = ref_quantize(s, e, k, rounding)
                ap, pending = (q, e), []
            else:
                q, clipped = ref_quantize(x, e, k, rounding)
                pending.append((q, e))
            sat |= clipped
        out.append(ap[0])
    return out, ap[1], sat


@st.composite
def workloads(draw):
    psum_bits = draw(st.integers(2, 64))
    q_bits = draw(st.integers(2, psum_bits))
    exp_max = draw(st.sampled_from([1, 3, 7, 15, 31, 63]))
    n = draw(st.integers(1, 20))
    lanes = draw(st.integers(1, 4))
    lo, hi = -2 ** (psum_bits - 1), 2 ** (psum_bits - 1) - 1
    # Bias towards the extremes to exercise saturation and the most negative PSUM.
    value = st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi, 0, -1, 1]))
    tiles = draw(st.lists(st.lists(value, min_size=lanes, max_size=lanes), min_size=n, max_size=n))
    exps = draw(st.lists(st.integers(0, exp_max), min_size=n, max_size=n))
    gs = draw(st.integers(1, 16))
    rounding = draw(st.sampled_from(golden.ROUNDING_RULES))
    return tiles, exps, gs, q_bits, rounding


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(x=st.integers(-2 ** 63, 2 ** 63 - 1), e=st.integers(0, 63), k=st.integers(2, 64),
       rounding=st.sampled_from(golden.ROUNDING_RULES))
def test_quantize_matches_reference(x, e, k, rounding):
    q, sat = golden.quantize([x], e, q_bits=k, rounding=rounding)
    assert (int(q[0]), bool(sat[0])) == ref_quantize(x, e, k, rounding)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads())
def test_apsq_matches_reference(workload):
    tiles, exps, gs, q_bits, rounding = workload
    r = golden.apsq_accumulate(np.array(tiles, dtype=object), exps, gs, q_bits=q_bits,
                               rounding=rounding)
    values, exp, sat = ref_apsq(tiles, exps, gs, q_bits, rounding)
    assert [int(v) for v in r.values] == values
    assert r.exp == exp and r.sat == sat


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads())
def test_engine_matches_reference(workload):
    tiles, exps, gs, q_bits, rounding = workload
    psum_bits = max(q_bits, max(max(abs(v) for v in t) for t in tiles).bit_length() + 1)
    eng = golden.Engine(lanes=len(tiles[0]), psum_bits=min(64, psum_bits), q_bits=q_bits,
                        max_group_size=16, depth=1, exp_bits=6, rounding=rounding)
    eng.configure(gs)
    results = [eng.push(0, i, i == len(tiles) - 1, e, t) for i, (t, e) in enumerate(zip(tiles, exps))]
    values, exp, sat = ref_apsq(tiles, exps, gs, q_bits, rounding)
    assert results[-1] == golden.Result(0, exp, sat, tuple(values))


def test_vectorized_addresses_match_reference():
    seed = int(os.environ.get("APSQ_SEED", random.randrange(2 ** 32)))
    print(f"APSQ_SEED={seed}")
    rng = np.random.default_rng(seed)
    for _ in range(20):
        n, addrs, lanes = rng.integers(1, 12), rng.integers(1, 6), rng.integers(1, 5)
        q_bits = int(rng.integers(2, 9))
        gs = int(rng.integers(1, 17))
        rounding = str(rng.choice(golden.ROUNDING_RULES))
        tiles = rng.integers(-2 ** 20, 2 ** 20, size=(n, addrs, lanes))
        exps = rng.integers(0, 16, size=n)
        r = golden.apsq_accumulate(tiles, exps, gs, q_bits=q_bits, rounding=rounding)
        for a in range(addrs):
            values, exp, sat = ref_apsq(tiles[:, a, :].tolist(), exps.tolist(), gs, q_bits, rounding)
            assert r.values[a].tolist() == values, f"seed {seed}, address {a}"
            assert r.exp == exp and bool(r.sat[a]) == sat, f"seed {seed}, address {a}"


def test_psq_and_exact_references():
    tiles = [[2 ** 62, -3], [2 ** 62, 5], [2 ** 62, 7]]
    assert golden.exact_sum(np.array(tiles, dtype=object)).tolist() == [3 * 2 ** 62, 9]
    psq = golden.psq_accumulate(tiles, [60, 1, 1], q_bits=8, rounding="half_up")
    # Q_60(2**62) = 4 -> 4 * 2**60; Q_1(2**62) saturates to 127 -> 254.
    # Lane 1: Q_60(-3) = 0; Q_1(5) = 3 -> 6; Q_1(7) = 4 -> 8.
    assert [int(v) for v in psq] == [2 ** 62 + 254 + 254, 14]


def test_pending_sum_past_int64():
    """Three pending values that each fit int64 but whose sum does not (q_bits 62, gs 4): the
    sum stays exact and the final AP saturates to 2**61 - 1, as the reference says."""
    tiles = [[0, 2 ** 61 - 2], [0, 3 * 2 ** 60 - 1], [0, 3 * 2 ** 60 + 1], [0, 0]]
    # Pending: 2**61 - 2, then Q_1 gives 3 * 2**59 and 3 * 2**59 + 1 (half_up), dequantized
    # 3 * 2**60 and 3 * 2**60 + 2; the last step's S = 2**63 > 2**61 - 1.
    r = golden.apsq_accumulate(np.array(tiles, dtype=object), [0, 1, 1, 0], 4, q_bits=62)
    assert [int(v) for v in r.values] == [0, 2 ** 61 - 1] and r.exp == 0 and r.sat
    assert ref_apsq(tiles, [0, 1, 1, 0], 4, 62, "half_up") == ([0, 2 ** 61 - 1], 0, True)
    eng = golden.Engine(lanes=2, psum_bits=64, q_bits=62, max_group_size=4, depth=1,
                        exp_bits=1)
    eng.configure(4)
    results = [eng.push(0, i, i == 3, e, t) for i, (t, e) in enumerate(zip(tiles, [0, 1, 1, 0]))]
    assert results[-1] == golden.Result(0, 0, True, (0, 2 ** 61 - 1))
