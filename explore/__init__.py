"""APSQ explorer on a real transformer (all-MiniLM-L6-v2) and real-workload capture files.

Modules: :mod:`.bert` (NumPy encoder), :mod:`.quant` (W8A8, PSUM tiles, dataflow order),
:mod:`.calib` (exponent calibration), :mod:`.sweep` (experiments), :mod:`.energy` (PSUM
traffic and energy), :mod:`.report` (report.md/json, plots), :mod:`.capture` (a capture from
one layer), :mod:`.capture_file` (the capture file format, NumPy only), :mod:`.cli`
(``apsq-rae explore`` and ``apsq-rae capture``).
"""
