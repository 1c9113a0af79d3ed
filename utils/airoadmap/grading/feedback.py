"""``airoadmap cohort feedback``: one HTML page per student and assignment, safe to send.

nbgrader's own feedback renders the autograded notebook, which holds the hidden tests. This page
is written from the graded result and the student's own notebook only: per test, its points,
passed or failed, and the error's last line (already stripped of test source when graded); then
the student's answer cells as they submitted them, and any limit the run hit. No test cell's
source and no output appears in it. Rendered by Jinja2 with autoescaping.
Writes ``feedback/<student>/<assignment>.html``.
"""
from __future__ import annotations

import os
from pathlib import Path

from jinja2 import Environment

from .cohort import Cohort
from .engine import SubmissionError, parse_submission, read_regular_file
from .report import late_penalty

TEMPLATE = """<!doctype html>
<meta charset="utf-8">
<title>{{ slug }}: {{ student }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left}
.pass{color:#1a7f37}.fail{color:#c0392b}pre{background:#f6f8fa;padding:.75rem;overflow-x:auto}
.note{background:#fff8e1;padding:.5rem .75rem;border-left:4px solid #f0b400}
</style>
<h1>{{ slug }}</h1>
<p>Student <b>{{ student }}</b>: <b>{{ "%g"|format(score) }} / {{ "%g"|format(max_score) }}</b>
{%- if penalty %}, {{ days }} day(s) late: &minus;{{ "%g"|format(penalty) }},
final <b>{{ "%g"|format(final) }}</b>{% endif %}</p>
{% for note in notes %}<p class="note">{{ note }}</p>
{% endfor %}
<h2>Tests</h2>
<table><tr><th>test</th><th>points</th><th>result</th><th>message</th></tr>
{% for name, t in tests.items() %}<tr><td>{{ name }}</td>
<td>{{ "%g"|format(t.score) }} / {{ "%g"|format(t.max_score) }}</td>
<td>{% if t.passed %}<span class="pass">passed</span>{% else %}<span class="fail">failed</span>{% endif %}</td>
<td><code>{{ t.message }}</code></td></tr>
{% endfor %}</table>
{% if answers %}<h2>Your answers</h2>
{% for grade_id, source in answers %}<h3>{{ grade_id }}</h3><pre>{{ source }}</pre>
{% endfor %}{% endif %}
<p><small>graded in run {{ run_id }}</small></p>
"""
_template = Environment(autoescape=True, trim_blocks=False).from_string(TEMPLATE)
MAX_ANSWER_CHARS = 20_000


def answers(notebook: Path, solution_ids: set[str]) -> list[tuple[str, str]]:
    """(grade_id, source) of the solution cells in the student's own submission."""
    try:
        cells = parse_submission(read_regular_file(notebook, 50 << 20))
    except (OSError, SubmissionError):
        return []
    seen, out = set(), []
    for c in cells:
        if c["grade_id"] in solution_ids and c["grade_id"] not in seen:
            seen.add(c["grade_id"])
            out.append((c["grade_id"], c["source"][:MAX_ANSWER_CHARS]))
    return out


def page(cohort: Cohort, slug: str, student: str, result: dict, solution_ids: set[str] | None = None) -> str:
    days, penalty = late_penalty(cohort, student, slug, result["max_score"])
    notes = ([result["error"]] if result.get("error") else []) + list(result.get("limits", []))
    tests = {name: {"score": float(t.get("score", 0)), "max_score": float(t.get("max_score", 0)),
                    "passed": bool(t.get("passed")), "message": str(t.get("message", ""))}
             for name, t in result.get("tests", {}).items()}
    ids = solution_ids if solution_ids is not None else _solution_ids(cohort, slug)
    return _template.render(slug=slug, student=student, score=result["score"], max_score=result["max_score"],
                            days=days, penalty=penalty, final=max(0.0, result["score"] - penalty), notes=notes,
                            tests=tests, answers=answers(cohort.submission(student, slug) / f"{slug}.ipynb", ids),
                            run_id=result.get("run_id", ""))


def _solution_ids(cohort: Cohort, slug: str) -> set[str]:
    import nbformat

    from .engine import _nbgrader
    released = nbformat.read(cohort.root / "release" / slug / f"{slug}.ipynb", as_version=4)
    return {_nbgrader(c)["grade_id"] for c in released.cells if _nbgrader(c).get("solution")}


def feedback(course: str | os.PathLike, slug: str | None = None, students: list[str] | None = None,
             echo=print) -> list[Path]:
    cohort = Cohort.open(course, slug)
    written = []
    for s in [slug] if slug else cohort.assignments():
        ids = _solution_ids(cohort, s)
        for student, result in cohort.results(s).items():
            if (students and student not in students) or result.get("status") == "not graded":
                continue
            path = cohort.root / "feedback" / student / f"{s}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page(cohort, s, student, result, ids), encoding="utf-8")
            written.append(path)
    echo(f"wrote {len(written)} feedback page(s) under {cohort.root / 'feedback'}")
    return written
