"""tb.sim.run: its verdict is the cocotb results file's, inside pytest and outside it."""

from pathlib import Path

import pytest

from apsq_rae.hdl.params import RAEParams
from apsq_rae.tb.sim import run

TINY = RAEParams(lanes=1, psum_bits=8, q_bits=4, max_group_size=1, depth=2, exp_bits=2,
                 step_bits=2)
MODULES = str(Path(__file__).resolve().parent / "cocotb_modules")


@pytest.fixture(autouse=True)
def outcomes_module(monkeypatch):
    # The runner hands the simulator's Python this process's sys.path.
    monkeypatch.syspath_prepend(MODULES)


def _run(testcase, under_pytest):
    # One test directory per test: pytest-xdist runs the parametrizations at the same time.
    return run(TINY, testcase, module="cocotb_outcomes",
               run_name=f"outcomes-{testcase}-{'pytest' if under_pytest else 'plain'}")


@pytest.mark.parametrize("under_pytest", [True, False])
def test_passing_test_counts(monkeypatch, under_pytest):
    if not under_pytest:
        monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    assert _run("passes", under_pytest) == 1


@pytest.mark.parametrize("under_pytest", [True, False])
def test_failing_test_raises(monkeypatch, under_pytest):
    """Outside pytest, cocotb's runner returns normally when a test fails; run must not."""
    if not under_pytest:
        monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    with pytest.raises(AssertionError, match=r"cocotb fails .*(1 of 1 tests failed|exit 1)"):
        _run("fails", under_pytest)
