"""``apsq-rae explore`` and ``apsq-rae capture`` on the tiny model, and their user errors."""

import json
import os

import numpy as np
import pytest

from apsq_rae import golden
from apsq_rae.cli import main
from apsq_rae.explore.sweep import Explorer, Scheme, make_schemes, sqnr_db
from apsq_rae.explore.bert import tiny_bert
from apsq_rae.explore.sentences import CALIBRATION, EVALUATION


def _seed(default):
    """``$APSQ_SEED`` if set, else ``default``; printed so a failure can be replayed."""
    seed = int(os.environ.get("APSQ_SEED", str(default)), 0)
    print(f"APSQ_SEED={seed}")
    return seed


def test_sqnr_db():
    assert sqnr_db([1.0, 1.0], [1.0, 1.0]) is None
    assert sqnr_db([10.0, 0.0], [11.0, 0.0]) == pytest.approx(20.0)


def test_schemes_and_accumulation_agree_with_golden():
    explorer = Explorer(tiny_bert(0), chunk=16, log=None)
    explorer.calibrate(CALIBRATION[:4])
    name = "encoder.layer.0.output.dense"
    ids, mask = explorer.model.tokenize(EVALUATION[:3])
    grabbed = {}

    def hook(n, x, w, b):
        grabbed.setdefault(n, x)
        return x @ w.T + b
    explorer.model.forward(ids, mask, hook)
    tiles, _ = explorer.tiles(name, grabbed[name])
    assert tiles.shape[0] == 8
    exact, _ = explorer.accumulate(name, tiles, Scheme("int32"))
    assert np.array_equal(exact, tiles.sum(axis=0))
    exps = explorer.exps(name, Scheme("apsq", 8, 2))
    acc, _ = explorer.accumulate(name, tiles, Scheme("apsq", 8, 2))
    want = golden.apsq_accumulate(tiles, exps, 2)
    assert np.array_equal(acc, want.values * 2 ** int(want.exp))
    labels = [s.label for s in make_schemes([8], [1, 2])]
    assert labels == ["INT32", "OUT q8", "PSQ q8", "APSQ q8 gs1", "APSQ q8 gs2"]


@pytest.mark.parametrize("kind", ["apsq", "psq", "out"])
def test_per_block_exponents_agree_with_golden_per_block(kind):
    explorer = Explorer(tiny_bert(0), chunk=16, exp_granularity="block", log=None)
    explorer.calibrate(CALIBRATION[:4])
    name = "encoder.layer.1.output.dense"
    st = explorer.stats[name]
    assert st.tile.shape == (8, 2) and st.cum.shape == (8, 2)
    rng = np.random.default_rng(_seed(11))
    tiles = rng.integers(-2 ** 16, 2 ** 16, (8, 5, 32))
    scheme = Scheme(kind, 8, 3)
    exps = explorer.exps(name, scheme)
    acc, _ = explorer.accumulate(name, tiles, scheme)
    for b in range(2):
        t = tiles[:, :, 16 * b:16 * (b + 1)]
        if kind == "apsq":
            r = golden.apsq_accumulate(t, exps[:, b], 3)
            want = r.values * 2 ** int(r.exp)
        elif kind == "psq":
            want = golden.psq_accumulate(t, exps[:, b])
        else:
            q, _ = golden.quantize(t.sum(axis=0), int(exps[-1, b]))
            want = q * 2 ** int(exps[-1, b])
        assert np.array_equal(acc[:, 16 * b:16 * (b + 1)], want)


def test_explore_tiny_writes_reports(tmp_path, capsys):
    out = tmp_path / "ex"
    rc = main(["explore", "--model", "tiny", "--out", str(out), "--q-bits", "8,4",
               "--group-sizes", "1-4", "--eval-sentences", "6", "--calib-sentences", "4",
               "--chunk", "16"])
    assert rc == 0
    for f in ("report.md", "report.json", "error_vs_gs.png", "e2e_vs_gs.png",
              "energy_reduction.png"):
        assert (out / f).stat().st_size > 0
    rep = json.loads((out / "report.json").read_text())
    assert len(rep["layers"]) == 12
    assert rep["end_to_end"]["INT32"]["cos_mean"] > 0.999
    e2e = rep["end_to_end"]
    # 8-bit PSUMs keep the tiny model's embeddings close; 4-bit ones lose more.
    assert e2e["APSQ q8 gs4"]["cos_mean"] > 0.99
    assert e2e["APSQ q4 gs4"]["cos_mean"] < e2e["APSQ q8 gs4"]["cos_mean"]
    row = rep["layers"][0]
    assert row["n_steps"] == 2 and row["K"] == 32
    assert rep["energy"]["total"]["is"]["8"]["1"] == pytest.approx(0.75)
    assert len(rep["recommendations"]) == 12
    md = (out / "report.md").read_text()
    assert "## Recommendation per layer" in md and "| L0.ffn2 |" in md
    assert "explore: tiny-bert" in capsys.readouterr().out


def test_capture_command(tmp_path):
    out = tmp_path / "c.npz"
    rc = main(["capture", "--model", "tiny", "--chunk", "16", "--max-addresses", "20",
               "--dataflow", "ws", "--out", str(out)])
    assert rc == 0
    with np.load(out) as f:
        assert json.loads(str(f["meta"]))["n_addresses"] == 20
        assert f["data"].shape == (20 * 8, 16)


@pytest.mark.parametrize("argv,message", [
    (["explore", "--model", "tiny", "--group-sizes", "0-3"], "--group-sizes holds 0"),
    (["explore", "--model", "tiny", "--q-bits", "40"], "--q-bits holds 40"),
    (["explore", "--model", "tiny", "--depth", "0"], "--depth = 0"),
    (["explore", "--model", "tiny", "--eval-sentences", "999"], "--eval-sentences = 999"),
    (["capture", "--model", "tiny", "--layer", "nope"], "layer = 'nope'"),
    (["capture", "--model", "tiny", "--chunk", "0"], "--chunk = 0"),
])
def test_user_errors_exit_2(argv, message, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.realmodel
def test_explore_minilm_small_run(tmp_path):
    """The real model through the whole explorer, on a few sentences (make regress)."""
    from apsq_rae.explore.bert import minilm_available
    if not minilm_available():
        pytest.skip("needs pip install -e '.[explore]'")
    out = tmp_path / "ex"
    assert main(["explore", "--out", str(out), "--q-bits", "8", "--group-sizes", "1,4",
                 "--eval-sentences", "4", "--calib-sentences", "4"]) == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["model"] == "all-MiniLM-L6-v2" and len(rep["layers"]) == 36
    e2e = rep["end_to_end"]
    assert e2e["INT32"]["cos_mean"] > 0.99
    assert e2e["APSQ q8 gs4"]["cos_mean"] > 0.95
    # Grouping helps: gs 4 is at least as good as gs 1 end to end and in most layers.
    assert e2e["APSQ q8 gs4"]["cos_mean"] >= e2e["APSQ q8 gs1"]["cos_mean"]
    better = sum(r["schemes"]["APSQ q8 gs4"]["sqnr_db"] > r["schemes"]["APSQ q8 gs1"]["sqnr_db"]
                 for r in rep["layers"])
    assert better >= 30
