"""Place and route the board top for a board: bitstream plus ``report.json``."""

import json
import time
from pathlib import Path

from apsq_rae.hdl.params import RAEParams
from apsq_rae.hdl.pipeline import as_pipeline

from .boards import get_board, set_tool_env
from .report import summarize, format_line, source_revision
from .top import BoardTop


__all__ = ["board_params", "build_board"]


def board_params(board, **overrides):
    """The board's default engine with ``overrides`` (``None`` values ignored) applied."""
    values = dict(get_board(board).defaults)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return RAEParams(**values)


def build_board(board, params, *, baud=115200, out_dir="build/fpga", verbose=False,
                pipeline="default"):
    """Synthesize, place, route and pack the board top with the engine at pipeline setting
    ``pipeline``; write ``<out_dir>/<board>/report.json`` and return the report dictionary
    (also printed as one line by the CLI)."""
    set_tool_env()
    spec = get_board(board)
    platform = spec.platform_class()()
    build_dir = Path(out_dir) / board
    top = BoardTop(params, baud=baud, pipeline=pipeline)
    revision = source_revision()
    start = time.monotonic()
    platform.build(top, name="top", build_dir=str(build_dir), do_program=False,
                   verbose=verbose, **spec.build_overrides())
    seconds = time.monotonic() - start
    report = summarize(spec.family, build_dir)
    bitstream = build_dir / f"top.{spec.bitstream}"
    report.update({
        "board": board,
        "device": f"{platform.device}-{platform.package}",
        "params": params.as_dict(),
        "pipeline": as_pipeline(pipeline).record,
        "source_revision": revision,
        "baud": baud,
        "clock_source": f"{platform.default_clk} ({platform.default_clk_frequency / 1e6:g} MHz)",
        "bitstream": str(bitstream) if bitstream.exists() else None,
        "tool_seconds": round(seconds, 1),
    })
    (build_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def report_line(report):
    return format_line(report["board"], report)
