"""The harnesses' record of what the engine owes: a shift register of entries, oldest first."""

from amaranth.hdl import Assert, Mux, Signal


__all__ = ["held_tiles", "shift_record"]


def shift_record(m, name, shape, n, push, pop, value):
    """Add to ``m`` a record of ``n`` entries of ``shape``, oldest first: each clock it drops
    the oldest if ``pop``, then appends ``value`` if ``push``. It asserts that it never
    overflows (``count < n``, so ``n`` must exceed the most the engine can owe).

    Returns ``(entries, count)``: the entries (``entries[0]`` the oldest) and how many hold
    something.
    """
    entries = [Signal(shape, name=f"{name}{k}") for k in range(n)]
    count = Signal(range(n + 1), name=f"{name}_count")
    after = Signal(range(n + 1), name=f"{name}_after")
    m.d.comb += after.eq(count - pop)
    for k in range(n):
        kept = Mux(pop, entries[k + 1] if k + 1 < n else 0, entries[k])
        with m.If(push & (after == k)):
            m.d.sync += entries[k].eq(value)
        with m.Else():
            m.d.sync += entries[k].eq(kept)
    m.d.sync += count.eq(after + push)
    m.d.comb += Assert(count < n)          # deep enough: a push never falls off the end
    return entries, count


def held_tiles(inside):
    """The tiles the engine holds in front of its datapath, oldest first, as ``(valid, entry,
    match vector or None)``: the issue queue's entries (head first), then the decoder's register
    if the pipeline has one (its entry is the decoded tile the queue would take)."""
    return inside["queue"]["entries"] + inside["rae"]["front"]
