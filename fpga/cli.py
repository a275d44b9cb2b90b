"""``apsq-rae fpga {build,fmax,host}``: the FPGA flow's commands.

``build``: the board top (engine + UART link) for a board: bitstream and
``build/fpga/<board>/report.json``. ``fmax``: the engine alone, out of context, at a tight
clock, for a sweep of configurations: ``build/fpga/fmax.json``. ``host``: stream a workload to
a programmed board and check it against the golden model.
"""

import argparse
import json
import sys
from pathlib import Path

from apsq_rae.hdl.pipeline import as_pipeline
from apsq_rae.options import (ENGINE_OPTIONS, add_engine_options, add_pipeline_option,
                              engine_params, int_list, chosen_pipeline)
from apsq_rae.sweep import add_sweep_options
from .boards import BOARDS, get_board


__all__ = ["register"]


def _board_defaults_text():
    return "; ".join(f"{name}: " + (", ".join(f"{k}={v}" for k, v in b.defaults.items())
                                    or "spec defaults") for name, b in BOARDS.items())


def _add_engine_options(parser, skip=()):
    add_engine_options(
        parser, names=[n for n in ENGINE_OPTIONS if n not in skip], unset=True,
        title="engine parameters (docs/spec.md section 4); unset ones take the board default "
              f"({_board_defaults_text()}), then the spec default")


def _params(args, board):
    return engine_params(args, defaults=get_board(board).defaults)


def _cmd_build(args):
    from .build import build_board, report_line
    params = _params(args, args.board)
    pipeline = chosen_pipeline(args)
    print(f"[fpga] building {args.board} with {params}, pipeline "
          f"{as_pipeline(pipeline).label}, at {args.baud} baud", flush=True)
    report = build_board(args.board, params, baud=args.baud, out_dir=args.out,
                         verbose=args.verbose, pipeline=pipeline)
    print(report_line(report))
    if report["critical_paths"]:
        print(_critical_line(report["critical_paths"][0]))
    print(f"[fpga] report: {Path(args.out) / args.board / 'report.json'}")
    return 0


def _critical_line(path):
    where = path["sources"][:6] or path["blocks"][:6]
    return (f"[fpga]   critical path {path['delay_ns']} ns "
            f"({path['logic_ns']} ns logic): {' -> '.join(where)}")


def _cmd_fmax(args):
    from apsq_rae.sweep import Sweep, SweepFailed
    from . import fmax
    from .report import source_revision
    out_path = Path(args.out) / "fmax.json"
    results = []
    if args.append and out_path.exists():
        results = json.loads(out_path.read_text())["runs"]
    boards = args.board or ["ulx3s"]
    for board in boards:
        for grade in args.speed_grade or []:
            get_board(board).check_speed_grade(grade, what="--speed-grade")
    pipeline = chosen_pipeline(args)
    pipeline_label = as_pipeline(pipeline).label
    runs = []
    for board in boards:
        for lanes in args.lanes or [None]:
            params = _params(argparse.Namespace(**{**vars(args), "lanes": lanes}), board)
            for grade in args.speed_grade or [None]:
                for seed in args.seed or [None]:
                    label = (f"{board}-lanes{params.lanes}" +
                             ("" if pipeline == "default" else f"-{pipeline_label}") +
                             (f"-speed{grade}" if grade is not None else "") +
                             (f"-seed{seed}" if args.seed else ""))
                    print(f"[fpga] fmax {label} at {args.target_mhz} MHz: {params}, pipeline "
                          f"{pipeline_label}", flush=True)
                    runs.append((board, params, args.target_mhz, label, seed, pipeline,
                                 args.verbose, grade))
    revision = source_revision()
    failed = None
    with Sweep(jobs=args.jobs, scheduler=args.scheduler, name="fpga",
               log=lambda line: print(line, flush=True)) as sweep:
        try:
            done = sweep.map(fmax.fmax_job, runs, [run[3] for run in runs])
        except SweepFailed as error:
            failed, done = error, error.results
    for run, outcome in zip(runs, done):
        if outcome is None:
            continue
        report, files = outcome
        report["source_revision"] = revision      # this checkout's, wherever it was built
        report["series"] = fmax.series_of(report)    # the label without -seed<S>
        build = Path(args.out) / "fmax" / run[3]
        build.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (build / name).write_text(text)
        (build / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        print(fmax.fmax_line(report), flush=True)
        crit = report["critical_paths"]
        if crit:
            print(_critical_line(crit[0]), flush=True)
        blocks = fmax.blocks_line(report)
        if blocks:
            print(blocks, flush=True)
        results = [r for r in results if r["label"] != report["label"]] + [report]
    spread = fmax.seed_spread(results)
    for entry in spread:
        print(fmax.spread_line(entry), flush=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps({"runs": results, "seed_spread": spread}, indent=2) + "\n")
    print(f"[fpga] sweep: {out_path}")
    if failed is not None:
        print(f"apsq-rae fpga fmax: {failed}", file=sys.stderr)
        return 1
    return 0


def _cmd_host(args):
    from .host import run_serial
    failures = run_serial(args.port, baud=args.baud, group_sizes=args.group_size,
                          n_addresses=args.addresses, n_steps=args.steps, seed=args.seed,
                          order=args.order)
    print("[host] all results match the golden model" if not failures
          else f"[host] {failures} mismatches")
    return 1 if failures else 0


def register(subparsers):
    """Add ``fpga`` and its subcommands ``build``, ``fmax`` and ``host``."""
    parser = subparsers.add_parser(
        "fpga", help="FPGA: board builds, Fmax of the engine alone, board host",
        description="FPGA builds (amaranth-boards, YoWASP Yosys and nextpnr) and the host "
                    "side of the UART board top.")
    sub = parser.add_subparsers(dest="fpga_command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="bitstream and report of the board top for a board")
    p.add_argument("--board", choices=sorted(BOARDS), default="ulx3s")
    p.add_argument("--baud", type=int, default=115200, help="UART rate; default 115200")
    p.add_argument("--out", default="build/fpga", help="output folder; default build/fpga")
    p.add_argument("-v", "--verbose", action="store_true", help="show the tools' output")
    _add_engine_options(p)
    add_pipeline_option(p, knobs=True)
    p.set_defaults(func=_cmd_build, prog=p.prog)

    p = sub.add_parser("fmax", help="Fmax of the engine alone (registered I/O, tight clock)")
    p.add_argument("--board", choices=sorted(BOARDS), action="append",
                   help="board(s) to sweep (repeatable); default ulx3s")
    p.add_argument("--lanes", type=int_list("--lanes", 1), default=None, metavar="N,N,..",
                   help="lanes values to sweep; default: the board's")
    p.add_argument("--target-mhz", type=float, default=200.0,
                   help="clock constraint; default 200")
    p.add_argument("--seed", type=int_list("--seed", 0), default=None, metavar="S,S,..",
                   help="nextpnr placement seeds, one run each (Fmax varies by about 10 %% "
                        "between seeds); default: nextpnr's own")
    p.add_argument("--speed-grade", type=int_list("--speed-grade", 1), default=None,
                   metavar="G,G,..",
                   help="device speed grades to time, one run each (ECP5: 6, 7, 8; the "
                        "ULX3S's part is a -6); default: the board's")
    p.add_argument("--append", action="store_true",
                   help="keep earlier runs of build/fpga/fmax.json (same label: replaced)")
    p.add_argument("--out", default="build/fpga", help="output folder; default build/fpga")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show the tools' output (printed by the workers that run them)")
    add_sweep_options(p, default_jobs=1)
    _add_engine_options(p, skip=("lanes",))
    add_pipeline_option(p, knobs=True)
    p.set_defaults(func=_cmd_fmax, prog=p.prog)

    p = sub.add_parser("host", help="stream a workload to a board and check it against golden")
    p.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--group-size", type=int_list("--group-size", 1), default=[1, 2, 4], metavar="GS,GS,..",
                   help="group sizes to run; default 1,2,4")
    p.add_argument("--addresses", type=int, default=8, help="addresses per run; default 8")
    p.add_argument("--steps", type=int, default=12, help="steps per address; default 12")
    p.add_argument("--order", choices=("weight-stationary", "random"),
                   default="weight-stationary")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=_cmd_host, prog=p.prog)
