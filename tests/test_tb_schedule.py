"""The issue-rule model (:mod:`apsq_rae.tb.schedule`) and the cocotb ``schedule`` test that
holds the engine to it: the model on worked examples, and the test failing when the rule it is
given is one clock off either way."""

import json

import pytest

from apsq_rae.golden import Tile
from apsq_rae.tb.configs import FAST, config_from_manifest
from apsq_rae.tb.schedule import issue_offsets, reads_banks
from apsq_rae.tb.sim import build, run


def _tiles(addr, n):
    return [Tile(addr, s, s == n - 1, 0, (0,)) for s in range(n)]


def test_which_steps_read():
    # gs = 1: every step but step 0 adds the AP.
    assert [reads_banks(s, False, 1) for s in range(4)] == [False, True, True, True]
    # gs = 4: the APSQ step (p = 3) reads; a last step reads unless it is step 0.
    assert [reads_banks(s, False, 4) for s in range(8)] == [False] * 3 + [True] + \
        [False] * 3 + [True]
    assert reads_banks(1, True, 4) and not reads_banks(0, True, 4)
    # A PSQ step right after an AP reads nothing; the last step of the next group reads.
    assert not reads_banks(4, False, 4) and reads_banks(5, True, 4)


def test_one_address_at_group_size_4():
    # docs/design.md: a group costs gs - 1 clocks for its PSQ tiles plus g for its APSQ tile.
    assert issue_offsets(_tiles(0, 8), 4, 3) == [0, 1, 2, 5, 6, 7, 8, 11]
    assert issue_offsets(_tiles(0, 8), 4, 15) == [0, 1, 2, 17, 18, 19, 20, 35]


def test_other_addresses_fill_the_wait():
    a, b = _tiles(0, 2), _tiles(1, 2)
    # gs = 1, g = 3: a0 b0 a1 b1; a1 waits for a0 (clock 3), b1 for b0 (clock 4).
    assert issue_offsets([a[0], b[0], a[1], b[1]], 1, 3) == [0, 1, 3, 4]
    # A new accumulation of the address (step 0 reads nothing) does not wait.
    assert issue_offsets(_tiles(0, 1) + _tiles(0, 1), 1, 10) == [0, 1]


@pytest.mark.parametrize("delta", [-1, 1])
def test_schedule_fails_when_the_rule_is_off_by_one(delta):
    params = FAST["min"]
    _, _, manifest = build(params, pipeline="min")
    config = config_from_manifest(manifest, 1)
    config["reread_distance"] += delta
    with pytest.raises(AssertionError, match=r"cocotb schedule failed"):
        run(params, "schedule", pipeline="min", run_name=f"schedule-off{delta:+d}",
            extra_env={"APSQ_TB_CONFIG": json.dumps(config)})
