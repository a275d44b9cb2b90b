"""Verilog and manifest of the engine (``apsq-rae generate``).

- :mod:`.generate`: elaborate :class:`apsq_rae.hdl.top.FlatRAE`, convert, write atomically.
- :mod:`.verilog_text`: rewrites of Yosys' Verilog text (port order, Icarus-friendly nets).
- :mod:`.manifest`: the JSON manifest beside the Verilog.
- :mod:`.cli`: ``apsq-rae generate``.
"""
