"""Functional coverage of the session's cocotb runs (docs/coverage.md).

Every simulator run that :func:`apsq_rae.tb.sim.run` starts writes its coverage counts into
``APSQ_COVERAGE_DIR`` (a fresh temporary folder unless the environment names one; ``make
test`` and ``make regress`` use ``build/coverage/test`` and ``build/coverage/regress``). At the
end of the session the counts are added up and printed; with ``--coverage-require`` (``make
regress``) an empty bin fails the session.
"""

import os
import shutil
import tempfile
from pathlib import Path

from apsq_rae.tb.coverage_report import empty_bins, format_report, merge_folder


def pytest_addoption(parser):
    parser.addoption("--coverage-require", action="store_true",
                     help="fail the session when a functional coverage bin is empty")


def pytest_configure(config):
    if hasattr(config, "workerinput"):
        return          # a pytest-xdist worker: the controller's environment has the folder
    folder = os.environ.get("APSQ_COVERAGE_DIR")
    config._apsq_coverage_tmp = folder is None
    if folder is None:
        folder = tempfile.mkdtemp(prefix="apsq-coverage-")
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        stale.unlink()
    os.environ["APSQ_COVERAGE_DIR"] = str(folder)
    config._apsq_coverage_dir = folder


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    folder = getattr(config, "_apsq_coverage_dir", None)
    if folder is None:
        return
    merged = merge_folder(folder)
    require = config.getoption("--coverage-require")
    if merged["runs"]:
        text = format_report(merged)
        if not config._apsq_coverage_tmp:
            (folder / "report.txt").write_text(text + "\n")
        config._apsq_coverage_text = text
        if require and empty_bins(merged) and session.exitstatus == 0:
            session.exitstatus = 1
    elif require:
        config._apsq_coverage_text = "functional coverage: no simulator run recorded any"
        if session.exitstatus == 0:
            session.exitstatus = 1
    if config._apsq_coverage_tmp:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    text = getattr(config, "_apsq_coverage_text", None)
    if text:
        terminalreporter.section("functional coverage")
        terminalreporter.write_line(text)
