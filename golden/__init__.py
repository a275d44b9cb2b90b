"""NumPy golden model of APSQ and of the Reconfigurable APSQ Engine (the project's oracle).

Derived from the spec (``docs/spec.md``) alone; depends on NumPy only.

- :func:`quantize`, :func:`dequantize`: ``Q_e`` and ``D_e`` of section 2, bit-exact.
- :func:`apsq_accumulate`: APSQ with run-time grouping (section 3), vectorized over addresses;
  :func:`apsq_step`: one step of it, for callers with their own loop (per-address exponents);
  :func:`quantizer_input`: what a step quantizes.
- :func:`psq_accumulate`, :func:`exact_sum`, :func:`error_lsb`, :func:`error_report`:
  references for error analysis.
- :class:`Engine`: transaction-level model of the whole engine for scoreboards (section 5);
  :class:`Tile` and :class:`Result`: its input and output transactions; :class:`Step`: what
  its last accepted tile did (for functional coverage).
"""

from .quant import ROUNDING_RULES, quantize, dequantize
from .apsq import (ApsqResult, apsq_step, apsq_accumulate, psq_accumulate, exact_sum,
                   error_lsb, error_report, mode_bit, quantizer_input)
from .engine import Engine, Step, Tile, Result


__all__ = ["ROUNDING_RULES", "quantize", "dequantize", "ApsqResult", "apsq_step", "apsq_accumulate",
           "psq_accumulate", "exact_sum", "error_lsb", "error_report", "mode_bit",
           "quantizer_input", "Engine", "Step", "Tile", "Result"]
