"""Add up the functional coverage of many simulator runs and report it (docs/coverage.md).

Every run writes its counts (:meth:`apsq_rae.tb.coverage.Coverage.export`) into one folder;
:func:`merge` adds them bin by bin. A bin that some configuration defines and no run hit is
*empty*. cocotb-coverage's own ``merge_coverage`` expects the same bins in every file, which
configurations with different lanes and group sizes do not have, hence these few lines.

``python -m apsq_rae.tb.coverage_report FOLDER [--require]`` prints the report (``--require``:
exit status 1 when a bin is empty); the pytest plugin in ``tests/conftest.py`` does the same
at the end of a session.
"""

import json
import re
import sys
from pathlib import Path

from apsq_rae.cli import OneLineParser
from .coverage import POINTS


__all__ = ["merge", "merge_folder", "empty_bins", "format_report", "main"]


def merge(documents):
    """Add up exported counts (dicts as :meth:`Coverage.export` writes them)."""
    points = {name: {} for name in POINTS}
    configs = []
    for doc in documents:
        configs.append(doc["config"])
        for name, bins in doc["points"].items():
            merged = points.setdefault(name, {})
            for label, hits in bins.items():
                merged[label] = merged.get(label, 0) + hits
    return {"runs": sorted(configs), "points": points}


def merge_folder(folder):
    """:func:`merge` of every ``*.json`` count file in ``folder`` (``report.json`` aside)."""
    files = sorted(p for p in Path(folder).glob("*.json") if p.name != "report.json")
    return merge(json.loads(p.read_text()) for p in files)


def empty_bins(merged):
    """``[(point, label)]`` of the bins no run hit."""
    return [(name, label) for name, bins in merged["points"].items()
            for label, hits in bins.items() if hits == 0]


def _sort_key(label):
    # "gs10 phase2 ..." after "gs9 ...": numbers compare as numbers.
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", label)]


def format_report(merged, *, empty_limit=40):
    """The report as text: one line per cover point (bins hit / defined), then the empty
    bins (at most ``empty_limit`` listed)."""
    points = merged["points"]
    total = sum(len(b) for b in points.values())
    hit = sum(1 for b in points.values() for h in b.values() if h)
    pct = 100.0 * hit / total if total else 0.0
    lines = [f"functional coverage: {hit} of {total} bins hit ({pct:.1f} %) in "
             f"{len(merged['runs'])} simulator runs"]
    width = max(len(n) for n in POINTS)
    for name, what in POINTS.items():
        bins = points.get(name, {})
        n_hit = sum(1 for h in bins.values() if h)
        lines.append(f"  {name:<{width}}  {n_hit:>4}/{len(bins):<4} {what}")
    empty = empty_bins(merged)
    if empty:
        shown = sorted(empty, key=lambda e: (list(POINTS).index(e[0]) if e[0] in POINTS else 99,
                                             _sort_key(e[1])))[:empty_limit]
        more = f" (first {empty_limit})" if len(empty) > empty_limit else ""
        lines.append(f"empty bins: {len(empty)}{more}")
        lines += [f"  {name}: {label}" for name, label in shown]
    return "\n".join(lines)


def main(argv=None):
    parser = OneLineParser(prog="python -m apsq_rae.tb.coverage_report",
                           description="Merge and print the functional coverage "
                                       "counts of cocotb runs.")
    parser.add_argument("folder", type=Path, help="folder of the runs' count files (*.json)")
    parser.add_argument("--require", action="store_true",
                        help="exit status 1 when a bin is empty or nothing was recorded")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"folder {str(args.folder)!r} does not exist")
    merged = merge_folder(args.folder)
    if not merged["runs"]:
        print(f"functional coverage: no runs recorded in {args.folder}")
        return 1 if args.require else 0
    print(format_report(merged))
    return 1 if args.require and empty_bins(merged) else 0


if __name__ == "__main__":
    sys.exit(main())
