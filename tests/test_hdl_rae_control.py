# amaranth: UnusedElaboratable=no
"""The RAE's control side (Amaranth simulator): parameter refusal, error flags, busy, handshake
independence, latency and full throughput."""

import random

import pytest

from apsq_rae import golden
from apsq_rae.hdl.params import RAEParams
from apsq_rae.hdl.pipeline import Pipeline, SETTINGS, as_pipeline
from apsq_rae.hdl.rae import RAE, rae_signature, result_layout, tile_layout

from sim_helpers import run_sim, seed_from_env, stream_put


SMALL = dict(lanes=2, psum_bits=16, q_bits=8, max_group_size=4, depth=4, exp_bits=4, step_bits=6)


# ---- Elaboration parameters -----------------------------------------------------------------

@pytest.mark.parametrize("kwargs,message", [
    (dict(lanes=0), r"lanes = 0 is out of range \(legal: >= 1\)"),
    (dict(psum_bits=1), r"psum_bits = 1 is out of range \(legal: 2\.\.64\)"),
    (dict(psum_bits=65), r"psum_bits = 65 is out of range \(legal: 2\.\.64\)"),
    (dict(q_bits=1), r"q_bits = 1 is out of range \(legal: 2\.\.32\)"),
    (dict(psum_bits=16, q_bits=17), r"q_bits = 17 is out of range \(legal: 2\.\.16\)"),
    (dict(max_group_size=0), r"max_group_size = 0 is out of range \(legal: 1\.\.16\)"),
    (dict(max_group_size=17), r"max_group_size = 17 is out of range \(legal: 1\.\.16\)"),
    (dict(depth=0), r"depth = 0 is out of range \(legal: >= 1\)"),
    (dict(exp_bits=0), r"exp_bits = 0 is out of range \(legal: 1\.\.6\)"),
    (dict(exp_bits=7), r"exp_bits = 7 is out of range \(legal: 1\.\.6\)"),
    (dict(step_bits=0), r"step_bits = 0 is out of range \(legal: 1\.\.32\)"),
    (dict(step_bits=33), r"step_bits = 33 is out of range \(legal: 1\.\.32\)"),
    (dict(rounding="nearest"), r"rounding = 'nearest' is not a rounding rule "
                               r"\(legal: half_up, half_even, trunc\)"),
])
def test_illegal_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RAE(**kwargs)
    with pytest.raises(ValueError, match=message):
        RAE(RAEParams(**kwargs))


def test_params_and_keywords_are_exclusive():
    with pytest.raises(TypeError, match="either an RAEParams or keyword parameters"):
        RAE(RAEParams(), lanes=2)
    with pytest.raises(TypeError, match=r"params must be an RAEParams, not \{'lanes': 2\}"):
        RAE({"lanes": 2})
    with pytest.raises(TypeError, match=r"lanes must be an integer, not 2\.0"):
        RAE(lanes=2.0)


def test_interface_and_capacity():
    dut = RAE()
    p = dut.params
    assert p == RAEParams()
    assert [dut.capacity(gs) for gs in (1, 2, 3, 4)] == [1024, 512, 256, 256]
    assert list(tile_layout(p).members) == ["addr", "step", "last", "exp", "data"]
    assert list(result_layout(p).members) == ["addr", "exp", "sat", "data"]
    assert len(dut.i.payload.as_value()) == 10 + 16 + 1 + 5 + 16 * 32
    assert len(dut.o.payload.as_value()) == 10 + 5 + 1 + 16 * 8
    assert len(dut.cfg_group_size) == 3 and len(dut.err) == 2
    # The signature without an engine (for stand-ins and netlist wrappers) is the engine's.
    assert rae_signature(p) == dut.signature
    assert rae_signature(RAEParams(lanes=2)) != dut.signature
    assert RAE(max_group_size=3, depth=5).capacity(1) == golden.Engine(
        max_group_size=3, depth=5).capacity(1) == 15
    with pytest.raises(ValueError, match=r"group_size = 5 is out of range \(legal: 1\.\.4\)"):
        dut.capacity(5)


def test_layouts_match_spec_order():
    p = RAEParams(lanes=3, max_group_size=2, depth=8)
    assert list(dict(tile_layout(p)).keys()) == ["addr", "step", "last", "exp", "data"]
    assert list(dict(result_layout(p)).keys()) == ["addr", "exp", "sat", "data"]
    assert tile_layout(p).size == 4 + 16 + 1 + 5 + 3 * 32
    assert result_layout(p).size == 4 + 5 + 1 + 3 * 8


# ---- Handshakes, error flags, busy ------------------------------------------------------------

@pytest.mark.parametrize("pipeline", list(SETTINGS))
def test_in_ready_independent_of_input(pipeline):
    """``in_ready`` must not follow ``in_valid`` or the payload within a clock, and
    ``out_valid`` must not follow ``out_ready`` (every pipeline setting: ``min`` has no
    issue-queue input register)."""
    dut = RAE(RAEParams(**SMALL), pipeline=pipeline)
    rng = random.Random(seed_from_env(default=11))

    async def tb(ctx):
        ctx.set(dut.cfg_group_size, 1)
        for t in range(80):
            ready = ctx.get(dut.i.ready)
            out_valid = ctx.get(dut.o.valid)
            for _ in range(3):
                ctx.set(dut.i.valid, rng.getrandbits(1))
                ctx.set(dut.i.payload, {"addr": rng.randrange(16), "step": 0, "last": 1,
                                        "exp": rng.randrange(16), "data": [rng.randrange(-9, 9)] * 2})
                ctx.set(dut.o.ready, rng.getrandbits(1))
                assert ctx.get(dut.i.ready) == ready
                assert ctx.get(dut.o.valid) == out_valid
            ctx.set(dut.o.ready, int(t % 3 == 0))
            await ctx.tick()

    run_sim(dut, tb)


def test_err_bad_config():
    """err bit 0: set on every clock cfg_group_size is 0 or > max_group_size, input refused,
    err_clear loses against a set in the same clock."""
    dut = RAE(**SMALL)                       # gs_bits = 3: 5, 6, 7 are illegal too

    async def tb(ctx):
        ctx.set(dut.cfg_group_size, 2)
        await ctx.tick()
        assert ctx.get(dut.err) == 0
        for bad in (0, 5, 7):
            ctx.set(dut.cfg_group_size, bad)
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload, {"addr": 1, "step": 0, "last": 1, "exp": 0, "data": [1, 2]})
            for _ in range(3):
                assert ctx.get(dut.i.ready) == 0
                ctx.set(dut.err_clear, 1)              # a set in the same clock wins
                await ctx.tick()
                assert ctx.get(dut.err) == 1
            ctx.set(dut.err_clear, 0)
        ctx.set(dut.i.valid, 0)
        ctx.set(dut.cfg_group_size, 4)
        await ctx.tick()
        assert ctx.get(dut.err) == 1                   # sticky
        assert ctx.get(dut.busy) == 0                  # nothing was accepted
        ctx.set(dut.err_clear, 1)
        await ctx.tick()
        ctx.set(dut.err_clear, 0)
        assert ctx.get(dut.err) == 0
        assert ctx.get(dut.i.ready) == 1

    run_sim(dut, tb)


@pytest.mark.parametrize("pipeline", list(SETTINGS))
def test_illegal_group_size_pauses_traffic(pipeline):
    """While ``cfg_group_size`` is illegal the issue stage holds (from the next clock: it sees
    the group size through a register) and the port refuses input; when the same group size
    comes back, every accumulation goes on as if nothing happened. Against the rule (the group
    size changes only while ``busy`` is 0), but the engine must not corrupt a waiting tile: it
    would if the issue decision and the bank select saw the group size on different clocks."""
    dut = RAE(RAEParams(**SMALL), pipeline=pipeline)
    seed = seed_from_env()
    rng = random.Random(seed)
    gs = 2
    ref = golden.Engine(**dut.params.as_dict())
    ref.configure(gs)
    # Four addresses, interleaved, accumulations of 1 to 6 steps (step 1 often waits behind
    # step 0 of its address: a head is held while the group size goes illegal).
    tiles, step = [], {}
    while len(tiles) < 60:
        addr = rng.randrange(4)
        n = step.get(addr, 0)
        last = int(n >= 5 or rng.random() < 0.25)
        tiles.append((addr, n, last, rng.randrange(16), [rng.randrange(-999, 999) for _ in range(2)]))
        step[addr] = 0 if last else n + 1
    for addr, n in step.items():
        if n:
            tiles.append((addr, n, 1, 0, [1, 1]))
    want = [r for r in (ref.push(*t) for t in tiles) if r is not None]
    want = [(r.addr, r.exp, int(r.sat), list(r.data)) for r in want]
    got = []
    pauses = []

    async def feed(ctx):
        ctx.set(dut.cfg_group_size, gs)
        for addr, n, last, exp, data in tiles:
            await stream_put(ctx, dut.i, {"addr": addr, "step": n, "last": last, "exp": exp,
                                          "data": data})

    async def glitch(ctx):
        await ctx.tick()
        while len(got) < len(want):
            await ctx.tick().repeat(rng.randrange(1, 8))
            if ctx.get(dut.busy):
                pauses.append(ctx.get(dut.i.ready))
                ctx.set(dut.cfg_group_size, rng.choice([0, 5, 7]))
                await ctx.tick().repeat(rng.randrange(1, 4))
                ctx.set(dut.cfg_group_size, gs)

    async def drain(ctx):
        ctx.set(dut.o.ready, 1)
        for _ in range(60 * 4 * dut.latency):
            _, _, valid, out = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            if valid:
                got.append((out.addr, out.exp, int(out.sat), [out.data[0], out.data[1]]))
            if len(got) == len(want):
                break

    run_sim(dut, feed, glitch, drain)
    assert len(pauses) >= 10, f"only {len(pauses)} pauses (seed {seed})"
    assert got == want, f"seed {seed}"


@pytest.mark.parametrize("pipeline", list(SETTINGS))
def test_err_out_of_capacity(pipeline):
    """err bit 1: a tile at or above capacity(gs) is accepted and dropped (no state change, no
    result); the flag is sticky until err_clear."""
    dut = RAE(RAEParams(**SMALL), pipeline=pipeline)
    ref = golden.Engine(**dut.params.as_dict(), strict=False)
    results = []

    async def tb(ctx):
        ctx.set(dut.cfg_group_size, 3)                # capacity 4 * (4 // 3) = 4
        ref.configure(3)
        ctx.set(dut.o.ready, 1)
        # Address 2 starts, an out-of-capacity tile arrives in between (it must not disturb it).
        tiles = [(2, 0, 0, 3, [100, -100]), (4, 0, 1, 1, [5, 5]), (15, 1, 0, 0, [7, 7]),
                 (2, 1, 1, 4, [300, 20])]
        for k, tile in enumerate(tiles):
            addr, step, last, exp, data = tile
            await stream_put(ctx, dut.i, {"addr": addr, "step": step, "last": last,
                                          "exp": exp, "data": data})
            ref.push(*tile)
            if k == 1:
                assert ctx.get(dut.err) == 2          # set by the accepting edge
        for _ in range(3 * dut.latency):              # the second tile of address 2 stalls
            _, _, valid, payload = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            if valid:
                results.append(payload)
        assert ctx.get(dut.busy) == 0
        assert ctx.get(dut.err) == ref.err == 2
        ctx.set(dut.err_clear, 1)
        await ctx.tick()
        assert ctx.get(dut.err) == 0

    run_sim(dut, tb)
    want = golden.Engine(**dut.params.as_dict())
    want.configure(3)
    want.push(2, 0, 0, 3, [100, -100])
    r = want.push(2, 1, 1, 4, [300, 20])
    assert len(results) == 1
    got = results[0]
    assert (got.addr, got.exp, got.sat, [got.data[0], got.data[1]]) == \
        (r.addr, r.exp, int(r.sat), list(r.data))


@pytest.mark.parametrize("pipeline", list(SETTINGS))
def test_busy_and_latency(pipeline):
    """busy rises with an accepted tile and falls when its result has been taken; the result of
    a lone ``last`` tile can be taken exactly ``latency`` clocks after it was accepted."""
    for cfg in (SMALL, dict(lanes=1, max_group_size=7, depth=3, exp_bits=6, psum_bits=64)):
        dut = RAE(RAEParams(**cfg), pipeline=pipeline)
        trace = {}

        async def tb(ctx):
            ctx.set(dut.cfg_group_size, 1)
            await ctx.tick()
            assert ctx.get(dut.busy) == 0
            ctx.set(dut.o.ready, 1)
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload, {"addr": 1, "step": 0, "last": 1, "exp": 1,
                                    "data": [6] * dut.params.lanes})
            t = 0
            while True:
                _, _, in_fire, out_fire, busy, out = await ctx.tick().sample(
                    dut.i.ready, dut.o.valid, dut.busy, dut.o.payload)
                t += 1
                if "in" not in trace:
                    if in_fire:
                        trace["in"] = t
                        ctx.set(dut.i.valid, 0)
                        assert ctx.get(dut.busy) == 1
                    continue
                assert busy == 1
                if out_fire:
                    trace["out"] = t
                    trace["data"] = out.data[0]
                    break
            await ctx.tick()
            assert ctx.get(dut.busy) == 0

        run_sim(dut, tb)
        assert trace["out"] - trace["in"] == dut.latency
        assert trace["data"] == 3                      # Q_1(6) = 3 (half_up)


@pytest.mark.parametrize("kwargs,pipeline,want", [
    # issue queue 2 + bank read 2 (output register) + dequantizer ceil(5/2) = 3 + adder tree
    # over 4 + 1 operands 3 + quantizer ceil(5/2) + 2 = 5 + result FIFO 1
    ({}, "default", 16),
    ({}, None, 16),
    # issue queue 1 (no input register) + bank read 1 + dequantizer 0 + tree 0 + quantizer
    # 0 + 1 + result FIFO 1
    ({}, "min", 4),
    (dict(max_group_size=16, exp_bits=6), "min", 4),
    # 2 + 2 + dequantizer 3 + tree 3 + quantizer 3 + 3 + result FIFO 1 and its write register 1
    ({}, "max", 18),
    # default + the decoder's register
    ({}, Pipeline(decode_register=True), 17),
    # 2 + bank read 1 + dequantizer 5 + tree 3 + quantizer 5 + 2 + 1
    ({}, Pipeline(bank_output_register=False, shift_levels_per_stage=1), 19),
    # 2 + 2 + dequantizer ceil(4/3) = 2 + tree 3 + quantizer 2 + 2 + 1
    (SMALL, Pipeline(shift_levels_per_stage=3), 14),
    # 2 + 2 + 3 + tree ceil(3/2) = 2 + quantizer 3 + 1 + 1
    ({}, Pipeline(tree_levels_per_stage=2, quantizer_stages=1), 14),
    # 2 + 2 + ceil(1/2) = 1 + tree over 1 + 1 operands 1 + 1 + 2 + 1 (the write register adds none)
    (dict(max_group_size=1, exp_bits=1), Pipeline(bank_write_register=True), 10),
    # 2 + 2 + 3 + tree 3 + its input register 1 + quantizer 3 + 3 + 1
    ({}, Pipeline(tree_input_register=True, quantizer_stages=3), 18),
    # default + the result FIFO's write register
    ({}, Pipeline(result_write_register=True), 17),
])
def test_latency_is_the_sum_of_the_parts(kwargs, pipeline, want):
    assert RAE.pipeline_latency(RAEParams(**kwargs), pipeline) == want
    # The stages behind the issue queue: all but its latency and the result FIFO's (one clock,
    # two with its write register).
    queue = ((2 if as_pipeline(pipeline).queue_input_register else 1) +
             as_pipeline(pipeline).decode_register)
    fifo = 2 if as_pipeline(pipeline).result_write_register else 1
    assert RAE.pipeline_stages(RAEParams(**kwargs), pipeline) == want - queue - fifo
    assert RAE(RAEParams(**kwargs), pipeline=pipeline).latency == want


def test_pipeline_settings_and_checks():
    assert Pipeline.setting("default") == Pipeline()
    assert [Pipeline.setting(n).name for n in ("min", "default", "max")] == ["min", "default",
                                                                             "max"]
    assert Pipeline(quantizer_stages=1).name == "custom"
    assert RAE(pipeline="min").pipeline == SETTINGS["min"]
    assert Pipeline.setting("min").as_dict() == {
        "setting": "min", "shift_levels_per_stage": 0, "shift_select_lanes": 0,
        "tree_levels_per_stage": 0, "tree_input_register": False, "quantizer_stages": 1,
        "bank_output_register": False, "bank_write_register": False, "result_write_register": False,
        "queue_input_register": False, "decode_register": False, "bank_bypass": True}
    # Labels: a setting's name, or the nearest setting and the knobs that differ from it.
    assert [Pipeline.setting(n).label for n in SETTINGS] == ["min", "default", "max"]
    deep = Pipeline(shift_select_lanes=4, quantizer_stages=3, result_write_register=True,
                    decode_register=True, shift_levels_per_stage=1)
    assert (deep.nearest, deep.label) == ("max", "max+shift_levels_per_stage=1+decode_register=1")
    assert deep.changes(SETTINGS["max"]) == {"shift_levels_per_stage": 1, "decode_register": True}
    assert Pipeline(bank_bypass=True).label == "default+bank_bypass=1"
    assert Pipeline(**{**SETTINGS["min"].__dict__, "bank_bypass": False}).label == \
        "min+bank_bypass=0"
    assert Pipeline(shift_select_lanes=4, quantizer_stages=3).label == \
        "max+result_write_register=0"
    # A tie (two knobs from default and from max) goes to the first setting, default.
    tie = Pipeline(shift_select_lanes=4, quantizer_stages=1)
    assert (len(tie.changes(SETTINGS["default"])), len(tie.changes(SETTINGS["max"]))) == (2, 2)
    assert tie.label == "default+shift_select_lanes=4+quantizer_stages=1"
    # A report's record: a named setting by its name, a custom one by every knob; read back.
    assert [Pipeline.setting(n).record for n in SETTINGS] == ["min", "default", "max"]
    assert deep.record == {"setting": "custom", **deep.__dict__}
    assert [Pipeline.from_record(p.record) for p in (SETTINGS["max"], deep, tie)] == \
        [SETTINGS["max"], deep, tie]
    with pytest.raises(ValueError, match=r"pipeline = 'fast' is not a pipeline setting "
                                         r"\(legal: min, default, max\)"):
        RAE(pipeline="fast")
    with pytest.raises(TypeError, match=r"pipeline must be a setting name or a Pipeline, not 2"):
        RAE(pipeline=2)
    with pytest.raises(ValueError, match=r"shift_levels_per_stage = 7 is out of range "
                                         r"\(legal: 0\.\.6\)"):
        Pipeline(shift_levels_per_stage=7)
    with pytest.raises(ValueError, match=r"tree_levels_per_stage = -1 is out of range "
                                         r"\(legal: 0\.\.5\)"):
        Pipeline(tree_levels_per_stage=-1)
    with pytest.raises(ValueError, match=r"quantizer_stages = 0 is out of range "
                                         r"\(legal: 1\.\.3\)"):
        Pipeline(quantizer_stages=0)
    with pytest.raises(TypeError, match=r"tree_input_register must be True or False, not 1"):
        Pipeline(tree_input_register=1)
    with pytest.raises(TypeError, match=r"result_write_register must be True or False, not 0"):
        Pipeline(result_write_register=0)
    with pytest.raises(TypeError, match=r"bank_write_register must be True or False, not 1"):
        Pipeline(bank_write_register=1)
    with pytest.raises(TypeError, match=r"bank_bypass must be True or False, not 'on'"):
        Pipeline(bank_bypass="on")
    # The bypass is a knob of its own: with it, the default registers are a custom setting
    # whose latency is unchanged and whose reread distance is one clock shorter.
    bypass = Pipeline(bank_bypass=True)
    assert bypass.name == "custom"
    plain, fast = RAE(pipeline="default"), RAE(pipeline=bypass)
    assert (fast.latency, fast.reread_distance) == (plain.latency, plain.reread_distance - 1)
    # The bank write register, off in every setting: latency unchanged, one clock longer.
    slow = RAE(pipeline=Pipeline(bank_write_register=True))
    assert (slow.latency, slow.reread_distance) == (plain.latency, plain.reread_distance + 1)


# ---- Throughput -------------------------------------------------------------------------------

@pytest.mark.parametrize("pipeline", list(SETTINGS))
@pytest.mark.parametrize("gs,n_steps", [(1, 3), (3, 7), (4, 9), (2, 1)])
def test_full_throughput_weight_stationary(gs, n_steps, pipeline):
    """Weight-stationary order (step i of every address before step i+1) with more addresses
    than the latency: one tile accepted per clock once the pipeline is full (ratio 1.0), also
    when every tile is a ``last`` one (results leave at full rate too)."""
    p = RAEParams(**{**SMALL, "depth": 32})          # capacity >= 32 > latency at every setting
    dut = RAE(p, pipeline=pipeline)
    n_addr = min(p.capacity(gs), dut.latency + 2)
    assert n_addr > dut._n_stages, "need enough addresses to cover the pipeline"
    rng = random.Random(seed_from_env(default=gs))
    rounds = 4 if n_steps == 1 else 1                  # enough results to fill the credits
    tiles = [(a, i, int(i == n_steps - 1), rng.randrange(4, 9), [rng.randrange(-999, 999)] * 2)
             for _ in range(rounds) for i in range(n_steps) for a in range(n_addr)]
    ref = golden.Engine(**p.as_dict())
    ref.configure(gs)
    want = [r for r in (ref.push(*t) for t in tiles) if r is not None]
    accepted_at, got = [], []

    async def tb(ctx):
        ctx.set(dut.cfg_group_size, gs)
        ctx.set(dut.o.ready, 1)
        await ctx.tick()
        t, k = 0, 0
        ctx.set(dut.i.valid, 1)
        while k < len(tiles) or len(got) < len(want):
            if k < len(tiles):
                addr, step, last, exp, data = tiles[k]
                ctx.set(dut.i.payload, {"addr": addr, "step": step, "last": last, "exp": exp,
                                        "data": data})
            else:
                ctx.set(dut.i.valid, 0)
            _, _, in_valid, in_ready, out_valid, out = await ctx.tick().sample(
                dut.i.valid, dut.i.ready, dut.o.valid, dut.o.payload)
            t += 1
            if in_valid and in_ready:
                accepted_at.append(t)
                k += 1
            if out_valid:
                got.append((out.addr, out.exp, out.sat, [out.data[0], out.data[1]]))

    run_sim(dut, tb)
    cycles = accepted_at[-1] - accepted_at[0] + 1
    assert len(tiles) / cycles == 1.0
    assert got == [(r.addr, r.exp, int(r.sat), list(r.data)) for r in want]
