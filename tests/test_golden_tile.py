"""``golden.Tile``, the engine's input transaction: its fields and value semantics, and that
the testbench and the FPGA host use this one class."""

import dataclasses

import pytest

from apsq_rae import golden
from apsq_rae.fpga import protocol
from apsq_rae.tb import stimulus


def test_tile_fields_and_value_semantics():
    t = golden.Tile(3, 1, True, 5, (-1, 2))
    assert [f.name for f in dataclasses.fields(golden.Tile)] == ["addr", "step", "last", "exp",
                                                                  "data"]
    assert (t.addr, t.step, t.last, t.exp, t.data) == (3, 1, True, 5, (-1, 2))
    assert t == golden.Tile(addr=3, step=1, last=True, exp=5, data=(-1, 2))
    assert t != golden.Tile(3, 1, False, 5, (-1, 2))
    assert len({t, golden.Tile(3, 1, True, 5, (-1, 2))}) == 1
    assert repr(t) == "Tile(addr=3, step=1, last=True, exp=5, data=(-1, 2))"
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.addr = 4


def test_tile_feeds_the_engine():
    eng = golden.Engine(lanes=2, psum_bits=8, q_bits=4, max_group_size=1, depth=4, exp_bits=2)
    eng.configure(1)
    t = golden.Tile(3, 0, True, 1, (5, -6))
    # Q_1(5) = R(2.5) = 3 (half_up), Q_1(-6) = -3.
    assert eng.push(t.addr, t.step, t.last, t.exp, t.data) == golden.Result(
        addr=3, exp=1, sat=False, data=(3, -3))


def test_one_tile_class():
    assert protocol.Tile is golden.Tile
    assert stimulus.Tile is golden.Tile
