"""Elaboration for the formal proofs.

The harness (``apsq_rae.formal``) elaborates the engine for a :class:`ProofPlatform`. A block
that sees one adds its invariants as ``Assert`` statements (the proofs by induction need them:
they tie counters and pointers to the state they count) and records the internal signals the
harness's own invariants read. For any other platform, including none, the blocks elaborate
exactly as they do for the generated Verilog.
"""


__all__ = ["ProofPlatform", "for_proofs", "with_invariants"]


class ProofPlatform:
    """Platform marker for the formal harness.

    Parameters
    ----------
    invariants : bool
        Whether the blocks add their invariants. A proof by induction needs them; a bounded
        check from reset does not, and runs faster without.

    Members
    -------
    internals : dict
        ``{name: {signal_name: value}}``: what each block recorded with :meth:`record`.
    """

    def __init__(self, *, invariants=True):
        if not isinstance(invariants, bool):
            raise TypeError(f"invariants = {invariants!r} is not a bool")
        self.invariants = invariants
        self.internals = {}

    def record(self, name, **signals):
        """Record internal signals of the block called ``name`` (one block per name)."""
        if name in self.internals:
            raise ValueError(f"name = {name!r} is recorded twice (one block per name)")
        self.internals[name] = signals


def for_proofs(platform):
    """Whether ``platform`` is the formal harness's (the block records its internals)."""
    return isinstance(platform, ProofPlatform)


def with_invariants(platform):
    """Whether the block should also add its invariants."""
    return for_proofs(platform) and platform.invariants
