"""``airoadmap cohort feedback``: one HTML page per student and assignment, safe to send.

nbgrader's own feedback renders the autograded notebook, which holds the hidden tests. This page
is written from the graded result and the student's own notebook only: per test, its points,
passed or failed, and the error's last line; then the student's answer cells as they submitted
them, and any limit the run hit. No test cell's source appears in it.
Writes ``feedback/<student>/<assignment>.html``.
"""
from __future__ import annotations

import html
import os
from pathlib import Path

import nbformat

from .cohort import Cohort
from .report import late_penalty

STYLE = """body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left}
.pass{color:#1a7f37}.fail{color:#c0392b}pre{background:#f6f8fa;padding:.75rem;overflow-x:auto}
.note{background:#fff8e1;padding:.5rem .75rem;border-left:4px solid #f0b400}"""


def answers(notebook: Path) -> list[tuple[str, str]]:
    """(grade_id, source) of the solution cells in the student's own submission."""
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception:
        return []
    return [(c.metadata["nbgrader"].get("grade_id", ""), c.source) for c in nb.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("solution")]


def page(cohort: Cohort, slug: str, student: str, result: dict) -> str:
    e = html.escape
    days, penalty = late_penalty(cohort, student, slug, result["max_score"])
    parts = [f"<!doctype html><meta charset='utf-8'><title>{e(slug)}: {e(student)}</title><style>{STYLE}</style>",
             f"<h1>{e(slug)}</h1><p>Student <b>{e(student)}</b>: <b>{result['score']:g} / {result['max_score']:g}</b>"]
    if penalty:
        parts.append(f", {days} day(s) late: &minus;{penalty:g}, final <b>{max(0, result['score'] - penalty):g}</b>")
    parts.append("</p>")
    notes = ([result["error"]] if result.get("error") else []) + result.get("limits", [])
    for note in notes:
        parts.append(f"<p class='note'>{e(note)}</p>")
    parts.append("<h2>Tests</h2><table><tr><th>test</th><th>points</th><th>result</th><th>message</th></tr>")
    for test, t in result.get("tests", {}).items():
        status = "<span class='pass'>passed</span>" if t["passed"] else "<span class='fail'>failed</span>"
        parts.append(f"<tr><td>{e(test)}</td><td>{t['score']:g} / {t['max_score']:g}</td><td>{status}</td>"
                     f"<td><code>{e(t['message'])}</code></td></tr>")
    parts.append("</table>")
    submitted = cohort.submission(student, slug) / f"{slug}.ipynb"
    cells = answers(submitted)
    if cells:
        parts.append("<h2>Your answers</h2>")
        parts += [f"<h3>{e(grade_id)}</h3><pre>{e(source)}</pre>" for grade_id, source in cells]
    parts.append(f"<p><small>graded in run {e(result.get('run_id', ''))}</small></p>")
    return "\n".join(parts)


def feedback(course: str | os.PathLike, slug: str | None = None, students: list[str] | None = None,
             echo=print) -> list[Path]:
    cohort = Cohort.open(course, slug)
    written = []
    for s in [slug] if slug else cohort.assignments():
        for student, result in cohort.results(s).items():
            if students and student not in students:
                continue
            path = cohort.root / "feedback" / student / f"{s}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page(cohort, s, student, result), encoding="utf-8")
            written.append(path)
    echo(f"wrote {len(written)} feedback page(s) under {cohort.root / 'feedback'}")
    return written
