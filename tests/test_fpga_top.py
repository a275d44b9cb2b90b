"""The whole board top (UART, framed protocol, RAE) in the Amaranth simulator.

The host codec (`apsq_rae.fpga.protocol`) and the host workload/check (`apsq_rae.fpga.host`) drive the simulated
UART bit by bit at a fast divisor; every result is checked against `apsq_rae.golden.Engine`.
Seed: env var APSQ_SEED (printed).
"""

import os

import pytest

from amaranth.sim import Simulator

from apsq_rae.hdl.params import RAEParams
from apsq_rae.fpga import protocol as P
from apsq_rae.fpga.host import make_workload, golden_engine, expected_results, check_results
from apsq_rae.fpga.top import LinkedEngine


DIVISOR = 4
TIMEOUT = 400  # clocks: a frame's bytes arrive 40 clocks apart

# Small engine: frames are short, so the bit-level simulation stays fast.
PARAMS = RAEParams(lanes=2, psum_bits=16, q_bits=8, max_group_size=4, depth=4, exp_bits=4,
                   step_bits=4)


def _seed():
    seed = int(os.environ.get("APSQ_SEED", "20261122"))
    print(f"APSQ_SEED={seed}")
    return seed


class SimSerial:
    """The host end of the simulated UART: ``send`` drives ``rx`` bit by bit; a background
    testbench decodes ``tx`` into ``received``."""

    def __init__(self, dut, divisor):
        self.dut = dut
        self.divisor = divisor
        self.received = bytearray()
        self.bad_stop_bits = 0

    async def send(self, ctx, data):
        for byte in data:
            for bit in [0, *((byte >> n) & 1 for n in range(8)), 1]:
                ctx.set(self.dut.rx, bit)
                await ctx.tick().repeat(self.divisor)

    async def monitor(self, ctx):
        d = self.divisor
        while True:
            await ctx.negedge(self.dut.tx)
            await ctx.tick().repeat(d // 2)
            byte = 0
            for n in range(8):
                await ctx.tick().repeat(d)
                byte |= ctx.get(self.dut.tx) << n
            await ctx.tick().repeat(d)
            if not ctx.get(self.dut.tx):
                self.bad_stop_bits += 1
            self.received.append(byte)

    async def wait_frames(self, ctx, codec, kind, count, max_clocks):
        """Tick until ``count`` frames of type ``kind`` have been decoded."""
        for _ in range(max_clocks // 50):
            codec.feed(bytes(self.received))
            self.received.clear()
            if sum(isinstance(f, kind) for f in codec.frames) >= count:
                return codec.take(kind)
            await ctx.tick().repeat(50)
        raise AssertionError(f"timed out waiting for {count} {kind.__name__} frames, "
                             f"have {codec.frames}")


def run_top(params, body):
    dut = LinkedEngine(params, divisor=DIVISOR, timeout=TIMEOUT)
    serial = SimSerial(dut, DIVISOR)
    codec = P.HostCodec(params)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(serial.monitor, background=True)
    outcome = {}

    async def testbench(ctx):
        await ctx.tick().repeat(4)
        outcome.update(await body(ctx, serial, codec, dut) or {})

    sim.add_testbench(testbench)
    sim.run()
    assert serial.bad_stop_bits == 0
    return outcome


async def _status(ctx, serial, codec):
    await serial.send(ctx, codec.status())
    return (await serial.wait_frames(ctx, codec, P.Status, 1, 4000))[-1]


def test_info_frame_reports_parameters():
    async def body(ctx, serial, codec, dut):
        await serial.send(ctx, codec.info())
        (info,) = await serial.wait_frames(ctx, codec, tuple, 1, 4000)
        return {"info": info, "latency": dut.engine.latency}

    out = run_top(PARAMS, body)
    assert out["info"] == (PARAMS, out["latency"])


@pytest.mark.parametrize("gs,order", [(1, "weight-stationary"), (2, "random"),
                                      (3, "weight-stationary"), (4, "random")])
def test_workload_matches_golden(gs, order):
    seed = _seed()
    eng = golden_engine(PARAMS, gs)
    n_addr = min(6, eng.capacity())
    tiles = make_workload(PARAMS, n_addresses=n_addr, n_steps=5, seed=seed + gs, order=order)
    expected = expected_results(eng, tiles)
    assert len(expected) == n_addr

    async def body(ctx, serial, codec, dut):
        await serial.send(ctx, codec.group_size(gs))
        for t in tiles:
            await serial.send(ctx, codec.tile(t.addr, t.step, t.last, t.exp, t.data))
        got = await serial.wait_frames(ctx, codec, P.Result, len(expected), 20000)
        status = await _status(ctx, serial, codec)
        return {"got": got, "status": status}

    out = run_top(PARAMS, body)
    assert check_results(out["got"], expected) == []
    assert out["status"] == P.Status(flags=0, group_size=gs)


def test_error_flags_and_clear():
    """err bit 1 (address beyond capacity, from golden), err bit 0 (bad group size, spec
    section 5), the link's frame error (unknown command), and the C frame clearing them."""
    gs = 4
    eng = golden_engine(PARAMS, gs)
    cap = eng.capacity()
    assert cap == 4  # depth 4 * floor(4 / 4)
    bad = P.Tile(addr=cap, step=0, last=True, exp=0, data=(1, 2))
    good = P.Tile(addr=1, step=0, last=True, exp=1, data=(5, -5))
    expected = expected_results(eng, [bad, good])
    assert eng.err == 2

    async def body(ctx, serial, codec, dut):
        out = {}
        await serial.send(ctx, codec.group_size(gs))
        for t in (bad, good):
            await serial.send(ctx, codec.tile(t.addr, t.step, t.last, t.exp, t.data))
        out["got"] = await serial.wait_frames(ctx, codec, P.Result, len(expected), 4000)
        out["after_bad_addr"] = await _status(ctx, serial, codec)
        await serial.send(ctx, codec.clear())
        out["after_clear"] = await _status(ctx, serial, codec)
        await serial.send(ctx, codec.group_size(0))
        await serial.send(ctx, bytes([0x7E]))  # not a command
        out["after_bad_gs"] = await _status(ctx, serial, codec)
        await serial.send(ctx, codec.group_size(gs) + codec.clear())
        out["final"] = await _status(ctx, serial, codec)
        return out

    out = run_top(PARAMS, body)
    assert check_results(out["got"], expected) == []
    assert out["after_bad_addr"] == P.Status(flags=P.STATUS_ERR_ADDR, group_size=gs)
    assert out["after_clear"] == P.Status(flags=0, group_size=gs)
    assert out["after_bad_gs"] == P.Status(flags=P.STATUS_ERR_CFG | P.STATUS_FRAME_ERR,
                                           group_size=0)
    assert out["final"] == P.Status(flags=0, group_size=gs)


def test_truncated_frame_is_dropped_after_timeout():
    """A tile frame cut short is discarded (frame error) and the next frame is understood."""
    gs = 2
    eng = golden_engine(PARAMS, gs)
    good = P.Tile(addr=3, step=0, last=True, exp=2, data=(-300, 77))
    expected = expected_results(eng, [good])

    async def body(ctx, serial, codec, dut):
        await serial.send(ctx, codec.group_size(gs))
        frame = codec.tile(good.addr, good.step, good.last, good.exp, good.data)
        await serial.send(ctx, frame[:3])
        await ctx.tick().repeat(TIMEOUT + 50)
        await serial.send(ctx, frame)
        got = await serial.wait_frames(ctx, codec, P.Result, 1, 4000)
        status = await _status(ctx, serial, codec)
        return {"got": got, "status": status}

    out = run_top(PARAMS, body)
    assert check_results(out["got"], expected) == []
    assert out["status"] == P.Status(flags=P.STATUS_FRAME_ERR, group_size=gs)
