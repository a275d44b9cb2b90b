"""cocotb test of the AXI4-Stream top (``apsq-rae generate --interface axis``), driven by
cocotbext-axi: an ``AxiStreamSource`` on ``s_axis`` sends each address's accumulation as one
packet (a tile per beat, ``tuser`` per beat, ``tlast`` on the last step), an
``AxiStreamSink`` on ``m_axis`` takes the results, both with random pause generators. Every
result is scored against :class:`apsq_rae.golden.Engine`; at the end the sink must be empty
and ``err`` 0. Run through :func:`apsq_rae.tb.sim.run` with ``interface="axis"``
(``tests/test_cocotb_axis.py``).
"""

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from apsq_rae import golden

from .bench import load_config
from .stimulus import Stimulus


def _pauses(rng, probability):
    """A pause generator: ``True`` (pause this clock) with ``probability``."""
    while True:
        yield rng.random() < probability


class AxisTB:
    """Source, sink, golden model and scoreboard around the AXI4-Stream top.

    Parameters
    ----------
    dut : cocotb handle of the top module
    config : dict
        :func:`apsq_rae.tb.bench.load_config`, with the manifest's ``axis`` packing.
    """

    def __init__(self, dut, config, test_name):
        self.dut = dut
        self.p = config["params"]
        self.capacity = config["capacity"]
        self.axis = config["axis"]
        self.rng = random.Random(f"{config['seed']}:{test_name}")
        self.log = dut._log
        self.log.info(f"config {self.p} seed {config['seed']} (APSQ_SEED={config['seed']} "
                      f"repeats it)")
        self.golden = golden.Engine(**self.p.as_dict())
        self.expected = []
        self.timeout = 50 * (config["latency"] + 20)
        Clock(dut.aclk, 10, unit="ns").start()
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.aclk,
                                      dut.aresetn, reset_active_level=False)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.aclk,
                                  dut.aresetn, reset_active_level=False)
        self._in_bytes = self.axis["s_axis"]["tdata"]["width"] // 8
        self._out_bytes = self.axis["m_axis"]["tdata"]["width"] // 8

    def set_pauses(self, source, sink):
        self.source.set_pause_generator(_pauses(self.rng, source))
        self.sink.set_pause_generator(_pauses(self.rng, sink))

    async def reset(self, group_size):
        d = self.dut
        d.aresetn.value = 0
        d.err_clear.value = 0
        d.cfg_group_size.value = group_size
        await ClockCycles(d.aclk, 3)
        d.aresetn.value = 1
        await RisingEdge(d.aclk)
        self.golden.configure(group_size)

    async def configure(self, group_size):
        """Wait until idle, then change ``cfg_group_size``."""
        await self.drain()
        self.dut.cfg_group_size.value = group_size
        await RisingEdge(self.dut.aclk)
        self.golden.configure(group_size)

    def _tuser(self, fields, values):
        word = 0
        for f in fields:
            word |= values[f["name"]] << f["offset"]
        return word

    def _lanes(self, values, width, n_bytes):
        word = 0
        for j, v in enumerate(values):
            word |= (v & ((1 << width) - 1)) << (j * width)
        return word.to_bytes(n_bytes, "little")

    async def send_accumulation(self, tiles):
        """One packet: every tile of one accumulation, a beat each."""
        p, user = self.p, self.axis["s_axis"]["tuser"]
        data, tuser = b"", []
        for t in tiles:
            data += self._lanes(t.data, p.psum_bits, self._in_bytes)
            tuser += [self._tuser(user, {"addr": t.addr, "step": t.step, "exp": t.exp})] \
                * self._in_bytes
            result = self.golden.push(t.addr, t.step, t.last, t.exp, t.data)
            if result is not None:
                self.expected.append(result)
        assert tiles[-1].last, "a packet is one whole accumulation"
        await self.source.send(AxiStreamFrame(data, tuser=tuser))

    async def check_results(self):
        """Receive and score every result due so far."""
        p, user = self.p, self.axis["m_axis"]["tuser"]
        while self.expected:
            want = self.expected.pop(0)
            frame = await with_timeout(self.sink.recv(), self.timeout * 10, "ns")
            assert len(frame.tdata) == self._out_bytes, \
                f"result frame of {len(frame.tdata)} bytes, expected {self._out_bytes} (one beat)"
            tuser = frame.tuser if isinstance(frame.tuser, int) else frame.tuser[0]
            got = {f["name"]: (tuser >> f["offset"]) & ((1 << f["width"]) - 1) for f in user}
            word = int.from_bytes(bytes(frame.tdata), "little")
            lanes = []
            for j in range(p.lanes):
                v = (word >> (j * p.q_bits)) & ((1 << p.q_bits) - 1)
                lanes.append(v - (1 << p.q_bits) if v >> (p.q_bits - 1) else v)
            assert (got["addr"], got["exp"], bool(got["sat"]), tuple(lanes)) == \
                (want.addr, want.exp, want.sat, want.data), \
                (f"result for address {want.addr}: got addr {got['addr']} exp {got['exp']} "
                 f"sat {got['sat']} data {lanes}, expected exp {want.exp} sat {int(want.sat)} "
                 f"data {list(want.data)}")

    async def drain(self):
        await self.source.wait()
        await self.check_results()
        for _ in range(self.timeout):
            if not int(self.dut.busy.value):
                return
            await RisingEdge(self.dut.aclk)
        raise AssertionError(f"busy stays 1 for {self.timeout} clocks with no result due")


@cocotb.test()
async def axis_streams(dut):
    """Accumulations as packets at every group size, with pauses on both streams."""
    config = load_config()
    tb = AxisTB(dut, config, "axis_streams")
    stim = Stimulus(tb.p, tb.rng)
    await tb.reset(1)
    for gs in range(1, tb.p.max_group_size + 1):
        await tb.configure(gs)
        for source_pause, sink_pause in ((0.0, 0.0), (0.3, 0.5), (0.1, 0.9)):
            tb.set_pauses(source_pause, sink_pause)
            addrs = stim.addresses(tb.capacity[gs], 4)
            for a in addrs:
                await tb.send_accumulation(stim.accumulation(a, stim.n_steps(gs)))
            await tb.check_results()
    await tb.drain()
    assert tb.sink.empty(), "the sink holds a result nobody expected"
    assert int(dut.err.value) == 0, f"err = {int(dut.err.value)} at the end"
    tb.log.info(f"{len(tb.golden.in_flight)} open accumulations at the end (expected 0)")
    assert not tb.golden.in_flight
