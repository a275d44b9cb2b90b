"""Functional coverage of the cocotb regression: the bins of one engine configuration and
their sampling, with cocotb-coverage (docs/coverage.md).

:class:`apsq_rae.tb.bench.Bench` samples while it drives the engine: every accepted tile (what
the golden model says the step did), every clock (hazard stall, result credits), each ``err``
event and each reset. Bins are labelled independently of the configuration (``"gs3 phase1
APSQ AP"``, ``"lane5 high"``), so :mod:`apsq_rae.tb.coverage_report` can add up the runs of
many configurations: a bin is defined by every configuration where it can occur, and hit when
any run hit it. Each run writes its counts as JSON (:meth:`Coverage.export`).
"""

import json
from pathlib import Path

import numpy as np
from cocotb_coverage.coverage import CoverPoint, coverage_db


__all__ = ["POINTS", "Coverage", "session_coverage"]


_ROOT = "rae"

#: Cover point name: what its bins count.
POINTS = {
    "step": "accepted tile: group size x phase (step mod gs) x mode (PSQ/APSQ) x AP stored "
            "or not (step >= gs)",
    "hazard": "head of the issue queue held by a read-after-write hazard, per group size",
    "credit": "no result credit (result FIFO full) while out_valid = 1 and out_ready = 0",
    "saturation": "quantizer clipped, per lane position and edge (high, low)",
    "saturation_mode": "quantizer clipped, per mode and edge",
    "tie": "quantizer input exactly halfway (exp >= 1), per rounding rule, sign and the "
           "parity of the kept LSB",
    "exponent": "quantizer input at exponent 0 (low), in between (mid), the largest (max), "
                "per sign",
    "capacity": "accepted tile at the first and last address of the capacity and beyond it, "
                "per group size",
    "err": "err[0] and err[1] raised, a set beating err_clear, err cleared",
    "reset": "reset with accumulations open, with results due, and a result after it",
}


class Coverage:
    """The cover points of one configuration (one process: cocotb-coverage keeps one database
    per process, and creating a :class:`Coverage` empties it).

    Parameters
    ----------
    params : RAEParams
    capacity : dict of int to int
        Addresses per group size (the manifest's ``capacity``).

    Members
    -------
    bins : dict of str to list of str
        Per cover point of :data:`POINTS`, the labels of the bins this configuration can hit.
    """

    def __init__(self, params, capacity):
        for name in [n for n in coverage_db if n == _ROOT or n.startswith(_ROOT + ".")]:
            del coverage_db[name]
        p = self.p = params
        self.capacity = {int(g): c for g, c in capacity.items()}
        self.max_exp = (1 << p.exp_bits) - 1
        groups = range(1, p.max_group_size + 1)
        exps = ["low", "max"] + (["mid"] if self.max_exp >= 2 else [])
        self.bins = {
            "step": [f"gs{g} phase{ph} {mode} {ap}"
                     for g in groups for ph in range(g)
                     for mode in (("PSQ", "APSQ") if ph < g - 1 else ("APSQ",))
                     for ap in ("no AP", "AP")],
            "hazard": [f"gs{g}" for g in groups],
            "credit": ["full"],
            "saturation": [f"lane{j} {edge}" for j in range(p.lanes) for edge in ("high", "low")],
            "saturation_mode": [f"{m} {edge}" for m in ("PSQ", "APSQ") for edge in ("high", "low")],
            "tie": [f"{p.rounding} {sign} {parity}" for sign in ("neg", "pos")
                    for parity in ("even", "odd")],
            "exponent": [f"{e} {sign}" for e in exps for sign in ("neg", "pos")],
            "capacity": [f"gs{g} {edge}" for g in groups
                         for edge in ("first", "last", "beyond")
                         if edge != "beyond" or self.capacity[g] < (1 << p.addr_bits)],
            "err": ["err[0] set", "err[1] set", "set beats clear", "cleared"],
            "reset": ["accumulations open", "results due", "result after reset"],
        }
        self._sample = {name: self._point(name, labels) for name, labels in self.bins.items()}
        self._after_reset = False

    @staticmethod
    def _point(name, labels):
        # One sample is a set of labels: every bin in it counts one hit.
        @CoverPoint(f"{_ROOT}.{name}", xf=lambda hits: hits, rel=lambda hits, label: label in hits,
                    bins=list(labels), inj=False)
        def sample(hits):
            pass
        return sample

    # Sampling ------------------------------------------------------------------------------

    def tile(self, gs, addr, step):
        """An accepted tile at group size ``gs``; ``step`` is the golden model's
        :class:`apsq_rae.golden.Step` for it, ``None`` when ``addr`` is beyond the capacity."""
        cap = self.capacity[gs]
        edges = {f"gs{gs} first"} if addr == 0 else set()
        if addr == cap - 1:
            edges.add(f"gs{gs} last")
        if addr >= cap:
            edges.add(f"gs{gs} beyond")
        if edges:
            self._sample["capacity"](edges)
        if step is None:
            return
        mode = "APSQ" if step.mode else "PSQ"
        ap = "AP" if step.step >= gs else "no AP"
        self._sample["step"]({f"gs{gs} phase{step.step % gs} {mode} {ap}"})
        value = np.asarray(step.value).astype(object)
        sat = np.asarray(step.saturated)
        if sat.any():
            hits = {f"lane{j} {'high' if value[j] > 0 else 'low'}" for j in np.flatnonzero(sat)}
            self._sample["saturation"](hits)
            self._sample["saturation_mode"]({f"{mode} {label.split()[1]}" for label in hits})
        e = step.exp
        level = "low" if e == 0 else "max" if e == self.max_exp else "mid"
        signs = {"neg" if v < 0 else "pos" for v in value if v != 0}
        self._sample["exponent"]({f"{level} {s}" for s in signs})
        if e >= 1:
            half = 1 << (e - 1)
            ties = {f"{self.p.rounding} {'neg' if v < 0 else 'pos'} "
                    f"{'odd' if (v >> e) & 1 else 'even'}"
                    for v in value if v & ((half << 1) - 1) == half}
            if ties:
                self._sample["tie"](ties)

    def clock(self, gs, *, hazard_stall, no_credit):
        """Per clock: the issue queue's head held by a hazard; no result credit while the
        result port is stalled by ``out_ready = 0``."""
        if hazard_stall:
            self._sample["hazard"]({f"gs{gs}"})
        if no_credit:
            self._sample["credit"]({"full"})

    def err(self, label):
        """An ``err`` event: one of ``"err[0] set"``, ``"err[1] set"``, ``"set beats
        clear"``, ``"cleared"``."""
        self._sample["err"]({label})

    def reset(self, *, in_flight, due):
        """A reset in the middle of traffic, with accumulations open (``in_flight``) and/or
        results due."""
        hits = ({"accumulations open"} if in_flight else set()) | ({"results due"} if due else set())
        if hits:
            self._sample["reset"](hits)
        self._after_reset = True

    def result(self):
        """A result was checked (after a reset in the middle of traffic it counts)."""
        if self._after_reset:
            self._sample["reset"]({"result after reset"})
            self._after_reset = False

    # Results -------------------------------------------------------------------------------

    def counts(self):
        """Hits per bin: ``{point: {label: hits}}``."""
        return {name: dict(coverage_db[f"{_ROOT}.{name}"].detailed_coverage)
                for name in self.bins}

    def export(self, path, config):
        """Write the counts of this process to ``path`` (JSON), with the configuration's
        name."""
        Path(path).write_text(json.dumps({"config": config, "points": self.counts()},
                                         indent=1, sort_keys=True) + "\n")


_session = {}


def session_coverage(params, capacity):
    """The :class:`Coverage` of this process (every cocotb test of one simulator run adds to
    the same counts)."""
    key = (params, tuple(sorted((int(g), c) for g, c in capacity.items())))
    if _session.get("key") != key:
        _session["key"], _session["coverage"] = key, Coverage(params, capacity)
    return _session["coverage"]
