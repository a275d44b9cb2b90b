"""Out-of-context Fmax of the engine alone: every engine port behind a register, a tight clock.

The wrapper needs three pins whatever the engine's width: the clock, one input that feeds a
shift chain from which a register per engine input bit is loaded, and one output driven by a
pipelined XOR reduction of every registered engine output bit. Nothing can be optimized away
and every engine path is register to register, so nextpnr's Fmax for the clock is the
engine's own.
"""

import json
import statistics
import sys
import os
import time
from pathlib import Path

from amaranth.hdl import Cat, Elaboratable, Module, Signal, Value
from amaranth.build import Resource, Pins, Clock, Attrs
from amaranth.lib import io

from apsq_rae.hdl.pipeline import as_pipeline

from .boards import get_board, set_tool_env
from .report import summarize, format_line, source_revision


__all__ = ["RegisteredEngine", "fmax_platform", "fmax_overrides", "run_fmax", "ENGINE_BLOCKS",
           "series_of", "seed_spread", "spread_line"]


#: The blocks an Fmax report times separately (``report.json``'s ``endpoint_blocks``): cell
#: name prefix and label, first match wins. ``engine.`` alone holds the engine's own registers
#: (the issue stage, the side band that travels beside the datapath, the tile data memory).
ENGINE_BLOCKS = (
    ("engine.decoder.", "tile decoder"),
    ("engine.queue.", "issue queue"),
    ("engine.select.", "bank select"),
    ("engine.banks.", "banks"),
    ("engine.dequant", "dequantizers"),
    ("engine.tree.", "adder tree"),
    ("engine.quant.", "quantizer"),
    ("engine.results.", "result FIFO"),
    ("engine.", "engine (issue, side band)"),
    ("", "measuring wrapper"),
)


class RegisteredEngine(Elaboratable):
    """The engine with registered inputs (a register per input bit, loaded from a shift chain
    that runs from one pin) and registered outputs (a pipelined XOR tree, four bits per level,
    to one pin).

    Parameters
    ----------
    params : RAEParams
        Engine parameters.
    pipeline : str or Pipeline, optional
        Pipeline setting of the engine; ``"default"`` if omitted.
    engine : wiring.Component or None
        The engine; ``None`` builds ``apsq_rae.hdl.rae.RAE(params, pipeline=pipeline)``.
    """

    def __init__(self, params, *, pipeline=None, engine=None):
        if engine is None:
            from apsq_rae.hdl.rae import RAE
            engine = RAE(params, pipeline=pipeline)
        self.params = params
        self.engine = engine

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = eng = self.engine
        m.submodules.din = din_buffer = io.Buffer("i", platform.request("din", 0, dir="-"))
        m.submodules.dout = dout_buffer = io.Buffer("o", platform.request("dout", 0, dir="-"))
        din, dout = din_buffer.i, dout_buffer.o

        inputs = [eng.i.valid, Value.cast(eng.i.payload), eng.o.ready, eng.cfg_group_size,
                  eng.err_clear]
        outputs = [eng.i.ready, eng.o.valid, Value.cast(eng.o.payload), eng.busy, eng.err]

        # The chain's bits sit in a row from the pin. A register per input bit drives the
        # engine, so that the placer can put it beside the logic it feeds (as the output side's
        # first register is). It takes the XOR of two neighbouring chain bits: a plain copy of
        # chain bit k would equal chain bit k + 1, and synthesis would merge the two.
        chain = Signal(sum(len(v) for v in inputs) + 1)
        m.d.sync += [chain.eq(Cat(din, chain[:-1])),
                     Cat(*inputs).eq(chain[:-1] ^ chain[1:])]

        level = Signal(sum(len(v) for v in outputs))
        m.d.sync += level.eq(Cat(*outputs))
        while len(level) > 1:
            nxt = Signal((len(level) + 3) // 4)
            m.d.sync += [nxt[n].eq(level[4 * n:4 * n + 4].xor()) for n in range(len(nxt))]
            level = nxt
        m.d.comb += dout.eq(level)
        return m


def fmax_platform(board, mhz, speed_grade=None):
    """The board's platform with only the wrapper's three pins, the clock constrained to
    ``mhz``, its device at ``speed_grade`` when given (see :meth:`Board.check_speed_grade`)."""
    spec = get_board(board)
    base = spec.platform_class()
    resources = [
        Resource("clk", 0, Pins(spec.clk_pin, dir="i"), Clock(mhz * 1e6), Attrs(**spec.clk_attrs)),
        Resource("din", 0, Pins(spec.din_pin, dir="i"), Attrs(**spec.pin_attrs)),
        Resource("dout", 0, Pins(spec.dout_pin, dir="o"), Attrs(**spec.pin_attrs)),
    ]
    attrs = {"resources": resources, "connectors": [], "default_clk": "clk",
             "default_rst": None}
    if speed_grade is not None:
        attrs["speed"] = spec.check_speed_grade(speed_grade)
    cls = type(f"{base.__name__}_Fmax", (base,), attrs)
    return cls()


def fmax_overrides(board, seed=None):
    """Toolchain overrides of an Fmax run: the board's, plus ``--timing-allow-fail`` and the
    nextpnr seed when given."""
    overrides = get_board(board).build_overrides()
    # Detailed timings: every register input's arrival, for the report's ``endpoint_blocks``.
    overrides["nextpnr_opts"] += " --detailed-timing-report --timing-allow-fail"
    if seed is not None:
        overrides["nextpnr_opts"] += f" --seed {int(seed)}"
    return overrides


def run_fmax(board, params, *, mhz, out_dir="build/fpga", verbose=False, label=None, seed=None,
             pipeline="default", speed_grade=None):
    """Place and route the wrapped engine (pipeline setting ``pipeline``) at a ``mhz`` target
    (nextpnr ``--seed seed`` when given; the device at ``speed_grade`` when given, else the
    board's); the report dictionary."""
    set_tool_env()
    spec = get_board(board)
    platform = fmax_platform(board, mhz, speed_grade)
    label = label or f"{board}-lanes{params.lanes}"
    build_dir = Path(out_dir) / "fmax" / label
    revision = source_revision()
    start = time.monotonic()
    overrides = fmax_overrides(board, seed)
    # The wrapper is not a design anyone loads: skip bitstream packing (``true`` as packer).
    packer = {"ecp5": "ECPPACK", "ice40": "ICEPACK"}[spec.family]
    saved = os.environ.get(packer)
    os.environ[packer] = "true"
    try:
        platform.build(RegisteredEngine(params, pipeline=pipeline), name="top",
                       build_dir=str(build_dir),
                       do_program=False, verbose=verbose, **overrides)
    finally:
        if saved is None:
            del os.environ[packer]
        else:
            os.environ[packer] = saved
    report = summarize(spec.family, build_dir, blocks=ENGINE_BLOCKS)
    report.update({
        "board": board, "label": label, "device": f"{platform.device}-{platform.package}",
        "params": params.as_dict(),
        "pipeline": as_pipeline(pipeline).record,
        "speed_grade": getattr(platform, "speed", None),
        "board_speed_grade": spec.speed_grades[0] if spec.speed_grades else None,
        "source_revision": revision, "target_mhz": mhz, "seed": seed,
        "tool_seconds": round(time.monotonic() - start, 1),
    })
    (build_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def fmax_job(board, params, mhz, label, seed, pipeline, verbose=False, speed_grade=None):
    """:func:`run_fmax` as a sweep job (:mod:`apsq_rae.sweep`), for any worker: it builds in
    a temporary folder of the worker's own and returns ``(report, files)``, ``files`` the
    build's reports and logs by name (text, under 5 MB each), for the caller to keep."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="apsq-fmax-") as tmp:
        # run_fmax is looked up on the module, so that tests can stand in for the tools.
        report = sys.modules[__name__].run_fmax(board, params, mhz=mhz, out_dir=tmp,
                                                verbose=verbose, label=label, seed=seed,
                                                pipeline=pipeline, speed_grade=speed_grade)
        build = Path(tmp) / "fmax" / label
        files = {}
        if build.is_dir():
            for path in sorted(build.iterdir()):
                if path.is_file() and path.suffix in (".json", ".rpt", ".log", ".tim") \
                        and path.stat().st_size < 5_000_000:
                    files[path.name] = path.read_text(errors="replace")
    return report, files


def fmax_line(report):
    return format_line(f"{report['label']} (engine alone)", report)


def blocks_line(report, limit=5):
    """The ``limit`` blocks with the latest register-input arrival, on one line (``None``
    without ``endpoint_blocks``)."""
    blocks = report.get("endpoint_blocks")
    if not blocks:
        return None
    period = 1000 / report["constraint_mhz"]
    parts = [f"{b['block']} {b['worst_ns']:.2f} ns" + (f" ({b['over']} over)" if b["over"] else "")
             for b in blocks[:limit]]
    return f"[fpga]   latest arrival by block (inputs over {period:.2f} ns): " + ", ".join(parts)


def series_of(report):
    """The label of ``report``'s run without its ``-seed<S>`` ending: the runs of one design
    point, board, device and grade that differ only in the placement seed."""
    if report.get("series"):
        return report["series"]
    label, seed = report["label"], report.get("seed")
    suffix = f"-seed{seed}"
    return label[:-len(suffix)] if seed is not None and label.endswith(suffix) else label


def seed_spread(reports):
    """Fmax over the placement seeds of each series (:func:`series_of`) with two or more seeded
    runs at one constraint, in order of first appearance: ``series``, ``constraint_mhz``,
    ``seeds`` and ``fmax_mhz`` (by seed), their ``median_mhz``, ``mean_mhz``, ``min_mhz`` and
    ``max_mhz``, ``met`` (runs at or above the constraint) and the ``source_revisions``.

    One run's Fmax is one placement's: on the ECP5 the same logic moves by 10 % or more from
    seed to seed (docs/results.md), so a change or a target is judged on this spread."""
    groups = {}
    for report in reports:
        if report.get("seed") is None or report.get("fmax_mhz") is None:
            continue
        key = (series_of(report), report["constraint_mhz"])
        groups.setdefault(key, []).append(report)
    out = []
    for (series, constraint), runs in groups.items():
        if len(runs) < 2:
            continue
        runs = sorted(runs, key=lambda r: r["seed"])
        values = [r["fmax_mhz"] for r in runs]
        out.append({
            "series": series, "constraint_mhz": constraint,
            "seeds": [r["seed"] for r in runs], "fmax_mhz": values,
            "median_mhz": round(statistics.median(values), 2),
            "mean_mhz": round(statistics.fmean(values), 2),
            "min_mhz": min(values), "max_mhz": max(values),
            "met": sum(v >= constraint for v in values),
            "source_revisions": sorted({str(r.get("source_revision")) for r in runs}),
        })
    return out


def spread_line(spread):
    """One terminal line for an entry of :func:`seed_spread`."""
    seeds = ", ".join(str(s) for s in spread["seeds"])
    revisions = spread["source_revisions"]
    return (f"[fpga] {spread['series']} over seeds {seeds}: median {spread['median_mhz']:.1f}, "
            f"mean {spread['mean_mhz']:.1f}, range {spread['min_mhz']:.1f}-"
            f"{spread['max_mhz']:.1f} MHz; {spread['constraint_mhz']:g} MHz met by "
            f"{spread['met']} of {len(spread['seeds'])}"
            + (f" (revisions {', '.join(revisions)})" if len(revisions) > 1 else ""))
