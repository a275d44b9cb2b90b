"""Timing diagrams of the engine's ports, drawn with WaveDrom from a real simulation trace
(docs/integration.md, "Timing diagrams").

``python -m apsq_rae.tb.waves [DIR]`` simulates :data:`PARAMS` (Icarus, through
:func:`apsq_rae.tb.sim.run` and the cocotb test ``tb/cocotb_waves.py``), turns each recorded
trace into WaveDrom JSON (:func:`wavedrom`) and renders it to SVG with yowasp-wavedrom. It
writes ``DIR/<name>.json`` and ``DIR/<name>.svg`` (default ``docs/waves``). The files are
deterministic; ``tests/test_tb_waves.py`` checks that the ones in the repository are what the
engine does today.
"""

import json
import sys
import tempfile
from pathlib import Path

from apsq_rae.cli import OneLineParser
from apsq_rae.hdl.params import RAEParams


__all__ = ["PARAMS", "PIPELINE", "SIGNALS", "wavedrom", "record", "write", "main"]


#: The engine drawn: narrow, `min` pipeline (a short latency fits on a page).
PARAMS = RAEParams(lanes=2, depth=4, max_group_size=2)
PIPELINE = "min"

#: Per diagram: its caption and the signals drawn (``hazard`` is an internal net).
SIGNALS = {
    "handshake": ("Tiles in, results out: a gap on in_valid, then out_ready low for two clocks",
                  ["in_valid", "in_ready", "in_addr", "in_step", "in_last", "out_valid",
                   "out_ready", "out_addr", "busy"]),
    "latency": ("Latency: a lone last tile at edge 0, its result {latency} clocks later",
                ["in_valid", "in_ready", "in_addr", "in_last", "out_valid", "out_ready",
                 "out_addr", "busy"]),
    "hazard": ("Hazard: steps 0, 1, 2 of address 1 back to back at group size 1; each waits "
               "for the AP the one before writes, address 2 waits behind them",
               ["in_valid", "in_ready", "in_addr", "in_step", "in_last", "hazard", "out_valid",
                "out_addr"]),
}

_ONE_BIT = {"in_valid", "in_ready", "in_last", "out_valid", "out_ready", "busy", "hazard"}


def wavedrom(trace, signals, caption):
    """WaveDrom JSON of ``trace`` (a list of ``{signal: value}`` per clock): one-bit signals
    as levels, buses as labelled data (``x`` where the data is not valid)."""
    valid_of = {"in_addr": "in_valid", "in_step": "in_valid", "in_last": "in_valid",
                "out_addr": "out_valid"}
    lanes = []
    for name in signals:
        if name not in trace[0]:
            continue
        wave, data, last = "", [], None
        for row in trace:
            value = row[name]
            shown = value if valid_of.get(name) is None or row[valid_of[name]] else None
            if name in _ONE_BIT and name not in valid_of:
                symbol = str(value)
            elif name in _ONE_BIT:
                symbol = "x" if shown is None else str(value)
            else:
                symbol = "x" if shown is None else "="
            if symbol == "=" and last == ("=", shown):
                wave += "."
            elif symbol != "=" and last == (symbol, None):
                wave += "."
            else:
                wave += symbol
                if symbol == "=":
                    data.append(str(shown))
            last = (symbol, shown if symbol == "=" else None)
        lane = {"name": name, "wave": wave}
        if data:
            lane["data"] = data
        lanes.append(lane)
    return {"signal": [{"name": "clk", "wave": "p" + "." * (len(trace) - 1)}] + lanes,
            "head": {"text": caption, "tick": 0},
            "config": {"hscale": 1}}


def record(work=None):
    """Simulate and return the recorded ``{"latency", "traces"}``."""
    from .sim import run
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "traces.json"
        run(PARAMS, "waves", module="apsq_rae.tb.cocotb_waves", pipeline=PIPELINE,
            run_name="waves", extra_env={"APSQ_WAVES_OUT": str(out)})
        return json.loads(out.read_text())


def write(out_dir, recorded):
    """Write ``<name>.json`` (WaveDrom source) and ``<name>.svg`` for every diagram; return
    the paths."""
    import yowasp_wavedrom
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (caption, signals) in SIGNALS.items():
        source = wavedrom(recorded["traces"][name], signals,
                          caption.format(latency=recorded["latency"]))
        (out_dir / f"{name}.json").write_text(json.dumps(source, indent=1) + "\n")
        (out_dir / f"{name}.svg").write_text(yowasp_wavedrom.render(source))
        paths += [out_dir / f"{name}.json", out_dir / f"{name}.svg"]
    return paths


def main(argv=None):
    parser = OneLineParser(prog="python -m apsq_rae.tb.waves",
                           description="Draw the timing diagrams of docs/integration.md "
                                       "from a simulation.")
    parser.add_argument("out", nargs="?", default="docs/waves", type=Path,
                        help="output folder (default docs/waves)")
    args = parser.parse_args(argv)
    for path in write(args.out, record()):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
