"""``airoadmap cohort release``: generate the student notebooks into a cohort and hand them out.

nbgrader generates ``release/<slug>/`` and the gradebook's copy of the assignment from the
solution notebook (``solutions/<slug>/``, staged into the cohort's ``source/``). Then:

* with ``[exchange] root`` in ``cohort.toml``: nbgrader's exchange release (students fetch it
  from their JupyterHub);
* otherwise: ``handout/<slug>.zip`` to upload to an LMS (a folder ``<slug>/`` inside).

**Private hidden tests.** ``solutions/`` is public, so its hidden tests are known to any student
who looks. With ``[private_tests] folder = "..."`` in ``cohort.toml``, the file ``<folder>/<slug>.py``
adds tests of the instructor's own to the cohort's ``source/`` at release, each block appended to
the named test cell as a hidden test (so the release, and the students, never see it)::

    # %% test_fit_line
    w, b, _ = fit_line(torch.arange(7.0), 3 * torch.arange(7.0) - 1, steps=400)
    assert abs(w - 3) < 0.05, f"expected a slope near 3, got {w}"

The deadline in ``cohort.toml`` is copied into the gradebook as the assignment's due date.
"""
from __future__ import annotations

import ast
import os
import re
import zipfile
from datetime import UTC
from pathlib import Path

import nbformat

from ..tooling.course import notebook_slugs, repo_root
from . import nbtools
from .cohort import Cohort, CohortError, write_template

BLOCK = re.compile(r"^# %% (\S+)\s*$", re.M)


def private_tests(cohort: Cohort, slug: str) -> dict[str, str]:
    """``{test grade_id: code}`` from the cohort's private test folder (empty without one)."""
    folder = cohort.config.get("private_tests", {}).get("folder")
    if not folder:
        return {}
    folder = (cohort.root / Path(folder).expanduser()).resolve()
    if not folder.is_dir():
        raise CohortError(f"[private_tests] folder = {str(folder)!r} in cohort.toml does not exist")
    path = folder / f"{slug}.py"
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    parts = BLOCK.split(text)
    if parts[0].strip() and not all(line.lstrip().startswith("#") for line in parts[0].strip().splitlines()):
        raise CohortError(f"{path}: code before the first '# %% <test id>' line")
    blocks = {}
    for grade_id, code in zip(parts[1::2], parts[2::2], strict=False):
        try:
            ast.parse(code, filename=str(path))
        except SyntaxError as e:
            raise CohortError(f"{path}: the block for {grade_id} is not valid Python "
                              f"({e.msg}, line {e.lineno})") from None
        blocks[grade_id] = blocks.get(grade_id, "") + code.strip("\n") + "\n"
    return blocks


def merge_private_tests(notebook: Path, blocks: dict[str, str]) -> None:
    """Append each block to its test cell as a hidden test (``### BEGIN/END HIDDEN TESTS``)."""
    nb = nbformat.read(notebook, as_version=4)
    tests = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
             if c.get("metadata", {}).get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}
    unknown = sorted(set(blocks) - set(tests))
    if unknown:
        raise CohortError(f"private tests for {', '.join(unknown)}, which {notebook.stem} has no test cell for "
                          f"(its test cells: {', '.join(tests)})")
    for grade_id, code in blocks.items():
        cell = tests[grade_id]
        cell.source = cell.source.rstrip("\n") + "\n### BEGIN HIDDEN TESTS\n" + code + "### END HIDDEN TESTS\n"
    nbformat.write(nb, notebook)


def release(course: str | os.PathLike, slugs: list[str] | None = None, solutions: Path | None = None,
            echo=print) -> list[Path]:
    root = Path(course).resolve()
    solutions = solutions or repo_root() / "solutions"
    slugs = slugs or notebook_slugs(solutions.parent)
    unknown = [s for s in slugs if not (solutions / s / f"{s}.ipynb").exists()]
    if unknown:
        raise CohortError(f"no solution notebook for {unknown} in {solutions} "
                          f"(known: {', '.join(notebook_slugs(solutions.parent)) or 'none'})")
    root.mkdir(parents=True, exist_ok=True)
    toml = write_template(root, slugs[0])
    cohort = Cohort(root)
    handed = []
    for slug in slugs:
        blocks = private_tests(cohort, slug)
        released = nbtools.generate(root, slug, solutions,
                                    transform=(lambda nb, b=blocks: merge_private_tests(nb, b)) if blocks else None)
        if blocks:
            echo(f"{slug}: {sum(len(b.splitlines()) for b in blocks.values())} lines of private tests added to "
                 f"{', '.join(blocks)} (in source/, not in the release)")
        set_due_date(cohort, slug)
        if cohort.exchange():
            c = nbtools.course_config(root, exchange=cohort.exchange())
            c.ExchangeReleaseAssignment.force = True
            with nbtools.quiet_logs():
                out = nbtools.api(root, config=c, exchange=cohort.exchange()).release_assignment(slug)
            if not out.get("success"):
                raise CohortError(f"nbgrader could not release {slug} to the exchange {cohort.exchange()}: "
                                  f"{out.get('error') or out.get('log')}\nCheck that the folder exists and is "
                                  "writable by everyone (chmod 1777), or remove [exchange] from cohort.toml.")
            echo(f"released {slug} to the exchange {cohort.exchange()}")
            handed.append(released)
        else:
            handed.append(zip_folder(released, root / "handout" / f"{slug}.zip"))
            echo(f"released {slug}: hand out {handed[-1]} (no [exchange] in {toml})")
    return handed


def set_due_date(cohort: Cohort, slug: str) -> None:
    deadline = cohort.deadline(slug)
    if deadline is None:
        return

    with nbtools.gradebook(cohort.root) as gb:
        gb.update_or_create_assignment(slug, duedate=deadline.astimezone(UTC).replace(tzinfo=None))


def zip_folder(folder: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, Path(folder.name) / path.relative_to(folder))
    os.replace(tmp, dest)
    return dest
