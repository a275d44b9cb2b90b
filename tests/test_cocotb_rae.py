"""The cocotb regression of the generated Verilog, driven from pytest.

``make test`` runs the fast sweep (:data:`apsq_rae.tb.configs.FAST`), ``make regress`` adds the
nightly sweep (:data:`apsq_rae.tb.configs.SLOW`, ``@pytest.mark.slow``, more traffic), ``make bench``
the throughput and simulation-speed measurements (``@pytest.mark.bench``). ``APSQ_SEED``
sets the seed (default 1; printed), ``SIM`` the simulator, ``WAVES=1`` records waveforms
under ``sim_build/``.
"""

import pytest

from apsq_rae.tb.configs import FAST, FUNCTIONAL, SLOW, THROUGHPUT, pipeline_of, traffic_scale
from apsq_rae.tb.sim import run


@pytest.mark.parametrize("name", list(FAST))
def test_rae(name):
    params = FAST[name]
    env = {"APSQ_TB_SCALE": str(traffic_scale(params))}
    run(params, FUNCTIONAL, run_name="functional", extra_env=env, pipeline=pipeline_of(name))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOW))
def test_rae_nightly(name):
    params = SLOW[name]
    run(params, FUNCTIONAL, run_name="nightly",
        extra_env={"APSQ_TB_SCALE": str(traffic_scale(params, 3.0))}, pipeline=pipeline_of(name))


def test_throughput():
    """One tile per clock on a long weight-stationary run (``make bench`` prints it)."""
    run(THROUGHPUT, "throughput")


@pytest.mark.bench
def test_sim_speed():
    """Clocks per second of the cocotb simulation of the 16-lane default engine (``make
    bench``; every result still scored). Prints the number, asserts no time."""
    run(THROUGHPUT, "speed")
