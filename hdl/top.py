"""Flat-port top module around :class:`apsq_rae.hdl.rae.RAE` (spec section 5).

The engine speaks Amaranth streams with structured payloads; a Verilog integrator wants the
flat port list of the spec table. This wrapper only renames and packs: it adds no logic, no
registers and no latency.
"""

from amaranth.hdl import Module

from ._checks import quiet_on_error
from .wrapper import EngineWrapper


__all__ = ["FlatRAE", "port_table"]


def port_table(params):
    """The spec section 5 port list for ``params``, without ``clk`` and ``rst``.

    Parameters
    ----------
    params : RAEParams
        Elaboration parameters.

    Returns
    -------
    list of (str, str, int)
        ``(name, direction, width)`` in spec order; direction is ``"in"`` or ``"out"``.
    """
    p = params
    return [
        ("cfg_group_size", "in",  p.gs_bits),
        ("in_valid",       "in",  1),
        ("in_ready",       "out", 1),
        ("in_addr",        "in",  p.addr_bits),
        ("in_step",        "in",  p.step_bits),
        ("in_last",        "in",  1),
        ("in_exp",         "in",  p.exp_bits),
        ("in_data",        "in",  p.lanes * p.psum_bits),
        ("out_valid",      "out", 1),
        ("out_ready",      "in",  1),
        ("out_addr",       "out", p.addr_bits),
        ("out_exp",        "out", p.exp_bits),
        ("out_sat",        "out", 1),
        ("out_data",       "out", p.lanes * p.q_bits),
        ("busy",           "out", 1),
        ("err",            "out", 2),
        ("err_clear",      "in",  1),
    ]


class FlatRAE(EngineWrapper):
    """The RAE with the flat ports of spec section 5.

    ``clk`` and ``rst`` are the ``sync`` domain's clock and synchronous reset, added by the
    Verilog back end. Lane ``j`` of ``in_data``/``out_data`` sits at bits ``[j*W +: W]``.

    Parameters
    ----------
    params : RAEParams, optional
        Elaboration parameters; the spec defaults if omitted.
    pipeline : str or Pipeline, optional
        Pipeline setting of the engine (see :class:`apsq_rae.hdl.rae.RAE`); ``"default"`` if
        omitted.
    engine : wiring.Component, optional
        The engine to wrap; ``apsq_rae.hdl.rae.RAE(params, pipeline=pipeline)`` if omitted
        (tests may pass a stand-in with the same signature).
    memory_macro : str, optional
        Passed to the engine built here: each bank becomes an instance of this module.

    Members
    -------
    cfg_group_size, in_valid, in_ready, in_addr, in_step, in_last, in_exp, in_data,
    out_valid, out_ready, out_addr, out_exp, out_sat, out_data, busy, err, err_clear
        Flat ports, named, directed and sized as in :func:`port_table`.

    Attributes
    ----------
    latency : int
        The wrapped engine's ``latency``.
    reread_distance : int
        The wrapped engine's ``reread_distance``.
    """

    @quiet_on_error
    def __init__(self, params=None, *, pipeline=None, engine=None, memory_macro=None):
        super().__init__(params, ports=port_table, pipeline=pipeline, engine=engine,
                         memory_macro=memory_macro)

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = e = self.engine
        m.d.comb += [
            e.cfg_group_size.eq(self.cfg_group_size),
            e.i.valid.eq(self.in_valid),
            self.in_ready.eq(e.i.ready),
            e.i.payload.addr.eq(self.in_addr),
            e.i.payload.step.eq(self.in_step),
            e.i.payload.last.eq(self.in_last),
            e.i.payload.exp.eq(self.in_exp),
            e.i.payload.data.as_value().eq(self.in_data),
            self.out_valid.eq(e.o.valid),
            e.o.ready.eq(self.out_ready),
            self.out_addr.eq(e.o.payload.addr),
            self.out_exp.eq(e.o.payload.exp),
            self.out_sat.eq(e.o.payload.sat),
            self.out_data.eq(e.o.payload.data.as_value()),
            self.busy.eq(e.busy),
            self.err.eq(e.err),
            e.err_clear.eq(self.err_clear),
        ]
        return m
