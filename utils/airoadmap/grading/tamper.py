"""Tamper checks: what a submission changed in the cells it was told not to touch.

Nothing here changes a score: grading takes every locked and test cell, its points and its place
from the cohort's own source (:mod:`.engine`), whatever the submission says. These flags tell the
instructor who tried, and where.

    >>> check_cells(parse_submission(data), released_nb)
    [{'cell': 'test_fit_line', 'issue': 'locked cell edited'},
     {'cell': 'test_fit_line', 'issue': 'points changed: 2 -> 100'}]
"""
from __future__ import annotations

from collections import Counter

WATCHED = ("grade", "solution", "locked", "points", "task")  # nbgrader flags a learner must not change
EXECUTION_TAGS = ("skip-execution", "raises-exception", "remove-cell", "parameters", "injected-parameters")


def _text(source) -> str:
    source = "".join(source) if isinstance(source, list) else source if isinstance(source, str) else ""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _meta(cell) -> dict:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def check_cells(cells: list[dict], released) -> list[dict[str, str]]:
    """Flags for a parsed submission (:func:`.engine.parse_submission`) against the released notebook."""
    flags = []
    counts = Counter(c["grade_id"] for c in cells if c["grade_id"])
    by_id = {}
    for c in cells:
        if c["grade_id"]:
            by_id.setdefault(c["grade_id"], c)
    ours = {}
    for cell in released.cells:
        gid = _meta(cell).get("grade_id")
        if gid:
            ours[gid] = cell
    for grade_id, cell in ours.items():
        meta = _meta(cell)
        protected = meta.get("locked") or (meta.get("grade") and not meta.get("solution"))
        if grade_id not in by_id:
            if protected or meta.get("grade") or meta.get("solution"):
                flags.append({"cell": grade_id, "issue": "deleted (or its nbgrader metadata removed or renamed)"})
            continue
        if counts[grade_id] > 1:
            flags.append({"cell": grade_id, "issue": f"appears {counts[grade_id]} times"})
        mine = by_id[grade_id]
        if meta.get("locked") and _text(mine["source"]) != _text(cell.source):
            flags.append({"cell": grade_id, "issue": "locked cell edited"})
        for key in WATCHED:
            if mine["nbgrader"].get(key) != meta.get(key):
                flags.append({"cell": grade_id,
                              "issue": f"{key} changed: {meta.get(key)} -> {mine['nbgrader'].get(key)}"})
    for grade_id in counts:
        if grade_id not in ours:
            flags.append({"cell": grade_id[:60], "issue": "graded cell that is not in the assignment"})
    for c in cells:
        odd = sorted(set(c["tags"]) & set(EXECUTION_TAGS) - {"parameters"})
        if odd:
            flags.append({"cell": c["grade_id"] or "a cell", "issue": f"execution tags added: {', '.join(odd)}"})
    return flags


def check(submitted, released) -> list[dict[str, str]]:
    """:func:`check_cells` for an nbformat notebook (tests and tools that already have one)."""
    from . import engine
    cells = [{"cell_type": c.cell_type, "source": c.source, "grade_id": engine.grade_id_of(c),
              "nbgrader": _meta(c), "tags": list(c.get("metadata", {}).get("tags", []))} for c in submitted.cells]
    return check_cells(cells, released)


def summary(flags: list[dict[str, str]]) -> str:
    return "; ".join(f"{f['cell']}: {f['issue']}" for f in flags)
