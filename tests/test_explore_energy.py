"""PSUM traffic and energy model of the explorer (literal numbers from the protocol)."""

import pytest

from apsq_rae.explore.energy import (EnergyParams, apsq_traffic, capacity, int32_capacity,
                                int32_traffic, layer_energy, spill_fraction, total_reduction)


def test_int32_traffic():
    assert int32_traffic(4) == (128, 128)
    assert int32_traffic(1, 16) == (16, 16)


@pytest.mark.parametrize("n,gs", [(1, 1), (4, 1), (4, 2), (4, 4), (5, 3), (12, 4), (3, 8)])
def test_apsq_moves_one_write_and_one_read_per_step(n, gs):
    assert apsq_traffic(n, gs, 8) == (8 * n, 8 * n)


def test_apsq_traffic_counts_reads_per_step():
    # gs 2, 3 steps: step 0 PSQ (write), step 1 APSQ (read 1 pending, write), step 2 last APSQ
    # (read the AP, write), then the result read: 3 writes, 3 reads
    assert apsq_traffic(3, 2, 4) == (12, 12)


def test_capacities():
    p = EnergyParams()
    assert [capacity(p, g) for g in (1, 2, 3, 4)] == [1024, 512, 256, 256]
    assert capacity(p, 8) == 128                   # hypothetical larger engine
    assert int32_capacity(p, 8) == 256
    assert spill_fraction(512, 256) == 0.5 and spill_fraction(100, 256) == 0.0


def test_layer_energy_no_spill_is_q_over_psum_bits():
    p = EnergyParams(ws_rows=100, is_rows=1)
    r = layer_energy(p, n_outputs=10, n_steps=6, n_blocks=4, dataflow="is", q_bits=8,
                     group_sizes=[1, 4])
    assert r["int32"]["bits"] == 10 * 6 * 64
    assert r["int32"]["spill"] == 0
    for gs in (1, 4):
        assert r["apsq"][gs]["bits"] == 10 * 6 * 16
        assert r["apsq"][gs]["reduction"] == pytest.approx(0.75)


def test_layer_energy_spill_model():
    p = EnergyParams(sram_pj_per_bit=1.0, dram_pj_per_bit=10.0, ws_rows=512)
    r = layer_energy(p, n_outputs=1, n_steps=1, n_blocks=1, dataflow="ws", q_bits=8,
                     group_sizes=[1, 4])
    # INT32: 512 alive, 256 fit: half the bits at DRAM cost: 64 * (0.5 * 1 + 0.5 * 10)
    assert r["int32"]["pj"] == pytest.approx(64 * 5.5)
    assert r["apsq"][1]["pj"] == pytest.approx(16 * 1.0)          # 1024 fit
    assert r["apsq"][4]["pj"] == pytest.approx(16 * 5.5)          # 256 fit
    assert total_reduction([r, r], [1, 4]) == pytest.approx({1: 1 - 16 / 352, 4: 0.75})


def test_params_are_checked():
    with pytest.raises(ValueError, match="depth = 0"):
        EnergyParams(depth=0)
    with pytest.raises(ValueError, match="dram_pj_per_bit"):
        EnergyParams(dram_pj_per_bit=0)
