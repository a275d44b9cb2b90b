"""The AXI4-Stream top (``--interface axis``) driven by cocotbext-axi's AxiStreamSource and
AxiStreamSink with pause generators, every result scored against the golden model
(tb/cocotb_axis.py)."""

import pytest

from apsq_rae.hdl.params import RAEParams
from apsq_rae.tb.sim import run


CONFIGS = {
    "narrow": RAEParams(lanes=2, depth=8),
    # 3 lanes of 12 bits: tdata 36 bits padded to 5 bytes, results 15 bits to 2 bytes.
    "odd": RAEParams(lanes=3, psum_bits=12, q_bits=5, max_group_size=3, depth=5, exp_bits=3,
                     step_bits=5, rounding="half_even"),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_axis_against_golden(name):
    assert run(CONFIGS[name], "axis_streams", module="apsq_rae.tb.cocotb_axis",
               interface="axis", run_name="axis") == 1


def test_axis_scoreboard_catches_wrong_results():
    """The same test on a top whose m_axis_tdata is inverted must fail."""
    def invert(text):
        assert text.count("assign m_axis_tdata = ") == 1
        return text.replace("assign m_axis_tdata = ", "assign m_axis_tdata = ~")
    with pytest.raises(AssertionError, match=r"cocotb axis_streams failed on .* interface=axis"):
        run(CONFIGS["narrow"], "axis_streams", module="apsq_rae.tb.cocotb_axis",
            interface="axis", run_name="axis", build_name="axis-inverted", edit=invert)
