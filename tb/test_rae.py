"""The cocotb regression of the generated Verilog, driven from pytest.

``make test`` runs the fast sweep (:data:`tb.configs.FAST`), ``make regress`` adds the
nightly sweep (:data:`tb.configs.SLOW`, ``@pytest.mark.slow``, more traffic), ``make bench``
the throughput and simulation-speed measurements (``@pytest.mark.bench``). ``APSQ_SEED``
sets the seed (default 1; printed), ``SIM`` the simulator, ``WAVES=1`` records waveforms
under ``sim_build/``.
"""

import pytest

from tb.configs import FAST, SLOW, THROUGHPUT
from tb.sim import run


#: cocotb tests every configuration runs (one simulator run per configuration).
FUNCTIONAL = ["orders", "stress", "errors", "latency"]


def traffic_scale(params, base=1.0):
    """Random traffic per configuration: Icarus needs far more time per clock for wide
    engines (16 lanes: some tens of clocks per second) than for narrow ones (hundreds), and
    the larger group sizes have longer accumulations; scale so each run takes seconds."""
    scale = base * min(1.0, 4 / params.max_group_size) ** 2
    if params.lanes >= 8:
        scale *= 0.05
    return scale


@pytest.mark.parametrize("name", list(FAST))
def test_rae(name):
    params = FAST[name]
    env = {"APSQ_TB_SCALE": str(traffic_scale(params))}
    if params.lanes >= 8:
        env["APSQ_TB_GS"] = "ends"     # group sizes 1 and the largest
    run(params, FUNCTIONAL, run_name="functional", extra_env=env)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SLOW))
def test_rae_nightly(name):
    params = SLOW[name]
    run(params, FUNCTIONAL, run_name="nightly",
        extra_env={"APSQ_TB_SCALE": str(traffic_scale(params, 3.0))})


def test_throughput():
    """One tile per clock on a long weight-stationary run (``make bench`` prints it)."""
    run(THROUGHPUT, "throughput")


@pytest.mark.bench
def test_sim_speed():
    """Clocks per second of the cocotb simulation of the 16-lane default engine (``make
    bench``; every result still scored). Prints the number, asserts no time."""
    run(THROUGHPUT, "speed")
