"""The generator's manifest: ``<name>.json`` beside ``<name>.v`` (spec section 5).

It describes the generated module for whoever integrates or tests it: every elaboration
parameter, the derived widths, every port with its direction and width, the latency, the
capacity at each run-time group size, and the versions of the tools that made it. It holds
no paths or dates, so the same configuration always gives the same bytes.
"""

import json
from importlib import metadata

from apsq_rae.hdl.axis import axis_fields, axis_port_table
from apsq_rae.hdl.pipeline import as_pipeline
from apsq_rae.hdl.top import port_table
from .memories import macro_name, memory_table
from .payloads import payload_layouts


__all__ = ["build_manifest", "manifest_json", "MANIFEST_FORMAT"]


#: Bumped when a key changes meaning or disappears.
MANIFEST_FORMAT = 1


def _version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def build_manifest(params, name, latency, pipeline=None, *, init="reset",
                   memories="behavioural", interface="flat", reread_distance):
    """The manifest of one generated module, as a JSON-ready ``dict``.

    Parameters
    ----------
    params : RAEParams
        Elaboration parameters of the module.
    name : str
        Verilog module name (also the file stem).
    latency : int
        Clocks from the edge that accepts a ``last`` tile to the edge where its result can
        first be taken (``out_ready = 1``, nothing else in flight).
    pipeline : str or Pipeline, optional
        The module's pipeline setting; ``"default"`` if omitted.
    init : str
        Power-up values of the Verilog (``--init``): ``"reset"`` or ``"none"``.
    memories : str
        The memory boundary (``--memories``): ``"behavioural"`` or ``"macro"``.
    interface : str
        The top module's ports (``--interface``): ``"flat"`` or ``"axis"``.
    reread_distance : int
        Clocks from the issue of a tile to the first clock at which a later tile of its
        address that reads the banks can issue (``RAE.reread_distance``).

    Returns
    -------
    dict
        Keys ``format``, ``module``, ``verilog``, ``sdc`` (the SDC file name), ``vlt`` (the
        Verilator lint waivers),
        ``parameters``, ``derived``, ``interface``, ``ports``, ``payloads`` (the tile and result as packed
        words: :func:`apsq_rae.gen.payloads.payload_layouts`), ``pipeline`` (the setting's name and its
        knobs), ``init`` (``reset``: registers and memories start at their reset values;
        ``none``: no power-up values), ``memories`` (one entry per bank:
        :func:`apsq_rae.gen.memories.memory_table`), ``memory_models`` (the files of the
        macro models, empty for behavioural memories), ``latency``, ``reread_distance``, ``capacity`` (run-time group size, as a string, to address
        count), ``generator`` (``apsq-rae`` version) and ``amaranth`` (Amaranth version); with
        ``interface="axis"`` also ``axis`` (the packing of ``tdata`` and ``tuser`` on
        ``s_axis`` and ``m_axis``).
    """
    if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
        raise ValueError(f"latency = {latency!r} must be a non-negative integer")
    if isinstance(reread_distance, bool) or not isinstance(reread_distance, int) \
            or reread_distance < 1:
        raise ValueError(f"reread_distance = {reread_distance!r} must be an integer >= 1")
    if interface == "axis":
        table = axis_port_table(params)
    else:
        table = [("clk", "in", 1), ("rst", "in", 1)] + port_table(params)
    ports = [{"name": n, "direction": d, "width": w} for n, d, w in table]
    manifest = {
        "format": MANIFEST_FORMAT,
        "module": name,
        "verilog": f"{name}.v",
        "sdc": f"{name}.sdc",
        "vlt": f"{name}.vlt",
        "parameters": params.as_dict(),
        "derived": {
            "addr_bits": params.addr_bits,
            "gs_bits": params.gs_bits,
            "deq_bits": params.deq_bits,
            "sum_bits": params.sum_bits,
        },
        "interface": interface,
        "ports": ports,
        "payloads": payload_layouts(params),
        "pipeline": as_pipeline(pipeline).as_dict(),
        "init": init,
        "memories": memory_table(params, name, memories),
        "memory_models": [] if memories == "behavioural" else [f"{macro_name(params, name)}.v"],
        "latency": latency,
        "reread_distance": reread_distance,
        "capacity": {str(gs): params.capacity(gs)
                     for gs in range(1, params.max_group_size + 1)},
        "generator": {"name": "apsq-rae", "version": _version("apsq-rae")},
        "amaranth": {"version": _version("amaranth")},
    }
    if interface == "axis":
        f = axis_fields(params)
        manifest["axis"] = {
            "s_axis": {"tdata": {"width": f["s_axis_tdata"], "lanes": params.lanes,
                                 "lane_width": params.psum_bits},
                       "tuser": [{"name": n, "offset": o, "width": w}
                                 for n, o, w in f["s_axis_tuser"]],
                       "tlast": "last"},
            "m_axis": {"tdata": {"width": f["m_axis_tdata"], "lanes": params.lanes,
                                 "lane_width": params.q_bits},
                       "tuser": [{"name": n, "offset": o, "width": w}
                                 for n, o, w in f["m_axis_tuser"]],
                       "tlast": "always 1"},
        }
    return manifest


def manifest_json(manifest):
    """Serialise a manifest deterministically (sorted keys off: the order above is the
    documented one; two-space indent; trailing newline)."""
    return json.dumps(manifest, indent=2) + "\n"
