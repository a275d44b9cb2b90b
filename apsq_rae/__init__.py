"""apsq-rae: RTL generator for the Reconfigurable APSQ Engine (Additive Partial Sum Quantization).

Subpackages, each with one job (imports flow downwards only):

- :mod:`apsq_rae.golden`: the NumPy golden model, the oracle (NumPy only).
- :mod:`apsq_rae.hdl`: the engine and the INT32 baseline as Amaranth components (Amaranth only).
- :mod:`apsq_rae.gen`: Verilog and manifest of the engine.
- :mod:`apsq_rae.area`: Yosys area report, engine against the INT32 baseline.
- :mod:`apsq_rae.fpga`: board builds, Fmax runs, the UART board top and its host tools.
- :mod:`apsq_rae.explore`: APSQ on a real transformer; capture files.
- :mod:`apsq_rae.tb`: the cocotb testbench of the generated Verilog.

The command line is :mod:`apsq_rae.cli` (``apsq-rae``, also ``python -m apsq_rae``);
:mod:`apsq_rae.tools` finds the executables that come with the Python packages (YoWASP's Yosys
and nextpnr, SymbiYosys) for the flows above.
"""
