"""Capture files: the shipped tests/data/capture_tiny.npz, its round trip, and its replay on
the golden transaction-level engine at every group size."""

import json
from pathlib import Path

import numpy as np
import pytest

from apsq_rae import golden
from apsq_rae.explore.bert import tiny_bert
from apsq_rae.explore.capture import make_capture, read_capture, write_capture
from apsq_rae.explore.sentences import CALIBRATION, EVALUATION
from apsq_rae.explore.sweep import Explorer


DATA = Path(__file__).parent / "data"
TINY = DATA / "capture_tiny.npz"


def _tiny_capture(dataflow="is", max_addresses=256):
    # The settings of `apsq-rae capture --model tiny --chunk 16` (its defaults otherwise).
    explorer = Explorer(tiny_bert(0), chunk=16, lanes=16, act_granularity="token",
                        exp_granularity="block", percentile=99.9, log=None)
    explorer.calibrate(CALIBRATION)
    return make_capture(explorer, "encoder.layer.0.output.dense", EVALUATION,
                        dataflow=dataflow, max_addresses=max_addresses)


def test_shipped_file_format():
    cap = read_capture(TINY)
    meta = cap["meta"]
    n = len(cap["addr"])
    assert meta["lanes"] == 16 and meta["psum_bits"] == 32 and meta["exp_bits"] == 5
    assert meta["layer"] == "encoder.layer.0.output.dense" and meta["dataflow"] == "is"
    assert meta["chunk"] == 16 and meta["n_steps"] == 8 and meta["n_addresses"] == 256
    assert n == 256 * 8
    assert cap["addr"].dtype == np.int64 and cap["step"].dtype == np.int64
    assert cap["exp"].dtype == np.int64 and cap["data"].dtype == np.int64
    assert cap["last"].dtype == bool and cap["data"].shape == (n, 16)
    assert 0 <= cap["addr"].min() and cap["addr"].max() < 256
    assert 0 <= cap["exp"].min() and cap["exp"].max() < 32
    assert len(set(cap["exp"].tolist())) > 1          # exponents vary by step and block
    assert np.abs(cap["data"]).max() < 2 ** 31
    assert np.array_equal(cap["last"], cap["step"] == 7)
    # Every address sends steps 0..7 in order.
    for a in (0, 1, 100, 255):
        assert cap["step"][cap["addr"] == a].tolist() == list(range(8))
    with np.load(TINY) as f:
        assert f["meta"].shape == () and json.loads(str(f["meta"]))["lanes"] == 16


def test_shipped_file_is_reproducible():
    """The documented command (README, Explorer) regenerates exactly the shipped file."""
    cap = _tiny_capture()
    shipped = read_capture(TINY)
    for key in ("addr", "step", "last", "exp", "data"):
        assert np.array_equal(cap[key], shipped[key]), key
    assert cap["meta"] == shipped["meta"]


def test_round_trip(tmp_path):
    cap = _tiny_capture("ws", max_addresses=40)
    assert cap["meta"]["n_addresses"] == 40
    # WS: step i of every address before step i + 1 of any.
    assert np.all(np.diff(cap["step"]) >= 0)
    write_capture(tmp_path / "c.npz", cap)
    back = read_capture(tmp_path / "c.npz")
    for key in ("addr", "step", "last", "exp", "data"):
        assert np.array_equal(back[key], cap[key])
    assert back["meta"] == cap["meta"]


def test_read_refuses_a_broken_file(tmp_path):
    np.savez(tmp_path / "bad.npz", addr=np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="lacks"):
        read_capture(tmp_path / "bad.npz")
    cap = _tiny_capture(max_addresses=2)
    cap["exp"] = cap["exp"] + 40
    with pytest.raises(ValueError, match="exp out of range"):
        write_capture(tmp_path / "bad2.npz", cap)


def test_make_capture_checks_arguments():
    explorer = Explorer(tiny_bert(0), chunk=16, log=None)
    explorer.calibrate(CALIBRATION[:2])
    with pytest.raises(ValueError, match="layer"):
        make_capture(explorer, "pooler", EVALUATION[:2])
    with pytest.raises(ValueError, match="max_addresses"):
        make_capture(explorer, "encoder.layer.0.output.dense", EVALUATION[:2], max_addresses=1)


@pytest.mark.parametrize("gs", [1, 2, 3, 4])
def test_engine_replays_the_shipped_file(gs):
    cap = read_capture(TINY)
    meta = cap["meta"]
    eng = golden.Engine(lanes=meta["lanes"], psum_bits=meta["psum_bits"], q_bits=8,
                        max_group_size=4, depth=256, exp_bits=meta["exp_bits"], strict=True)
    eng.configure(gs)
    results = []
    for a, s, last, e, d in zip(cap["addr"], cap["step"], cap["last"], cap["exp"], cap["data"]):
        r = eng.push(int(a), int(s), bool(last), int(e), [int(v) for v in d])
        if r is not None:
            results.append(r)
    assert eng.err == 0 and not eng.in_flight
    # One result per address, in the order their last tiles arrived.
    assert [r.addr for r in results] == cap["addr"][cap["last"]].tolist()
    # Each equals APSQ of that address's tiles in step order (golden.apsq_accumulate).
    n = meta["n_steps"]
    for r in results[::17]:
        sel = cap["addr"] == r.addr
        tiles = cap["data"][sel][np.argsort(cap["step"][sel])]
        exps = cap["exp"][sel][np.argsort(cap["step"][sel])]
        want = golden.apsq_accumulate(tiles.reshape(n, 16), exps, gs)
        assert list(r.data) == want.values.tolist() and r.exp == want.exp
        assert r.sat == want.sat
