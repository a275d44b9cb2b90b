"""The RAE with AXI4-Stream ports: tiles in on ``s_axis``, results out on ``m_axis``.

A tile is one transfer on ``s_axis``: ``tdata`` carries its lanes (lane ``j`` at bits
``[j*psum_bits +: psum_bits]``, padded with zeros to whole bytes), ``tuser`` its address, step
and exponent (least significant first), and ``tlast`` marks the last step of the address, so
that one packet is one address's accumulation. A result is one transfer on ``m_axis``:
``tdata`` the lanes of the final AP (``q_bits`` each, padded to bytes), ``tuser`` address,
exponent and the saturation flag, ``tlast`` always 1. ``aclk`` is the clock and ``aresetn``
an active-low reset, sampled on the rising edge (AXI4-Stream's convention; the engine's
``rst`` is its complement). ``cfg_group_size``, ``busy``, ``err`` and ``err_clear`` are as on
the flat ports (spec section 5). The wrapper adds no register: the latency and the handshake
rules are the engine's.
"""

from amaranth.hdl import ClockDomain, ClockSignal, Const, Module, ResetSignal

from ._checks import quiet_on_error
from .wrapper import EngineWrapper


__all__ = ["AxisRAE", "axis_fields", "axis_port_table"]


def _bytes(bits):
    return -(-bits // 8) * 8


def axis_fields(params):
    """The sideband layouts: ``{"s_axis_tuser": [(name, offset, width)], "m_axis_tuser":
    [...]}``, least significant first, plus the ``tdata`` widths (``"s_axis_tdata"``,
    ``"m_axis_tdata"``: bits, a whole number of bytes)."""
    p = params
    s_user = [("addr", 0, p.addr_bits), ("step", p.addr_bits, p.step_bits),
              ("exp", p.addr_bits + p.step_bits, p.exp_bits)]
    m_user = [("addr", 0, p.addr_bits), ("exp", p.addr_bits, p.exp_bits),
              ("sat", p.addr_bits + p.exp_bits, 1)]
    return {"s_axis_tdata": _bytes(p.lanes * p.psum_bits), "s_axis_tuser": s_user,
            "m_axis_tdata": _bytes(p.lanes * p.q_bits), "m_axis_tuser": m_user}


def axis_port_table(params):
    """``[(name, direction, width)]`` of the AXI4-Stream top, ``aclk`` and ``aresetn``
    first."""
    p, f = params, axis_fields(params)
    s_user = sum(w for _, _, w in f["s_axis_tuser"])
    m_user = sum(w for _, _, w in f["m_axis_tuser"])
    return [
        ("aclk", "in", 1), ("aresetn", "in", 1),
        ("cfg_group_size", "in", p.gs_bits),
        ("s_axis_tvalid", "in", 1), ("s_axis_tready", "out", 1),
        ("s_axis_tdata", "in", f["s_axis_tdata"]), ("s_axis_tlast", "in", 1),
        ("s_axis_tuser", "in", s_user),
        ("m_axis_tvalid", "out", 1), ("m_axis_tready", "in", 1),
        ("m_axis_tdata", "out", f["m_axis_tdata"]), ("m_axis_tlast", "out", 1),
        ("m_axis_tuser", "out", m_user),
        ("busy", "out", 1), ("err", "out", 2), ("err_clear", "in", 1),
    ]


class AxisRAE(EngineWrapper):
    """The engine behind AXI4-Stream ports (:func:`axis_port_table`).

    Parameters and attributes as for :class:`~apsq_rae.hdl.wrapper.EngineWrapper`, with
    :func:`axis_port_table` as its ``ports``.
    """

    @quiet_on_error
    def __init__(self, params=None, *, pipeline=None, engine=None, memory_macro=None):
        super().__init__(params, ports=axis_port_table, pipeline=pipeline, engine=engine,
                         memory_macro=memory_macro)

    def elaborate(self, platform):
        m = Module()
        p, f = self.params, axis_fields(self.params)
        m.domains.sync = ClockDomain("sync")
        m.d.comb += [ClockSignal("sync").eq(self.aclk), ResetSignal("sync").eq(~self.aresetn)]
        m.submodules.engine = e = self.engine
        user = {name: self.s_axis_tuser[offset:offset + width]
                for name, offset, width in f["s_axis_tuser"]}
        m.d.comb += [
            e.cfg_group_size.eq(self.cfg_group_size),
            e.i.valid.eq(self.s_axis_tvalid),
            self.s_axis_tready.eq(e.i.ready),
            e.i.payload.addr.eq(user["addr"]),
            e.i.payload.step.eq(user["step"]),
            e.i.payload.exp.eq(user["exp"]),
            e.i.payload.last.eq(self.s_axis_tlast),
            e.i.payload.data.as_value().eq(self.s_axis_tdata[:p.lanes * p.psum_bits]),
            self.m_axis_tvalid.eq(e.o.valid),
            e.o.ready.eq(self.m_axis_tready),
            self.m_axis_tdata.eq(e.o.payload.data.as_value()),
            self.m_axis_tlast.eq(Const(1)),
            self.busy.eq(e.busy),
            self.err.eq(e.err),
            e.err_clear.eq(self.err_clear),
        ]
        for name, offset, width in f["m_axis_tuser"]:
            m.d.comb += self.m_axis_tuser[offset:offset + width].eq(getattr(e.o.payload, name))
        return m
