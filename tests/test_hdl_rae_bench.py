"""Clocks per tile of the engine on streams with few live addresses (``make bench``).

Amaranth simulator, every pipeline setting, every run-time group size, 1, 2, 4, 8 and 16
addresses live at once, their tiles in turn (tile ``k`` of every address before tile ``k+1`` of
any; with one address every tile follows the one before it back to back). Each address runs
two accumulations of four groups. Every result is checked against golden; the measured clocks
per tile are printed beside the bound the hazard rule permits. Nothing about time is asserted.

The bound (docs/design.md, hazards). With ``g`` = ``RAE.reread_distance`` (``latency - 2`` at
``min`` and ``default``, ``latency - 3`` at ``max``), a tile that reads the banks issues at least ``g`` clocks after every
earlier tile of its address, any other tile one clock after the tile before it. With ``A``
addresses in turn, the tiles of an address are ``A`` clocks apart, so a round (one tile of
every address) that reads waits ``max(0, g - A)`` clocks once, at its first tile, and every
other round costs ``A`` clocks. An accumulation of ``n = 4 gs`` steps has ``n / gs`` reading
rounds (the APSQ steps) at ``gs >= 2`` and ``n - 1`` at ``gs = 1`` (step 0 reads nothing).
Clocks from the first issue to the last, per tile: ``1 + reading rounds x max(0, g - A) / N``.
For one address at ``gs = 4`` that is ``(g + 3) / 4``: ``(latency + 1) / 4`` with the banks'
bypass (``min``), ``(latency + 2) / 4`` without.
"""

import random

import pytest

from apsq_rae.hdl.params import RAEParams
from apsq_rae.hdl.pipeline import SETTINGS
from apsq_rae.hdl.rae import RAE

from sim_helpers import seed_from_env, stream_back_to_back


LIVE = (1, 2, 4, 8, 16)
GROUPS_PER_ACCUMULATION = 4
ROUNDS = 2


def stream(p, gs, n_addr, rng):
    """Tiles of ``n_addr`` addresses in turn, ``ROUNDS`` accumulations each."""
    n = GROUPS_PER_ACCUMULATION * gs
    tiles = []
    for _ in range(ROUNDS):
        for i in range(n):
            for a in range(n_addr):
                tiles.append((a, i, int(i == n - 1), rng.randrange(0, p.max_exp + 1),
                              [rng.randrange(-(1 << 20), 1 << 20) for _ in range(p.lanes)]))
    return tiles


def bound(g, gs, n_addr):
    """Clocks per tile the hazard rule permits (module docstring)."""
    n = GROUPS_PER_ACCUMULATION * gs
    reading_rounds = ROUNDS * (n // gs if gs > 1 else n - 1)
    return 1 + reading_rounds * max(0, g - n_addr) / (ROUNDS * n * n_addr)


def measure(p, pipeline, gs, tiles):
    """Clocks from the issue of the first tile to the issue of the last, per tile (from the
    edge that accepts the first tile and the edge that takes the last result)."""
    dut = RAE(p, pipeline=pipeline)
    accepted, taken = stream_back_to_back(dut, gs, tiles)
    # The last tile issues latency - Q clocks before its result, the first Q after acceptance.
    span = taken[-1] - accepted[0] - dut.latency + 1
    return span / len(tiles), dut.latency, dut.reread_distance


@pytest.mark.bench
def test_clocks_per_tile_few_live_addresses():
    seed = seed_from_env(default=5)
    rng = random.Random(seed)
    p = RAEParams(lanes=1, depth=16)             # the spec's timing (exp_bits 5, G 4)
    lines = []
    header = "setting  lat  g  gs | " + " | ".join(f"{a:>2} live: meas/bound" for a in LIVE)
    lines.append(header)
    lines.append("-" * len(header))
    for pipeline in SETTINGS:
        for gs in range(1, p.max_group_size + 1):
            cells = []
            for n_addr in LIVE:
                per_tile, latency, g = measure(p, pipeline, gs, stream(p, gs, n_addr, rng))
                cells.append(f"{per_tile:8.3f} / {bound(g, gs, n_addr):6.3f}")
            lines.append(f"{pipeline:8} {latency:3} {g:2} {gs:3} | " + " | ".join(cells))
        lines.append(f"{'':8} one live address at gs 4: bound (g + 3) / 4 = {(g + 3) / 4:.2f}; "
                     f"issue 12's target (latency + 1) / 4 = {(latency + 1) / 4:.2f}")
    print("\nClocks per tile, first issue to last, Amaranth simulator "
          f"(APSQ_SEED={seed}):\n" + "\n".join(lines))
