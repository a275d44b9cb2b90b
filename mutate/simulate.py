"""Run the cocotb regression on one mutant of a compiled mutation netlist, with a hang limit.

:func:`compile_netlist` compiles ``mutated.v`` once with Verilator (the cocotb runner). The
flattened netlist is one ``assign`` per cell, which Icarus simulates some 25 times slower
than Verilator (5 s against 0.2 s for the quick tests of a two-lane engine); Verilator's
two-state simulation (``--x-assign 0``) is also what a mutant meets in the tests of
``make test`` under ``SIM=verilator``.
:func:`run_mutant` runs the cocotb tests on mutant ``k`` in a child process
(``python -m apsq_rae.mutate.simulate``) that is killed, with the simulator, after ``timeout``
seconds: a mutant can hang the simulator itself (a combinational loop), which no simulated
time limit catches. The child reads the verdict from cocotb's results file.
"""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


__all__ = ["Outcome", "compile_netlist", "run_mutant"]


TIMESCALE = ("1ns", "1ps")
#: Exit status of the child when the run could not take place (not a verdict on the mutant).
TOOL_ERROR = 3


@dataclass(frozen=True)
class Outcome:
    """Verdict of one run: ``"survived"``, ``"killed"`` or ``"hung"`` (killed by the hang
    limit), with the wall time and the first failure message."""
    verdict: str
    seconds: float
    detail: str = ""


def _build(runner, workdir, log_file):
    # A cnot mutant feeds one bit of a wire from another bit of the same wire; Verilator calls
    # that circular logic (UNOPTFLAT) and evaluates it until it settles, which costs time only.
    # Splitting every net instead (Yosys splitnets) made the compilation minutes longer.
    runner.build(sources=[workdir / "mutated.v"], hdl_toplevel="apsq_rae",
                 build_dir=workdir / "obj", timescale=TIMESCALE, log_file=log_file,
                 build_args=["--x-assign", "0", "-Wno-fatal", "-Wno-UNOPTFLAT"])


def compile_netlist(workdir):
    """Compile ``workdir/mutated.v`` with Verilator into ``workdir/obj``."""
    from cocotb_tools.runner import get_runner
    from apsq_rae.tb.sim import use_verilator
    use_verilator()
    workdir = Path(workdir).resolve()
    _build(get_runner("verilator"), workdir, workdir / "compile.log")


def run_mutant(workdir, mutant, config, tests, *, timeout, scale=1.0, seed=1, tag="quick"):
    """Run cocotb ``tests`` on mutant ``mutant`` (0: the engine itself) of the compiled netlist
    in ``workdir``; ``config`` is the bench configuration (:func:`apsq_rae.tb.bench.load_config`
    before decoding: params as a dict, latency, capacity)."""
    workdir = Path(workdir).resolve()
    test_dir = workdir / "runs" / f"{tag}-{mutant}"
    test_dir.mkdir(parents=True, exist_ok=True)
    job = {"workdir": str(workdir), "test_dir": str(test_dir), "tests": list(tests),
           "env": {"APSQ_TB_CONFIG": json.dumps({**config, "seed": seed}),
                   "APSQ_TB_SCALE": str(scale), "APSQ_MUTANT": str(mutant)}}
    (test_dir / "job.json").write_text(json.dumps(job))
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "apsq_rae.mutate.simulate",
                             str(test_dir / "job.json")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Outcome("hung", time.monotonic() - start, f"no verdict after {timeout:.0f} s")
    seconds = time.monotonic() - start
    if proc.returncode == 0:
        return Outcome("survived", seconds)
    if proc.returncode == TOOL_ERROR:
        raise RuntimeError(f"mutant {mutant} in {workdir}: {out.strip().splitlines()[-1]}")
    lines = out.strip().splitlines()
    return Outcome("killed", seconds, (lines[-1].strip() if lines else "")[:240])


def _child(job_file):
    # Runs in the child process: one cocotb run, verdict from the results file.
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner
    job = json.loads(Path(job_file).read_text())
    workdir = Path(job["workdir"])
    from apsq_rae.tb.sim import use_verilator
    use_verilator()
    runner = get_runner("verilator")
    try:
        # Up to date since compile_netlist: this only sets the runner's state up.
        _build(runner, workdir, Path(job["test_dir"]) / "build.log")
    except Exception as error:                  # noqa: BLE001 - reported as a tool error
        print(f"tool error: {type(error).__name__}: {error}")
        return TOOL_ERROR
    try:
        results = runner.test(test_module="apsq_rae.tb.cocotb_rae", hdl_toplevel="apsq_rae",
                              testcase=job["tests"], build_dir=workdir / "obj",
                              test_dir=job["test_dir"], extra_env=job["env"],
                              timescale=TIMESCALE, log_file=Path(job["test_dir"]) / "sim.log")
        n_tests, n_failed = get_results(Path(results))
    except SystemExit as error:
        print(f"Error: the simulator stopped (exit {error.code})")
        return 1
    except RuntimeError as error:               # no results file: the simulator died
        print(f"Error: {error}")
        return 1
    if n_failed or n_tests != len(job["tests"]):
        log = (Path(job["test_dir"]) / "sim.log").read_text(errors="replace")
        first = next((line.strip() for line in log.splitlines()
                      if line.strip().startswith("AssertionError:")), "")
        print(f"{n_failed} of {n_tests} tests failed: {first}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1]))
