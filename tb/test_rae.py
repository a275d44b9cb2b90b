"""The cocotb regression of the generated Verilog, driven from pytest.

``make test`` runs the fast sweep (:data:`tb.configs.FAST`), ``make regress`` adds the
nightly sweep (:data:`tb.configs.SLOW`, ``@pytest.mark.slow``, more traffic), ``make bench``
the throughput measurement. ``APSQ_SEED`` sets the seed (default 1; printed), ``SIM`` the
simulator, ``WAVES=1`` records waveforms under ``sim_build/``.
"""

import pytest

from tb.configs import FAST, SLOW, THROUGHPUT
from tb.sim import run


#: cocotb tests every configuration runs (one simulator run per configuration).
FUNCTIONAL = ["orders", "stress", "errors", "latency"]


@pytest.mark.parametrize("name", list(FAST))
def test_rae(name):
    run(FAST[name], FUNCTIONAL, run_name="functional")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOW))
def test_rae_nightly(name):
    run(SLOW[name], FUNCTIONAL, run_name="nightly", extra_env={"APSQ_TB_SCALE": "3"})


def test_throughput():
    """One tile per clock on a long weight-stationary run (``make bench`` prints it)."""
    run(THROUGHPUT, "throughput", extra_env={"APSQ_TB_SCALE": "2"})
