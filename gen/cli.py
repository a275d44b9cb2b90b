"""``apsq-rae generate``: write the engine as Verilog and its JSON manifest."""

import sys

from apsq_rae.hdl.pipeline import as_pipeline
from apsq_rae.options import (add_engine_options, add_pipeline_option, engine_params,
                              chosen_pipeline)
from .generate import (DEFAULT_CLOCK_PERIOD, DEFAULT_IO_DELAY_FRACTION, DEFAULT_NAME, INIT_CHOICES,
                       INTERFACE_CHOICES, check_init, check_interface, check_name, check_timing,
                       generate_verilog, sdc_text, memory_files, vlt_text, write_outputs)
from .ip_files import ip_files
from .memories import MEMORY_CHOICES, check_memories


__all__ = ["register"]


def _run(args):
    name = check_name(args.name)
    params = engine_params(args)
    check_timing(args.clock_period, args.io_delay_fraction)
    check_init(args.init)
    check_memories(args.memories)
    check_interface(args.interface)
    pipeline = chosen_pipeline(args)
    text, manifest = generate_verilog(params, name, pipeline=pipeline, init=args.init,
                                      memories=args.memories, interface=args.interface)
    models = memory_files(params, name, args.memories)
    ip = ip_files(manifest, params)
    sdc = sdc_text(params, name, args.clock_period, args.io_delay_fraction, args.interface)
    v_path, j_path, s_path, w_path, *extra_paths = write_outputs(
        args.out, name, text, manifest, sdc, vlt_text(name, args.init), {**models, **ip})
    m_paths, ip_paths = extra_paths[:len(models)], extra_paths[len(models):]
    p = params
    print(f"wrote {v_path} (module {name}: lanes={p.lanes} psum_bits={p.psum_bits} "
          f"q_bits={p.q_bits} max_group_size={p.max_group_size} depth={p.depth} "
          f"exp_bits={p.exp_bits} step_bits={p.step_bits} rounding={p.rounding}"
          + (f" pipeline={as_pipeline(pipeline).label}"
             if pipeline != "default" else "")
          + (f" init={args.init}" if args.init != "reset" else "")
          + (f" interface={args.interface}" if args.interface != "flat" else "")
          + (f" memories={args.memories})" if args.memories != "behavioural" else ")"))
    capacity = ", ".join(f"gs={gs}: {c}" for gs, c in manifest["capacity"].items())
    print(f"wrote {j_path} (latency {manifest['latency']} clocks; capacity {capacity})")
    print(f"wrote {s_path} (clock {manifest['ports'][0]['name']} {args.clock_period:g} ns; "
          f"input and output delays "
          f"{args.io_delay_fraction * 100:g}% of the period)")
    print(f"wrote {w_path} (Verilator lint waivers for -Wall, each with its reason)")
    for path in m_paths:
        print(f"wrote {path} (behavioural model of the bank memory: replace it with your "
              f"SRAM macro)")
    print("wrote " + ", ".join(str(path) for path in ip_paths) + " (C header, SystemVerilog "
          "package and instantiation template, "
          + ("smoke testbench and protocol checker, " if args.interface == "flat" else "")
          + "FuseSoC core: docs/integration.md)")
    sys.stdout.flush()
    return 0


def register(subparsers):
    """Add the ``generate`` subcommand."""
    parser = subparsers.add_parser(
        "generate", help="write the engine as Verilog, its JSON manifest and SDC constraints",
        description="Write OUT/NAME.v (flat ports of docs/spec.md section 5), OUT/NAME.json "
                    "(parameters, ports, pipeline setting, latency, capacity, versions) and "
                    "OUT/NAME.sdc (clock and input/output delays), OUT/NAME.vlt (reviewed "
                    "Verilator lint waivers), and for integration OUT/NAME.h, "
                    "OUT/NAME_pkg.sv, OUT/NAME_inst.sv, OUT/NAME_smoke_tb.v and "
                    "OUT/NAME.core (FuseSoC).")
    add_engine_options(parser)
    add_pipeline_option(parser, knobs=True)
    parser.add_argument("--name", default=DEFAULT_NAME,
                        help=f"Verilog module name and file stem; default {DEFAULT_NAME}")
    parser.add_argument("--out", default="build", metavar="DIR",
                        help="output directory (created if missing); default build")
    parser.add_argument("--clock-period", type=float, default=DEFAULT_CLOCK_PERIOD,
                        metavar="NS", help="clock period in NAME.sdc, in ns (> 0); "
                                           f"default {DEFAULT_CLOCK_PERIOD:g}")
    parser.add_argument("--io-delay-fraction", type=float, default=DEFAULT_IO_DELAY_FRACTION,
                        metavar="F", help="input and output delays in NAME.sdc as a fraction "
                                          f"of the period (0..0.9); default "
                                          f"{DEFAULT_IO_DELAY_FRACTION:g}")
    parser.add_argument("--init", default="reset", metavar="|".join(INIT_CHOICES),
                        help="power-up values: reset (every register and memory starts at its "
                             "reset value, as FPGA bitstreams load it) or none (no initial "
                             "values, for ASIC flows; hold rst for one clock); default reset")
    parser.add_argument("--memories", default="behavioural", metavar="|".join(MEMORY_CHOICES),
                        help="the banks as Verilog arrays inside the engine (behavioural) or as "
                             "instances of a separate 1R1W memory module with its behavioural "
                             "model in its own file, to be replaced by an SRAM macro (macro); "
                             "default behavioural")
    parser.add_argument("--interface", default="flat", metavar="|".join(INTERFACE_CHOICES),
                        help="ports of the top module: flat (the spec's clk, rst, in_*, out_*) "
                             "or axis (AXI4-Stream: aclk, aresetn, s_axis_* for tiles, m_axis_* "
                             "for results; docs/integration.md); default flat")
    parser.set_defaults(func=_run, prog=parser.prog)
