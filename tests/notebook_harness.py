"""Run a solution notebook's graded cells in-process, with some answers swapped for wrong ones.

The harness executes only what the tests need: the cells tagged ``parameters`` or ``setup``
(imports, ``airoadmap.start``), every solution cell in order (optionally replaced), then each test
cell, recording which ones raise. Demo and training cells are skipped, which is why test cells
must not depend on them: they grade behaviour through the learner's functions alone.
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from pathlib import Path

from airoadmap.tooling.course import solution_path

MUTANTS_DIR = Path(__file__).parent / "mutants"


def load_cells(slug: str) -> list[dict]:
    return json.loads(solution_path(slug).read_text(encoding="utf-8"))["cells"]


def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution(cell: dict) -> bool:
    return cell["cell_type"] == "code" and nbgrader_meta(cell).get("solution", False)


def is_test(cell: dict) -> bool:
    return cell["cell_type"] == "code" and nbgrader_meta(cell).get("grade", False)


def is_context(cell: dict) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    return cell["cell_type"] == "code" and bool(tags & {"parameters", "setup"})


def exercise_tests(cells: list[dict], solution_id: str) -> set[str]:
    """The test cells between solution ``solution_id`` and the next solution cell."""
    found, owned = False, set()
    for cell in cells:
        if is_solution(cell):
            if found:
                break
            found = nbgrader_meta(cell)["grade_id"] == solution_id
        elif found and is_test(cell):
            owned.add(nbgrader_meta(cell)["grade_id"])
    return owned


@contextlib.contextmanager
def process_state_restored():
    """Undo what a (wrong) answer may change process-wide, so the next run starts clean: torch's grad
    mode, default dtype, threads and RNG, NumPy's and Python's RNG, warning filters."""
    import random
    import warnings

    import numpy as np
    import torch

    saved = (torch.is_grad_enabled(), torch.get_default_dtype(), torch.get_num_threads(), torch.get_rng_state(),
             np.random.get_state(), random.getstate())
    with warnings.catch_warnings():
        try:
            yield
        finally:
            grad, dtype, threads, rng, np_rng, py_rng = saved
            torch.set_grad_enabled(grad)
            torch.set_default_dtype(dtype)
            torch.set_num_threads(threads)
            torch.set_rng_state(rng)
            np.random.set_state(np_rng)
            random.setstate(py_rng)


def run_graded_cells(slug: str, replace: dict[str, str] | None = None,
                     only: set[str] | None = None) -> dict[str, BaseException | None]:
    """Execute context + solution cells (with ``replace[grade_id]`` swapped in), then the test
    cells (all, or the grade ids in ``only``); return ``{test grade_id: exception or None}``."""
    replace = dict(replace or {})
    cells = load_cells(slug)
    unknown = set(replace) - {nbgrader_meta(c).get("grade_id") for c in cells if is_solution(c)}
    if unknown:
        raise KeyError(f"{slug} has no solution cell(s) {sorted(unknown)}")
    namespace: dict = {"__name__": "__main__"}
    results: dict[str, BaseException | None] = {}
    with contextlib.redirect_stdout(io.StringIO()), process_state_restored():
        for cell in cells:
            source = "".join(cell["source"])
            if is_context(cell):
                exec(compile(source, f"<{slug} setup>", "exec"), namespace)
            elif is_solution(cell):
                gid = nbgrader_meta(cell)["grade_id"]
                exec(compile(replace.get(gid, source), f"<{slug} {gid}>", "exec"), namespace)
        for cell in cells:
            if is_test(cell):
                gid = nbgrader_meta(cell)["grade_id"]
                if only is not None and gid not in only:
                    continue
                try:
                    exec(compile("".join(cell["source"]), f"<{slug} {gid}>", "exec"), namespace)
                    results[gid] = None
                except Exception as exc:  # noqa: BLE001 - a failing test is the point
                    results[gid] = exc
    return results


def load_mutants(slug: str) -> dict[str, dict[str, str]]:
    """``tests/mutants/<slug>.py`` defines ``MUTANTS = {solution grade_id: {description: source}}``."""
    path = MUTANTS_DIR / f"m{slug.replace('-', '_')}.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS


def load_correct(slug: str) -> dict[str, dict[str, str]]:
    """``CORRECT = {solution grade_id: {description: source}}`` in the same file: right answers written
    differently from the solution, which every test must accept (tests grade behaviour, not structure)."""
    path = MUTANTS_DIR / f"m{slug.replace('-', '_')}.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location(path.stem + "_correct", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "CORRECT", {})


def mutants_path(slug: str) -> Path:
    return MUTANTS_DIR / f"m{slug.replace('-', '_')}.py"

