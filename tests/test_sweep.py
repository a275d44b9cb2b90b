"""Sweeps on dask.distributed (sweep/runner.py): ordered results, failures reported after the
other jobs, a worker killed mid-sweep, an unreachable scheduler, a worker with another
revision, Ctrl-C, and the area and explore sweeps giving the same report on one worker or
two."""

import json
import os
import re
import signal
import sys
import threading
import time
import tomllib
from pathlib import Path

import cloudpickle
import pytest

from apsq_rae.cli import main
from apsq_rae.hdl.params import RAEParams
from apsq_rae.sweep import Sweep, SweepError, SweepFailed
from apsq_rae.sweep import runner


# The jobs below are defined here: ship them to the workers by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _square(x, delay=0.0):
    time.sleep(delay)
    if x < 0:
        raise RuntimeError(f"yosys failed on {x}\nline 1\nline 2 of the log")
    return x * x


def test_results_in_order_with_progress():
    lines = []
    with Sweep(jobs=2, name="t", log=lines.append) as sweep:
        assert sweep.map(_square, [(k, 0.05 * (5 - k)) for k in range(5)],
                         [f"job{k}" for k in range(5)]) == [0, 1, 4, 9, 16]
    assert lines[0] == "[t] 2 worker(s) on a local cluster"
    assert len([line for line in lines if re.match(r"\[t\] \d/5 done \(job\d", line)]) == 5


def test_a_failed_job_is_reported_after_the_others():
    with Sweep(jobs=2, name="t", log=lambda line: None, retries=0) as sweep:
        with pytest.raises(SweepFailed) as failed:
            sweep.map(_square, [(1,), (-3,), (2,), (3,)], ["a", "b", "c", "d"])
    assert failed.value.results == [1, None, 4, 9]
    message = str(failed.value)
    assert message.startswith("1 job(s) failed:\n  b: RuntimeError: yosys failed on -3")
    assert "line 2 of the log" in message


def test_a_worker_killed_mid_sweep_is_survived():
    with Sweep(jobs=2, name="t", log=lambda line: None) as sweep:
        pids = sorted(sweep.client.run(os.getpid).values())
        assert len(pids) == 2
        killer = threading.Timer(0.6, os.kill, (pids[0], signal.SIGKILL))
        killer.start()
        try:
            results = sweep.map(_square, [(k, 0.4) for k in range(8)],
                                [f"job{k}" for k in range(8)])
        finally:
            killer.cancel()
        assert results == [k * k for k in range(8)]
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)              # it really died


def test_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys):
    with pytest.raises(SweepError, match=r"^--scheduler = 'tcp://127.0.0.1:9': cannot reach a "
                                         r"dask scheduler there \(.*\)$"):
        with Sweep(scheduler="tcp://127.0.0.1:9", connect_timeout=1):
            pass
    code = main(["area", "--default-only", "--lanes", "1", "--scheduler", "tcp://127.0.0.1:9",
                 "--out", str(tmp_path / "area")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "cannot reach a dask scheduler" in err[0]
    assert not (tmp_path / "area" / "area.json").exists()


def test_a_worker_with_another_revision_is_refused(monkeypatch):
    monkeypatch.setattr(runner, "project_fingerprint", lambda: "0.1.0 0000000000000000")
    with pytest.raises(SweepError, match=r"^worker tcp://\S+ has apsq-rae 0\.1\.0 [0-9a-f]{16}, "
                                         r"this machine 0\.1\.0 0000000000000000: install the "
                                         r"same revision on every worker$"):
        with Sweep(jobs=1, log=lambda line: None):
            pass


def test_fingerprint_covers_every_package():
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml")
                              .read_text())
    assert tuple(pyproject["tool"]["setuptools"]["packages"]) == runner.PACKAGES


def _report(path):
    data = json.loads(path.read_text())
    for entry in data["configs"]:
        entry.pop("yosys")                          # CPU seconds differ from run to run
        for design in ("engine", "baseline"):
            for flow in entry[design].values():
                if isinstance(flow, dict):
                    flow.pop("yosys_cpu_s", None)
    return data


def test_area_report_same_on_one_worker_and_two(tmp_path):
    from apsq_rae.area.flow import run_area
    configs = [RAEParams(lanes=1, psum_bits=8, q_bits=4, max_group_size=2, depth=2,
                         exp_bits=2, step_bits=3),
               RAEParams(lanes=2, psum_bits=8, q_bits=4, max_group_size=2, depth=2,
                         exp_bits=2, step_bits=3)]
    for jobs in (1, 2):
        run_area(configs, tmp_path / f"w{jobs}", flows=("asic",), jobs=jobs, use_cache=False,
                 log=lambda line: None)
    assert _report(tmp_path / "w1" / "area.json") == _report(tmp_path / "w2" / "area.json")
    assert (tmp_path / "w2" / "area.md").read_text() == (tmp_path / "w1" / "area.md").read_text()


def test_explore_report_same_on_one_worker_and_two(tmp_path):
    """The explorer's schemes as jobs: the tiny model's report.json does not depend on how
    many workers ran them."""
    reports = []
    for jobs in (1, 2):
        out = tmp_path / f"w{jobs}"
        assert main(["explore", "--model", "tiny", "--out", str(out), "--q-bits", "8,4",
                     "--group-sizes", "1,2", "--eval-sentences", "4", "--calib-sentences",
                     "3", "--chunk", "16", "--jobs", str(jobs)]) == 0
        report = json.loads((out / "report.json").read_text())
        report.pop("seconds", None)
        reports.append(report)
    assert reports[0] == reports[1]
    assert set(reports[0]["end_to_end"]) == {"INT32", "OUT q8", "PSQ q8", "APSQ q8 gs1",
                                            "APSQ q8 gs2", "OUT q4", "PSQ q4", "APSQ q4 gs1",
                                            "APSQ q4 gs2"}


def test_ctrl_c_cancels_the_outstanding_jobs():
    lines = []

    def log(line):
        lines.append(line)
        if "1/6 done" in line:
            raise KeyboardInterrupt          # as Ctrl-C would, while jobs are outstanding

    with Sweep(jobs=1, name="t", log=log) as sweep:
        with pytest.raises(KeyboardInterrupt):
            sweep.map(_square, [(k, 0.3) for k in range(6)], [f"job{k}" for k in range(6)])
        assert lines[-1] == "[t] interrupted: 5 job(s) cancelled"
        time.sleep(0.5)
        assert all(not tasks for tasks in sweep.client.processing().values())
