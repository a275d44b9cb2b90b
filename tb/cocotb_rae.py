"""cocotb tests of the generated engine (run through :func:`apsq_rae.tb.sim.run` by
``tests/test_cocotb_rae.py`` and ``tests/test_cocotb_replay.py``).

Every test reads its configuration from ``APSQ_TB_CONFIG`` (see :func:`apsq_rae.tb.bench.load_config`)
and scores every result against :class:`apsq_rae.golden.Engine`. ``APSQ_TB_SCALE`` (default 1)
multiplies the amount of random traffic (the nightly sweep raises it).
"""

import os
import time

import cocotb
import numpy as np

from apsq_rae.explore.capture_file import read_capture
from apsq_rae.golden import Tile

from .bench import Bench, load_config
from .schedule import issue_offsets
from .stimulus import Stimulus, Configure, BadConfig, ClearErr, CheckErr, Drain, Idle


def _scale():
    return float(os.environ.get("APSQ_TB_SCALE", "1"))


def _gs_list(p):
    """Run-time group sizes to exercise: all, or with ``APSQ_TB_GS=ends`` only 1 and the
    largest (a quicker run by hand)."""
    if os.environ.get("APSQ_TB_GS", "all") == "ends":
        return sorted({1, p.max_group_size})
    return list(range(1, p.max_group_size + 1))


async def _started(dut, test_name, **bench_options):
    """The configuration, a started :class:`Bench` for ``test_name`` (``bench_options`` go to
    it) and a :class:`Stimulus` drawing from the bench's random numbers."""
    config = load_config()
    bench = Bench(dut, config, test_name, **bench_options)
    stim = Stimulus(bench.p, bench.rng)
    await bench.start()
    return config, bench, stim


@cocotb.test()
async def orders(dut):
    """WS, IS and random interleavings at every group size, with random in_valid gaps and
    out_ready backpressure, partial last groups, back-to-back reuse of addresses, and every
    accumulation length up to two groups."""
    config, bench, stim = await _started(dut, "orders")
    p = bench.p
    scale = _scale()
    for gs in _gs_list(p):
        cap = config["capacity"][gs]
        items = [Configure(gs)]
        n_addr = max(3, int(8 * scale))
        # Weight-stationary, with the quiet bus first then random gaps and backpressure.
        items += stim.ws(stim.per_address(stim.addresses(cap, n_addr), gs, rounds=2))
        items += [Drain()]
        await bench.run(items)
        items = stim.ws(stim.per_address(stim.addresses(cap, n_addr), gs, rounds=2))
        await bench.run(items, gap=0.3, backpressure=0.3)
        # Input-stationary: same-address tiles back to back.
        items = stim.is_(stim.per_address(stim.addresses(cap, max(2, int(4 * scale))), gs,
                                          rounds=2))
        await bench.run(items, gap=0.0, backpressure=0.1)
        # Random interleaving, heavier backpressure.
        items = stim.interleave(stim.per_address(stim.addresses(cap, n_addr), gs, rounds=3))
        await bench.run(items, gap=0.2, backpressure=0.6)
        # Every accumulation length up to two groups: the last tile at every phase.
        items = stim.interleave(stim.every_length(stim.addresses(cap, n_addr), gs))
        await bench.run(items, gap=0.1, backpressure=0.2)
    await bench.finish()


@cocotb.test()
async def stress(dut):
    """Saturation-heavy data, most negative PSUMs, capacity edges (first and last address),
    the same address restarted right after its last tile, accumulations at one exponent (every
    bit of the AP visible), every edge of the quantizer at every exponent in every lane, every
    bit of every lane's dequantized value at every exponent, the
    result FIFO full under ``out_ready = 0``, accumulations of up to 256 steps at group sizes
    that are not powers of two (4352 on narrow engines whose reread distance is at most 2),
    and long stalls."""
    config, bench, stim = await _started(dut, "stress")
    p = bench.p
    scale = _scale()
    for gs in _gs_list(p):
        cap = config["capacity"][gs]
        edges = sorted({0, cap - 1, min(1, cap - 1), max(0, cap - 2)})
        await bench.run([Configure(gs)])
        # Saturation-heavy: large PSUMs with small exponents.
        rounds = max(1, int(2 * scale))
        streams = stim.per_address(edges, gs, rounds=rounds, data_kind="sat", exp_kind="low")
        await bench.run(stim.interleave(streams), gap=0.1, backpressure=0.2)
        # The most negative PSUM everywhere, every exponent kind.
        streams = stim.per_address(edges, gs, rounds=rounds, data_kind="minneg")
        await bench.run(stim.ws(streams))
        # Range ends mixed, IS order (back-to-back), stalls on the output.
        streams = stim.per_address(edges, gs, rounds=max(1, int(3 * scale)),
                                   data_kind="extreme")
        await bench.run(stim.is_(streams), backpressure=0.8)
        # One exponent per accumulation, long enough to read the AP from every bank; the first
        # at exponent 0, where the lowest bit of every dequantized value can be 1.
        streams = {a: [t for k in range(2)
                       for t in stim.same_scale(a, 2 * gs + 1, exp=0 if k == 0 else None)]
                   for a in edges}
        await bench.run(stim.interleave(streams), gap=0.1, backpressure=0.2)
        # Once (alike at every group size): every exponent, every lane, every edge of the
        # quantizer; and the result FIFO filled under out_ready = 0 by one-step accumulations.
        if gs == _gs_list(p)[0]:
            await bench.run(stim.exponent_sweep(edges), gap=0.0, backpressure=0.1)
            # Every bit of every lane's dequantized value at every exponent (group size 1).
            if gs == 1:
                await bench.run(stim.dequantizer_sweep(), gap=0.1, backpressure=0.1)
            singles = [t for _ in range(2) for a in stim.addresses(cap, 64)
                       for t in stim.accumulation(a, 1)]
            await bench.hold_results(singles, bench.timeout - 10)
            await bench.run([Drain()])
        # A group size that is not a power of two decodes step mod gs from 4-bit digits of
        # the step: two accumulations of 256 steps (or every step there is) side by side take
        # the two lowest digits through every value. Their data round at every step without
        # saturating, so a step decoded into the wrong phase changes the result.
        if gs & (gs - 1):
            n = 1 << min(p.step_bits, 8)
            streams = {a: stim.lossy_accumulation(a, n) for a in edges[:2]}
            await bench.run(stim.ws(streams))
            # The higher digits need 256 steps and more. One accumulation of 4352 steps takes
            # the third digit through every value and the fourth to 1 (or every step there
            # is). It runs only where a reading tile waits at most one clock behind its
            # predecessor (reread distance <= 2, the `min` setting): under 9,000 clocks; and
            # only on narrow engines (at 16 lanes it took minutes). The decoder is the same at
            # every setting and lane count.
            if p.step_bits > 8 and config["reread_distance"] <= 2 and p.lanes <= 4:
                n = min(1 << p.step_bits, (1 << 12) + (1 << 8))
                await bench.run(stim.lossy_accumulation(edges[-1], n))
        # One address over and over: every tile depends on the previous one.
        streams = stim.per_address([edges[-1]], gs, rounds=max(2, int(6 * scale)))
        await bench.run(stim.is_(streams), gap=0.0, backpressure=0.0)
        await bench.run([Idle(5)])
    await bench.finish()


@cocotb.test()
async def errors(dut):
    """``err``: illegal ``cfg_group_size`` (input refused, bit 0, set beats clear) and tiles
    beyond the capacity (dropped, bit 1), ``err_clear``; other addresses undisturbed."""
    config, bench, stim = await _started(dut, "errors", strict=False)
    p = bench.p
    bad_values = [0] + list(range(p.max_group_size + 1, 1 << p.gs_bits))
    for gs in _gs_list(p):
        cap = config["capacity"][gs]
        await bench.run([Configure(gs), CheckErr(0)])
        # Illegal group size while accumulations are in flight: refused, nothing disturbed.
        streams = stim.per_address(stim.addresses(cap, 4), gs, rounds=1)
        tiles = stim.ws(streams)
        half = len(tiles) // 2
        bad = bench.rng.choice(bad_values)
        await bench.run(tiles[:half] + [BadConfig(bad, 3)] + tiles[half:] + [CheckErr(1)],
                        gap=0.2, backpressure=0.2)
        # A set in the same clock as err_clear wins, then a plain clear clears.
        await bench.run([BadConfig(bench.rng.choice(bad_values), 1, clear_on_last=True),
                         CheckErr(1), ClearErr(), CheckErr(0)])
        # Addresses at and beyond the capacity (when the address port can carry them).
        top = 1 << p.addr_bits
        if cap < top:
            beyond = sorted({cap, top - 1, bench.rng.randrange(cap, top)})
            good = stim.per_address(stim.addresses(cap, 3), gs, rounds=1)
            dropped = stim.per_address(beyond, gs, rounds=1)
            items = stim.interleave({**good, **dropped})
            await bench.run(items, gap=0.1, backpressure=0.3)
            await bench.run([CheckErr(2), ClearErr(), CheckErr(0)])
    await bench.finish()


@cocotb.test()
async def midreset(dut):
    """A reset in the middle of traffic, at every group size: tiles in flight, results in the
    FIFO and under backpressure. After it nothing stale comes out, and fresh accumulations
    (every address from step 0) are scored against a fresh golden model."""
    config, bench, stim = await _started(dut, "midreset")
    p = bench.p
    for gs in _gs_list(p):
        cap = config["capacity"][gs]
        addrs = stim.addresses(cap, 4)
        await bench.run([Configure(gs)])
        for _ in range(2):
            streams = stim.per_address(addrs, gs, rounds=2)
            tiles = stim.interleave(streams)
            cut = bench.rng.randrange(1, len(tiles) + 1)
            await bench.run(tiles[:cut], gap=0.1, backpressure=0.5)
            await bench.reset(bench.rng.choice((1, 2, 3)))
            # Everything after the reset starts over: each address from step 0.
            await bench.run(stim.ws(stim.per_address(addrs, gs, rounds=1)) + [Drain()],
                            gap=0.1, backpressure=0.2)
    await bench.finish()


@cocotb.test()
async def latency(dut):
    """The manifest's latency: clocks from the edge accepting a lone ``last`` tile to the
    edge where its result can first be taken (``out_ready = 1``); and how long ``busy`` stays
    1 after a lone tile that is not ``last``."""
    config, bench, stim = await _started(dut, "latency")
    # A lone tile that is not last keeps busy = 1 until its write has landed (docs/design.md,
    # Design decisions): latency - 1 clocks, one more with a registered bank write, one fewer
    # with the result FIFO's write register (a tile without a result does not pass it).
    landing = (int(config["pipeline"]["bank_write_register"]) -
               int(config["pipeline"]["result_write_register"]))
    for gs in _gs_list(bench.p):
        await bench.run([Configure(gs)])
        for tile in stim.accumulation(0, 1) + stim.accumulation(config["capacity"][gs] - 1, 1):
            bench.latencies.clear()
            await bench.run([tile, Drain()])
            assert bench.latencies == [config["latency"]], \
                (f"gs {gs}: result taken {bench.latencies} clocks after its last tile, "
                 f"manifest says {config['latency']}")
        first, second = stim.accumulation(config["capacity"][gs] - 1, 2)
        await bench.run([first])
        clocks = 0
        while True:
            await bench.clock()
            if not int(dut.busy.value):
                break
            clocks += 1
        assert clocks == config["latency"] - 1 + landing, \
            (f"gs {gs}: busy = 1 for {clocks} clocks after a lone tile that is not last, "
             f"expected {config['latency'] - 1 + landing} (latency - 1, + 1 with "
             f"bank_write_register, - 1 with result_write_register)")
        await bench.run([second, Drain()])
    await bench.finish()


@cocotb.test()
async def schedule(dut):
    """Every tile issues exactly when the documented rule lets it (``reread_distance`` in the
    manifest; docs/design.md): at full rate with ``out_ready = 1`` each result is taken
    ``latency`` clocks after the clock at which :func:`apsq_rae.tb.schedule.issue_offsets`
    issues its ``last`` tile. A missing stall gives wrong results; a needless one, a late
    result. Streams: input-stationary runs (the last tiles of one address right before
    another's), random interleavings of two to four live addresses, and weight-stationary
    rounds of as many addresses as the reread distance, give or take a few."""
    config, bench, stim = await _started(dut, "schedule")
    p = bench.p
    for gs in _gs_list(p):
        cap = config["capacity"][gs]
        await bench.run([Configure(gs)])
        streams = [
            stim.is_(stim.per_address(stim.addresses(cap, 3), gs, rounds=2)),
            stim.interleave(stim.per_address(stim.addresses(cap, 2), gs, rounds=2)),
            stim.interleave(stim.every_length(stim.addresses(cap, 3), gs)),
            stim.interleave(stim.per_address(stim.addresses(cap, 4), gs, rounds=2)),
            stim.is_(stim.per_address(stim.addresses(cap, 6), gs)),
        ]
        # Weight-stationary rounds of A addresses, A near the reread distance: an address
        # comes back while its previous tile is in each of the last pipeline stages.
        g = config["reread_distance"]
        streams += [stim.ws(stim.per_address(stim.addresses(cap, a), gs))
                    for a in sorted({g - 3, g - 2, g - 1, g, g + 1}) if 1 <= a <= cap]
        for tiles in streams:
            first, taken = len(bench.accept_cycles), len(bench.take_cycles)
            await bench.run(tiles + [Drain()])
            start = bench.accept_cycles[first]
            offsets = issue_offsets(tiles, gs, config["reread_distance"])
            due = [(start + config["latency"] + o, t) for o, t in zip(offsets, tiles) if t.last]
            for k, ((want, tile), got) in enumerate(zip(due, bench.take_cycles[taken:])):
                assert got == want, (
                    f"gs {gs}: result #{k} of the stream (address {tile.addr}, last step "
                    f"{tile.step}) taken at clock {got}, the issue rule says {want} "
                    f"(reread_distance {config['reread_distance']}, stream of {len(tiles)} "
                    f"tiles from clock {start})")
            assert len(bench.take_cycles) - taken == len(due)
    for gs in sorted({1, p.max_group_size}):
        await _held_no_read(bench, stim, config, gs)
    await _every_stage_distance(bench, stim, config)
    await bench.finish()


def _bit_pattern_addresses(cap):
    """A few addresses below ``cap`` that take pairs of address bits through their values: 0,
    each single bit, and the largest address and the all-ones below its top bit, each also
    with every bit cleared in turn (at a power-of-two ``cap``, every pair through all four)."""
    top = cap - 1
    bits = range(max(1, top.bit_length()))
    ones = (1 << (top.bit_length() - 1)) - 1 if top else 0
    chosen = {0} | {1 << b for b in bits}
    for m in (top, ones):
        chosen |= {m} | {m & ~(1 << b) for b in bits}
    return sorted(a for a in chosen if a < cap)


async def _every_stage_distance(bench, stim, config):
    """Every pipeline stage that a reading tile's address is compared with on its way in
    sees addresses with every pair of address bits at every value: at gs 1, addresses ``T``
    (three, or ``d`` when ``d < 3``) start an accumulation (step 0 reads nothing), one-step
    accumulations of other addresses fill the gap, and ``d`` clocks after its step 0 each
    address of ``T`` offers step 1 (``last``, it reads), while step 0 is ``d - 3`` stages
    down the pipeline. ``d`` runs from 1 to the reread distance, so that a missing hazard
    bit for any stage and address gives a wrong result. A drain between groups keeps every
    group's timing the same."""
    cap = config["capacity"][1]
    if cap < 4:
        return
    addrs = _bit_pattern_addresses(cap)
    await bench.run([Configure(1)])
    for d in range(1, config["reread_distance"] + 1):
        t = min(3, d, len(addrs))
        for start in range(0, len(addrs), t):
            group = [addrs[(start + i) % len(addrs)] for i in range(t)]
            others = [a for a in range(cap) if a not in group]
            firsts, seconds = zip(*(stim.accumulation(a, 2) for a in group))
            fill = [tile for k in range(max(0, d - t))
                    for tile in stim.accumulation(others[k % len(others)], 1)]
            await bench.run(list(firsts) + fill + list(seconds) + [Drain()])


async def _held_no_read(bench, stim, config, gs):
    """A tile that reads nothing never waits for its address, also after the result credit
    has held it: under ``out_ready = 0`` ``n`` one-step accumulations fill the result FIFO,
    then address ``a`` gets two one-step accumulations, and ``out_ready`` rises four clocks
    after the second was offered. Replacing the second tile's address by a fresh ``b`` must
    not move any result's clock. ``n`` sweeps past the FIFO's capacity, so that for some
    ``n`` the credit holds the second tile while the first is still in flight. It needs three
    addresses (``a``, ``b`` and one for the filling accumulations) and is left out where the
    capacity is smaller."""
    cap = config["capacity"][gs]
    if cap < 3:
        return
    await bench.run([Configure(gs)])
    a, b, *others = stim.addresses(cap, 5)
    for n in range(2 * config["latency"] + 4):
        takes = []
        for second in (a, b):
            tiles = [t for k in range(n) for t in stim.accumulation(others[k % len(others)], 1)]
            tiles += stim.accumulation(a, 1) + stim.accumulation(second, 1)
            first, taken = len(bench.accept_cycles), len(bench.take_cycles)
            await bench.hold_results(tiles, n + 4)
            await bench.run([Drain()])
            start = bench.accept_cycles[first]
            takes.append([c - start for c in bench.take_cycles[taken:]])
        assert takes[0] == takes[1], (
            f"gs {gs}: after {n} one-step accumulations under out_ready = 0, two one-step "
            f"accumulations of address {a} give results at clocks {takes[0]}, of addresses "
            f"{a} and {b} at {takes[1]} (from the first tile's acceptance); a tile that reads "
            f"nothing must not wait for its address")


@cocotb.test()
async def throughput(dut):
    """A long weight-stationary run with ``out_ready = 1``: one tile per clock."""
    config, bench, stim = await _started(dut, "throughput")
    p = bench.p
    steps = max(4, int(8 * _scale()))
    for gs in sorted({1, p.max_group_size}):
        cap = config["capacity"][gs]
        n_addr = min(cap, max(2 * config["latency"] + 2, 32))
        if n_addr <= config["latency"]:
            bench.log.info(f"gs {gs}: capacity {cap} <= latency, throughput not measured")
            continue
        streams = {a: stim.accumulation(a, steps, exp_kind="fit") for a in range(n_addr)}
        await bench.run([Configure(gs)])
        start = len(bench.accept_cycles)
        await bench.run(stim.ws(streams))
        cycles = bench.accept_cycles[-1] - bench.accept_cycles[start] + 1
        tiles = len(bench.accept_cycles) - start
        ratio = cycles / tiles
        message = (f"throughput gs={gs}: {tiles} tiles in {cycles} clocks = "
                   f"{ratio:.3f} clocks per tile")
        bench.log.info(message)
        print(message, flush=True)
        assert ratio == 1.0, message
    await bench.finish()


@cocotb.test()
async def speed(dut):
    """Simulation speed (``make bench``): weight-stationary tiles of every data kind, one per
    clock (``out_ready = 1``), at group size 1 and the largest, scored like every other test;
    prints clocks per second of wall time (simulator and Python together).
    ``APSQ_TB_SPEED_TILES`` (default 3000) sets the number of tiles per group size."""
    config, bench, stim = await _started(dut, "speed")
    p = bench.p
    tiles_per_gs = int(os.environ.get("APSQ_TB_SPEED_TILES", "3000"))
    clocks = seconds = 0.0
    for gs in sorted({1, p.max_group_size}):
        n_addr = min(config["capacity"][gs], 64)
        steps = max(1, tiles_per_gs // n_addr)
        streams = {a: stim.accumulation(a, steps) for a in range(n_addr)}
        items = stim.ws(streams) + [Drain()]
        await bench.run([Configure(gs)])
        start_cycle, start = bench.cycle, time.perf_counter()
        await bench.run(items)
        clocks += bench.cycle - start_cycle
        seconds += time.perf_counter() - start
    await bench.finish()
    message = (f"simulation speed {os.environ.get('SIM', 'icarus')}: {int(clocks)} clocks in "
               f"{seconds:.2f} s = {clocks / seconds:.0f} clocks/s (lanes {p.lanes}, "
               f"max_group_size {p.max_group_size}, {bench.results} results checked)")
    bench.log.info(message)
    print(message, flush=True)


@cocotb.test()
async def replay(dut):
    """Replay the capture in ``APSQ_CAPTURE`` (.npz, see :mod:`apsq_rae.explore.capture_file`)
    at every group size, scored by the golden model. ``APSQ_REPLAY_ADDRS=k`` keeps only the
    tiles of the first ``k`` addresses (whole accumulations, original order)."""
    config = load_config()
    bench = Bench(dut, config, "replay")
    capture = read_capture(os.environ["APSQ_CAPTURE"])
    limit = int(os.environ.get("APSQ_REPLAY_ADDRS", "0"))
    if limit:
        # Keep every tile of the first `limit` addresses, in the capture's order.
        keep = list(dict.fromkeys(int(a) for a in capture["addr"]))[:limit]
        mask = np.isin(capture["addr"], keep)
        capture = {k: (v[mask] if k != "meta" else v) for k, v in capture.items()}
        bench.log.info(f"replaying the {len(keep)} first addresses only ({int(mask.sum())} tiles)")
    await bench.start()
    for gs in _gs_list(bench.p):
        await bench.run([Configure(gs)])
        cap = config["capacity"][gs]
        if int(capture["addr"].max()) >= cap:
            raise AssertionError(f"capture addresses reach {int(capture['addr'].max())}, "
                                 f"capacity at gs {gs} is {cap}: configuration too small")
        tiles = [Tile(int(a), int(s), bool(l), int(e), tuple(int(v) for v in d))
                 for a, s, l, e, d in zip(capture["addr"], capture["step"], capture["last"],
                                          capture["exp"], capture["data"])]
        before = bench.results
        await bench.run(tiles + [Drain()], gap=0.05, backpressure=0.05)
        bench.log.info(f"replay gs={gs}: {len(tiles)} tiles, {bench.results - before} results")
    await bench.finish()
