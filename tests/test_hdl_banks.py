"""The bank array alone (Amaranth simulator)."""

import random

import pytest

from apsq_rae.hdl.banks import Banks
from apsq_rae.hdl.params import RAEParams

from sim_helpers import run_sim, seed_from_env


@pytest.mark.parametrize("bypass", [False, True])
@pytest.mark.parametrize("depth,groups,out_reg,wr_reg", [
    (4, 4, False, False), (3, 3, True, False), (1, 1, True, False), (4, 2, True, True),
    (2, 3, False, True)])
def test_banks(depth, groups, out_reg, wr_reg, bypass):
    """One read (all banks, one row) and one write (one bank) per clock. A read on the edge of
    a write to the same row returns the old row, or the new one with ``bypass``. With a write
    register the write lands one clock after ``wr_en``."""
    p = RAEParams(lanes=2, q_bits=6, exp_bits=3, max_group_size=groups, depth=depth)
    rng = random.Random(seed_from_env(default=depth))
    dut = Banks(p, output_register=out_reg, write_register=wr_reg, bypass=bypass)
    assert dut.read_latency == (2 if out_reg else 1)
    assert dut.write_latency == (1 if wr_reg else 0)
    writes = []                                   # (bank, row, (data, exp, sat)) per iteration

    def random_row():
        return ([rng.randint(-32, 31) for _ in range(2)], rng.randrange(8), rng.getrandbits(1))

    async def tb(ctx):
        for i in range(60):
            rd_row = rng.randrange(depth)
            wr = (rng.randrange(groups), rng.randrange(depth), random_row())
            ctx.set(dut.rd_en, 1)
            ctx.set(dut.rd_row, rd_row)
            ctx.set(dut.wr_en, 1)
            ctx.set(dut.wr_bank, wr[0])
            ctx.set(dut.wr_row, wr[1])
            ctx.set(dut.wr_data, {"data": wr[2][0], "exp": wr[2][1], "sat": wr[2][2]})
            await ctx.tick()
            ctx.set(dut.wr_en, 0)
            ctx.set(dut.rd_en, 0)                      # rd_data holds while rd_en is 0
            if out_reg:
                await ctx.tick()
            # The read on this iteration's first edge sees the writes that landed before it:
            # every earlier iteration's, except (write register, one edge per iteration) the
            # previous one, which lands on that very edge. With the bypass it also sees the
            # write that lands on its edge: this iteration's without the write register.
            if bypass:
                seen = writes if wr_reg else writes + [wr]
            else:
                seen = writes[:-1] if wr_reg and not out_reg else writes
            model = {(w[0], w[1]): w[2] for w in seen}
            for b in range(groups):
                if (b, rd_row) in model:
                    row = ctx.get(dut.rd_data[b])
                    data, exp, sat = model[(b, rd_row)]
                    assert [row.data[0], row.data[1], row.exp, row.sat] == [*data, exp, sat]
            writes.append(wr)

    run_sim(dut, tb)


def test_latencies_without_building():
    """The latencies the engine plans with before it builds the banks: a synchronous read is
    one clock, the output register adds one; a write lands on its own edge, or one later
    behind the write register."""
    assert Banks.pipeline_read_latency(False) == 1
    assert Banks.pipeline_read_latency(True) == 2
    assert Banks.pipeline_write_latency(False) == 0
    assert Banks.pipeline_write_latency(True) == 1
    assert Banks.pipeline_read_latency() == 1              # the defaults: neither register
    assert Banks.pipeline_write_latency() == 0


def test_params_type_checked():
    with pytest.raises(TypeError, match=r"params must be an RAEParams, not 4"):
        Banks(4)
