"""``airoadmap release``: regenerate the student notebooks in ``course/`` from ``solutions/``.

nbgrader runs in a temporary course directory; only the finished student versions are copied
into ``course/NN-slug/`` (together with any data files beside the notebook).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..grading import nbtools
from .course import notebook_slugs, repo_root


def release(slugs: list[str] | None = None, root: Path | None = None, out: Path | None = None) -> list[Path]:
    root = root or repo_root()
    out = out or root / "course"
    written = []
    with tempfile.TemporaryDirectory(prefix="airoadmap-release-") as tmp:
        for slug in slugs or notebook_slugs(root):
            released = nbtools.generate(Path(tmp), slug, root / "solutions")
            dest = out / slug
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(released, dest)
            written.append(dest)
            print(f"released {slug} -> {dest.relative_to(root) if dest.is_relative_to(root) else dest}")
    return written
