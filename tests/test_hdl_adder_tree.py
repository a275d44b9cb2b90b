"""The adder tree alone (Amaranth simulator), against golden.exact_sum."""

import random

import numpy as np
import pytest

from apsq_rae import golden
from apsq_rae.hdl.adder_tree import AdderTree

from sim_helpers import run_sim, seed_from_env, with_clock


@pytest.mark.parametrize("lps,input_register", [(1, False), (0, False), (2, False), (3, False),
                                                (1, True), (0, True)])
@pytest.mark.parametrize("n_terms,tp_bits,term_bits", [(4, 32, 36), (1, 8, 4), (5, 12, 20),
                                                        (8, 16, 16), (16, 10, 7)])
def test_adder_tree(n_terms, tp_bits, term_bits, lps, input_register):
    rng = random.Random(seed_from_env(default=n_terms))
    lanes = 2
    dut = AdderTree(lanes=lanes, tp_bits=tp_bits, term_bits=term_bits, n_terms=n_terms,
                    levels_per_stage=lps, input_register=input_register)
    levels = int(np.ceil(np.log2(n_terms + 1)))
    assert dut.latency == (int(np.ceil(levels / lps)) if lps else 0) + input_register
    tlo, thi = -(1 << (tp_bits - 1)), (1 << (tp_bits - 1)) - 1
    dlo, dhi = -(1 << (term_bits - 1)), (1 << (term_bits - 1)) - 1
    vectors = [([tlo] * lanes, [[dlo] * lanes] * n_terms),             # most negative sum
               ([thi] * lanes, [[dhi] * lanes] * n_terms)]             # most positive sum
    for _ in range(20):
        vectors.append(([rng.randint(tlo, thi) for _ in range(lanes)],
                        [[rng.randint(dlo, dhi) for _ in range(lanes)] for _ in range(n_terms)]))
    outputs = []

    async def tb(ctx):
        for t in range(len(vectors) + dut.latency):
            if t < len(vectors):
                tp, terms = vectors[t]
                for j in range(lanes):
                    ctx.set(dut.tp[j], tp[j])
                    for k in range(n_terms):
                        ctx.set(dut.terms[k][j], terms[k][j])
            if dut.latency == 0:
                outputs.append([ctx.get(dut.sum[j]) for j in range(lanes)])
            await ctx.tick()
            if dut.latency and 0 <= t + 1 - dut.latency < len(vectors):
                outputs.append([ctx.get(dut.sum[j]) for j in range(lanes)])

    run_sim(with_clock(dut), tb)
    for (tp, terms), got in zip(vectors, outputs):
        want = golden.exact_sum(np.array([tp] + terms, dtype=object))
        assert got == [int(v) for v in want]
