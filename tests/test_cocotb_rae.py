"""The cocotb regression of the generated Verilog, driven from pytest.

``make test`` runs the fast sweep (:data:`apsq_rae.tb.configs.FAST`), ``make regress`` adds the
nightly sweep (:data:`apsq_rae.tb.configs.SLOW`, ``@pytest.mark.slow``, more traffic), ``make bench``
the throughput and simulation-speed measurements (``@pytest.mark.bench``). ``APSQ_SEED``
sets the seed (default 1; printed), ``SIM`` the simulator, ``WAVES=1`` records waveforms
under ``sim_build/``.
"""

import pytest

from apsq_rae.tb.configs import FAST, SLOW, THROUGHPUT, pipeline_of
from apsq_rae.tb.sim import run


#: cocotb tests every configuration runs (one simulator run per configuration).
FUNCTIONAL = ["orders", "stress", "errors", "latency"]


def traffic_scale(params, base=1.0):
    """Random traffic per configuration: the larger group sizes have longer accumulations, so
    scale them down to keep each run to seconds. Wide engines get the same traffic as narrow
    ones: the generated Verilog is written for Icarus (:mod:`apsq_rae.gen.verilog_text`: one
    concatenation per part-assigned net, one ``always`` block per clock edge), so a 16-lane
    engine simulates fast enough for the same traffic."""
    return base * min(1.0, 4 / params.max_group_size) ** 2


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
