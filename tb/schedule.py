"""The engine's issue rule as a model: the clock at which each tile of a full-rate stream
issues (docs/design.md, "A tile waits only when it must").

A tile that reads the banks issues at least ``reread_distance`` clocks after every earlier tile
of its address; any other tile one clock after the tile before it. Which tiles read follows
from the spec's step decoding alone: with ``p = step mod gs``, an APSQ step (``p = gs - 1``,
or the ``last`` step) adds the pending values ``0..p-1`` and, once ``step >= gs``, the AP; a
PSQ step reads nothing. The model needs no RTL, so a test can hold the engine to it.
"""


__all__ = ["reads_banks", "issue_offsets"]


def reads_banks(step, last, group_size):
    """Whether the tile at ``step`` (``last`` or not) adds a stored value at group size
    ``group_size``."""
    phase = step % group_size
    apsq = phase == group_size - 1 or last
    return apsq and (phase > 0 or step >= group_size)


def issue_offsets(tiles, group_size, reread_distance):
    """Issue clock of each tile of ``tiles`` (in the order they are offered, every clock, with
    nothing in flight before the first), relative to the first tile's."""
    offsets, latest, clock = [], {}, -1
    for tile in tiles:
        clock += 1
        if reads_banks(tile.step, tile.last, group_size) and tile.addr in latest:
            clock = max(clock, latest[tile.addr] + reread_distance)
        latest[tile.addr] = clock
        offsets.append(clock)
    return offsets
