"""The tile and result payloads as packed words: which port carries which bits.

The engine's ports are flat (spec section 5). Software, SystemVerilog structs and the
AXI4-Stream variant need each transfer as one word. The packing is the port order, least
significant first:

- tile: ``addr``, ``step``, ``last``, ``exp``, ``data`` (the ``in_*`` ports);
- result: ``addr``, ``exp``, ``sat``, ``data`` (the ``out_*`` ports).

Lane ``j`` of ``data`` sits at bits ``[j*W +: W]`` of it, as on the ports. The manifest
records both layouts (key ``payloads``); every file generated beside the Verilog reads them
from there.
"""


__all__ = ["payload_layouts"]


def _layout(fields):
    out, offset = [], 0
    for name, width, extra in fields:
        out.append({"name": name, "offset": offset, "width": width, **extra})
        offset += width
    return {"width": offset, "fields": out}


def payload_layouts(params):
    """``{"tile": layout, "result": layout}``; a layout is ``{"width": bits, "fields":
    [{"name", "offset", "width", ...}]}``, least significant field first; ``data`` also has
    ``lanes`` and ``lane_width``."""
    p = params
    return {
        "tile": _layout([
            ("addr", p.addr_bits, {}), ("step", p.step_bits, {}), ("last", 1, {}),
            ("exp", p.exp_bits, {}),
            ("data", p.lanes * p.psum_bits, {"lanes": p.lanes, "lane_width": p.psum_bits})]),
        "result": _layout([
            ("addr", p.addr_bits, {}), ("exp", p.exp_bits, {}), ("sat", 1, {}),
            ("data", p.lanes * p.q_bits, {"lanes": p.lanes, "lane_width": p.q_bits})]),
    }
