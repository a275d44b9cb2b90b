"""Exponent calibration of the explorer."""

import os

import numpy as np
import pytest

from apsq_rae import golden
from apsq_rae.explore.calib import apsq_exps, collect_stats, exponent_for, psq_exps, safe_exps


def _seed(default):
    """``$APSQ_SEED`` if set, else ``default``; printed so a failure can be replayed."""
    seed = int(os.environ.get("APSQ_SEED", str(default)), 0)
    print(f"APSQ_SEED={seed}")
    return seed


def test_exponent_for():
    assert exponent_for(0) == 0
    assert exponent_for(127) == 0
    assert exponent_for(128) == 1
    assert exponent_for(254) == 1
    assert exponent_for(255) == 2
    assert exponent_for(2 ** 20, q_bits=8) == 14        # 127 * 2**13 < 2**20 <= 127 * 2**14
    assert exponent_for(31, q_bits=6) == 0 and exponent_for(32, q_bits=6) == 1
    assert exponent_for(2 ** 60, exp_bits=5) == 31       # capped


def test_stats_and_exps_per_mode():
    # one address, one lane, four steps: tiles 100, 200, -50, 300; running sums 100 300 250 550
    tiles = np.array([100, 200, -50, 300]).reshape(4, 1, 1)
    st = collect_stats(tiles, 0.5)
    assert st.tile.tolist() == [100, 200, 50, 300]
    assert st.cum.tolist() == [100, 300, 250, 550]
    assert psq_exps(st).tolist() == [0, 1, 0, 2]
    # gs 1: every step is APSQ -> running sums
    assert apsq_exps(st, 1).tolist() == [0, 2, 1, 3]
    # gs 2: steps 0, 2 PSQ (tiles), steps 1, 3 APSQ (sums)
    assert apsq_exps(st, 2).tolist() == [0, 2, 0, 3]
    # gs 8 > n: only the last step is APSQ
    assert apsq_exps(st, 8).tolist() == [0, 1, 0, 3]
    assert safe_exps(st).tolist() == [0, 2, 1, 3]


def test_percentile_is_not_above_max():
    rng = np.random.default_rng(_seed(3))
    tiles = rng.integers(-1000, 1000, (3, 50, 16))
    a = collect_stats(tiles, 1.0, 100)
    b = collect_stats(tiles, 1.0, 99)
    assert np.all(b.tile <= a.tile) and np.all(b.cum <= a.cum)
    assert a.tile.tolist() == np.abs(tiles).reshape(3, -1).max(axis=1).tolist()
    with pytest.raises(ValueError, match="percentile"):
        collect_stats(tiles, 1.0, 0)


def test_max_calibration_never_saturates_psq_on_its_own_data():
    rng = np.random.default_rng(_seed(5))
    tiles = rng.integers(-30000, 30000, (6, 40, 16))
    st = collect_stats(tiles, 1.0)
    for i, e in enumerate(psq_exps(st)):
        _, sat = golden.quantize(tiles[i], int(e))
        assert not sat.any()
