"""``apsq-rae area``: the area report of a configuration sweep (see :mod:`.flow`)."""

import argparse
import os
import sys
from pathlib import Path

from apsq_rae.options import (add_engine_options, add_pipeline_option, chosen_pipeline,
                              engine_params, parse_int_list)
from .flow import DEFAULT_PIPELINES, DEFAULT_SWEEP, FLOWS, parse_pipelines, run_area, sweep_configs
from apsq_rae.gen.memories import check_memories
from apsq_rae.sweep import SweepFailed, add_sweep_options
from .report import SRAM_GE_PER_BIT, load_fmax


__all__ = ["register"]


def _main(args):
    base = engine_params(args)
    pipelines = parse_pipelines(args.sweep_pipeline)
    fmax_runs = [run for path in args.fmax_json or () for run in load_fmax(path)]
    if args.default_only:
        configs, pipelines = [base], ()
    else:
        sweep = {name: tuple(parse_int_list(getattr(args, "sweep_" + name),
                                            "--sweep-" + name.replace("_", "-")))
                 for name in DEFAULT_SWEEP}
        try:
            configs = sweep_configs(base, sweep)
        except ValueError as error:
            raise ValueError(f"sweep: {error}") from None
    flows = tuple(f.strip() for f in args.flows.split(",") if f.strip())
    check_memories(args.memories)
    if args.memories == "macro" and flows != ("asic",):
        raise ValueError(f"--memories macro needs --flows asic (an FPGA build has no SRAM "
                         f"macro), not --flows {args.flows}")
    try:
        run_area(configs, Path(args.out), flows=flows, jobs=args.jobs,
                 use_cache=not args.no_cache, sram_ge_per_bit=args.sram_ge_per_bit,
                 log=lambda line: print(line, flush=True), pipeline=chosen_pipeline(args),
                 sweep_pipelines=pipelines, fmax_runs=fmax_runs, memories=args.memories,
                 scheduler=args.scheduler)
    except (RuntimeError, SweepFailed) as error:   # Yosys failed: its log tail, no traceback
        print(f"apsq-rae area: synthesis failed: {error}", file=sys.stderr)
        return 1
    return 0


def register(subparsers):
    parser = subparsers.add_parser(
        "area", help="Yosys area report: engine vs INT32 baseline (ASIC estimate, ECP5, iCE40)",
        description="Synthesize the engine and the INT32 baseline PSUM buffer for a sweep of "
                    "configurations and pipeline settings and write area.json, area.md, "
                    "area.png and area_vs_clock.png.")
    add_engine_options(parser)
    add_pipeline_option(parser, knobs=True)
    parser.add_argument("--out", default="build/area", metavar="DIR",
                        help="output directory; default build/area")
    parser.add_argument("--default-only", action="store_true",
                        help="synthesize the base configuration alone at the --pipeline "
                             "setting (no sweep)")
    parser.add_argument("--sweep-max-group-size",
                        default=DEFAULT_SWEEP["max_group_size"], metavar="LIST",
                        help="max_group_size values of the sweep; default 1,2,4,8")
    parser.add_argument("--sweep-lanes", default=DEFAULT_SWEEP["lanes"],
                        metavar="LIST", help="lanes values of the sweep; default 1,4,16")
    parser.add_argument("--sweep-q-bits",
                        default=DEFAULT_SWEEP["q_bits"], metavar="LIST",
                        help="q_bits values of the sweep; default 4,8")
    parser.add_argument("--sweep-pipeline", default=",".join(DEFAULT_PIPELINES), metavar="LIST",
                        help="pipeline settings at which the base configuration is synthesized "
                             "(the other configurations: --pipeline only); default "
                             "min,default,max")
    parser.add_argument("--fmax-json", action="append", default=None, metavar="PATH",
                        help="fmax.json of `apsq-rae fpga fmax` (e.g. build/fpga/fmax.json; "
                             "repeatable): its ECP5 Fmax runs of the base configuration go "
                             "into area_vs_clock.png and area.md; default none")
    parser.add_argument("--flows", default=",".join(FLOWS), metavar="LIST",
                        help="synthesis flows, from asic,ecp5,ice40; default all")
    add_sweep_options(parser, default_jobs=min(2, os.cpu_count() or 1))
    parser.add_argument("--no-cache", action="store_true",
                        help="ignore and do not write cached synthesis results")
    parser.add_argument("--sram-ge-per-bit", type=float, default=SRAM_GE_PER_BIT, metavar="GE",
                        help=f"SRAM area estimate per memory bit in gate equivalents; "
                             f"default {SRAM_GE_PER_BIT}")
    parser.add_argument("--memories", default="behavioural", metavar="behavioural|macro",
                        help="the engine's banks as memories inside the design (behavioural) or "
                             "as black-box SRAM macros (macro, as `generate --memories macro` "
                             "writes them; --flows asic only); either way counted as memory "
                             "bits, never as flip-flops; default behavioural")
    # `make` passes the same ARGS to `generate` and `area`: accept (and ignore) the options
    # that only shape the generated files.
    parser.add_argument("--name", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--init", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=_main, prog=parser.prog)
