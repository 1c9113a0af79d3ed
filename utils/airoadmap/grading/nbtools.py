"""Drive nbgrader from Python: build a course directory, generate, autograde, read scores.

nbgrader's Python API does not read ``nbgrader_config.py``; :func:`course_config` is the one place
our settings live (``autograder/nbgrader_config.py`` calls it too). Creating a gradebook shells out
to ``alembic``, so the running interpreter's ``bin`` goes first on ``PATH``.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

COURSE_ID = "ai-engineer-roadmap"
CELL_TIMEOUT_S = 600  # ML cells train models: nbgrader's default of 30 s is far too short
IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", "build")


def ensure_tools_on_path() -> None:
    bindir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bindir:
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def apply_config(c, root: str | os.PathLike, *, exchange: str | os.PathLike | None = None,
                 gradebook: str | os.PathLike | None = None, timeout: int = CELL_TIMEOUT_S) -> None:
    """Write the course's nbgrader settings into the traitlets config ``c``."""
    root = Path(root).resolve()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{Path(gradebook).resolve() if gradebook else root / 'gradebook.db'}"
    c.Exchange.root = str(Path(exchange).resolve() if exchange else root / "exchange")
    c.Execute.timeout = timeout
    c.Execute.kernel_name = "python3"
    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    # Student versions carry no outputs; solutions are committed without them too.
    c.ClearOutput.enabled = True
    # A learner's deleted test cell is put back and scored, rather than left for manual grading.
    c.OverwriteCells.add_missing_cells = True


def course_config(root: str | os.PathLike, **kwargs):
    from traitlets.config import Config
    c = Config()
    apply_config(c, root, **kwargs)
    return c


def api(root: str | os.PathLike, config=None, **kwargs):
    """nbgrader's Python API on the course folder ``root`` (``config``: a traitlets Config to start from)."""
    ensure_tools_on_path()
    from nbgrader.apps import NbGraderAPI
    c = config if config is not None else course_config(root, **kwargs)
    if config is not None:
        apply_config(c, root, **kwargs)
    return NbGraderAPI(config=c)


def stage_sources(root: Path, slug: str, solutions_dir: Path) -> Path:
    """Copy ``solutions/<slug>/`` into ``<root>/source/<slug>/``, replacing what was there."""
    dest = root / "source" / slug
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(solutions_dir / slug, dest, ignore=IGNORED)
    return dest


def generate(root: Path, slug: str, solutions_dir: Path, transform=None) -> Path:
    """Run ``generate_assignment --force`` for ``slug``; return the release folder.

    ``transform(notebook_path)``, if given, edits the staged source notebook before nbgrader reads it
    (a cohort's private hidden tests are merged in this way)."""
    staged = stage_sources(root, slug, solutions_dir)
    if transform is not None:
        transform(staged / f"{slug}.ipynb")
    with quiet_logs():
        result = api(root).generate_assignment(slug, force=True, create=True)
    if not result.get("success"):
        raise RuntimeError(f"nbgrader could not generate {slug}:\n{result.get('error') or result.get('log')}")
    return root / "release" / slug


@contextlib.contextmanager
def gradebook(root: str | os.PathLike):
    """nbgrader's ``Gradebook`` of the course folder ``root``, without SQLAlchemy's warnings
    (nbgrader 0.9 triggers SAWarnings on every write; they say nothing an instructor can act on)."""
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}", COURSE_ID) as gb:
            yield gb


def scores(root: Path, slug: str, student: str) -> dict:
    """``{"score", "max_score", "cells": {grade_id: (score, max_score)}}`` from the gradebook."""
    with gradebook(root) as gb:
        sub = gb.find_submission(slug, student)
        cells = {}
        for nb in sub.notebooks:
            for grade in nb.grades:
                cells[grade.name] = (grade.score, grade.max_score)
        return {"score": sub.score, "max_score": sub.max_score, "cells": cells}


@contextlib.contextmanager
def quiet_logs():
    """nbgrader logs every step at INFO; keep the terminal for what matters."""
    import logging
    loggers = [logging.getLogger(n) for n in ("traitlets", "NbGraderAPI", "nbgrader")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=False):
            lg.setLevel(level)


def normalized(nb_path: Path) -> str:
    """A notebook's JSON with keys sorted, for comparing a fresh release with the committed one."""
    return json.dumps(json.loads(nb_path.read_text(encoding="utf-8")), sort_keys=True, indent=1)
