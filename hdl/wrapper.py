"""What the RAE's port wrappers share: the engine they wrap, their ports, and its timing."""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .params import as_params


__all__ = ["EngineWrapper"]


class EngineWrapper(wiring.Component):
    """Base of a component that puts :class:`~apsq_rae.hdl.rae.RAE` behind other ports
    (:class:`~apsq_rae.hdl.top.FlatRAE`, :class:`~apsq_rae.hdl.axis.AxisRAE`). A wrapper only
    renames and packs: it adds no logic, no register and no latency.

    Parameters
    ----------
    params : RAEParams, optional
        Elaboration parameters; the spec defaults if omitted.
    ports : callable
        The wrapper's port table for an ``RAEParams``: a list of ``(name, "in" or "out",
        width)``.
    pipeline : str or Pipeline, optional
        Pipeline setting of the engine built here; ``"default"`` if omitted.
    engine : wiring.Component, optional
        The engine to wrap; ``RAE(params, pipeline=pipeline, memory_macro=memory_macro)`` if
        omitted (tests may pass a stand-in with the same signature).
    memory_macro : str, optional
        Passed to the engine built here: each bank becomes an instance of this module.

    Attributes
    ----------
    params : RAEParams
    engine : wiring.Component
        The wrapped engine, elaborated as the submodule ``engine``.
    latency : int
        The engine's latency (the wrapper adds none).
    reread_distance : int
        The engine's ``reread_distance``.
    """

    def __init__(self, params=None, *, ports, pipeline=None, engine=None, memory_macro=None):
        params = as_params(params)
        if engine is None:
            from .rae import RAE
            engine = RAE(params, pipeline=pipeline, memory_macro=memory_macro)
        self.params = params
        self.engine = engine
        super().__init__(wiring.Signature({
            name: (In if direction == "in" else Out)(width)
            for name, direction, width in ports(params)}))

    @property
    def latency(self):
        """Latency of the wrapped engine (the wrapper adds none)."""
        return self.engine.latency

    @property
    def reread_distance(self):
        """Clocks from a tile's issue to the first issue of a later tile of its address that
        reads the banks (the wrapped engine's)."""
        return self.engine.reread_distance

    def capacity(self, group_size):
        """Addresses held at once with run-time group size ``group_size``."""
        return self.params.capacity(group_size)
