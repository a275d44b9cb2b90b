"""The formal checks (``make formal`` runs them all; docs/formal.md): the quick subset passes,
and each property group catches a deliberately broken engine with a counterexample trace."""

import gc
import re
import warnings
from dataclasses import replace

import pytest
from amaranth.hdl import UnusedElaboratable

from apsq_rae.formal.bugs import BUGS, ENGINE_BUGS, broken_engine, patched_engine
from apsq_rae.formal.run import (ARITH_DEPTH, ARITH_INDUCTION_DEPTH, DECODE, DEEP,
                                 INDUCTION_DEPTH, JOBS, LONG, LONG_TIMEOUT, QUICK, TIMEOUT,
                                 WRITE_REGISTER, Job, SMALL, arith_induction_depth, run_job)
from apsq_rae.formal.run import main as formal_main
from apsq_rae.hdl.pipeline import SETTINGS
from apsq_rae.hdl.proof import ProofPlatform, for_proofs


@pytest.mark.parametrize("job", QUICK, ids=lambda job: job.name)
def test_quick_proofs_pass(job, tmp_path):
    result = run_job(job, tmp_path)
    assert result.status == "PASS", result.log_tail
    if job.group == "ready":
        assert "End of script" in (tmp_path / job.name / "ready.log").read_text()
    else:
        assert (tmp_path / job.name / "job" / "status").read_text().startswith("PASS")


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_broken_engine_is_caught(bug, tmp_path):
    group = BUGS[bug]
    mode = {"err": "prove", "ready": "structural"}.get(group, "bmc")
    job = Job(f"bug-{bug}", group, SMALL, "min", mode, 10, engine=broken_engine(bug))
    result = run_job(job, tmp_path)
    assert result.status == "FAIL", f"{bug}: {result.status}\n{result.log_tail}"
    if group == "ready":        # a netlist check: the log names the failed selection
        assert "select -assert-none" in result.log_tail or "Assertion" in result.log_tail
    else:
        assert result.trace.endswith(".vcd") and (tmp_path / job.name).exists()


@pytest.mark.parametrize("bug", list(ENGINE_BUGS))
def test_a_bug_inside_the_engine_is_caught(bug, tmp_path):
    # A block of the real engine swapped for a broken one at elaboration: the hazard stall
    # removed, one result slot too many counted, sat not carried on, the AP never added, the
    # banks' bypass missing, the registered bank write's landing clock not watched (only
    # with the write register, which no named setting has), the decoder's register loading
    # while its tile waits (only with that register, which no named setting has either).
    group = ENGINE_BUGS[bug]
    depth = ARITH_DEPTH if group == "arith" else 12
    pipeline = {"landing_unwatched": WRITE_REGISTER["min-wreg"],
                "decode_overwritten": DECODE["min-dec"]}.get(bug, "min")
    job = Job(f"bug-{bug}", group, SMALL, pipeline, "bmc", depth, engine=patched_engine(bug))
    result = run_job(job, tmp_path)
    assert result.status == "FAIL", f"{bug}: {result.status}\n{result.log_tail}"
    assert result.trace.endswith(".vcd")


@pytest.mark.parametrize("bug, group, pipeline", [
    ("unstable_result", "port", "default"), ("drop_result", "order", "min"),
    ("hazard_ignored", "hazard", "default"), ("credit_off_by_one", "hazard", "min"),
    ("landing_unwatched", "hazard", WRITE_REGISTER["default-wreg"]),
    ("sat_not_sticky", "arith", "min"), ("ap_not_added", "arith", "min"),
    ("drop_result", "arith", "min")])
def test_induction_does_not_prove_a_broken_engine(bug, group, pipeline, tmp_path):
    # The induction jobs' depth is too short for their base case to reach these bugs from
    # reset; the induction step must then fail instead of proving them.
    engine = broken_engine(bug) if bug in BUGS else patched_engine(bug)
    depth = ARITH_INDUCTION_DEPTH if group == "arith" else INDUCTION_DEPTH
    job = Job(f"induct-{bug}", group, SMALL, pipeline, "prove", depth, engine=engine)
    result = run_job(job, tmp_path)
    assert result.status in ("FAIL", "UNPROVEN"), f"{bug}: {result.status}\n{result.log_tail}"
    assert result.trace.endswith(".vcd")
    if bug == "credit_off_by_one":     # the result FIFO's own invariant: no write while full
        assert "hdl/results.py" in result.log_tail
    if group == "arith" and bug in ENGINE_BUGS:     # the banks no longer hold the sums
        assert "formal/writeback.py" in result.log_tail


@pytest.mark.parametrize("bug", ["sat_not_sticky", "ap_not_added"])
def test_the_write_back_form_finds_a_wrong_result_from_reset(bug, tmp_path):
    # Bounded, with the invariants: the assumptions leave real traces, in which the broken
    # engine writes a wrong result (the comparison at write-back fails, not an invariant).
    job = Job(f"wb-{bug}", "arith", SMALL, "min", "bmc", 10, engine=patched_engine(bug),
              invariants=True)
    result = run_job(job, tmp_path)
    assert result.status == "FAIL", f"{bug}: {result.status}\n{result.log_tail}"
    assert result.trace.endswith(".vcd")
    log = (tmp_path / job.name / "job" / "logfile.txt").read_text()
    failed = [line for line in log.splitlines() if "failed assertion" in line]
    assert failed and all("writeback.py" in line for line in failed), failed


def test_the_write_back_form_needs_behavioural_banks():
    # It reads every bank row; an SRAM macro's rows are outside the design.
    from amaranth.back import rtlil
    from apsq_rae.formal.harness import Harness
    from apsq_rae.hdl.rae import RAE
    harness = Harness(SMALL, "arith", pipeline="min", invariants=True,
                      engine=lambda params, pipeline: RAE(params, pipeline=pipeline,
                                                          memory_macro="sram"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=r"needs behavioural banks \(not --memories macro\)") \
                as raised:
            rtlil.convert(harness, ports=[])
        del raised                       # its traceback holds the elaboration's locals
        gc.collect()
    # The error comes alone, without a "created but never used" warning of a half-built module.
    unused = [str(w.message) for w in caught if issubclass(w.category, UnusedElaboratable)]
    assert unused == []


def test_proof_platform():
    assert not for_proofs(None) and not for_proofs("formal")
    platform = ProofPlatform()
    assert for_proofs(platform)
    platform.record("queue", entries=[])
    with pytest.raises(ValueError, match=r"^name = 'queue' is recorded twice"):
        platform.record("queue", entries=[])


def test_every_cover_statement_is_reached(tmp_path):
    job = Job("cover-test", "cover", SMALL, "min", "cover", 16)
    result = run_job(job, tmp_path)
    assert result.status == "PASS", result.log_tail
    log = (tmp_path / job.name / "job" / "logfile.txt").read_text()
    # 10 statements, plus one result at each group size 1..max_group_size.
    assert log.count("Reached cover statement") == 10 + SMALL.max_group_size
    assert len(list((tmp_path / job.name / "job" / "engine_0").glob("trace*.vcd"))) >= 10


@pytest.mark.parametrize("argv, message", [
    (["--quick", "--long"], r"--quick and --long exclude each other"),
    (["--jobs", "0"], r"--jobs = 0 is out of range \(legal: >= 1\)"),
    (["--only", "no-such-job"], r"--only = 'no-such-job' matches no job"),
    (["--timeout", "0"], r"--timeout = 0 is out of range \(legal: > 0\)"),
])
def test_formal_command_rejects_bad_input(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        formal_main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err


def test_long_jobs_reach_the_write_back_stage():
    # The arithmetic's induction depth covers the datapath stages plus one (docs/formal.md).
    assert [arith_induction_depth(SMALL, pipeline) for pipeline in ("min", "default", "max")] \
        == [3, 9, 10]
    assert ARITH_INDUCTION_DEPTH == arith_induction_depth(SMALL, "min")
    assert {job.name: job.depth for job in LONG} == {"arith-odd-default-induct": 9,
                                                     "arith-odd-max-induct": 10,
                                                     "arith-small-min-wreg-induct": 3}
    assert not {job.name for job in LONG} & {job.name for job in JOBS}


def test_long_jobs_have_time_to_finish():
    # arith-odd-default-induct took 1383 s (docs/results.md): more than a make formal job gets.
    assert TIMEOUT == 900 and LONG_TIMEOUT == 4 * 3600
    assert all(job.timeout == LONG_TIMEOUT for job in LONG)
    assert all(job.timeout == TIMEOUT for job in JOBS + QUICK)


def test_a_job_is_stopped_at_its_timeout(tmp_path):
    # order-small-max-deep-induct takes about 36 s; stopped after one, the solver with it.
    job = next(job for job in JOBS if job.name == "order-small-max-deep-induct")
    result = run_job(replace(job, timeout=1), tmp_path)
    assert result.status == "TIMEOUT" and result.seconds < 10, (result.status, result.seconds)


def test_the_knobs_no_setting_has_are_under_the_control_proofs():
    deep = DEEP["max-deep"]
    assert deep.shift_levels_per_stage == 1 and deep.tree_input_register and deep.decode_register
    assert {job.name for job in JOBS if job.pipeline == deep} == {
        f"{group}-small-max-deep-induct" for group in ("port", "order", "hazard")}
    decode = DECODE["min-dec"]
    assert decode.decode_register and not any(p.decode_register for p in SETTINGS.values())
    assert {job.name for job in JOBS if job.pipeline == decode} == {
        "port-small-min-dec-induct", "order-small-min-dec-induct", "hazard-small-min-dec-induct",
        "arith-small-min-dec-induct", "err-small-min-dec", "ready-small-min-dec"}
