"""cocotb driver, monitor and scoreboard for the generated engine (flat ports, spec section 5).

One coroutine does everything, two scheduler steps per clock: after the falling edge it
drives the inputs (``in_*``, ``out_ready``, ``cfg_group_size``, ``err_clear``); in the
read-only phase that follows it samples the handshakes, so it knows exactly which transfers
the next rising edge performs. Accepted tiles go into :class:`apsq_rae.golden.Engine` in acceptance
order; every result the engine hands out is compared with the golden result at the head of
the queue (address, exponent, saturation flag and every lane).
"""

import collections
import json
import os
import random
from pathlib import Path

from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from apsq_rae import golden
from apsq_rae.golden import Tile
from apsq_rae.hdl.params import RAEParams

from .coverage import session_coverage
from .stimulus import Configure, BadConfig, ClearErr, Drain, CheckErr, Idle


__all__ = ["load_config", "Bench"]


def load_config():
    """The configuration the pytest side passed in ``APSQ_TB_CONFIG``."""
    config = json.loads(os.environ["APSQ_TB_CONFIG"])
    config["params"] = RAEParams(**config["params"])
    config["capacity"] = {int(k): v for k, v in config["capacity"].items()}
    return config


class Bench:
    """Drives one engine instance and scores it against the golden model.

    Parameters
    ----------
    dut : cocotb handle of the ``apsq_rae`` top module
    config : dict
        From :func:`load_config`.
    test_name : str
        Mixed into the seed, so every test draws its own random numbers.
    strict : bool
        Passed to :class:`apsq_rae.golden.Engine` (``False`` for the beyond-capacity test).

    Members
    -------
    rng : random.Random
    golden : golden.Engine
    cycle : int
        Clocks since the start of :meth:`start`.
    accepted, results : int
        Tiles accepted and results checked so far.
    accept_cycles, take_cycles : list of int
        The clock of each accepted tile, and of each result taken.
    latencies : list of int
        Per result, clocks from the edge accepting its last tile to the edge taking it.
    cov : apsq_rae.tb.coverage.Coverage or None
        Functional coverage, sampled when ``APSQ_COVERAGE_FILE`` names the file that
        :meth:`finish` writes the counts to (:func:`apsq_rae.tb.sim.run` sets it).
    """

    def __init__(self, dut, config, test_name, *, strict=True):
        self.dut = dut
        self.p = p = config["params"]
        self.latency = config["latency"]
        self.seed = config["seed"]
        self.rng = random.Random(f"{self.seed}:{test_name}")
        self.golden = golden.Engine(**p.as_dict(), strict=strict)
        self.log = dut._log
        self.cycle = 0
        self.accepted = 0
        self.results = 0
        self.accept_cycles = []
        self.take_cycles = []
        self.latencies = []
        self.expected = collections.deque()
        self.gs = 1
        self.err_bad_cfg = False       # a bad cfg was driven since the last clear
        self.timeout = 200 + 4 * self.latency
        self._last_progress = 0
        self._qmask = (1 << p.q_bits) - 1
        self._qsign = 1 << (p.q_bits - 1)
        self._pmask = (1 << p.psum_bits) - 1
        self._handles = {name: getattr(dut, name) for name in (
            "in_valid", "in_addr", "in_step", "in_last", "in_exp", "in_data", "out_ready",
            "cfg_group_size", "err_clear")}
        self._driven = {}
        self._driven_tile = None
        self._capacity = config["capacity"]
        self._err = 0
        self.trace = None              # a list: clock() appends the ports' values (tb.waves)
        self._cov_file = os.environ.get("APSQ_COVERAGE_FILE")
        self.cov = session_coverage(p, self._capacity) if self._cov_file else None
        self._probes = None
        if self.cov is not None:
            self.attach_probes()
        self.log.info(f"config {p} latency {self.latency} seed {self.seed} "
                      f"(APSQ_SEED={self.seed} repeats it)")

    def attach_probes(self):
        """Find the internal nets that coverage and traces read (never scored): the issue
        queue's head valid, its ``clear`` flag (valid and no hazard), and the result-credit
        flag."""
        try:
            engine = self.dut.engine
            self._probes = (engine.o__valid, engine.clear, engine.credit_ok)
        except AttributeError as error:
            self.log.warning(f"no hazard and credit probes ({error})")

    # Start-up --------------------------------------------------------------------------

    async def start(self, group_size=1):
        """Start the clock, reset, and configure ``group_size``.

        ``rst`` is 1 from time zero until the third falling edge of ``clk``, or, with
        ``APSQ_TB_RESET_CLOCKS=N``, for exactly ``N`` rising edges (the power-up tests use the
        documented minimum, 1). Then ``err``, ``out_valid`` and ``busy`` must be 0.
        ``APSQ_MUTANT=N`` drives the ``mutsel`` input of a mutation netlist with ``N``."""
        d = self.dut
        # The clock toggles in the GPI layer (C++), not in a Python coroutine: two Python
        # wake-ups less per clock. Inputs are written after the falling edge only, so no write
        # shares a time step with a rising edge.
        Clock(d.clk, 10, unit="ns", impl="gpi").start()
        d.rst.value = 1
        d.in_valid.value = 0
        d.out_ready.value = 0
        d.err_clear.value = 0
        d.cfg_group_size.value = group_size
        d.in_addr.value = 0
        d.in_step.value = 0
        d.in_last.value = 0
        d.in_exp.value = 0
        d.in_data.value = 0
        mutant = os.environ.get("APSQ_MUTANT")
        if mutant is not None:
            # The mutation netlist of `make mutate` (apsq_rae.mutate): mutsel picks the mutant.
            d.mutsel.value = int(mutant)
        self._driven = {"in_valid": 0, "out_ready": 0, "err_clear": 0,
                        "cfg_group_size": group_size, "in_addr": 0, "in_step": 0,
                        "in_last": 0, "in_exp": 0, "in_data": 0}
        reset_clocks = os.environ.get("APSQ_TB_RESET_CLOCKS")
        if reset_clocks is None:
            for _ in range(3):
                await FallingEdge(d.clk)
        else:
            for _ in range(int(reset_clocks)):
                await RisingEdge(d.clk)
            await FallingEdge(d.clk)
        d.rst.value = 0
        await ReadOnly()
        assert int(d.err.value) == 0, f"err = {int(d.err.value)} after reset, expected 0"
        assert int(d.out_valid.value) == 0, "out_valid = 1 after reset"
        assert int(d.busy.value) == 0, "busy = 1 after reset"
        self.golden.configure(group_size)
        self.gs = group_size

    async def reset(self, clocks=2):
        """Assert ``rst`` for ``clocks`` rising edges in the middle of traffic, drop every
        result still due, and start a fresh golden model at the current group size. After
        the reset ``err``, ``out_valid`` and ``busy`` must be 0; whatever the engine had in
        flight must never come out (the scoreboard then expects nothing)."""
        d = self.dut
        await FallingEdge(d.clk)
        self.cycle += 1
        d.rst.value = 1
        self._set("in_valid", 0)
        for _ in range(clocks):
            await RisingEdge(d.clk)
        await FallingEdge(d.clk)
        self.cycle += clocks
        d.rst.value = 0
        await ReadOnly()
        for name in ("err", "out_valid", "busy"):
            value = int(getattr(d, name).value)
            assert value == 0, f"clock {self.cycle}: {name} = {value} after a reset in traffic"
        if self.cov is not None:
            self.cov.reset(in_flight=bool(self.golden.in_flight), due=bool(self.expected))
        self._err = 0
        self.golden = golden.Engine(**self.p.as_dict(), strict=self.golden.strict)
        self.golden.configure(self.gs)
        self.expected.clear()
        self.err_bad_cfg = False
        self._last_progress = self.cycle

    # The clock loop --------------------------------------------------------------------

    def _set(self, name, value):
        """Write an input only when it changes: every write makes the simulator re-evaluate
        the input's whole fan-out, even with an unchanged value."""
        if self._driven.get(name) != value:
            self._driven[name] = value
            self._handles[name].value = value

    def _drive_tile(self, tile):
        if tile is self._driven_tile:
            return
        self._driven_tile = tile
        self._set("in_addr", tile.addr)
        self._set("in_step", tile.step)
        self._set("in_last", int(tile.last))
        self._set("in_exp", tile.exp)
        packed, width, mask = 0, self.p.psum_bits, self._pmask
        for j, v in enumerate(tile.data):
            packed |= (v & mask) << (j * width)
        self._set("in_data", packed)

    def _unpack(self, word):
        out = []
        for j in range(self.p.lanes):
            v = (word >> (j * self.p.q_bits)) & self._qmask
            out.append(v - (1 << self.p.q_bits) if v & self._qsign else v)
        return tuple(out)

    def _check_result(self):
        d = self.dut
        got_addr = int(d.out_addr.value)
        got_exp = int(d.out_exp.value)
        got_sat = bool(int(d.out_sat.value))
        got = self._unpack(d.out_data.value.to_unsigned())
        if not self.expected:
            raise AssertionError(f"clock {self.cycle}: unexpected result for address {got_addr} "
                                 f"(exp {got_exp}, sat {int(got_sat)}, data {list(got)}): "
                                 f"no result is due")
        want, step, accept_cycle = self.expected.popleft()
        where = f"result #{self.results} (address {want.addr}, last step {step})"
        if got_addr != want.addr:
            raise AssertionError(f"{where}: address expected {want.addr}, got {got_addr} "
                                 f"(results must leave in the order their last tiles arrived)")
        for j, (e, g) in enumerate(zip(want.data, got)):
            if e != g:
                bad = [k for k, (a, b) in enumerate(zip(want.data, got)) if a != b]
                raise AssertionError(f"{where}: lane {j}: expected {e}, got {g} "
                                     f"(lanes wrong: {bad}; expected {list(want.data)}, "
                                     f"got {list(got)})")
        if got_exp != want.exp:
            raise AssertionError(f"{where}: exp expected {want.exp}, got {got_exp}")
        if got_sat != want.sat:
            raise AssertionError(f"{where}: sat expected {int(want.sat)}, got {int(got_sat)}")
        self.results += 1
        self.take_cycles.append(self.cycle)
        self.latencies.append(self.cycle - accept_cycle)
        if self.cov is not None:
            self.cov.result()

    async def clock(self, tile=None, *, gap=0.0, backpressure=0.0, cfg=None, err_clear=0,
                    expect_refused=False):
        """One clock: offer ``tile`` (unless a random gap), random ``out_ready``; return
        ``True`` if the tile was accepted at the coming rising edge."""
        d = self.dut
        await FallingEdge(d.clk)
        self.cycle += 1
        offer = tile is not None and (gap == 0.0 or self.rng.random() >= gap)
        if offer:
            self._drive_tile(tile)
        self._set("in_valid", int(offer))
        take = backpressure == 0.0 or self.rng.random() >= backpressure
        self._set("out_ready", int(take))
        self._set("cfg_group_size", self.gs if cfg is None else cfg)
        self._set("err_clear", err_clear)
        await ReadOnly()
        in_ready = int(d.in_ready.value)
        out_valid = int(d.out_valid.value)
        busy = int(d.busy.value)
        err = int(d.err.value)
        if out_valid and not busy:
            raise AssertionError(f"clock {self.cycle}: out_valid = 1 but busy = 0")
        if (err & 2) and not (self.golden.err & 2):
            raise AssertionError(f"clock {self.cycle}: err[1] = 1 but no tile beyond the "
                                 f"capacity was accepted since the last clear")
        if (err & 1) and not self.err_bad_cfg:
            raise AssertionError(f"clock {self.cycle}: err[0] = 1 but cfg_group_size was "
                                 f"always legal since the last clear")
        accepted = offer and bool(in_ready)
        if self.trace is not None:
            self._record(in_ready, out_valid, busy, err)
        if self.cov is not None:
            self._sample_clock(err, out_valid and not take)
        if expect_refused and accepted:
            raise AssertionError(f"clock {self.cycle}: a tile was accepted while "
                                 f"cfg_group_size = {cfg} is illegal")
        if out_valid and take:
            self._check_result()
            self._last_progress = self.cycle
        if accepted:
            result = self.golden.push(tile.addr, tile.step, tile.last, tile.exp, tile.data)
            if result is not None:
                self.expected.append((result, tile.step, self.cycle))
            if self.cov is not None:
                in_range = tile.addr < self._capacity[self.gs]
                self.cov.tile(self.gs, tile.addr, self.golden.last_step if in_range else None)
            self.accepted += 1
            self.accept_cycles.append(self.cycle)
            self._last_progress = self.cycle
        if self.cycle - self._last_progress > self.timeout:
            raise AssertionError(f"clock {self.cycle}: no transfer for {self.timeout} clocks "
                                 f"(in_ready {in_ready}, out_valid {out_valid}, busy {busy}, "
                                 f"{len(self.expected)} results due): engine hung")
        return accepted

    def _record(self, in_ready, out_valid, busy, err):
        """Append this clock's port values (sampled before the rising edge) to
        :attr:`trace`."""
        d = self._driven
        row = {"in_valid": d["in_valid"], "in_ready": in_ready, "in_addr": d["in_addr"],
               "in_step": d["in_step"], "in_last": d["in_last"], "out_valid": out_valid,
               "out_ready": d["out_ready"], "out_addr": int(self.dut.out_addr.value),
               "busy": busy, "err": err}
        if self._probes is not None:
            row["hazard"] = int(self._hazard_stall())
        self.trace.append(row)

    def _hazard_stall(self):
        """The issue queue's head is held by a hazard (needs the probes)."""
        head, clear, _ = self._probes
        return bool(int(head.value)) and not int(clear.value)

    def _sample_clock(self, err, stalled):
        hazard_stall = no_credit = False
        if self._probes is not None:
            hazard_stall = self._hazard_stall()
            no_credit = stalled and not int(self._probes[2].value)
        self.cov.clock(self.gs, hazard_stall=hazard_stall, no_credit=no_credit)
        for bit in (0, 1):
            if (err >> bit) & 1 and not (self._err >> bit) & 1:
                self.cov.err(f"err[{bit}] set")
        if self._err and not err:
            self.cov.err("cleared")
        self._err = err

    # Items -----------------------------------------------------------------------------

    async def drain(self, backpressure=0.0):
        """Clock until every due result left and ``busy = 0``."""
        self._last_progress = self.cycle
        while True:
            await self.clock(backpressure=backpressure)
            if not self.expected and int(self.dut.busy.value) == 0:
                return
            if not self.expected and self.cycle - self._last_progress > self.timeout:
                raise AssertionError(f"clock {self.cycle}: busy stays 1 with no result due")

    async def hold_results(self, tiles, clocks):
        """Offer ``tiles`` for ``clocks`` clocks with ``out_ready = 0`` (the result FIFO fills
        and the engine must stop taking ``last`` tiles before it overflows), then send the
        rest with ``out_ready = 1``."""
        pending = list(tiles)
        for _ in range(clocks):
            if await self.clock(pending[0] if pending else None, backpressure=1.0):
                pending.pop(0)
        self._last_progress = self.cycle
        await self.run(pending)

    async def run(self, items, *, gap=0.0, backpressure=0.0):
        """Execute stimulus items (see :mod:`apsq_rae.tb.stimulus`) with random ``in_valid`` gaps and
        ``out_ready`` backpressure (probabilities)."""
        self._last_progress = self.cycle
        for item in items:
            if isinstance(item, Tile):
                while not await self.clock(item, gap=gap, backpressure=backpressure):
                    pass
            elif isinstance(item, Configure):
                await self.drain(backpressure)
                self.gs = item.group_size
                self.golden.configure(item.group_size)
                await self.clock()
            elif isinstance(item, BadConfig):
                self.err_bad_cfg = True
                probe = Tile(0, 0, True, 0, (0,) * self.p.lanes)
                for k in range(item.cycles):
                    last = k == item.cycles - 1
                    await self.clock(probe, cfg=item.value, expect_refused=True,
                                     err_clear=int(item.clear_on_last and last),
                                     backpressure=backpressure)
                    self._last_progress = self.cycle
                # One clock later err[0] must show the bad clocks (a set beats a clear).
                await self.clock(backpressure=backpressure)
                err = int(self.dut.err.value)
                assert err & 1, (f"clock {self.cycle}: err[0] = 0 after {item.cycles} clocks "
                                 f"with cfg_group_size = {item.value}")
                if item.clear_on_last and self.cov is not None:
                    self.cov.err("set beats clear")
            elif isinstance(item, ClearErr):
                await self.drain(backpressure)
                await self.clock(err_clear=1)
                self.golden.clear_err()
                self.err_bad_cfg = False
                await self.clock()
                err = int(self.dut.err.value)
                assert err == 0, f"clock {self.cycle}: err = {err} after err_clear, expected 0"
            elif isinstance(item, Drain):
                await self.drain(backpressure)
            elif isinstance(item, CheckErr):
                await self.drain(backpressure)
                err = int(self.dut.err.value)
                assert err == item.value, (f"clock {self.cycle}: err = {err}, expected "
                                           f"{item.value}")
            elif isinstance(item, Idle):
                for _ in range(item.cycles):
                    await self.clock(backpressure=backpressure)
            else:
                raise TypeError(f"unknown stimulus item {item!r}")

    async def finish(self):
        """Drain, then check nothing is left and ``err`` matches the golden model."""
        await self.drain()
        err = int(self.dut.err.value)
        want = (self.golden.err & 2) | int(self.err_bad_cfg)
        assert err == want, f"clock {self.cycle}: err = {err} at the end, expected {want}"
        assert not self.golden.in_flight, \
            f"stimulus bug: addresses {sorted(self.golden.in_flight)[:8]} left mid-accumulation"
        self.log.info(f"{self.accepted} tiles, {self.results} results, {self.cycle} clocks")
        if self.cov is not None:
            self.cov.export(self._cov_file, Path(self._cov_file).stem)
