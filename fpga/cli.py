"""Command line of the FPGA flow: ``python -m fpga {build,fmax,host}``.

``build``: the board top (engine + UART link) for a board: bitstream and
``build/fpga/<board>/report.json``. ``fmax``: the engine alone, out of context, at a tight
clock, for a sweep of configurations: ``build/fpga/fmax.json``. ``host``: stream a workload to
a programmed board and check it against the golden model.

A ``ValueError`` (an illegal option) is one line on standard error and exit code 2.
"""

import argparse
import json
import sys
from pathlib import Path

from hdl.params import PARAM_HELP, RAEParams, ROUNDING_RULES, as_option_error

from .boards import BOARDS


__all__ = ["main", "build_parser"]




def _board_defaults_text():
    return "; ".join(f"{name}: " + (", ".join(f"{k}={v}" for k, v in b.defaults.items())
                                    or "spec defaults") for name, b in BOARDS.items())


def _add_param_options(parser, skip=()):
    group = parser.add_argument_group(
        "engine parameters (spec section 4); unset ones take the board default "
        f"({_board_defaults_text()}), then the spec default")
    for name, text in PARAM_HELP.items():
        if name in skip:
            continue
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=int, default=None,
                           metavar="N", help=text)
    group.add_argument("--rounding", default=None, choices=ROUNDING_RULES,
                       help="rounding rule of the quantizer")


def _params(args, board):
    from .build import board_params
    try:
        return board_params(board, **{n: getattr(args, n, None) for n in RAEParams.names()})
    except ValueError as error:
        raise as_option_error(error) from None


def _cmd_build(args):
    from .build import build_board, report_line
    params = _params(args, args.board)
    print(f"[fpga] building {args.board} with {params} at {args.baud} baud", flush=True)
    report = build_board(args.board, params, baud=args.baud, out_dir=args.out,
                         verbose=args.verbose)
    print(report_line(report))
    if report["critical_paths"]:
        print(_critical_line(report["critical_paths"][0]))
    print(f"[fpga] report: {Path(args.out) / args.board / 'report.json'}")
    return 0


def _critical_line(path):
    where = path["sources"][:6] or path["blocks"][:6]
    return (f"[fpga]   critical path {path['delay_ns']} ns "
            f"({path['logic_ns']} ns logic): {' -> '.join(where)}")


def _int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers")
    if not values:
        raise argparse.ArgumentTypeError("empty list")
    return values


def _cmd_fmax(args):
    from .fmax import run_fmax, fmax_line
    out_path = Path(args.out) / "fmax.json"
    results = []
    if args.append and out_path.exists():
        results = json.loads(out_path.read_text())["runs"]
    boards = args.board or ["ulx3s"]
    for board in boards:
        for lanes in args.lanes or [None]:
            params = _params(argparse.Namespace(**{**vars(args), "lanes": lanes}), board)
            for seed in args.seed or [None]:
                label = f"{board}-lanes{params.lanes}" + (f"-seed{seed}" if args.seed else "")
                print(f"[fpga] fmax {label} at {args.target_mhz} MHz: {params}", flush=True)
                report = run_fmax(board, params, mhz=args.target_mhz, out_dir=args.out,
                                  verbose=args.verbose, label=label, seed=seed)
                print(fmax_line(report), flush=True)
                crit = report["critical_paths"]
                if crit:
                    print(_critical_line(crit[0]), flush=True)
                results = [r for r in results if r["label"] != label] + [report]
                out_path.parent.mkdir(parents=True, exist_ok=True)
                out_path.write_text(json.dumps({"runs": results}, indent=2) + "\n")
    print(f"[fpga] sweep: {out_path}")
    return 0


def _cmd_host(args):
    from .host import run_serial
    failures = run_serial(args.port, baud=args.baud, group_sizes=args.group_size,
                          n_addresses=args.addresses, n_steps=args.steps, seed=args.seed,
                          order=args.order)
    print("[host] all results match the golden model" if not failures
          else f"[host] {failures} mismatches")
    return 1 if failures else 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m fpga",
                                     description="FPGA builds and board host for the RAE.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="bitstream and report of the board top for a board")
    p.add_argument("--board", choices=sorted(BOARDS), default="ulx3s")
    p.add_argument("--baud", type=int, default=115200, help="UART rate; default 115200")
    p.add_argument("--out", default="build/fpga", help="output folder; default build/fpga")
    p.add_argument("-v", "--verbose", action="store_true", help="show the tools' output")
    _add_param_options(p)
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("fmax", help="Fmax of the engine alone (registered I/O, tight clock)")
    p.add_argument("--board", choices=sorted(BOARDS), action="append",
                   help="board(s) to sweep (repeatable); default ulx3s")
    p.add_argument("--lanes", type=_int_list, default=None, metavar="N,N,..",
                   help="lanes values to sweep; default: the board's")
    p.add_argument("--target-mhz", type=float, default=200.0,
                   help="clock constraint; default 200")
    p.add_argument("--seed", type=_int_list, default=None, metavar="S,S,..",
                   help="nextpnr placement seeds, one run each (Fmax varies by about 10 %% "
                        "between seeds); default: nextpnr's own")
    p.add_argument("--append", action="store_true",
                   help="keep earlier runs of build/fpga/fmax.json (same label: replaced)")
    p.add_argument("--out", default="build/fpga", help="output folder; default build/fpga")
    p.add_argument("-v", "--verbose", action="store_true", help="show the tools' output")
    _add_param_options(p, skip=("lanes",))
    p.set_defaults(func=_cmd_fmax)

    p = sub.add_parser("host", help="stream a workload to a board and check it against golden")
    p.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--group-size", type=_int_list, default=[1, 2, 4], metavar="GS,GS,..",
                   help="group sizes to run; default 1,2,4")
    p.add_argument("--addresses", type=int, default=8, help="addresses per run; default 8")
    p.add_argument("--steps", type=int, default=12, help="steps per address; default 12")
    p.add_argument("--order", choices=("weight-stationary", "random"),
                   default="weight-stationary")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=_cmd_host)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except ValueError as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return 130
