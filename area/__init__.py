"""Area report: the engine against an INT32 baseline, synthesized by Yosys.

- :mod:`.flow`: elaborate every configuration of a sweep and synthesize it.
- :mod:`.yosys`: the Yosys scripts (ASIC estimate, ECP5, iCE40), runs and result cache.
- :mod:`.report`: per-block summaries, comparisons, ``area.json``, ``area.md``, ``area.png``.
- :mod:`.cli`: ``apsq-rae area``.
- ``cells/ge45.lib``: the gate-equivalent cell library of the ASIC estimate.
"""
