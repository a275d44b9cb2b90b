"""The formal checks (``make formal`` runs them all; docs/formal.md): the quick subset passes,
and each property group catches a deliberately broken engine with a counterexample trace."""

import dataclasses

import pytest

from apsq_rae.formal.bugs import BUGS, broken_engine
from apsq_rae.formal.run import QUICK, Job, SMALL, run_job


@pytest.mark.parametrize("job", QUICK, ids=lambda job: job.name)
def test_quick_proofs_pass(job, tmp_path):
    result = run_job(job, tmp_path)
    assert result.status == "PASS", result.log_tail
    assert (tmp_path / job.name / "job" / "status").read_text().startswith("PASS")


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_broken_engine_is_caught(bug, tmp_path):
    group = BUGS[bug]
    mode = "prove" if group == "err" else "bmc"
    job = Job(f"bug-{bug}", group, SMALL, "min", mode, 10, engine=broken_engine(bug))
    result = run_job(job, tmp_path)
    assert result.status == "FAIL", f"{bug}: {result.status}\n{result.log_tail}"
    assert result.trace.endswith(".vcd") and (tmp_path / job.name).exists()
