"""The quantizer alone (Amaranth simulator) against golden.quantize."""

import random

import numpy as np
import pytest

from apsq_rae import golden
from apsq_rae.hdl.quantizer import Quantizer

from sim_helpers import run_pipeline, seed_from_env


def quantizer_vectors(rng, in_bits, q_bits, exp_bits, lanes, n_random):
    """Every exponent with the extremes, the rounding ties of that exponent and their
    neighbours (around 0 and around both saturation edges), and a few random values."""
    lo, hi = -(1 << (in_bits - 1)), (1 << (in_bits - 1)) - 1
    q_lo, q_hi = -(1 << (q_bits - 1)), (1 << (q_bits - 1)) - 1
    vectors = []
    for e in range(1 << exp_bits):
        values = [lo, lo + 1, hi, hi - 1, -1, 0, 1]
        for k in (-3, -1, 0, 1, 2, q_lo - 2, q_lo - 1, q_lo, q_hi - 1, q_hi, q_hi + 1):
            tie = (k << e) + ((1 << e) >> 1)
            values += [v for v in (tie - 1, tie, tie + 1) if lo <= v <= hi]
        values += [rng.randint(lo, hi) for _ in range(n_random)]
        for k in range(0, len(values), lanes):
            chunk = values[k:k + lanes]
            chunk += [rng.randint(lo, hi) for _ in range(lanes - len(chunk))]
            vectors.append((chunk, e))
    return vectors


QUANT_CONFIGS = [
    # in_bits, q_bits, exp_bits, levels_per_stage, round_stages, latency
    (42, 8, 5, 2, 2, 5),
    (12, 4, 3, 1, 2, 5),
    (9, 9, 2, 2, 2, 3),
    (70, 16, 6, 3, 2, 4),
    (3, 2, 1, 1, 2, 3),
    (42, 8, 5, 0, 1, 1),
    (12, 4, 3, 1, 1, 4),
    (70, 16, 6, 0, 2, 2),
    (42, 8, 5, 1, 3, 8),
    (9, 9, 2, 2, 3, 4),
    (10, 8, 3, 0, 3, 3),
    (3, 2, 1, 1, 3, 4),
]


@pytest.mark.parametrize("rounding", ["half_up", "half_even", "trunc"])
@pytest.mark.parametrize("in_bits,q_bits,exp_bits,lps,stages,latency", QUANT_CONFIGS)
def test_quantizer(in_bits, q_bits, exp_bits, lps, stages, latency, rounding):
    check_quantizer(in_bits, q_bits, exp_bits, lps, stages, latency, rounding)


@pytest.mark.parametrize("select_lanes", [1, 2])
@pytest.mark.parametrize("in_bits,q_bits,exp_bits,lps,stages,latency", [
    (42, 8, 5, 1, 3, 8), (12, 4, 3, 2, 2, 4), (70, 16, 6, 3, 2, 4)])
def test_quantizer_exponent_copies(in_bits, q_bits, exp_bits, lps, stages, latency,
                                   select_lanes):
    """Copies of the shifter's exponent registers (one per ``select_lanes`` lanes of three):
    every lane still shifts by its own tile's exponent."""
    check_quantizer(in_bits, q_bits, exp_bits, lps, stages, latency, "half_even", select_lanes)


def check_quantizer(in_bits, q_bits, exp_bits, lps, stages, latency, rounding, select_lanes=0):
    seed = seed_from_env(default=in_bits * 100 + q_bits)
    rng = random.Random(seed)
    lanes = 3
    dut = Quantizer(lanes=lanes, in_bits=in_bits, q_bits=q_bits, exp_bits=exp_bits,
                    rounding=rounding, levels_per_stage=lps, round_stages=stages,
                    select_lanes=select_lanes)
    assert dut.latency == latency
    vectors = quantizer_vectors(rng, in_bits, q_bits, exp_bits, lanes, 2)

    def set_inputs(ctx, vec):
        xs, e = vec
        ctx.set(dut.exp, e)
        for j, x in enumerate(xs):
            ctx.set(dut.x[j], x)

    def get_outputs(ctx):
        return [ctx.get(dut.q[j]) for j in range(lanes)], ctx.get(dut.sat), ctx.get(dut.any_sat)

    outputs = run_pipeline(dut, dut.latency, vectors, set_inputs, get_outputs)
    saw_sat = set()
    for (xs, e), (qs, sat, any_sat) in zip(vectors, outputs):
        want_q, want_sat = golden.quantize(np.array(xs, dtype=object), e, q_bits=q_bits,
                                           rounding=rounding)
        assert qs == [int(v) for v in want_q], f"x={xs} e={e}"
        assert [(sat >> j) & 1 for j in range(lanes)] == [int(s) for s in want_sat], f"x={xs} e={e}"
        assert any_sat == int(any(want_sat)), f"x={xs} e={e}"
        for x, q, s in zip(xs, qs, want_sat):
            if s:
                saw_sat.add(x > 0)
    if q_bits < in_bits:
        assert saw_sat == {True, False}                  # saturation both ways was exercised


def test_quantizer_spec_examples():
    """Spec section 2: e = 2, x = -7,-6,-5,-2,2,5,6,7."""
    xs = [-7, -6, -5, -2, 2, 5, 6, 7]
    want = {"half_up":   [-2, -1, -1, 0, 1, 1, 2, 2],
            "half_even": [-2, -2, -1, 0, 0, 1, 2, 2],
            "trunc":     [-2, -2, -2, -1, 0, 1, 1, 1]}
    for rounding, expected in want.items():
        dut = Quantizer(lanes=8, in_bits=6, q_bits=4, exp_bits=2, rounding=rounding)

        def set_inputs(ctx, vec):
            ctx.set(dut.exp, 2)
            for j, x in enumerate(vec):
                ctx.set(dut.x[j], x)

        out, = run_pipeline(dut, dut.latency, [xs], set_inputs,
                            lambda ctx: [ctx.get(dut.q[j]) for j in range(8)])
        assert out == expected, rounding


def test_component_argument_errors():
    with pytest.raises(ValueError, match=r"lanes = 0 is out of range \(legal: >= 1\)"):
        Quantizer(lanes=0, in_bits=8, q_bits=4, exp_bits=2)
    with pytest.raises(ValueError, match=r"q_bits = 9 is out of range \(legal: 2\.\.8\)"):
        Quantizer(lanes=1, in_bits=8, q_bits=9, exp_bits=2)
    with pytest.raises(ValueError, match=r"exp_bits = 7 is out of range \(legal: 1\.\.6\)"):
        Quantizer(lanes=1, in_bits=8, q_bits=4, exp_bits=7)
    with pytest.raises(ValueError, match=r"rounding = 'up' is not a rounding rule"):
        Quantizer(lanes=1, in_bits=8, q_bits=4, exp_bits=2, rounding="up")
    with pytest.raises(ValueError, match=r"round_stages = 4 is out of range \(legal: 1\.\.3\)"):
        Quantizer(lanes=1, in_bits=8, q_bits=4, exp_bits=2, round_stages=4)
    with pytest.raises(ValueError, match=r"select_lanes = -1 is out of range \(legal: >= 0\)"):
        Quantizer(lanes=1, in_bits=8, q_bits=4, exp_bits=2, select_lanes=-1)
