"""Capture files: the format's reader and writer, the shipped tests/data/capture_tiny.npz (its
format, the command that makes it, its round trip) and its replay on the golden
transaction-level engine at every group size."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from apsq_rae import golden
from apsq_rae.explore.bert import tiny_bert
from apsq_rae.cli import main
from apsq_rae.explore.capture import make_capture
from apsq_rae.explore.capture_file import ARRAYS, KEYS, META_KEYS, read_capture, write_capture
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
    """The documented command (docs/explorer.md, Capture files) regenerates exactly the shipped file."""
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


def test_capture_command_reproduces_the_shipped_file(tmp_path):
    """The documented command writes the shipped file's exact bytes."""
    out = tmp_path / "capture_tiny.npz"
    assert main(["capture", "--model", "tiny", "--chunk", "16", "--dataflow", "is",
                 "--out", str(out)]) == 0
    assert out.read_bytes() == TINY.read_bytes()


def test_format_constants():
    assert KEYS == ("addr", "step", "last", "exp", "data", "meta")
    assert [np.dtype(d).name for d in ARRAYS.values()] == ["int64"] * 2 + ["bool"] + ["int64"] * 2
    assert META_KEYS == ("lanes", "psum_bits", "exp_bits")


def test_format_module_loads_no_model_code():
    """The testbench reads captures through capture_file: it must not pull in the explorer's
    model (nor Amaranth)."""
    code = ("import sys, apsq_rae.explore.capture_file; "
            "print(sorted(m for m in sys.modules if m.startswith(('apsq_rae', 'amaranth'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "['apsq_rae', 'apsq_rae.explore', 'apsq_rae.explore.capture_file']"


def _small(**changes):
    """A valid 2-tile capture of 2 lanes, psum_bits 8, exp_bits 2, with ``changes``."""
    cap = {"addr": [0, 0], "step": [0, 1], "last": [False, True], "exp": [0, 3],
           "data": [[-128, 127], [5, -5]], "meta": {"lanes": 2, "psum_bits": 8, "exp_bits": 2}}
    cap.update(changes)
    return cap


def test_write_and_read_a_small_capture(tmp_path):
    """The extremes of the ranges are legal; meta keys beyond the required ones survive."""
    path = tmp_path / "small.npz"
    write_capture(path, _small(meta={"lanes": 2, "psum_bits": 8, "exp_bits": 2, "x": "y"}))
    back = read_capture(path)
    assert back["addr"].tolist() == [0, 0] and back["step"].tolist() == [0, 1]
    assert back["last"].tolist() == [False, True] and back["exp"].tolist() == [0, 3]
    assert back["data"].tolist() == [[-128, 127], [5, -5]]
    assert back["meta"] == {"lanes": 2, "psum_bits": 8, "exp_bits": 2, "x": "y"}
    with np.load(path) as f:
        assert f.files == list(KEYS)
        assert str(f["meta"]) == '{"exp_bits": 2, "lanes": 2, "psum_bits": 8, "x": "y"}'
    write_capture(tmp_path / "empty.npz", _small(addr=[], step=[], last=[], exp=[],
                                                 data=np.zeros((0, 2))))
    assert read_capture(tmp_path / "empty.npz")["data"].shape == (0, 2)


@pytest.mark.parametrize("changes,message", [
    ({"exp": [0, 4]}, "capture: exp = 4 is out of range (legal: 0..3, exp_bits = 2)"),
    ({"exp": [-1, 0]}, "capture: exp = -1 is out of range (legal: 0..3, exp_bits = 2)"),
    ({"data": [[-129, 0], [0, 0]]},
     "capture: data = -129 is out of range (legal: -128..127, psum_bits = 8)"),
    ({"data": [[0, 128], [0, 0]]},
     "capture: data = 128 is out of range (legal: -128..127, psum_bits = 8)"),
    ({"data": [[0, 0, 0], [0, 0, 0]]}, "capture: data has shape (2, 3), expected (2, 2)"),
    ({"step": [0]}, "capture: step has shape (1,), expected (2,)"),
    ({"addr": 0}, "capture: addr has shape (), expected (n,)"),
    ({"addr": [-1, -1]}, "capture: addr = -1 is out of range (legal: >= 0)"),
    ({"step": [-1, 0]}, "capture: step = -1 is out of range (legal: >= 0)"),
    ({"meta": {"lanes": 2, "psum_bits": 8}},
     "capture: meta lacks 'exp_bits' (required: lanes, psum_bits, exp_bits)"),
    ({"meta": {"lanes": 0, "psum_bits": 8, "exp_bits": 2}},
     "capture: meta lanes = 0 is out of range (legal: integer >= 1)"),
    ({"meta": {"lanes": 2, "psum_bits": "8", "exp_bits": 2}},
     "capture: meta psum_bits = '8' is out of range (legal: integer >= 1)"),
    ({"meta": [2, 8, 2]},
     "capture: meta = [2, 8, 2] is not a JSON object (legal: a dict with lanes, psum_bits, "
     "exp_bits)"),
])
def test_write_refuses_a_broken_capture(tmp_path, changes, message):
    path = tmp_path / "bad.npz"
    with pytest.raises(ValueError) as e:
        write_capture(path, _small(**changes))
    assert str(e.value) == message
    assert not path.exists()


def test_read_refuses_a_broken_file(tmp_path):
    path = tmp_path / "bad.npz"
    good = {"addr": np.zeros(2, np.int64), "step": np.arange(2), "last": np.array([0, 1], bool),
            "exp": np.zeros(2, np.int64), "data": np.zeros((2, 3), np.int64),
            "meta": np.array('{"lanes": 3, "psum_bits": 8, "exp_bits": 2}')}
    np.savez(path, addr=good["addr"], step=good["step"])
    with pytest.raises(ValueError) as e:
        read_capture(path)
    assert str(e.value) == (f"{path}: capture file lacks last, exp, data, meta (a capture "
                            f"holds addr, step, last, exp, data, meta)")
    np.savez(path, **{**good, "meta": np.array("{lanes: 3}")})
    with pytest.raises(ValueError) as e:
        read_capture(path)
    assert str(e.value) == (f"{path}: meta = '{{lanes: 3}}' is not JSON (legal: a JSON object "
                            f"with lanes, psum_bits, exp_bits)")
    np.savez(path, **{**good, "exp": np.zeros(2, np.int32)})
    with pytest.raises(ValueError) as e:
        read_capture(path)
    assert str(e.value) == f"{path}: exp has dtype int32, expected int64"
    np.savez(path, **{**good, "meta": np.array('{"lanes": 2, "psum_bits": 8, "exp_bits": 2}')})
    with pytest.raises(ValueError) as e:
        read_capture(path)
    assert str(e.value) == f"{path}: data has shape (2, 3), expected (2, 2)"
    np.savez(path, **good)
    assert read_capture(path)["meta"] == {"lanes": 3, "psum_bits": 8, "exp_bits": 2}


def test_write_refuses_a_made_capture_with_exponents_beyond_exp_bits(tmp_path):
    cap = _tiny_capture(max_addresses=2)
    cap["exp"] = cap["exp"] + 40
    with pytest.raises(ValueError, match=r"^capture: exp = 4\d is out of range"):
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
