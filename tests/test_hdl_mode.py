"""Mode encoder (TileDecoder followed by BankSelect, joined here combinationally) alone
(Amaranth simulator): mapping, phase, mode bit, bank selects, capacity.

The expected values come from golden.mode_bit, golden.Engine.capacity and the mapping written in
the design notes (bank group ``a // depth``, row ``a % depth``, slot ``s`` in bank
``group*gs + s``, AP in slot ``gs-1``).
"""

import gc
import random
import warnings

import pytest
from amaranth.hdl import Module, Signal, UnusedElaboratable
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from apsq_rae import golden
from apsq_rae.hdl.mode import BankSelect, TileDecoder, ge_const, mod_const
from apsq_rae.hdl.params import RAEParams

from sim_helpers import run_sim, seed_from_env


class ModeEncoder(wiring.Component):
    """:class:`TileDecoder` followed by :class:`BankSelect`, combinationally (the engine puts
    the issue queue between them): the inputs of the one and the outputs of both, so the
    mapping can be checked from a tile's fields to the banks it touches."""

    def __init__(self, params):
        self.params = params
        G = params.max_group_size
        super().__init__({
            "group_size": In(params.gs_bits),
            "addr":       In(params.addr_bits),
            "step":       In(params.step_bits),
            "last":       In(1),
            "cfg_ok":     Out(1),
            "in_range":   Out(1),
            "row":        Out(range(params.depth)),
            "group":      Out(range(G)),
            "phase":      Out(range(G)),
            "has_ap":     Out(1),
            "mode":       Out(1),
            "no_read":    Out(1),
            "rd_mask":    Out(G),
            "wr_bank":    Out(range(G)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.decoder = dec = TileDecoder(self.params)
        m.submodules.select = sel = BankSelect(self.params)
        m.d.comb += [
            dec.group_size.eq(self.group_size),
            dec.addr.eq(self.addr),
            dec.step.eq(self.step),
            dec.last.eq(self.last),
            sel.group_size.eq(self.group_size),
            sel.group.eq(dec.group),
            sel.phase.eq(dec.phase),
            sel.has_ap.eq(dec.has_ap),
            sel.mode.eq(dec.mode),
        ]
        for name in ("cfg_ok", "in_range", "row", "group", "phase", "has_ap", "mode", "no_read"):
            m.d.comb += getattr(self, name).eq(getattr(dec, name))
        m.d.comb += [self.rd_mask.eq(sel.rd_mask), self.wr_bank.eq(sel.wr_bank)]
        return m


def reference(p, gs, addr, step, last):
    """Expected outputs for a legal ``gs``, from the spec and the documented mapping."""
    group, row = divmod(addr, p.depth)
    phase = step % gs
    has_ap = step >= gs
    mode = golden.mode_bit(step, last, gs)
    rd_mask = 0
    if mode:
        for s in range(phase):                       # the pendings of this group
            rd_mask |= 1 << (group * gs + s)
        if has_ap:                                   # the AP, in the last slot
            rd_mask |= 1 << (group * gs + gs - 1)
    wr_bank = group * gs + (gs - 1 if mode else phase)
    in_range = addr < golden.Engine(**p.as_dict()).capacity(gs)
    # The step reads nothing exactly when its read mask is empty: a PSQ step, or an APSQ step
    # with no pending value (phase 0) and no AP.
    no_read = int(not mode or (phase == 0 and not has_ap))
    assert no_read == int(rd_mask == 0)
    return dict(in_range=int(in_range), row=row, group=group, phase=phase, has_ap=int(has_ap),
                mode=mode, no_read=no_read, rd_mask=rd_mask, wr_bank=wr_bank)


@pytest.mark.parametrize("cfg", [
    dict(max_group_size=4, depth=4, step_bits=5),
    dict(max_group_size=3, depth=5, step_bits=7),     # non-power-of-two depth and G
    dict(max_group_size=7, depth=3, step_bits=9),
    dict(max_group_size=1, depth=2, step_bits=1),
    dict(max_group_size=16, depth=1, step_bits=16),
])
def test_mode_encoder(cfg):
    p = RAEParams(lanes=1, **cfg)
    rng = random.Random(seed_from_env(default=p.max_group_size * 31 + p.depth))
    dut = ModeEncoder(p)
    n_random = 6 if p.max_group_size <= 8 else 1      # keep G = 16 fast: 16 run-time gs
    steps = sorted({0, 1, 2, (1 << p.step_bits) - 1} | {rng.randrange(1 << p.step_bits)
                                                         for _ in range(n_random)})
    steps = [s for s in steps if s < (1 << p.step_bits)]

    async def tb(ctx):
        for gs in range(1 << p.gs_bits):
            ctx.set(dut.group_size, gs)
            if not 1 <= gs <= p.max_group_size:
                assert ctx.get(dut.cfg_ok) == 0
                continue
            assert ctx.get(dut.cfg_ok) == 1
            cap = p.capacity(gs)
            addrs = sorted({0, cap - 1, min(cap, (1 << p.addr_bits) - 1), (1 << p.addr_bits) - 1}
                           | {rng.randrange(1 << p.addr_bits) for _ in range(n_random // 2)})
            for addr in addrs:
                for step in steps:
                    for last in (0, 1):
                        ctx.set(dut.addr, addr)
                        ctx.set(dut.step, step)
                        ctx.set(dut.last, last)
                        want = reference(p, gs, addr, step, last)
                        got = {k: ctx.get(getattr(dut, k)) for k in want}
                        if not want["in_range"]:       # only the flag matters then
                            assert got["in_range"] == 0, (gs, addr)
                            continue
                        assert got == want, (gs, addr, step, last)

    run_sim(dut, tb)


@pytest.mark.parametrize("cfg", [
    dict(max_group_size=4, depth=4, step_bits=5),
    dict(max_group_size=3, depth=5, step_bits=7),     # non-power-of-two depth and G
])
def test_registered_decoder(cfg):
    """With ``register``, the outputs describe the tile sampled on the last clock with ``en``
    (held while ``en`` is 0), under whichever group size ``group_size`` shows now: every
    candidate is held."""
    p = RAEParams(lanes=1, **cfg)
    seed = seed_from_env(default=p.max_group_size * 7 + p.depth)
    rng = random.Random(seed)
    dut = TileDecoder(p, register=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)   # built only for its latency
        assert dut.latency == 1 and TileDecoder(p).latency == 0
        gc.collect()
    decoded = ("in_range", "row", "group", "phase", "has_ap", "mode", "no_read")

    async def tb(ctx):
        held = None
        for _ in range(60):
            tile = (rng.randrange(1 << p.addr_bits), rng.randrange(1 << p.step_bits),
                    rng.randrange(2))
            en = rng.random() < 0.6
            for port, value in zip((dut.addr, dut.step, dut.last), tile):
                ctx.set(port, value)
            ctx.set(dut.en, en)
            await ctx.tick()
            if en:
                held = tile
            if held is None:                 # nothing sampled yet: the registers hold reset
                continue
            for gs in range(1, p.max_group_size + 1):
                ctx.set(dut.group_size, gs)
                want = reference(p, gs, *held)
                got = {k: ctx.get(getattr(dut, k)) for k in decoded}
                assert ctx.get(dut.cfg_ok) == 1
                if not want["in_range"]:
                    assert got["in_range"] == 0, (seed, gs, held)
                    continue
                assert got == {k: want[k] for k in decoded}, (seed, gs, held)
            ctx.set(dut.group_size, 0)
            assert ctx.get(dut.cfg_ok) == 0 and ctx.get(dut.in_range) == 0

    run_sim(dut, tb)


def test_decoder_register_must_be_a_bool():
    with pytest.raises(TypeError, match=r"register must be True or False, not 1"):
        TileDecoder(RAEParams(), register=1)


@pytest.mark.parametrize("width", [1, 3, 4, 7, 16, 32])
def test_mod_const(width):
    rng = random.Random(seed_from_env(default=width))
    value = Signal(width)
    results = {m: Signal(range(m)) if m > 1 else Signal(1, name="r1") for m in range(1, 17)}
    mod = Module()
    for m, r in results.items():
        mod.d.comb += r.eq(mod_const(value, m))
    values = sorted({0, 1, (1 << width) - 1, (1 << width) - 2 if width > 1 else 0}
                    | {rng.randrange(1 << width) for _ in range(8)})

    async def tb(ctx):
        for v in values:
            ctx.set(value, v)
            for m, r in results.items():
                assert ctx.get(r) == v % m, (v, m)

    run_sim(mod, tb)


@pytest.mark.parametrize("width", [1, 2, 5, 16])
def test_ge_const(width):
    # Every bound from 0 to one past the largest value, against every value (16 bits: the
    # edges and a random sample).
    rng = random.Random(seed_from_env(default=width))
    value = Signal(width)
    if width <= 5:
        bounds, values = list(range((1 << width) + 2)), list(range(1 << width))
    else:
        bounds = sorted({0, 1, 2, 3, 4, 5, 255, 256, 1000, (1 << width) - 1, 1 << width}
                        | {rng.randrange(1 << width) for _ in range(12)})
        values = sorted({b + d for b in bounds for d in (-1, 0, 1) if 0 <= b + d < 1 << width}
                        | {rng.randrange(1 << width) for _ in range(40)})
    results = [Signal(name=f"ge{n}") for n in range(len(bounds))]
    mod = Module()
    mod.d.comb += [r.eq(ge_const(value, b)) for r, b in zip(results, bounds)]

    async def tb(ctx):
        for v in values:
            ctx.set(value, v)
            for r, b in zip(results, bounds):
                assert ctx.get(r) == int(v >= b), (v, b)

    run_sim(mod, tb)


def test_ge_const_rejects_a_negative_bound():
    with pytest.raises(ValueError, match=r"bound = -1 is out of range \(legal: >= 0\)"):
        ge_const(Signal(4), -1)


def test_mod_const_rejects_zero():
    with pytest.raises(ValueError, match=r"modulus = 0 is out of range \(legal: >= 1\)"):
        mod_const(Signal(4), 0)


@pytest.mark.parametrize("component", [TileDecoder, BankSelect])
def test_mode_encoder_type_error(component):
    with pytest.raises(TypeError, match=r"params must be an RAEParams, not 4"):
        component(4)
