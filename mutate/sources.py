"""Where a mutant came from: the line of the generated Verilog and the Amaranth line.

The mutation list names the generated Verilog's line (Yosys' ``src`` attribute of the cell)
and the driven wire of the flattened netlist, e.g. ``engine.quant.$828``. The same names exist
in the engine's RTLIL as Amaranth emits it with source locations: module
``apsq_rae.engine.quant``, wire ``$828``. :func:`amaranth_sources` reads that RTLIL and
returns, per module and wire, the Amaranth location of the cell that drives the wire (or of
the wire itself).
"""

import re
from pathlib import Path

import apsq_rae.hdl as _hdl
from apsq_rae.hdl.top import FlatRAE
from apsq_rae.hdl.pipeline import as_pipeline


__all__ = ["amaranth_sources", "locate"]


_ROOT = Path(_hdl.__file__).resolve().parent.parent
_OUTPUTS = ("\\Y", "\\Q", "\\DATA", "\\RD_DATA")


def _relative(src):
    # "/abs/path/hdl/quantizer.py:120" -> "hdl/quantizer.py:120" (reports are path-free).
    first = src.split("|")[0]
    path, _, line = first.rpartition(":")
    try:
        path = str(Path(path).resolve().relative_to(_ROOT))
    except ValueError:
        path = Path(path).name
    return f"{path}:{line}"


def parse_rtlil_sources(text):
    """``{module: {wire: src}}`` from RTLIL text with ``src`` attributes."""
    sources, module, pending, in_cell, cell_src = {}, None, None, False, None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("module "):
            module = line.split()[1].lstrip("\\")
            sources[module] = {}
            pending = None
        elif line.startswith("attribute \\src "):
            pending = line.split(" ", 2)[2].strip('"')
        elif line.startswith("wire "):
            name = line.split()[-1].lstrip("\\")
            if pending:
                sources[module].setdefault(name, _relative(pending))
            pending = None
        elif line.startswith("cell "):
            in_cell, cell_src, pending = True, pending, None
        elif in_cell and line.startswith("connect "):
            _, port, signal = line.split(" ", 2)
            if port in _OUTPUTS and cell_src:
                name = re.split(r"[ \[]", signal)[0].lstrip("\\")
                sources[module][name] = _relative(cell_src)
        elif line == "end":
            in_cell = False
    return sources


def amaranth_sources(params, pipeline, top_name="apsq_rae"):
    """The Amaranth locations of every wire of the flat-port engine of ``params``."""
    from amaranth.back import rtlil
    top = FlatRAE(params, pipeline=as_pipeline(pipeline))
    return parse_rtlil_sources(rtlil.convert(top, name=top_name, emit_src=True))


def locate(sources, wire, top_name="apsq_rae"):
    """Amaranth location of the flattened wire ``wire`` (``engine.quant.$828``), or ``None``."""
    path, _, name = wire.rpartition(".")
    module = f"{top_name}.{path}" if path else top_name
    return sources.get(module, {}).get(name)
