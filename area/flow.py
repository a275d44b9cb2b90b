"""Yosys area sweep of the engine against the INT32 baseline (``apsq-rae area``).

For every configuration of the sweep, the engine (:class:`apsq_rae.hdl.rae.RAE`) and the baseline
(:class:`apsq_rae.hdl.baseline.Baseline`, a ``psum_bits`` read-add-write PSUM buffer with the engine's
address space) are elaborated to RTLIL with their hierarchy and synthesized three ways (see
:mod:`apsq_rae.area.yosys`): an ASIC gate-count estimate on a small cell library, ``synth_ecp5`` and
``synth_ice40``. The results go to ``area.json`` (everything), ``area.md`` (the tables) and
``area.png`` and ``area_vs_clock.png`` (the plots), see :mod:`apsq_rae.area.report`.

The default sweep changes one parameter at a time around the base configuration (the spec's
defaults, or the engine options given) and its pipeline setting: ``max_group_size`` 1, 2, 4,
8; ``lanes`` 1, 4, 16; ``q_bits`` 4, 8; the pipeline settings ``min``, ``default`` and ``max``
(at the base configuration only). ``--default-only`` synthesizes the base configuration alone
at the base setting.
"""

import dataclasses
import time
from pathlib import Path

from amaranth.back import rtlil

from apsq_rae.hdl.baseline import Baseline
from apsq_rae.hdl.params import RAEParams
from apsq_rae.hdl.pipeline import SETTINGS, as_pipeline
from apsq_rae.sweep import Sweep
from .yosys import FLOWS, cache_key, load_cached, store_cached, synthesize_job
from .report import SRAM_GE_PER_BIT, summarize_design, compare, write_outputs


__all__ = ["sweep_configs", "sweep_points", "parse_pipelines", "run_area", "DEFAULT_SWEEP",
           "DEFAULT_PIPELINES", "FLOWS"]


#: The default sweep: each parameter varied on its own around the base configuration.
DEFAULT_SWEEP = {"max_group_size": (1, 2, 4, 8), "lanes": (1, 4, 16), "q_bits": (4, 8)}

#: The pipeline settings of the default sweep, at the base configuration.
DEFAULT_PIPELINES = tuple(SETTINGS)

#: Top-module names in the RTLIL given to Yosys.
ENGINE_TOP = "rae"
BASELINE_TOP = "baseline"


def sweep_configs(base, sweep=DEFAULT_SWEEP):
    """The configurations of a one-parameter-at-a-time sweep around ``base``.

    Parameters
    ----------
    base : RAEParams
        Base configuration (always first).
    sweep : dict
        ``{parameter name: values}``.

    Returns
    -------
    list of RAEParams
        ``base`` first, then every variation, without duplicates.

    Raises
    ------
    ValueError
        A swept value is illegal (the message names the parameter, the value and the range).
    """
    configs = [base]
    for name, values in sweep.items():
        for value in values:
            params = dataclasses.replace(base, **{name: value})
            if params not in configs:
                configs.append(params)
    return configs


def parse_pipelines(text, option="--sweep-pipeline"):
    """A comma-separated list of pipeline setting names, as a tuple without duplicates.

    Raises
    ------
    ValueError
        An empty list or a name that is not a setting (one line: the option, the value and
        the legal names).
    """
    if isinstance(text, (tuple, list)):
        names = [str(n).strip() for n in text]
    else:
        names = [n.strip() for n in str(text).split(",")]
    names = [n for n in names if n]
    if not names:
        raise ValueError(f"{option} = {text!r} is empty (legal: {', '.join(SETTINGS)})")
    for name in names:
        if name not in SETTINGS:
            raise ValueError(f"{option} = {text!r}: {name!r} is not a pipeline setting "
                             f"(legal: {', '.join(SETTINGS)})")
    return tuple(dict.fromkeys(names))


def sweep_points(configs, pipeline="default", pipelines=()):
    """The ``(params, pipeline)`` pairs to synthesize: every configuration at ``pipeline``, and
    the first (base) configuration at each of ``pipelines`` besides.

    The base at ``pipeline`` comes first, then the base at the other settings (in the order of
    ``pipelines``), then the other configurations. Pipelines are setting names or
    :class:`~apsq_rae.hdl.pipeline.Pipeline` objects; the pairs hold them as
    :class:`~apsq_rae.hdl.pipeline.Pipeline` objects.
    """
    base = configs[0]
    pipeline = as_pipeline(pipeline)
    points = [(base, pipeline)]
    points += [(base, as_pipeline(name)) for name in pipelines if as_pipeline(name) != pipeline]
    points += [(params, pipeline) for params in configs[1:]]
    return points


def _label(params, base, pipeline="default", base_pipeline="default"):
    diff = [f"{f}={getattr(params, f)}" for f in RAEParams.names()
            if getattr(params, f) != getattr(base, f)]
    if as_pipeline(pipeline) != as_pipeline(base_pipeline):
        diff.append(f"pipeline={as_pipeline(pipeline).label}")
    return ", ".join(diff) if diff else "base"


def macro_blackbox(params, name):
    """RTLIL of the bank macro of ``--memories macro`` as a black box (ports only)."""
    from apsq_rae.gen.memories import macro_name
    from apsq_rae.hdl.banks import macro_ports

    lines = ["attribute \\blackbox 1", f"module \\{macro_name(params, name)}"]
    for index, (port, direction, width) in enumerate(macro_ports(params), 1):
        kind = "input" if direction == "in" else "output"
        lines.append(f"  wire width {width} {kind} {index} \\{port}")
    return "\n".join(lines + ["end", ""])


def _elaborate(params, *, engine, pipeline="default", memories="behavioural"):
    """``(RTLIL text, latency in clocks)`` of the engine or the baseline; with ``memories =
    "macro"`` the engine's banks are instances of a black-box macro (:func:`macro_blackbox`),
    counted as memory bits. The baseline has the named settings only: for a custom engine
    pipeline it takes the nearest (:attr:`~apsq_rae.hdl.pipeline.Pipeline.nearest`)."""
    pipeline = as_pipeline(pipeline)
    # Imported here: `apsq-rae --help` must work even while the engine does not elaborate.
    if engine:
        from apsq_rae.gen.memories import check_memories, macro_name
        from apsq_rae.hdl.rae import RAE
        macro = macro_name(params, ENGINE_TOP) if check_memories(memories) == "macro" else None
        design, top = RAE(params, pipeline=pipeline, memory_macro=macro), ENGINE_TOP
    else:
        design, top = Baseline(params, pipeline=pipeline.nearest), BASELINE_TOP
        macro = None
    latency = design.latency
    text = rtlil.convert(design, name=top, emit_src=False)
    if macro is not None:
        text += macro_blackbox(params, ENGINE_TOP)
    return text, latency


def _config_dir(params, pipeline="default"):
    p, label = params, as_pipeline(pipeline).label
    return (f"L{p.lanes}_P{p.psum_bits}_Q{p.q_bits}_G{p.max_group_size}_D{p.depth}"
            f"_E{p.exp_bits}_S{p.step_bits}_{p.rounding}"
            + ("" if label == "default" else f"_{label}"))


def run_area(configs, out, *, flows=FLOWS, jobs=2, use_cache=True,
             sram_ge_per_bit=SRAM_GE_PER_BIT, log=print, pipeline="default",
             sweep_pipelines=(), fmax_runs=(), memories="behavioural", scheduler=None):
    """Synthesize engine and baseline for every configuration; write the report files.

    Parameters
    ----------
    configs : list of RAEParams
        The configurations; the first is the base (labelled "base" in the report).
    out : pathlib.Path
        Output directory (``area.json``, ``area.md``, ``area.png``, ``work/``, ``cache/``).
    flows : tuple of str
        Subset of ``("asic", "ecp5", "ice40")``; ``"asic"`` is required.
    jobs : int
        Workers of the local dask cluster (Yosys processes at once) when ``scheduler`` is
        ``None``.
    scheduler : str, optional
        Address of a running dask scheduler to run the syntheses on
        (:class:`apsq_rae.sweep.Sweep`); the report is the same either way.
    use_cache : bool
        Reuse results of identical earlier runs from ``out/cache``.
    sram_ge_per_bit : float
        SRAM area per memory bit, in gate equivalents.
    log : callable
        Progress lines go here.
    pipeline : str or Pipeline
        Pipeline setting (``"min"``, ``"default"``, ``"max"``) of the engine and the baseline:
        the base setting, at which every configuration is synthesized. A custom
        :class:`~apsq_rae.hdl.pipeline.Pipeline` is the engine's; the baseline then takes the
        setting nearest to it, and the report names it by its ``label``.
    sweep_pipelines : tuple of str
        Further settings at which the base configuration (engine and baseline) is synthesized
        (:func:`sweep_points`); the report compares each engine setting with the baseline
        setting of the closest clock estimate that is not slower.
    fmax_runs : list
        ECP5 Fmax runs (:func:`apsq_rae.area.report.load_fmax`) drawn in ``area_vs_clock.png``.
    memories : str
        ``"behavioural"`` or ``"macro"`` (the engine's banks as black-box macros, as
        ``generate --memories macro`` writes them; ASIC flow only). Either way the banks are
        counted as memory bits.

    Returns
    -------
    dict
        The content of ``area.json``.
    """
    flows = tuple(flows)
    for flow in flows:
        if flow not in FLOWS:
            raise ValueError(f"--flows: {flow!r} is not a flow (legal: {', '.join(FLOWS)})")
    if "asic" not in flows:
        raise ValueError("--flows must include asic (the report is built on it)")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs = {jobs!r} is out of range (legal: >= 1)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "cache" if use_cache else None
    base = configs[0]
    pipeline = as_pipeline(pipeline)
    points = sweep_points(configs, pipeline,
                          parse_pipelines(sweep_pipelines) if sweep_pipelines else ())
    start = time.monotonic()
    extra = len(points) - len(configs)
    log(f"[area] {len(configs)} configuration(s) at pipeline {pipeline.label}"
        + (f" + the base at {extra} more setting(s)" if extra else "")
        + f" x engine + baseline x {', '.join(flows)}; "
        + (f"jobs on the dask scheduler {scheduler}" if scheduler else f"{jobs} Yosys process(es)")
        + f"; results in {out}")

    entries, jobs_args, jobs_labels, where = [], [], [], []
    pending = {}                  # (RTLIL, top, flow) -> job index: the same design once
    for params, setting in points:
        results, latency = {}, {}
        for design, top, engine in (("engine", ENGINE_TOP, True),
                                    ("baseline", BASELINE_TOP, False)):
            il, latency[design] = _elaborate(params, engine=engine, pipeline=setting,
                                             memories=memories)
            for flow in flows:
                workdir = out / "work" / (_config_dir(params, setting)
                                          + ("_macro" if memories == "macro" else "")) \
                    / design / flow
                key = cache_key(il, top, flow) if cache is not None else None
                cached = load_cached(cache, key) if key is not None else None
                if cached is not None:
                    results[design, flow] = cached
                    continue
                if (il, top, flow) not in pending:
                    pending[il, top, flow] = len(jobs_args)
                    jobs_args.append((il, top, flow))
                    jobs_labels.append(f"{_label(params, base, setting, pipeline)} {design} "
                                       f"{flow}")
                    where.append([])
                where[pending[il, top, flow]].append((results, (design, flow), workdir, key,
                                                      il))
        entries.append((params, setting, latency, results))
    if jobs_args:
        with Sweep(jobs=jobs, scheduler=scheduler, name="area", log=log) as sweep:
            done = sweep.map(synthesize_job, jobs_args, jobs_labels)
        for places, (result, files) in zip(where, done):
            for index, (results, slot, workdir, key, il) in enumerate(places):
                workdir.mkdir(parents=True, exist_ok=True)
                (workdir / "design.il").write_text(il)
                for name, text in files.items():
                    (workdir / name).write_text(text)
                if key is not None:
                    store_cached(cache, key, result)
                # A design shared by two points (a custom engine pipeline's baseline) counts
                # its Yosys time once.
                results[slot] = result if index == 0 else dict(result, cached=True)
    total_cpu = 0.0
    report_configs = []
    for index, (params, setting, latency, results) in enumerate(entries, 1):
        fresh = [r for r in results.values() if not r.get("cached")]
        cpu = sum(r.get("yosys_cpu_s", 0.0) for r in fresh)
        total_cpu += cpu
        entry = {"label": _label(params, base, setting, pipeline),
                 "params": params.as_dict(), "pipeline": setting.label,
                 "baseline_pipeline": setting.nearest, "pipeline_knobs": setting.as_dict(),
                 "latency": latency,
                 "yosys": {"runs": len(results), "cached": len(results) - len(fresh),
                           "cpu_s": round(cpu, 1)}}
        for design, top in (("engine", ENGINE_TOP), ("baseline", BASELINE_TOP)):
            entry[design] = summarize_design(
                {flow: results[design, flow] for flow in flows}, top,
                sram_ge_per_bit=sram_ge_per_bit)
        entry["compare"] = compare(params, entry["engine"], entry["baseline"])
        report_configs.append(entry)
        c = entry["compare"]
        log(f"[area] {index}/{len(points)} {entry['label']}: engine logic "
            f"{entry['engine']['asic']['logic_ge']:,.0f} GE vs baseline "
            f"{entry['baseline']['asic']['logic_ge']:,.0f} GE "
            f"({c['logic_overhead'] * 100:+.0f}%), memory "
            f"{entry['engine']['asic']['mem_bits']:,} vs "
            f"{entry['baseline']['asic']['mem_bits']:,} bits "
            f"({-c['mem_saved_frac'] * 100:+.0f}%) "
            f"[Yosys CPU {cpu:.0f} s"
            f"{', %d cached' % (len(results) - len(fresh)) if len(fresh) < len(results) else ''}"
            f"; {time.monotonic() - start:.0f} s elapsed]")

    report = write_outputs(report_configs, out, flows=flows, sram_ge_per_bit=sram_ge_per_bit,
                           fmax_runs=fmax_runs)
    for row in report["pipeline_settings"]:
        if len(report["pipeline_settings"]) > 1 and row["match"] is not None:
            e, b = row["engine"], row["baseline"]
            log(f"[area] pipeline {row['setting']}: engine {e['clock_mhz']:,.0f} MHz, "
                f"{e['logic_um2']:,.0f} um2 logic vs baseline {row['match']} "
                f"{b['clock_mhz']:,.0f} MHz{' (slower)' if row['slower'] else ''}: logic "
                f"{row['logic_change'] * 100:+.0f}%, logic + SRAM "
                f"{row['total_change'] * 100:+.0f}%")
    log(f"[area] wrote {out / 'area.json'}, {out / 'area.md'}, {out / 'area.png'}, "
        f"{out / 'area_vs_clock.png'} "
        f"in {time.monotonic() - start:.0f} s (Yosys CPU {total_cpu:.0f} s in all)")
    return report
