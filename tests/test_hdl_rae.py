"""The whole RAE (Amaranth simulator) against the golden transaction-level model.

Random tests print their seed (``APSQ_SEED=<n>`` replays one).
"""

import collections
import random
import zlib

import pytest

from apsq_rae import golden
from apsq_rae.hdl.params import RAEParams
from apsq_rae.hdl.pipeline import Pipeline, SETTINGS
from apsq_rae.hdl.rae import RAE

from sim_helpers import run_sim, seed_from_env, stream_back_to_back, stream_put


# ---------------------------------------------------------------------------------------------
# Stimulus

def _random_value(rng, bits):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    kind = rng.random()
    if kind < 0.1:
        return rng.choice([lo, hi, lo + 1, -1, 0, 1])
    if kind < 0.5:
        return rng.randint(lo, hi)
    small = rng.randint(1, bits)                         # magnitudes of every size
    return max(lo, min(hi, rng.randint(-(1 << small), (1 << small))))


def _random_tile(rng, p):
    return [_random_value(rng, p.psum_bits) for _ in range(p.lanes)]


def _random_exp(rng, p):
    if rng.random() < 0.2:
        return rng.choice([0, p.max_exp])
    return rng.randint(0, p.max_exp)


def random_sequence(rng, p, gs, n_tiles, *, p_same=0.3, p_out_of_range=0.03, max_steps=None):
    """Tiles ``(addr, step, last, exp, data)`` of interleaved accumulations that follow the
    protocol (per address: steps 0..n-1, last on n-1), with back-to-back same-address runs
    (probability ``p_same``), addresses reused after their last step, capacity edges and a few
    out-of-capacity tiles."""
    cap = p.capacity(gs)
    max_steps = max_steps or 3 * gs + 2
    edge = [0, cap - 1, cap // 2]
    active = {}                                          # addr -> [next_step, n_steps]
    seq, prev = [], None
    n_open = rng.randint(1, min(cap, 12))
    while len(seq) < n_tiles or active:
        if len(seq) < n_tiles and rng.random() < p_out_of_range and cap < (1 << p.addr_bits):
            bad = rng.choice([cap, (1 << p.addr_bits) - 1, rng.randrange(cap, 1 << p.addr_bits)])
            seq.append((bad, rng.randrange(1 << p.step_bits), rng.getrandbits(1),
                        _random_exp(rng, p), _random_tile(rng, p)))
            continue
        if len(seq) < n_tiles and len(active) < n_open:
            free = [a for a in edge if a not in active] or [rng.randrange(cap)]
            addr = rng.choice(free) if rng.random() < 0.3 else rng.randrange(cap)
            if addr not in active:
                active[addr] = [0, rng.randint(1, min(max_steps, 1 << p.step_bits))]
        if not active:
            continue
        if prev in active and rng.random() < p_same:
            addr = prev
        else:
            addr = rng.choice(sorted(active))
        step, n = active[addr]
        last = int(step == n - 1)
        seq.append((addr, step, last, _random_exp(rng, p), _random_tile(rng, p)))
        if last:
            del active[addr]
        else:
            active[addr][0] += 1
        prev = addr
    return seq


# ---------------------------------------------------------------------------------------------
# Runner

def run_engine(p, plan, *, seed, p_valid=1.0, p_ready=1.0, pipeline="default"):
    """Drive ``plan`` (list of ``(gs, tiles)``) through an RAE with ``pipeline``; score every
    result against ``apsq_rae.golden.Engine``. Returns the number of results checked."""
    rng = random.Random(seed)
    dut = RAE(p, pipeline=pipeline)
    ref = golden.Engine(**p.as_dict(), strict=False)
    expected = collections.deque()
    checked = []
    errors = []

    async def driver(ctx):
        for gs, tiles in plan:
            while ctx.get(dut.busy) or expected:
                await ctx.tick()
            ctx.set(dut.cfg_group_size, gs)
            ref.configure(gs)
            await ctx.tick()
            for addr, step, last, exp, data in tiles:
                while rng.random() > p_valid:
                    await ctx.tick()
                await stream_put(ctx, dut.i, {"addr": addr, "step": step, "last": last,
                                              "exp": exp, "data": data})
                res = ref.push(addr, step, last, exp, data)
                if res is not None:
                    expected.append(res)
            for _ in range(dut.latency * 2 + 8):
                await ctx.tick()
        while ctx.get(dut.busy) or expected:
            await ctx.tick()
        await ctx.tick()
        errors.append(("err", ctx.get(dut.err), ref.err))

    async def receiver(ctx):
        while True:
            ready = int(rng.random() < p_ready)
            ctx.set(dut.o.ready, ready)
            _, _, valid, payload = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            if valid and ready:
                got = (payload.addr, payload.exp, bool(payload.sat),
                       tuple(payload.data[j] for j in range(p.lanes)))
                assert expected, f"unexpected result {got}"
                exp = expected.popleft()
                want = (exp.addr, exp.exp, bool(exp.sat), tuple(exp.data))
                assert got == want, f"result {len(checked)}: got {got}, want {want}"
                checked.append(got)

    from amaranth.sim import Simulator
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(driver)
    sim.add_testbench(receiver, background=True)
    sim.run()
    (_, got_err, want_err), = errors
    assert got_err & 2 == want_err & 2, f"err = {got_err:#b}, golden err = {want_err:#b}"
    assert not expected
    return len(checked)


# ---------------------------------------------------------------------------------------------
# Tests

WORKED_TILES = [[1000, -1000], [2047, -300], [-3000, 129], [9000, 70], [-123, -7]]


@pytest.mark.parametrize("pipeline", list(SETTINGS))
@pytest.mark.parametrize("gs", [1, 2, 3, 4])
def test_worked_example(gs, pipeline):
    """Spec section 3, worked example: result [70, -8], e = 7, sat 0 for every gs and every
    pipeline setting."""
    dut = RAE(RAEParams(lanes=2, psum_bits=32, q_bits=8, max_group_size=4, depth=8),
              pipeline=pipeline)
    results = []

    async def tb(ctx):
        ctx.set(dut.cfg_group_size, gs)
        for i, (tile, e) in enumerate(zip(WORKED_TILES, [4, 5, 5, 7, 7])):
            await stream_put(ctx, dut.i, {"addr": 5, "step": i, "last": int(i == 4),
                                          "exp": e, "data": tile})
        ctx.set(dut.o.ready, 1)
        payload, = await ctx.tick().sample(dut.o.payload).until(dut.o.valid)
        results.append(payload)

    run_sim(dut, tb)
    r, = results
    assert (r.addr, r.exp, r.sat, [r.data[0], r.data[1]]) == (5, 7, 0, [70, -8])


@pytest.mark.parametrize("gs,want", [(1, [125, -17]), (2, [125, -17]), (3, [126, -17]),
                                     (4, [125, -17])])
def test_worked_example_saturating(gs, want):
    """Spec section 3: exponents 4 5 5 6 6 give [126,-17] for gs 3, [125,-17] else, sat 1."""
    dut = RAE(lanes=2, max_group_size=4, depth=4)
    results = []

    async def tb(ctx):
        ctx.set(dut.cfg_group_size, gs)
        for i, (tile, e) in enumerate(zip(WORKED_TILES, [4, 5, 5, 6, 6])):
            await stream_put(ctx, dut.i, {"addr": 0, "step": i, "last": int(i == 4),
                                          "exp": e, "data": tile})
        ctx.set(dut.o.ready, 1)
        payload, = await ctx.tick().sample(dut.o.payload).until(dut.o.valid)
        results.append(payload)

    run_sim(dut, tb)
    r, = results
    assert (r.exp, r.sat, [r.data[0], r.data[1]]) == (6, 1, want)


FAST_CONFIGS = [
    dict(lanes=2, psum_bits=16, q_bits=8, max_group_size=4, depth=4, exp_bits=4, step_bits=6,
         rounding="half_up"),
    dict(lanes=1, psum_bits=12, q_bits=4, max_group_size=3, depth=3, exp_bits=3, step_bits=4,
         rounding="half_even"),
    dict(lanes=2, psum_bits=24, q_bits=6, max_group_size=5, depth=2, exp_bits=5, step_bits=5,
         rounding="trunc"),
    dict(lanes=1, psum_bits=8, q_bits=8, max_group_size=1, depth=5, exp_bits=2, step_bits=3,
         rounding="half_up"),
    dict(lanes=3, psum_bits=64, q_bits=16, max_group_size=2, depth=1, exp_bits=6, step_bits=2,
         rounding="half_even"),
]


@pytest.mark.parametrize("pipeline", list(SETTINGS))
@pytest.mark.parametrize("cfg", FAST_CONFIGS, ids=lambda c: "-".join(
    f"{k[0]}{v}" for k, v in c.items()))
def test_engine_random(cfg, pipeline):
    """Every run-time gs in turn, random interleavings and backpressure, against golden, at
    every pipeline setting."""
    seed = seed_from_env(default=zlib.crc32(repr(sorted(cfg.items())).encode()) & 0xFFFF)
    rng = random.Random(seed)
    p = RAEParams(**cfg)
    plan = [(gs, random_sequence(rng, p, gs, 60)) for gs in range(1, p.max_group_size + 1)]
    n = run_engine(p, plan, seed=seed, p_valid=0.8, p_ready=0.7, pipeline=pipeline)
    assert n > 0


@pytest.mark.parametrize("pipeline", list(SETTINGS))
def test_engine_back_to_back_full_speed(pipeline):
    """Back-to-back same-address tiles and no gaps (stall path), out_ready always 1."""
    seed = seed_from_env(default=7)
    rng = random.Random(seed)
    p = RAEParams(lanes=2, psum_bits=20, q_bits=8, max_group_size=4, depth=2, exp_bits=4,
                  step_bits=5)
    plan = [(gs, random_sequence(rng, p, gs, 50, p_same=0.9, p_out_of_range=0.0))
            for gs in (4, 1, 3)]
    assert run_engine(p, plan, seed=seed, pipeline=pipeline) > 0


@pytest.mark.parametrize("pipeline", [
    Pipeline(bank_output_register=False, shift_levels_per_stage=1),
    Pipeline(shift_levels_per_stage=3, tree_levels_per_stage=2, quantizer_stages=1),
    Pipeline(shift_levels_per_stage=0, queue_input_register=False),
    Pipeline(tree_levels_per_stage=0, bank_write_register=True, bank_output_register=False),
    Pipeline(shift_levels_per_stage=4, tree_levels_per_stage=3, queue_input_register=False,
             bank_write_register=True),
    Pipeline(bank_write_register=True),
    Pipeline(bank_bypass=True),
    Pipeline(tree_input_register=True, quantizer_stages=3, result_write_register=True),
    Pipeline(result_write_register=True, shift_levels_per_stage=1),
    Pipeline(decode_register=True, queue_input_register=False),
    Pipeline(decode_register=True, bank_bypass=True, shift_levels_per_stage=0),
    Pipeline(tree_input_register=True, tree_levels_per_stage=0, quantizer_stages=3,
             shift_levels_per_stage=0),
    Pipeline(bank_bypass=True, bank_output_register=False, shift_levels_per_stage=1),
    Pipeline(bank_bypass=False, **{k: v for k, v in SETTINGS["min"].as_dict().items()
                                   if k not in ("setting", "bank_bypass")}),
], ids=str)
def test_engine_pipeline_knobs(pipeline):
    """Knob combinations between the named settings give the same results."""
    seed = seed_from_env(default=99)
    rng = random.Random(seed)
    p = RAEParams(lanes=2, psum_bits=20, q_bits=6, max_group_size=3, depth=3, exp_bits=5,
                  step_bits=6, rounding="half_even")
    plan = [(gs, random_sequence(rng, p, gs, 40, p_same=0.5)) for gs in (3, 2, 1)]
    assert run_engine(p, plan, seed=seed, p_valid=0.9, p_ready=0.6, pipeline=pipeline) > 0


@pytest.mark.slow
@pytest.mark.parametrize("index", range(12))
def test_engine_random_params(index):
    """Random parameter sets (lanes, widths, non-power-of-two depths, G = 1..8, every rule),
    each at one of the pipeline settings."""
    seed = seed_from_env(default=1000 + index)
    rng = random.Random(seed)
    psum_bits = rng.randint(2, 40)
    cfg = dict(lanes=rng.randint(1, 4), psum_bits=psum_bits, q_bits=rng.randint(2, psum_bits),
               max_group_size=rng.randint(1, 8), depth=rng.randint(1, 9),
               exp_bits=rng.randint(1, 6), step_bits=rng.randint(1, 8),
               rounding=rng.choice(["half_up", "half_even", "trunc"]))
    print(cfg)
    p = RAEParams(**cfg)
    plan = [(gs, random_sequence(rng, p, gs, 150)) for gs in range(1, p.max_group_size + 1)]
    pipeline = list(SETTINGS)[index % 3]
    print(pipeline)
    run_engine(p, plan, seed=seed, p_valid=rng.choice([1.0, 0.7]), p_ready=rng.choice([1.0, 0.5]),
               pipeline=pipeline)


def test_worked_example_default_parameters():
    """The worked example through the default engine (16 lanes, the rest of the lanes 0 and
    the most negative PSUM, whose results come from golden)."""
    dut = RAE()
    lo = -(1 << 31)
    tiles = [t + [0] * 7 + [lo] * 7 for t in WORKED_TILES]
    ref = golden.Engine()
    ref.configure(3)
    want = [ref.push(9, i, int(i == 4), e, t) for i, (t, e) in enumerate(zip(tiles, [4, 5, 5, 7, 7]))]
    results = []

    async def tb(ctx):
        ctx.set(dut.cfg_group_size, 3)
        for i, (tile, e) in enumerate(zip(tiles, [4, 5, 5, 7, 7])):
            await stream_put(ctx, dut.i, {"addr": 9, "step": i, "last": int(i == 4),
                                          "exp": e, "data": tile})
        ctx.set(dut.o.ready, 1)
        payload, = await ctx.tick().sample(dut.o.payload).until(dut.o.valid)
        results.append(payload)

    run_sim(dut, tb)
    r, = results
    data = [r.data[j] for j in range(16)]
    assert data[:2] == [70, -8] and r.exp == 7
    assert (r.addr, r.exp, bool(r.sat), tuple(data)) == (want[-1].addr, want[-1].exp,
                                                         want[-1].sat, want[-1].data)
    assert r.sat == 1                                  # the most negative lanes clip


# ---------------------------------------------------------------------------------------------
# Tiles that read nothing do not wait (docs/design.md, hazards)

def stream_one_address(p, pipeline, gs, tiles):
    """Offer ``tiles`` back to back with ``out_ready = 1``, results checked against golden;
    return the engine's latency, the clock edge that accepted the first tile and the edges that
    took the results."""
    dut = RAE(p, pipeline=pipeline)
    accepted, taken = stream_back_to_back(dut, gs, tiles, max_clocks=1000)
    return dut.latency, accepted[0], taken


# Per setting at exp_bits 5, max_group_size 4: the latency L and g, the clocks from the issue of
# a tile that writes to the first issue at which a later tile of its address may read the row:
# the edge after the write has landed, or (``min``: the banks' bypass hands the new row to the
# read) the edge on which it lands. A tile accepted into an empty queue at edge A0 issues at A0 + Q (Q the
# issue queue's latency) and its result can be taken L - Q edges after its issue.
#   min:     L = 4  (Q 1 + bank read 1 + quantizer 1 + FIFO 1); the write lands 2 edges after
#            the issue (bank read, quantizer output register): g = 2
#   default: L = 16; the write lands 13 edges after the issue (its 13 stages), read on the edge
#            after: g = 14
#   max:     L = 18 (Q 2 + bank read 2 + dequantizer 3 + tree 3 + quantizer 3 + 3 + FIFO 2
#            with its write register); 14 stages, read on the edge after: g = 15
TIMING = {"min": (4, 2), "default": (16, 14), "max": (18, 15)}


@pytest.mark.parametrize("pipeline", list(SETTINGS))
def test_psq_tiles_do_not_wait(pipeline):
    """One address at gs 4, eight steps back to back. The PSQ steps (0, 1, 2 and 4, 5, 6) read
    nothing and issue one clock after the tile before them; the APSQ steps 3 and 7 wait for the
    write of the tile just before them. Issues (from the first): 0, 1, 2, 2+g, 3+g, 4+g, 5+g,
    5+2g; the result leaves 2g + 5 + L clocks after the first tile is accepted (default: 49;
    if every tile waited, 7g + L = 114)."""
    L, g = TIMING[pipeline]
    p = RAEParams(lanes=2, max_group_size=4, depth=4)
    rng = random.Random(seed_from_env(default=12))
    tiles = [(3, i, int(i == 7), rng.randrange(0, 8), [rng.randrange(-5000, 5000)] * 2)
             for i in range(8)]
    latency, first, (result,) = stream_one_address(p, pipeline, 4, tiles)
    assert latency == L
    assert result - first == {"min": 13, "default": 49, "max": 53}[pipeline] == 2 * g + 5 + L


@pytest.mark.parametrize("pipeline", list(SETTINGS))
def test_step_zero_after_last_does_not_wait(pipeline):
    """gs 1, two accumulations of three steps at one address, back to back. Step 0 reads
    nothing (no AP yet), also right after the previous accumulation's ``last``; steps 1 and 2
    read the AP. Issues: 0, g, 2g, then step 0 at 2g+1, steps 1 and 2 at 3g+1 and 4g+1: the
    results leave 2g + L and 4g + 1 + L clocks after the first tile is accepted (default: 44
    and 73; waiting behind ``last`` would give 5g + L = 86 for the second)."""
    L, g = TIMING[pipeline]
    p = RAEParams(lanes=2, max_group_size=4, depth=4)
    rng = random.Random(seed_from_env(default=13))
    tiles = [(1, i, int(i == 2), rng.randrange(0, 8), [rng.randrange(-5000, 5000)] * 2)
             for _ in range(2) for i in range(3)]
    latency, first, results = stream_one_address(p, pipeline, 1, tiles)
    assert latency == L
    assert [r - first for r in results] == {"min": [8, 13], "default": [44, 73],
                                            "max": [48, 79]}[pipeline]
    assert [r - first for r in results] == [2 * g + L, 4 * g + 1 + L]
