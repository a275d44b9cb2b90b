"""The port wrappers around the engine: ``FlatRAE`` (hdl/top.py, the flat spec section 5
ports) and what it shares with ``AxisRAE`` (hdl/wrapper.py)."""

import pytest
from amaranth.hdl import Fragment
from amaranth.lib.wiring import In, Out

from apsq_rae.hdl.params import RAEParams
from apsq_rae.hdl.rae import RAE
from apsq_rae.hdl.axis import AxisRAE
from apsq_rae.hdl.top import FlatRAE

from sim_helpers import run_sim


def test_ports_latency_and_capacity():
    p = RAEParams(lanes=2, psum_bits=12, q_bits=5, max_group_size=3, depth=5, exp_bits=4,
                  step_bits=6)
    engine = RAE(p)
    dut = FlatRAE(p, engine=engine)
    # gs_bits = bits of 3 = 2; addr_bits = ceil(log2(5 * 3)) = 4; in_data 2 x 12, out_data 2 x 5.
    assert list(dut.signature.members.items()) == [
        ("cfg_group_size", In(2)), ("in_valid", In(1)), ("in_ready", Out(1)),
        ("in_addr", In(4)), ("in_step", In(6)), ("in_last", In(1)), ("in_exp", In(4)),
        ("in_data", In(24)), ("out_valid", Out(1)), ("out_ready", In(1)), ("out_addr", Out(4)),
        ("out_exp", Out(4)), ("out_sat", Out(1)), ("out_data", Out(10)), ("busy", Out(1)),
        ("err", Out(2)), ("err_clear", In(1))]
    assert dut.engine is engine and dut.latency == engine.latency
    assert dut.capacity(2) == 5                       # depth * (3 // 2)
    run_sim(dut)                                      # it elaborates around the engine


@pytest.mark.parametrize("wrapper", [FlatRAE, AxisRAE])
def test_wrappers_take_an_engine_and_report_its_timing(wrapper):
    """Both wrappers wrap the engine they are given, or build one at the pipeline setting,
    and report its latency, reread distance and capacity (the numbers of the `max` setting at
    the spec defaults: docs/design.md)."""
    p = RAEParams(lanes=2, psum_bits=12, q_bits=5, max_group_size=3, depth=5, exp_bits=4,
                  step_bits=6)
    engine = RAE(p)
    given = wrapper(p, engine=engine)
    assert given.engine is engine and given.params is p
    assert Fragment.get(given, None).find_subfragment("engine") is not None
    built = wrapper(pipeline="max")
    assert (built.latency, built.reread_distance, built.capacity(1)) == (18, 15, 1024)
    assert built.engine.pipeline.name == "max"
    Fragment.get(built, None)


def test_params_type_checked():
    with pytest.raises(TypeError, match=r"params must be an RAEParams, not 4"):
        FlatRAE(4)
