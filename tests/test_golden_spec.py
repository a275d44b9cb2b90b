"""The spec's literal examples (docs/spec.md sections 2 and 3) against the golden model."""

import numpy as np
import pytest

from apsq_rae import golden


X = [-7, -6, -5, -2, 2, 5, 6, 7]
ROUNDING_TABLE = {  # spec section 2, e = 2
    "half_up":   [-2, -1, -1, 0, 1, 1, 2, 2],
    "half_even": [-2, -2, -1, 0, 0, 1, 2, 2],
    "trunc":     [-2, -2, -2, -1, 0, 1, 1, 1],
}

TILES = [[1000, -1000], [2047, -300], [-3000, 129], [9000, 70], [-123, -7]]
EXPS = [4, 5, 5, 7, 7]

# Worked example, spec section 3: per group size, the stored value after each step
# (q for PSQ steps, AP for APSQ steps) and the sum S of the APSQ steps.
WORKED = {
    1: [("AP", [63, -62], [1000, -1000]),  # S = Tp at step 0 (the table omits it)
        ("AP", [95, -40], [3055, -1292]), ("AP", [1, -36], [40, -1151]),
        ("AP", [71, -8], [9032, -1082]), ("AP", [70, -8], [8965, -1031])],
    2: [("q", [63, -62], None), ("AP", [95, -40], [3055, -1292]), ("q", [-94, 4], None),
        ("AP", [71, -8], [9032, -1082]), ("AP", [70, -8], [8965, -1031])],
    3: [("q", [63, -62], None), ("q", [64, -9], None), ("AP", [2, -36], [56, -1151]),
        ("q", [70, 1], None), ("AP", [70, -8], [8901, -1031])],
    4: [("q", [63, -62], None), ("q", [64, -9], None), ("q", [-94, 4], None),
        ("AP", [71, -8], [9048, -1082]), ("AP", [70, -8], [8965, -1031])],
}


@pytest.mark.parametrize("rounding", golden.ROUNDING_RULES)
def test_rounding_table(rounding):
    q, sat = golden.quantize(X, 2, rounding=rounding)
    assert q.tolist() == ROUNDING_TABLE[rounding]
    assert not sat.any()


@pytest.mark.parametrize("rounding", golden.ROUNDING_RULES)
def test_exponent_zero_is_identity(rounding):
    q, sat = golden.quantize(X, 0, rounding=rounding)
    assert q.tolist() == X and not sat.any()


def test_saturation_both_ways():
    q, sat = golden.quantize([128 * 4, -129 * 4, 127 * 4, -128 * 4], 2)
    assert q.tolist() == [127, -128, 127, -128]
    assert sat.tolist() == [True, True, False, False]


@pytest.mark.parametrize("gs", [1, 2, 3, 4])
def test_worked_example_every_step(gs):
    engine_trace = []
    pend_sum, ap_deq = 0, None
    for i, (tile, e) in enumerate(zip(TILES, EXPS)):
        last = i == len(TILES) - 1
        s_before = np.array(tile) + pend_sum + (ap_deq if ap_deq is not None and i >= gs else 0)
        pend_sum, ap_deq, ap, _ = golden.apsq.apsq_step(
            np.array(tile), e, step=i, last=last, group_size=gs, pend_sum=pend_sum,
            ap_deq=ap_deq, q_bits=8, rounding="half_up")
        if ap is None:
            engine_trace.append(("q", golden.quantize(tile, e)[0].tolist(), None))
        else:
            engine_trace.append(("AP", ap.tolist(), s_before.tolist()))
    assert engine_trace == WORKED[gs]


@pytest.mark.parametrize("gs", [1, 2, 3, 4])
def test_worked_example_result(gs):
    r = golden.apsq_accumulate(TILES, EXPS, gs)
    assert (r.values.tolist(), r.exp, r.sat) == ([70, -8], 7, False)


def test_worked_example_exact_sum():
    exact = golden.exact_sum(TILES)
    assert exact.tolist() == [8924, -1108]
    assert golden.quantize(exact, 7)[0].tolist() == [70, -9]


@pytest.mark.parametrize("gs,expected", [(1, [125, -17]), (2, [125, -17]), (3, [126, -17]),
                                         (4, [125, -17])])
def test_worked_example_saturating_exponents(gs, expected):
    r = golden.apsq_accumulate(TILES, [4, 5, 5, 6, 6], gs)
    assert (r.values.tolist(), r.exp, r.sat) == (expected, 6, True)


@pytest.mark.parametrize("gs", [1, 2, 3, 4])
def test_worked_example_through_engine(gs):
    eng = golden.Engine(lanes=2)
    eng.configure(gs)
    results = [eng.push(9, i, i == 4, e, t) for i, (t, e) in enumerate(zip(TILES, EXPS))]
    assert results[:4] == [None] * 4
    assert results[4] == golden.Result(addr=9, exp=7, sat=False, data=(70, -8))


@pytest.mark.parametrize("gs", [1, 2, 3, 4])
def test_worked_example_last_step(gs):
    """``Engine.last_step`` (what the coverage model samples): the mode, whether an AP was
    added, and what was quantized, per the worked example (S for APSQ steps, Tp for PSQ)."""
    eng = golden.Engine(lanes=2)
    eng.configure(gs)
    for i, (tile, e) in enumerate(zip(TILES, EXPS)):
        eng.push(9, i, i == 4, e, tile)
        kind, _, s = WORKED[gs][i]
        step = eng.last_step
        assert (step.addr, step.step, step.last, step.exp, step.group_size) == \
            (9, i, i == 4, e, gs)
        assert step.mode == (kind == "AP")
        assert step.has_ap == (kind == "AP" and i >= gs)
        assert step.value.tolist() == (s if kind == "AP" else tile)
        assert step.saturated.tolist() == [False, False]


def test_last_step_saturation_per_lane():
    eng = golden.Engine(lanes=3, q_bits=4)
    eng.configure(1)
    eng.push(0, 0, True, 1, [16, -19, 15])      # 8 and -9.5 (to -9) clip; 7.5 rounds to 8
    assert eng.last_step.saturated.tolist() == [True, True, True]
    eng.push(0, 0, True, 1, [13, -16, 0])
    assert eng.last_step.saturated.tolist() == [False, False, False]
    assert eng.last_step.has_ap is False and eng.last_step.mode == 1
