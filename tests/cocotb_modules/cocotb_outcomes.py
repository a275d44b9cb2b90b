"""cocotb tests with a known outcome, for the tests of the runner wrapper (tb.sim.run)."""

import cocotb


@cocotb.test()
async def passes(dut):
    assert len(dut.in_data) == 8      # lanes 1 x psum_bits 8


@cocotb.test()
async def fails(dut):
    assert False, "this test fails on purpose"
