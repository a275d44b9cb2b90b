"""The port-level formal checks of :mod:`apsq_rae.formal` (``port``, ``order``, ``err``) on a
mutant of the generated netlist.

The harness normally wraps the Amaranth engine; here it wraps :class:`NetlistEngine`, an
``Instance`` of the mutation netlist (``mutated.v``, every mutant behind ``mutsel``) with
``mutsel`` tied to one mutant. Those three groups read the ports only, so they apply to any
netlist with the engine's ports; ``hazard``, ``cover`` and the proofs by induction need the
engine's internal signals, which a netlist does not name.
"""

import re
from pathlib import Path

from amaranth.hdl import ClockSignal, Const, Instance, Module, ResetSignal
from amaranth.lib import wiring

from apsq_rae.formal.run import Job, bmc_depth, run_job
from apsq_rae.hdl.rae import rae_signature


__all__ = ["GROUPS", "NetlistEngine", "formal_kills"]


#: The groups run on a mutant, each by BMC to the latency plus a few clocks.
GROUPS = ("port", "order", "err")


class NetlistEngine(wiring.Component):
    """The RAE's signature, implemented by module ``apsq_rae`` of the mutation netlist with
    ``mutsel = mutant`` (0 is the unmutated engine).

    Parameters
    ----------
    params : RAEParams
        The netlist's parameters.
    mutant : int
        Mutant index.
    mutsel_bits : int
        Width of the netlist's ``mutsel`` input.
    """

    def __init__(self, params, mutant, mutsel_bits):
        self.params = params
        self.mutant = mutant
        self.mutsel_bits = mutsel_bits
        super().__init__(dict(rae_signature(params).members))

    def elaborate(self, platform):
        m = Module()
        i, o = self.i.payload, self.o.payload
        m.submodules.netlist = Instance(
            "apsq_rae",
            i_clk=ClockSignal(), i_rst=ResetSignal(),
            i_cfg_group_size=self.cfg_group_size,
            i_in_valid=self.i.valid, o_in_ready=self.i.ready,
            i_in_addr=i.addr, i_in_step=i.step, i_in_last=i.last, i_in_exp=i.exp,
            i_in_data=i.data.as_value(),
            o_out_valid=self.o.valid, i_out_ready=self.o.ready,
            o_out_addr=o.addr, o_out_exp=o.exp, o_out_sat=o.sat, o_out_data=o.data.as_value(),
            o_busy=self.busy, o_err=self.err, i_err_clear=self.err_clear,
            i_mutsel=Const(self.mutant, self.mutsel_bits))
        return m


def formal_kills(workdir, params, pipeline, latency, mutant, *, timeout=600):
    """Run :data:`GROUPS` on ``mutant`` of the netlist in ``workdir`` (``mutated.v``), each
    by BMC to ``latency`` plus 5 or 6 clocks (as ``make formal``); return ``(group, Result)``
    of the first group that does not pass, or ``None`` if all pass."""
    workdir = Path(workdir)
    netlist = workdir / "mutated.v"
    match = re.search(r"input \[(\d+):0\] mutsel;", netlist.read_text())
    if match is None:
        raise RuntimeError(f"{netlist} has no mutsel input")
    mutsel_bits = int(match.group(1)) + 1
    for group in GROUPS:
        job = Job(f"{group}-{mutant}", group, params, pipeline, "bmc", bmc_depth(group, latency),
                  engine=lambda p, _pipeline: NetlistEngine(p, mutant, mutsel_bits),
                  verilog=(str(netlist),))
        result = run_job(job, workdir / "formal", timeout=timeout)
        if result.status != "PASS":
            return group, result
    return None
