"""``airoadmap cohort report``: scores, late penalties, limits hit and tamper flags, as CSV and a table.

One row per student and assignment, from the graded results in ``.grading/results/``. Late
policy (``cohort.toml``): a submission later than ``deadline + extension + grace`` loses
``per_day`` of the assignment's points for every day or part of a day, at most ``max_penalty``.
Writes ``reports/<assignment>.csv``; the regrade log is ``.grading/regrade-log.jsonl``.
"""
from __future__ import annotations

import csv
import datetime as dt
import math
import os

from . import tamper
from .cohort import Cohort
from .collect import shown


def late_penalty(cohort: Cohort, student: str, slug: str, max_score: float) -> tuple[int, float]:
    """(days late, points lost)."""
    deadline, stamp = cohort.deadline(slug), cohort.timestamp(student, slug)
    if deadline is None or stamp is None:
        return 0, 0.0
    policy = cohort.config.get("late", {})
    due = deadline + dt.timedelta(days=cohort.extension_days(student, slug),
                                  minutes=float(policy.get("grace_minutes", 0)))
    seconds = (stamp - due).total_seconds()
    if seconds <= 0:
        return 0, 0.0
    days = math.ceil(seconds / 86400)
    fraction = min(float(policy.get("per_day", 0.0)) * days, float(policy.get("max_penalty", 1.0)))
    return days, round(fraction * max_score, 2)


def rows(cohort: Cohort, slug: str) -> tuple[list[str], list[dict]]:
    results = cohort.results(slug)
    tests = list(dict.fromkeys(t for r in results.values() for t in r.get("tests", {})))  # notebook order
    table = []
    for student in sorted(set(results) | set(cohort.students(slug))):
        r = results.get(student)
        stamp = cohort.timestamp(student, slug)
        row = {"student": student, "assignment": slug, "submitted": stamp.isoformat() if stamp else ""}
        if r is None:
            table.append({**row, "status": "not graded: run airoadmap cohort autograde"})
            continue
        days, penalty = late_penalty(cohort, student, slug, r["max_score"])
        row.update({t: r["tests"][t]["score"] if t in r["tests"] else 0.0 for t in tests})
        failures = [f"{t}: {v['message'] or 'failed'}" for t, v in r["tests"].items() if not v["passed"]]
        row.update(score=r["score"], max_score=r["max_score"], days_late=days,
                   extension_days=cohort.extension_days(student, slug), penalty=penalty,
                   final=round(max(0.0, r["score"] - penalty), 2), status=r["status"],
                   limits="; ".join(r["limits"]), tamper=tamper.summary(r["tamper"]),
                   failures=" | ".join(([r["error"]] if r["error"] else []) + failures), run_id=r["run_id"])
        table.append(row)
    columns = ["student", "assignment", *tests, "score", "max_score", "submitted", "days_late", "extension_days",
               "penalty", "final", "status", "limits", "tamper", "failures", "run_id"]
    return columns, table


def report(course: str | os.PathLike, slug: str | None = None, echo=print) -> dict[str, list[dict]]:
    cohort = Cohort.open(course, slug)
    out = {}
    for s in [slug] if slug else cohort.assignments():
        columns, table = rows(cohort, s)
        path = cohort.root / "reports" / f"{s}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, columns, restval="")
            writer.writeheader()
            writer.writerows(table)
        echo(terminal_table(s, table))
        echo(f"written {path}; every grading run is in {cohort.state / 'regrade-log.jsonl'}")
        out[s] = table
    return out


def terminal_table(slug: str, table: list[dict]) -> str:
    lines = [slug, f"{'student':<16} {'score':>9} {'late':>5} {'penalty':>7} {'final':>6}  notes"]
    for r in table:
        if "score" not in r:
            lines.append(f"{r['student']:<16} {'-':>9} {'':>5} {'':>7} {'-':>6}  {r['status']}")
            continue
        notes = "; ".join(n for n in (r["limits"], r["tamper"] and "TAMPER " + r["tamper"],
                                      r["status"] != "graded" and r["failures"]) if n)
        lines.append(f"{r['student']:<16} {r['score']:>4g}/{r['max_score']:<4g} {r['days_late'] or '':>5} "
                     f"{r['penalty'] or '':>7} {r['final']:>6g}  {shown(' '.join(notes.split()), 100)}")
    return "\n".join(lines)
