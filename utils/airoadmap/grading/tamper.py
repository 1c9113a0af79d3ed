"""Tamper checks: what a submission changed in the cells it was told not to touch.

A submission is compared cell by cell (matched on ``grade_id``) with the released student
version it started from. nbgrader itself restores locked cells and the gradebook's points when it
autogrades (and, with ``OverwriteCells.add_missing_cells``, puts deleted test cells back), so the
score is right either way; these flags tell the instructor who tried, and where.

    >>> check(submitted_nb, released_nb)
    [{'cell': 'test_fit_line', 'issue': 'locked cell edited'}, {'cell': 'test_fit_line', 'issue': 'points changed: 2 -> 100'}]
"""
from __future__ import annotations

from collections import Counter

WATCHED = ("grade", "solution", "locked", "points", "task")  # nbgrader flags a learner must not change


def _graded(nb) -> list[tuple[str, object]]:
    return [(c.metadata["nbgrader"]["grade_id"], c) for c in nb.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")]


def _text(source) -> str:
    source = "".join(source) if isinstance(source, list) else source
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def check(submitted, released) -> list[dict[str, str]]:
    """Flags for ``submitted`` against ``released`` (both nbformat notebooks)."""
    flags = []
    theirs = _graded(submitted)
    counts = Counter(grade_id for grade_id, _ in theirs)
    by_id = dict(theirs)
    ours = dict(_graded(released))
    for grade_id, cell in ours.items():
        meta = cell.metadata["nbgrader"]
        protected = meta.get("locked") or (meta.get("grade") and not meta.get("solution"))
        if grade_id not in by_id:
            if protected or meta.get("grade"):
                flags.append({"cell": grade_id, "issue": "deleted (or its nbgrader metadata removed)"})
            continue
        if counts[grade_id] > 1:
            flags.append({"cell": grade_id, "issue": f"appears {counts[grade_id]} times"})
        mine = by_id[grade_id]
        if meta.get("locked") and _text(mine.source) != _text(cell.source):
            flags.append({"cell": grade_id, "issue": "locked cell edited"})
        new_meta = mine.metadata.get("nbgrader", {})
        for key in WATCHED:
            if new_meta.get(key) != meta.get(key):
                flags.append({"cell": grade_id, "issue": f"{key} changed: {meta.get(key)} -> {new_meta.get(key)}"})
    for grade_id in counts:
        if grade_id not in ours:
            flags.append({"cell": grade_id, "issue": "graded cell that is not in the assignment"})
    return flags


def summary(flags: list[dict[str, str]]) -> str:
    return "; ".join(f"{f['cell']}: {f['issue']}" for f in flags)
