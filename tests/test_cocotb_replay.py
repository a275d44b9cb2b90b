"""Replay PSUM captures (``tests/data/capture_*.npz``) through the generated Verilog.

Each capture runs at every group size of an engine sized for it (see
:func:`apsq_rae.tb.capture.capture_params`), scored by :class:`apsq_rae.golden.Engine`. A
synthetic capture made here proves the replay path even when no real capture is present. The
file format itself is tested in ``tests/test_explore_capture.py``.
"""

import random
from pathlib import Path

import numpy as np
import pytest

from apsq_rae.explore.capture_file import read_capture, write_capture
from apsq_rae.hdl.params import RAEParams
from apsq_rae.tb.capture import capture_params
from apsq_rae.tb.sim import base_seed, run
from apsq_rae.tb.stimulus import Stimulus

CAPTURES = sorted((Path(__file__).resolve().parent.parent / "tests" / "data")
                  .glob("capture_*.npz"))


#: Addresses of each capture the quick regression replays (all of them in ``make regress``).
QUICK_ADDRESSES = 64


def _replay(path, addresses):
    if path is None:
        pytest.skip("no tests/data/capture_*.npz present")
    params = capture_params(read_capture(path))
    env = {"APSQ_CAPTURE": str(path), "APSQ_REPLAY_ADDRS": str(addresses)}
    run(params, "replay", extra_env=env, run_name=f"replay-{path.stem}-{addresses or 'all'}")


@pytest.mark.parametrize("path", CAPTURES or [None],
                         ids=[p.stem for p in CAPTURES] or ["none"])
def test_replay_capture(path):
    """The first addresses of every capture, every group size."""
    _replay(path, QUICK_ADDRESSES)


@pytest.mark.slow
@pytest.mark.parametrize("path", CAPTURES or [None],
                         ids=[p.stem for p in CAPTURES] or ["none"])
def test_replay_capture_full(path):
    """Every tile of every capture, every group size."""
    _replay(path, 0)


def synthetic_capture(path, params, seed):
    """A capture in the real format: weight-stationary order, partial last groups, the
    exponents per transaction."""
    rng = random.Random(seed)
    stim = Stimulus(params, rng)
    streams = {a: stim.accumulation(a, rng.choice((1, 3, 5, 6)), exp_kind="fit")
               for a in range(params.depth)}
    tiles = stim.ws(streams)
    write_capture(path, {
        "addr": [t.addr for t in tiles], "step": [t.step for t in tiles],
        "last": [t.last for t in tiles], "exp": [t.exp for t in tiles],
        "data": [t.data for t in tiles],
        "meta": {"lanes": params.lanes, "psum_bits": params.psum_bits,
                 "exp_bits": params.exp_bits, "layer": "synthetic", "dataflow": "ws",
                 "chunk": 1}})
    return tiles


def test_replay_synthetic(tmp_path):
    source = RAEParams(lanes=3, psum_bits=20, exp_bits=4, depth=12)
    path = tmp_path / "capture_synthetic.npz"
    tiles = synthetic_capture(path, source, base_seed())
    capture = read_capture(path)
    assert capture["data"].shape == (len(tiles), 3)
    params = capture_params(capture)
    assert (params.lanes, params.psum_bits, params.exp_bits, params.depth) == (3, 20, 4, 12)
    run(params, "replay", extra_env={"APSQ_CAPTURE": str(path)}, run_name="replay-synthetic")



def test_capture_params_of_the_shipped_file():
    """The engine for tests/data/capture_tiny.npz: its geometry, depth 256 for addresses
    0..255, the default step width for 8 steps."""
    capture = read_capture(Path(__file__).resolve().parent / "data" / "capture_tiny.npz")
    assert capture_params(capture) == RAEParams(lanes=16, psum_bits=32, q_bits=8,
                                                max_group_size=4, depth=256, exp_bits=5,
                                                step_bits=16, rounding="half_up")
    assert capture_params(capture, max_group_size=2).max_group_size == 2


def test_capture_params_widens_steps_and_takes_defaults():
    """A meta without q_bits and rounding takes min(8, psum_bits) and half_up; step 70000
    needs 17 step bits; the highest address 9 gives depth 10."""
    capture = {"addr": np.array([9, 9]), "step": np.array([0, 70000]),
               "meta": {"lanes": 2, "psum_bits": 6, "exp_bits": 3}}
    assert capture_params(capture) == RAEParams(lanes=2, psum_bits=6, q_bits=6,
                                                max_group_size=4, depth=10, exp_bits=3,
                                                step_bits=17, rounding="half_up")
