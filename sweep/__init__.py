"""Sweeps that outgrow one machine: independent jobs on dask.distributed
(:mod:`apsq_rae.sweep.runner`; docs/sweeps.md)."""

from .runner import (SCHEDULER_ENV, Sweep, SweepError, SweepFailed, add_sweep_options,
                     project_fingerprint)

__all__ = ["SCHEDULER_ENV", "Sweep", "SweepError", "SweepFailed", "add_sweep_options",
           "project_fingerprint"]
