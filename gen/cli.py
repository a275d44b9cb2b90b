"""``apsq-rae generate``: write the engine as Verilog and its JSON manifest."""

import sys

from apsq_rae.options import add_engine_options, add_pipeline_option, engine_params
from .generate import DEFAULT_NAME, check_name, generate_verilog, write_outputs


__all__ = ["register"]


def _run(args):
    name = check_name(args.name)
    params = engine_params(args)
    text, manifest = generate_verilog(params, name, pipeline=args.pipeline)
    v_path, j_path = write_outputs(args.out, name, text, manifest)
    p = params
    print(f"wrote {v_path} (module {name}: lanes={p.lanes} psum_bits={p.psum_bits} "
          f"q_bits={p.q_bits} max_group_size={p.max_group_size} depth={p.depth} "
          f"exp_bits={p.exp_bits} step_bits={p.step_bits} rounding={p.rounding}"
          + (f" pipeline={args.pipeline})" if args.pipeline != "default" else ")"))
    capacity = ", ".join(f"gs={gs}: {c}" for gs, c in manifest["capacity"].items())
    print(f"wrote {j_path} (latency {manifest['latency']} clocks; capacity {capacity})")
    sys.stdout.flush()
    return 0


def register(subparsers):
    """Add the ``generate`` subcommand."""
    parser = subparsers.add_parser(
        "generate", help="write the engine as Verilog and its JSON manifest",
        description="Write OUT/NAME.v (flat ports of docs/spec.md section 5) and OUT/NAME.json "
                    "(parameters, ports, pipeline setting, latency, capacity, versions).")
    add_engine_options(parser)
    add_pipeline_option(parser)
    parser.add_argument("--name", default=DEFAULT_NAME,
                        help=f"Verilog module name and file stem; default {DEFAULT_NAME}")
    parser.add_argument("--out", default="build", metavar="DIR",
                        help="output directory (created if missing); default build")
    parser.set_defaults(func=_run, prog=parser.prog)
