"""The functional coverage model (apsq_rae.tb.coverage) and its report, without a simulator:
bins sampled from golden steps, merging of configurations with different bins, empty bins."""

import json

import pytest

from apsq_rae import golden
from apsq_rae.hdl.params import RAEParams
from apsq_rae.tb.coverage import POINTS, Coverage
from apsq_rae.tb.coverage_report import empty_bins, format_report, main, merge


P = RAEParams(lanes=2, psum_bits=12, q_bits=4, max_group_size=2, depth=2, exp_bits=2,
              step_bits=4, rounding="half_even")
CAPACITY = {1: 4, 2: 2}


def _hits(cov):
    return {name: {label for label, n in bins.items() if n} for name, bins in cov.counts().items()}


def _push(cov, eng, gs, *tile):
    eng.push(*tile)
    cov.tile(gs, tile[0], eng.last_step)


def test_bins_of_a_configuration():
    cov = Coverage(P, CAPACITY)
    assert set(cov.bins) == set(POINTS)
    assert cov.bins["step"] == ["gs1 phase0 APSQ no AP", "gs1 phase0 APSQ AP",
                                "gs2 phase0 PSQ no AP", "gs2 phase0 PSQ AP",
                                "gs2 phase0 APSQ no AP", "gs2 phase0 APSQ AP",
                                "gs2 phase1 APSQ no AP", "gs2 phase1 APSQ AP"]
    assert cov.bins["saturation"] == ["lane0 high", "lane0 low", "lane1 high", "lane1 low"]
    assert cov.bins["tie"] == ["half_even neg even", "half_even neg odd",
                               "half_even pos even", "half_even pos odd"]
    # addr_bits 2: address 3 is beyond the capacity 2 at gs 2, nothing is at gs 1 (4).
    assert cov.bins["capacity"] == ["gs1 first", "gs1 last", "gs2 first", "gs2 last",
                                    "gs2 beyond"]
    # exp_bits 1: no exponent between the lowest and the largest.
    narrow = Coverage(RAEParams(lanes=1, exp_bits=1, depth=2), {1: 8, 2: 4, 3: 2, 4: 2})
    assert narrow.bins["exponent"] == ["low neg", "low pos", "max neg", "max pos"]


def test_steps_sampled_from_the_golden_model():
    cov = Coverage(P, CAPACITY)
    eng = golden.Engine(**P.as_dict())
    eng.configure(2)
    _push(cov, eng, 2, 1, 0, False, 1, (6, -6))      # PSQ; 6/2 = 3 and -3: no tie (e = 1)
    _push(cov, eng, 2, 1, 1, False, 2, (100, -5))    # APSQ: 106/4 = 26.5 clips high
    _push(cov, eng, 2, 1, 2, True, 3, (-200, 0))     # APSQ + AP, last at phase 0: -21.5
    hits = _hits(cov)
    assert hits["step"] == {"gs2 phase0 PSQ no AP", "gs2 phase1 APSQ no AP",
                            "gs2 phase0 APSQ AP"}
    assert hits["saturation"] == {"lane0 high", "lane0 low"}
    assert hits["saturation_mode"] == {"APSQ high", "APSQ low"}
    assert hits["capacity"] == {"gs2 last"}
    assert hits["exponent"] == {"mid neg", "mid pos", "max neg"}
    # Step 1 quantized (100 + 6, -5 - 6) at e=2: 106 = 26.5 * 4 is a tie (kept 26: even),
    # -11 is not. Its AP (7, -3) dequantizes to (28, -12); step 2 quantized (-172, -12) at
    # e=3: both ties (-21.5 and -1.5, kept -22 and -2: even).
    assert hits["tie"] == {"half_even pos even", "half_even neg even"}


def test_tie_parity_and_sign():
    cov = Coverage(P, CAPACITY)
    eng = golden.Engine(**P.as_dict())
    eng.configure(1)
    _push(cov, eng, 1, 0, 0, True, 2, (6, -2))     # 6/4 = 1.5 (kept 1: odd), -2/4 (kept -1: odd)
    _push(cov, eng, 1, 3, 0, True, 2, (10, 2))     # 2.5 (kept 2: even), 0.5 (kept 0: even)
    assert _hits(cov)["tie"] == {"half_even pos odd", "half_even neg odd", "half_even pos even"}
    assert _hits(cov)["capacity"] == {"gs1 first", "gs1 last"}


def test_control_events():
    cov = Coverage(P, CAPACITY)
    cov.clock(2, hazard_stall=True, no_credit=False)
    cov.clock(1, hazard_stall=False, no_credit=True)
    cov.err("err[1] set")
    cov.result()                                   # no reset yet: does not count
    cov.reset(in_flight=True, due=False)
    cov.result()
    cov.tile(2, 3, None)                           # beyond the capacity
    hits = _hits(cov)
    assert hits["hazard"] == {"gs2"} and hits["credit"] == {"full"}
    assert hits["err"] == {"err[1] set"}
    assert hits["reset"] == {"accumulations open", "result after reset"}
    assert hits["capacity"] == {"gs2 beyond"} and hits["step"] == set()


def test_merge_reports_empty_bins(tmp_path, capsys):
    a = Coverage(P, CAPACITY)
    a.clock(1, hazard_stall=True, no_credit=False)
    a.export(tmp_path / "a.json", "a")
    b = Coverage(RAEParams(lanes=3, max_group_size=1, depth=2), {1: 2})
    b.clock(1, hazard_stall=True, no_credit=True)
    b.export(tmp_path / "b.json", "b")
    merged = merge(json.loads(p.read_text()) for p in sorted(tmp_path.glob("*.json")))
    assert merged["runs"] == ["a", "b"]
    assert merged["points"]["hazard"] == {"gs1": 2, "gs2": 0}
    assert merged["points"]["saturation"]["lane2 low"] == 0     # only b has a third lane
    empty = empty_bins(merged)
    assert ("hazard", "gs2") in empty and ("credit", "full") not in empty
    text = format_report(merged)
    assert text.splitlines()[0].startswith("functional coverage: 2 of ")
    assert "  hazard: gs2" in text
    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path), "--require"]) == 1
    assert "empty bins:" in capsys.readouterr().out


def test_report_requires_runs(tmp_path, capsys):
    assert main([str(tmp_path), "--require"]) == 1
    assert "no runs recorded" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "missing")])
    assert stop.value.code == 2


def test_empty_bins_listed_in_numeric_order():
    merged = {"runs": ["a"], "points": {"step": {"gs10 phase1 APSQ AP": 0,
                                                 "gs9 phase1 APSQ AP": 0,
                                                 "gs2 phase10 PSQ AP": 0,
                                                 "gs2 phase9 PSQ AP": 0}}}
    lines = format_report(merged).splitlines()
    listed = lines[lines.index("empty bins: 4") + 1:]
    assert listed == ["  step: gs2 phase9 PSQ AP", "  step: gs2 phase10 PSQ AP",
                      "  step: gs9 phase1 APSQ AP", "  step: gs10 phase1 APSQ AP"]
