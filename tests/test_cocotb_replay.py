"""Replay PSUM captures (``tests/data/capture_*.npz``) through the generated Verilog.

Each capture runs at every group size of an engine sized for it (see
:func:`apsq_rae.tb.capture.capture_params`), scored by :class:`apsq_rae.golden.Engine`. A synthetic capture
made here proves the replay path even when no real capture is present.
"""

import random
from pathlib import Path

import numpy as np
import pytest

from apsq_rae.hdl.params import RAEParams
from apsq_rae.tb.capture import capture_params, load_capture, save_capture
from apsq_rae.tb.sim import base_seed, run
from apsq_rae.tb.stimulus import Stimulus

CAPTURES = sorted((Path(__file__).resolve().parent.parent / "tests" / "data")
                  .glob("capture_*.npz"))


#: Addresses of each capture the quick regression replays (all of them in ``make regress``).
QUICK_ADDRESSES = 64


def _replay(path, addresses):
    if path is None:
        pytest.skip("no tests/data/capture_*.npz present")
    params = capture_params(load_capture(path))
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
    save_capture(path, [t.addr for t in tiles], [t.step for t in tiles],
                 [t.last for t in tiles], [t.exp for t in tiles], [t.data for t in tiles],
                 lanes=params.lanes, psum_bits=params.psum_bits, exp_bits=params.exp_bits,
                 layer="synthetic", dataflow="ws", chunk=1)
    return tiles


def test_replay_synthetic(tmp_path):
    source = RAEParams(lanes=3, psum_bits=20, exp_bits=4, depth=12)
    path = tmp_path / "capture_synthetic.npz"
    tiles = synthetic_capture(path, source, base_seed())
    capture = load_capture(path)
    assert capture["data"].shape == (len(tiles), 3)
    params = capture_params(capture)
    assert (params.lanes, params.psum_bits, params.exp_bits, params.depth) == (3, 20, 4, 12)
    run(params, "replay", extra_env={"APSQ_CAPTURE": str(path)}, run_name="replay-synthetic")


def test_load_capture_refuses_broken_files(tmp_path):
    path = tmp_path / "broken.npz"
    np.savez(path, addr=np.zeros(2, np.int64), step=np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="lacks arrays"):
        load_capture(path)
    save_capture(path, [0], [0], [True], [0], [[1, 2]], lanes=3, psum_bits=8, exp_bits=2)
    with pytest.raises(ValueError, match="lanes"):
        load_capture(path)
