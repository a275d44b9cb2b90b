"""``make mutate``: how many mutants of the generated netlist the quick regression kills.

For each configuration of :data:`CONFIGS`: draw ``--count`` mutants of the flattened netlist
(:mod:`apsq_rae.mutate.netlist`), compile them once, run the cocotb tests of ``make test``
(:data:`QUICK`: the functional set and the throughput test; seed 1, the same traffic) on each
mutant in parallel with a hang limit (:mod:`apsq_rae.mutate.simulate`). A survivor first gets the
state-matched equivalence check (:mod:`apsq_rae.mutate.equiv`); one not proved equivalent is
run longer (four times the traffic, two more seeds), and, with
``--reset-seconds``, what survives that gets the check from reset.

The score of a configuration is killed / (mutants - proved equivalent), where killed counts
the mutants the quick tests kill (a kill by the longer run does not count: it is a gap of
``make test``). ``report.md`` and ``report.json`` in ``--out`` list every survivor with the
line of the generated Verilog and the Amaranth line it came from.
"""

import argparse
import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from apsq_rae.cli import OneLineParser
from apsq_rae.hdl.params import RAEParams
from apsq_rae.tb.configs import (FAST, FUNCTIONAL, config_from_manifest, config_name,
                                  traffic_scale)

from .equiv import DIFFERS, EQUIVALENT, check_from_reset, check_state_matched
from .formal import formal_kills
from .netlist import prepare
from .simulate import compile_netlist, run_mutant
from .sources import amaranth_sources, locate


__all__ = ["CONFIGS", "TARGET", "main", "mutate_config"]


#: name: (parameters, pipeline setting). Narrow, odd-sized and 16 lanes; one per setting.
CONFIGS = {
    "narrow-min": (FAST["min"], "min"),
    "odd-default": (FAST["odd"], "default"),
    "lanes16-max": (RAEParams(lanes=16, depth=4), "max"),
}
#: The tests each mutant runs: those ``make test`` runs on every configuration, and its
#: throughput test (one tile per clock: a mutant that only stalls is a bug too).
QUICK = FUNCTIONAL + ["throughput"]

#: The issue's target score.
TARGET = 0.98
#: Seeds of the longer run (``make test`` uses 1).
LONG_SEEDS = (2, 3)
#: Traffic factor of the longer run.
LONG_SCALE = 4.0


class _Progress:
    def __init__(self, label, total, what="killed"):
        self.label, self.total, self.done, self.killed, self.what = label, total, 0, 0, what
        self.lock = threading.Lock()
        self.start = time.monotonic()
        self.step = max(1, total // 10)

    def tick(self, killed):
        with self.lock:
            self.done += 1
            self.killed += int(killed)
            if self.done % self.step == 0 or self.done == self.total:
                print(f"[mutate] {self.label}: {self.done}/{self.total} done, {self.killed} "
                      f"{self.what}, {time.monotonic() - self.start:.0f} s", flush=True)


def _verilog_line(lines, line_no):
    return lines[line_no - 1].strip() if line_no and 0 < line_no <= len(lines) else ""


def _driven_wire(mutation, verilog):
    """For a mutation of a cell's input (no wire in the list): the wire its Verilog line
    assigns, in the cell's module (``$flatten\\engine.\\quant.$ternary$...`` -> ``engine.quant``)."""
    match = re.match(r"assign\s+\\?(\S+)", verilog)
    if not match:
        return ""
    path = ".".join(part.rstrip(".") for part in
                    re.findall(r"\\([^\\$]+\.)", mutation.cell))
    return f"{path}.{match.group(1)}" if path else match.group(1)


def _where(mutation):
    """``wire[bit]``, or ``port P[bit] of the cell`` when the mutation names no wire."""
    if mutation["wire"]:
        return f"`{mutation['wire']}[{mutation['bit']}]`"
    match = re.search(r"-port (\S+) -portbit (\d+)", mutation["command"])
    return f"input {match.group(1)}[{match.group(2)}] of the cell" if match else "?"


def mutate_config(name, params, pipeline, out, *, count, seed, jobs, equiv_seconds,
                  reset_seconds=0, formal_seconds=0):
    """Run one configuration; return its report entry (a dict)."""
    workdir = Path(out) / name
    started = time.monotonic()
    mutations, manifest = prepare(params, pipeline, workdir, count=count, seed=seed)
    compile_netlist(workdir)
    config = config_from_manifest(manifest, None)      # run_mutant sets the seed
    scale = traffic_scale(params)
    reference = run_mutant(workdir, 0, config, QUICK, timeout=600, scale=scale)
    if reference.verdict != "survived":
        raise RuntimeError(f"{name}: the unmutated netlist fails the tests ({reference.detail}); "
                           f"see {workdir / 'runs' / 'quick-0'}")
    hang = max(60.0, 20 * reference.seconds)
    progress = _Progress(name, len(mutations))

    def quick(m):
        outcome = run_mutant(workdir, m.index, config, QUICK, timeout=hang, scale=scale)
        progress.tick(outcome.verdict != "survived")
        return outcome

    with ThreadPoolExecutor(jobs) as pool:
        outcomes = list(pool.map(quick, mutations))
    survivors = [m for m, o in zip(mutations, outcomes) if o.verdict == "survived"]

    def settle(m):
        verdict, detail = check_state_matched(workdir, m, timeout=equiv_seconds)
        if verdict == EQUIVALENT:
            return "equivalent", detail
        for s in LONG_SEEDS:
            o = run_mutant(workdir, m.index, config, QUICK,
                           timeout=hang * LONG_SCALE, scale=scale * LONG_SCALE, seed=s,
                           tag=f"long{s}")
            if o.verdict != "survived":
                return "killed by a longer run", f"seed {s}: {o.detail}"
        if formal_seconds:
            failed = formal_kills(workdir, params, pipeline, manifest["latency"], m.index,
                                  timeout=formal_seconds)
            if failed is not None:
                group, result = failed
                return "killed by the formal checks", (f"{group}: {result.status}, trace "
                                                       f"{result.trace or '-'}")
        if reset_seconds:
            verdict, detail = check_from_reset(workdir, m, depth=manifest["latency"] + 8,
                                               timeout=reset_seconds)
            if verdict == EQUIVALENT:
                return "equivalent", detail
            if verdict == DIFFERS:
                return "alive (differs)", detail
        return "alive (not proved equivalent)", detail

    if survivors:
        print(f"[mutate] {name}: {len(survivors)} survivors: equivalence checks "
              f"({equiv_seconds} s each) and longer runs", flush=True)
    settled = _Progress(f"{name} survivors", len(survivors), "equivalent")

    def settle_counted(m):
        result = settle(m)
        settled.tick(result[0] == "equivalent")
        return result

    with ThreadPoolExecutor(jobs) as pool:
        settled_all = list(pool.map(settle_counted, survivors))
    sources = amaranth_sources(params, pipeline)
    lines = (workdir / "apsq_rae.v").read_text().splitlines()
    rows = []
    for m, (status, detail) in zip(survivors, settled_all):
        verilog = _verilog_line(lines, m.verilog_line)
        rows.append({**asdict(m), "verilog": verilog,
                     "amaranth": locate(sources, m.wire or _driven_wire(m, verilog)),
                     "status": status, "detail": detail})
    killed = sum(o.verdict != "survived" for o in outcomes)
    hung = sum(o.verdict == "hung" for o in outcomes)
    equivalent = sum(r["status"] == "equivalent" for r in rows)
    score = killed / (len(mutations) - equivalent) if len(mutations) > equivalent else 1.0
    return {"name": name, "config": config_name(params, pipeline), "pipeline": pipeline,
            "mutants": len(mutations), "killed": killed, "hung": hung,
            "killed_longer": sum(r["status"] == "killed by a longer run" for r in rows),
            "killed_formal": sum(r["status"] == "killed by the formal checks" for r in rows),
            "equivalent": equivalent, "alive": sum(r["status"].startswith("alive") for r in rows),
            "score": score, "seconds": round(time.monotonic() - started, 1), "survivors": rows}


def _markdown(entries, args):
    out = ["# Mutation report", "",
           f"{args.count} mutants per configuration (Yosys `mutate -list`, seed {args.seed}); "
           f"tests: {', '.join(QUICK)} (seed 1, the traffic of `make test`). "
           f"Score = killed / (mutants - proved equivalent); target {TARGET:.0%}.", "",
           "| configuration | mutants | killed | hung | killed by a longer run | killed by the "
           "formal checks | equivalent | alive | score | seconds |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        out.append(f"| {e['name']} ({e['config']}) | {e['mutants']} | {e['killed']} | "
                   f"{e['hung']} | {e['killed_longer']} | {e['killed_formal']} | "
                   f"{e['equivalent']} | {e['alive']} | "
                   f"{e['score']:.1%} | {e['seconds']:.0f} |")
    for e in entries:
        out += ["", f"## {e['name']}: survivors", ""]
        if not e["survivors"]:
            out.append("None.")
            continue
        out += ["| mutsel | mode | wire[bit] | generated Verilog | Amaranth | status |",
                "|---|---|---|---|---|---|"]
        for r in e["survivors"]:
            verilog = f"`apsq_rae.v:{r['verilog_line']}` `{r['verilog']}`".replace("|", "\\|")
            out.append(f"| {r['index']} | {r['mode']} | {_where(r)} | {verilog} | "
                       f"{r['amaranth'] or '?'} | {r['status']}: {r['detail']} |")
    return "\n".join(out) + "\n"


def _write_reports(out, entries, args):
    (out / "report.json").write_text(json.dumps({"count": args.count, "seed": args.seed,
                                                 "configs": entries}, indent=1) + "\n")
    (out / "report.md").write_text(_markdown(entries, args))


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is out of range (legal: >= 1)")
    return value


def _non_negative(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is out of range (legal: >= 0)")
    return value


def main(argv=None):
    parser = OneLineParser(prog="python -m apsq_rae.mutate",
                           description="Mutation score of the quick regression "
                                       "(docs/mutation.md).")
    parser.add_argument("--out", default="build/mutate", help="report and work directory")
    parser.add_argument("--count", type=_positive, default=200,
                        help="mutants per configuration (default 200)")
    parser.add_argument("--seed", type=_positive, default=1, help="sample seed (default 1)")
    parser.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                        help="parallel runs (default: the CPU count)")
    parser.add_argument("--equiv-seconds", type=_positive, default=60,
                        help="time limit of each equivalence check (default 60)")
    parser.add_argument("--reset-seconds", type=_non_negative, default=0,
                        help="time limit of the from-reset check of what survives the longer "
                             "run (default 0: not run)")
    parser.add_argument("--formal-seconds", type=_non_negative, default=0,
                        help="run the port-level formal checks (port, order, err; BMC) on what "
                             "survives the longer run, each group with this time limit "
                             "(default 0: not run; several minutes per mutant)")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated subset of {', '.join(CONFIGS)}")
    args = parser.parse_args(argv)
    names = [n for n in args.configs.split(",") if n]
    for n in names:
        if n not in CONFIGS:
            parser.error(f"--configs: {n!r} is not one of {', '.join(CONFIGS)}")
    os.environ["AMARANTH_USE_YOSYS"] = "builtin"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for n in names:
        params, pipeline = CONFIGS[n]
        print(f"[mutate] {n}: {config_name(params, pipeline)}, {args.count} mutants", flush=True)
        entries.append(mutate_config(n, params, pipeline, out, count=args.count,
                                     seed=args.seed, jobs=args.jobs,
                                     equiv_seconds=args.equiv_seconds,
                                     reset_seconds=args.reset_seconds,
                                     formal_seconds=args.formal_seconds))
        _write_reports(out, entries, args)         # after each configuration: partial results
        e = entries[-1]
        print(f"[mutate] {n}: score {e['score']:.1%} ({e['killed']} killed of {e['mutants']}, "
              f"{e['equivalent']} equivalent, {e['killed_longer']} killed only by a longer run, "
              f"{e['alive']} alive), {e['seconds']:.0f} s", flush=True)
    worst = min(e["score"] for e in entries)
    verdict = "met" if worst >= TARGET else "missed"
    print(f"[mutate] lowest score {worst:.1%} (target {TARGET:.0%}: {verdict}); report "
          f"{out / 'report.md'}")
    return 0
