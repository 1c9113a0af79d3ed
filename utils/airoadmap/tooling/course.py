"""Where the course's files are: the repository root, the solution and student notebooks.

Used by the command-line tools (release, solutions, grading), scripts/ and the tests, never by
notebooks: a notebook must run wherever it is opened from (course/NN-slug/, a grading folder, Colab).
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

SLUG = re.compile(r"^\d\d-[a-z0-9-]+$")


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The checkout this package was installed from (editable install), or the first parent of
    ``start`` (default: the working directory) that holds ``solutions/`` and ``pyproject.toml``."""
    candidates = []
    if env := os.environ.get("AIROADMAP_REPO"):
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parents[3])
    here = Path(start or os.getcwd()).resolve()
    candidates += [here, *here.parents]
    for c in candidates:
        if (c / "solutions").is_dir() and (c / "pyproject.toml").is_file():
            return c
    raise FileNotFoundError("Not inside a checkout of the course (no solutions/ and pyproject.toml found). "
                            "Run this from the repository, or set AIROADMAP_REPO to its path.")


def notebook_slugs(root: Path | None = None) -> list[str]:
    """Slugs of the solution notebooks, in course order: ``solutions/NN-slug/NN-slug.ipynb``."""
    root = root or repo_root()
    return sorted(p.name for p in (root / "solutions").iterdir()
                  if p.is_dir() and SLUG.match(p.name) and (p / f"{p.name}.ipynb").is_file())


def solution_path(slug: str, root: Path | None = None) -> Path:
    return (root or repo_root()) / "solutions" / slug / f"{slug}.ipynb"


def student_path(slug: str, root: Path | None = None) -> Path:
    return (root or repo_root()) / "course" / slug / f"{slug}.ipynb"


def project_settings(root: Path | None = None) -> dict:
    """``[tool.airoadmap]`` of pyproject.toml: the repository the course is published from."""
    data = tomllib.loads(((root or repo_root()) / "pyproject.toml").read_text(encoding="utf-8"))
    return data["tool"]["airoadmap"]
