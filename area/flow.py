"""Yosys area sweep of the engine against the INT32 baseline (``apsq-rae area``).

For every configuration of the sweep, the engine (:class:`apsq_rae.hdl.rae.RAE`) and the baseline
(:class:`apsq_rae.hdl.baseline.Baseline`, a ``psum_bits`` read-add-write PSUM buffer with the engine's
address space) are elaborated to RTLIL with their hierarchy and synthesized three ways (see
:mod:`apsq_rae.area.yosys`): an ASIC gate-count estimate on a small cell library, ``synth_ecp5`` and
``synth_ice40``. The results go to ``area.json`` (everything), ``area.md`` (the tables) and
``area.png`` (the plot), see :mod:`apsq_rae.area.report`.

The default sweep changes one parameter at a time around the base configuration (the spec's
defaults, or the engine options given): ``max_group_size`` 1, 2, 4, 8; ``lanes`` 1, 4, 16;
``q_bits`` 4, 8. ``--default-only`` synthesizes the base configuration alone.
"""

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from amaranth.back import rtlil

from apsq_rae.hdl.baseline import Baseline
from apsq_rae.hdl.params import RAEParams
from .yosys import FLOWS, synthesize
from .report import SRAM_GE_PER_BIT, summarize_design, compare, write_outputs


__all__ = ["sweep_configs", "run_area", "DEFAULT_SWEEP", "FLOWS"]


#: The default sweep: each parameter varied on its own around the base configuration.
DEFAULT_SWEEP = {"max_group_size": (1, 2, 4, 8), "lanes": (1, 4, 16), "q_bits": (4, 8)}

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


def _label(params, base):
    diff = [f"{f}={getattr(params, f)}" for f in RAEParams.names()
            if getattr(params, f) != getattr(base, f)]
    return ", ".join(diff) if diff else "base"


def _elaborate(params, *, engine, pipeline="default"):
    # Imported here: `apsq-rae --help` must work even while the engine does not elaborate.
    if engine:
        from apsq_rae.hdl.rae import RAE
        return rtlil.convert(RAE(params, pipeline=pipeline), name=ENGINE_TOP, emit_src=False)
    return rtlil.convert(Baseline(params, pipeline=pipeline), name=BASELINE_TOP, emit_src=False)


def _config_dir(params, pipeline="default"):
    p = params
    return (f"L{p.lanes}_P{p.psum_bits}_Q{p.q_bits}_G{p.max_group_size}_D{p.depth}"
            f"_E{p.exp_bits}_S{p.step_bits}_{p.rounding}"
            + ("" if pipeline == "default" else f"_{pipeline}"))


def run_area(configs, out, *, flows=FLOWS, jobs=2, use_cache=True,
             sram_ge_per_bit=SRAM_GE_PER_BIT, log=print, pipeline="default"):
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
        Yosys processes run at once.
    use_cache : bool
        Reuse results of identical earlier runs from ``out/cache``.
    sram_ge_per_bit : float
        SRAM area per memory bit, in gate equivalents.
    log : callable
        Progress lines go here.
    pipeline : str
        Pipeline setting (``"min"``, ``"default"``, ``"max"``) of the engine and the baseline.

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
    start = time.monotonic()
    log(f"[area] {len(configs)} configuration(s) x engine + baseline x {', '.join(flows)}; "
        f"pipeline {pipeline}; {jobs} Yosys process(es); results in {out}")

    entries = []
    total_cpu = 0.0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for params in configs:
            futures = {}
            for design, top, engine in (("engine", ENGINE_TOP, True),
                                        ("baseline", BASELINE_TOP, False)):
                il = _elaborate(params, engine=engine, pipeline=pipeline)
                for flow in flows:
                    workdir = out / "work" / _config_dir(params, pipeline) / design / flow
                    futures[design, flow] = pool.submit(synthesize, il, top, flow, workdir,
                                                        cache_dir=cache)
            entries.append((params, futures))
        report_configs = []
        for index, (params, futures) in enumerate(entries, 1):
            try:
                results = {key: future.result() for key, future in futures.items()}
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            fresh = [r for r in results.values() if not r.get("cached")]
            cpu = sum(r.get("yosys_cpu_s", 0.0) for r in fresh)
            total_cpu += cpu
            entry = {"label": _label(params, base), "params": params.as_dict(),
                     "pipeline": pipeline,
                     "yosys": {"runs": len(results), "cached": len(results) - len(fresh),
                               "cpu_s": round(cpu, 1)}}
            for design, top in (("engine", ENGINE_TOP), ("baseline", BASELINE_TOP)):
                entry[design] = summarize_design(
                    {flow: results[design, flow] for flow in flows}, top,
                    sram_ge_per_bit=sram_ge_per_bit)
            entry["compare"] = compare(params, entry["engine"], entry["baseline"])
            report_configs.append(entry)
            c = entry["compare"]
            log(f"[area] {index}/{len(configs)} {entry['label']}: engine logic "
                f"{entry['engine']['asic']['logic_ge']:,.0f} GE vs baseline "
                f"{entry['baseline']['asic']['logic_ge']:,.0f} GE "
                f"({c['logic_overhead'] * 100:+.0f}%), memory "
                f"{entry['engine']['asic']['mem_bits']:,} vs "
                f"{entry['baseline']['asic']['mem_bits']:,} bits "
                f"({-c['mem_saved_frac'] * 100:+.0f}%) "
                f"[Yosys CPU {cpu:.0f} s"
                f"{', %d cached' % (len(results) - len(fresh)) if len(fresh) < len(results) else ''}"
                f"; {time.monotonic() - start:.0f} s elapsed]")

    report = write_outputs(report_configs, out, flows=flows, sram_ge_per_bit=sram_ge_per_bit)
    log(f"[area] wrote {out / 'area.json'}, {out / 'area.md'}, {out / 'area.png'} "
        f"in {time.monotonic() - start:.0f} s (Yosys CPU {total_cpu:.0f} s in all)")
    return report
