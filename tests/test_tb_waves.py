"""The timing diagrams in docs/waves (tb/waves.py): drawn from a simulation of today's
engine, so the committed ones must be what a fresh simulation gives."""

from pathlib import Path

from apsq_rae.tb.waves import SIGNALS, record, wavedrom, write


DOCS = Path(__file__).resolve().parent.parent / "docs" / "waves"


def test_wavedrom_levels_and_labelled_data():
    trace = [{"in_valid": 1, "in_addr": 5, "busy": 0}, {"in_valid": 1, "in_addr": 5, "busy": 1},
             {"in_valid": 1, "in_addr": 6, "busy": 1}, {"in_valid": 0, "in_addr": 6, "busy": 1}]
    source = wavedrom(trace, ["in_valid", "in_addr", "busy", "absent"], "caption")
    assert source["signal"] == [
        {"name": "clk", "wave": "p..."},
        {"name": "in_valid", "wave": "1..0"},
        {"name": "in_addr", "wave": "=.=x", "data": ["5", "6"]},
        {"name": "busy", "wave": "01.."}]
    assert source["head"]["text"] == "caption"


def test_committed_diagrams_match_a_fresh_simulation(tmp_path):
    recorded = record()
    assert recorded["latency"] == 4
    # The latency diagram shows it: the result is valid 4 clocks after the tile's edge.
    latency = recorded["traces"]["latency"]
    assert [row["out_valid"] for row in latency].index(1) == 4
    # The hazard diagram shows a hazard stall.
    assert any(row["hazard"] for row in recorded["traces"]["hazard"])
    write(tmp_path, recorded)
    for name in SIGNALS:
        for suffix in (".json", ".svg"):
            fresh = (tmp_path / f"{name}{suffix}").read_text()
            assert fresh == (DOCS / f"{name}{suffix}").read_text(), \
                f"docs/waves/{name}{suffix} is stale: run `make waves`"
