"""The shift dequantizer alone (Amaranth simulator) against golden.dequantize."""

import random

import numpy as np
import pytest

from apsq_rae import golden
from apsq_rae.hdl.dequant import ShiftDequantizer

from sim_helpers import run_pipeline, seed_from_env


@pytest.mark.parametrize("q_bits,exp_bits,lps,latency,select_lanes", [
    (8, 5, 2, 3, 0), (2, 1, 1, 1, 0), (5, 6, 3, 2, 0), (16, 3, 1, 3, 0), (8, 5, 0, 0, 0),
    (3, 6, 0, 0, 0),
    # copies of the exponent registers: one per lane, one per three lanes (of four)
    (8, 5, 1, 5, 1), (5, 6, 2, 3, 3)])
def test_dequantizer(q_bits, exp_bits, lps, latency, select_lanes):
    lanes = 4
    dut = ShiftDequantizer(lanes=lanes, q_bits=q_bits, exp_bits=exp_bits, levels_per_stage=lps,
                           select_lanes=select_lanes)
    assert dut.out_bits == q_bits + (1 << exp_bits) - 1
    assert dut.latency == latency
    lo, hi = -(1 << (q_bits - 1)), (1 << (q_bits - 1)) - 1
    rng = random.Random(seed_from_env(default=q_bits))
    vectors = []
    for e in range(1 << exp_bits):
        for en in (1, 0):
            vectors.append(([lo, hi, -1, 1], e, en))
            vectors.append(([0, rng.randint(lo, hi), rng.randint(lo, hi), lo + 1], e, en))

    def set_inputs(ctx, vec):
        qs, e, en = vec
        ctx.set(dut.exp, e)
        ctx.set(dut.en, en)
        for j, q in enumerate(qs):
            ctx.set(dut.q[j], q)

    outputs = run_pipeline(dut, dut.latency, vectors, set_inputs,
                           lambda ctx: [ctx.get(dut.value[j]) for j in range(lanes)])
    for (qs, e, en), got in zip(vectors, outputs):
        want = golden.dequantize(np.array(qs, dtype=object), e) if en else [0] * lanes
        assert got == [int(v) for v in want], f"q={qs} e={e} en={en}"


def test_component_argument_errors():
    with pytest.raises(ValueError, match=r"levels_per_stage = -1 is out of range \(legal: >= 0\)"):
        ShiftDequantizer(lanes=1, q_bits=4, exp_bits=2, levels_per_stage=-1)
    with pytest.raises(ValueError, match=r"select_lanes = -1 is out of range \(legal: >= 0\)"):
        ShiftDequantizer(lanes=1, q_bits=4, exp_bits=2, select_lanes=-1)
    with pytest.raises(ValueError, match=r"q_bits = 1 is out of range \(legal: >= 2\)"):
        ShiftDequantizer(lanes=1, q_bits=1, exp_bits=2)
    with pytest.raises(TypeError, match=r"lanes must be an integer, not '2'"):
        ShiftDequantizer(lanes="2", q_bits=4, exp_bits=2)
