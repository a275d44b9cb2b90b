"""``apsq-rae area``: the area report of a configuration sweep (see :mod:`.flow`)."""

import argparse
import os
import sys
from pathlib import Path

from apsq_rae.options import add_engine_options, add_pipeline_option, engine_params, parse_int_list
from .flow import DEFAULT_SWEEP, FLOWS, run_area, sweep_configs
from .report import SRAM_GE_PER_BIT


__all__ = ["register"]


def _main(args):
    base = engine_params(args)
    if args.default_only:
        configs = [base]
    else:
        sweep = {name: tuple(parse_int_list(getattr(args, "sweep_" + name),
                                            "--sweep-" + name.replace("_", "-")))
                 for name in DEFAULT_SWEEP}
        try:
            configs = sweep_configs(base, sweep)
        except ValueError as error:
            raise ValueError(f"sweep: {error}") from None
    flows = tuple(f.strip() for f in args.flows.split(",") if f.strip())
    try:
        run_area(configs, Path(args.out), flows=flows, jobs=args.jobs,
                 use_cache=not args.no_cache, sram_ge_per_bit=args.sram_ge_per_bit,
                 log=lambda line: print(line, flush=True), pipeline=args.pipeline)
    except RuntimeError as error:       # a Yosys run failed: its log tail, no traceback
        print(f"apsq-rae area: synthesis failed: {error}", file=sys.stderr)
        return 1
    return 0


def register(subparsers):
    parser = subparsers.add_parser(
        "area", help="Yosys area report: engine vs INT32 baseline (ASIC estimate, ECP5, iCE40)",
        description="Synthesize the engine and the INT32 baseline PSUM buffer for a sweep of "
                    "configurations and write area.json, area.md and area.png.")
    add_engine_options(parser)
    add_pipeline_option(parser)
    parser.add_argument("--out", default="build/area", metavar="DIR",
                        help="output directory; default build/area")
    parser.add_argument("--default-only", action="store_true",
                        help="synthesize the base configuration alone (no sweep)")
    parser.add_argument("--sweep-max-group-size",
                        default=DEFAULT_SWEEP["max_group_size"], metavar="LIST",
                        help="max_group_size values of the sweep; default 1,2,4,8")
    parser.add_argument("--sweep-lanes", default=DEFAULT_SWEEP["lanes"],
                        metavar="LIST", help="lanes values of the sweep; default 1,4,16")
    parser.add_argument("--sweep-q-bits",
                        default=DEFAULT_SWEEP["q_bits"], metavar="LIST",
                        help="q_bits values of the sweep; default 4,8")
    parser.add_argument("--flows", default=",".join(FLOWS), metavar="LIST",
                        help="synthesis flows, from asic,ecp5,ice40; default all")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), metavar="N",
                        help="Yosys processes at once; default 2")
    parser.add_argument("--no-cache", action="store_true",
                        help="ignore and do not write cached synthesis results")
    parser.add_argument("--sram-ge-per-bit", type=float, default=SRAM_GE_PER_BIT, metavar="GE",
                        help=f"SRAM area estimate per memory bit in gate equivalents; "
                             f"default {SRAM_GE_PER_BIT}")
    # `make` passes the same ARGS to `generate` and `area`: accept (and ignore) --name.
    parser.add_argument("--name", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=_main, prog=parser.prog)
