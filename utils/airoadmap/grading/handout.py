"""``airoadmap cohort release``: generate the student notebooks into a cohort and hand them out.

nbgrader generates ``release/<slug>/`` and the gradebook's copy of the assignment from the
solution notebook (``solutions/<slug>/``, staged into the cohort's ``source/``). Then:

* with ``[exchange] root`` in ``cohort.toml``: nbgrader's exchange release (students fetch it
  from their JupyterHub);
* otherwise: ``handout/<slug>.zip`` to upload to an LMS (a folder ``<slug>/`` inside).

The deadline in ``cohort.toml`` is copied into the gradebook as the assignment's due date.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

from ..course import notebook_slugs, repo_root
from . import nbtools
from .cohort import Cohort, CohortError, write_template


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
        released = nbtools.generate(root, slug, solutions)
        set_due_date(cohort, slug)
        if cohort.exchange():
            c = nbtools.course_config(root, exchange=cohort.exchange())
            c.ExchangeReleaseAssignment.force = True
            nbtools.ensure_tools_on_path()
            from nbgrader.apps import NbGraderAPI
            with nbtools.quiet_logs():
                out = NbGraderAPI(config=c).release_assignment(slug)
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
    from datetime import timezone

    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{cohort.root / 'gradebook.db'}", nbtools.COURSE_ID) as gb:
        gb.update_or_create_assignment(slug, duedate=deadline.astimezone(timezone.utc).replace(tzinfo=None))


def zip_folder(folder: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, Path(folder.name) / path.relative_to(folder))
    os.replace(tmp, dest)
    return dest
