"""``airoadmap progress``: which of your exercises pass their visible tests, and what to do next.

For each of your notebooks in ``course/`` (the ones you edit in JupyterLab):

* exercises whose answer cell still holds the released stub are "not started", without running
  anything (a fresh clone answers in a second);
* otherwise a fresh kernel runs the notebook's setup cells, your answer cells and the visible test
  cells (no demo or training cells, so it takes seconds to a minute per notebook, never the
  notebook's full run), and each test passes when it raises nothing.

Every kernel is bounded (``--timeout`` seconds per notebook), runs offline (``HF_HUB_OFFLINE=1``)
with the cpu profile, and is stopped afterwards. Passing the visible tests is a self-check: the
graded run adds hidden tests.

    airoadmap progress                 # a table, then the next thing to do
    airoadmap progress --json          # the same, for tools
    airoadmap progress 05-transformers-essentials
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .course import notebook_slugs, repo_root

STUB = re.compile(r"# YOUR CODE HERE\s*\n\s*raise NotImplementedError\(\)")  # nbgrader's stub, as released


@dataclass
class Exercise:
    name: str                       # the answer cell's grade id
    tests: list[str]                # the visible test cells that follow it
    status: str = "not started"     # "not started", "passed", "failed", "not run"
    message: str = ""


@dataclass
class Notebook:
    slug: str
    exercises: list[Exercise] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    @property
    def passed(self) -> int:
        return sum(e.status == "passed" for e in self.exercises)


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _normalized(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def exercises(nb, stubs: dict[str, str]) -> list[Exercise]:
    """The exercises of a notebook, in order, with the test cells that follow each one."""
    out: list[Exercise] = []
    for cell in nb.cells:
        meta = _meta(cell)
        if cell.cell_type != "code" or not meta.get("grade_id"):
            continue
        if meta.get("solution"):
            stub = stubs.get(meta["grade_id"])
            started = (_normalized(cell.source) != _normalized(stub) if stub is not None
                       else not STUB.search(cell.source))
            out.append(Exercise(meta["grade_id"], [], "not run" if started else "not started"))
        elif meta.get("grade") and out:
            out[-1].tests.append(meta["grade_id"])
    return out


def check(slug: str, course: Path, released: Path | None = None, timeout: int = 300) -> Notebook:
    """Run the visible tests of ``course/<slug>/<slug>.ipynb`` for the exercises that were started."""
    from nbclient import NotebookClient

    path = course / slug / f"{slug}.ipynb"
    result = Notebook(slug)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:  # noqa: BLE001 - a broken notebook is a result, not a crash
        result.error = f"cannot read {path.name}: {type(e).__name__}"
        return result
    stub_nb = nbformat.read(released, as_version=4) if released and released.exists() else None
    stubs = {_meta(c)["grade_id"]: c.source for c in (stub_nb.cells if stub_nb else []) if _meta(c).get("solution")}
    result.exercises = exercises(nb, stubs)
    if not any(e.status == "not run" for e in result.exercises):
        return result
    run = nbformat.v4.new_notebook()
    owners: dict[int, Exercise] = {}
    by_test = {t: e for e in result.exercises for t in e.tests}
    for cell in nb.cells:
        meta, tags = _meta(cell), cell.get("metadata", {}).get("tags", [])
        if cell.cell_type != "code":
            continue
        if "parameters" in tags:
            run.cells.append(nbformat.v4.new_code_cell(cell.source + '\nprofile = "cpu"\n'))
        elif "setup" in tags or meta.get("solution"):
            run.cells.append(nbformat.v4.new_code_cell(cell.source))
        elif meta.get("grade") and meta.get("grade_id") in by_test:
            owners[len(run.cells)] = by_test[meta["grade_id"]]
            run.cells.append(nbformat.v4.new_code_cell(cell.source))
    replies: dict[int, dict] = {}
    client = NotebookClient(run, timeout=timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}, skip_cells_with_tag="\x00",
                            on_cell_executed=lambda cell, cell_index, execute_reply: replies.__setitem__(
                                cell_index, execute_reply))
    started = time.perf_counter()
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "AIROADMAP_PROFILE")}
    os.environ.update(HF_HUB_OFFLINE="1", AIROADMAP_PROFILE="cpu")
    try:
        client.execute()
    except Exception as e:  # noqa: BLE001 - a timeout or a dead kernel: say so, keep what ran
        result.error = f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:160] if str(e).strip() else ''}"
    finally:
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    result.seconds = round(time.perf_counter() - started, 1)
    for index, exercise in owners.items():
        if exercise.status == "not started":
            continue
        content = (replies.get(index) or {}).get("content", {})
        if not content:
            exercise.status, exercise.message = "failed", exercise.message or "not run (see the error above)"
        elif content.get("status") != "ok" and exercise.status != "failed":
            exercise.status = "failed"
            last = (str(content.get("evalue", "")).strip().splitlines() or [""])[-1]
            exercise.message = f"{content.get('ename', 'error')}: {last}"[:200]
        elif content.get("status") == "ok" and exercise.status == "not run":
            exercise.status = "passed"
    return result


def progress(slugs: list[str] | None = None, root: Path | None = None, timeout: int = 300) -> list[Notebook]:
    root = root or repo_root()
    results = []
    for slug in slugs or notebook_slugs(root):
        results.append(check(slug, root / "course", _release_of(root, slug), timeout))
    return results


def _release_of(root: Path, slug: str) -> Path | None:
    """The notebook as released (its stubs): git's committed copy of course/, when this is a checkout.
    Without one, an answer cell still holding nbgrader's stub counts as not started."""
    import subprocess

    try:
        out = subprocess.run(["git", "-C", str(root), "show", f"HEAD:course/{slug}/{slug}.ipynb"],
                             capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    cache = root / "build" / "progress" / f"{slug}.released.ipynb"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(out.stdout)
    return cache


def table(results: list[Notebook]) -> str:
    lines = [f"{'notebook':<32} {'passed':>7}  next"]
    for nb in results:
        total = len(nb.exercises)
        todo = next((e for e in nb.exercises if e.status != "passed"), None)
        if nb.error and not nb.passed:
            nxt = f"could not run: {nb.error}"
        elif todo is None:
            nxt = "done: every visible test passes"
        elif todo.status == "failed":
            nxt = f"fix {todo.name}: {todo.message}"
        else:
            nxt = f"{todo.name} ({todo.status})"
        lines.append(f"{nb.slug:<32} {nb.passed:>3}/{total:<3}  {nxt[:110]}")
    first = next((nb for nb in results if any(e.status != "passed" for e in nb.exercises)), None)
    if first is None:
        lines.append("\nEvery exercise passes its visible tests. The graded run adds hidden tests: follow each spec.")
    else:
        todo = next(e for e in first.exercises if e.status != "passed")
        verb = "Fix" if todo.status == "failed" else "Do"
        lines.append(f"\nNext: {verb} {todo.name} in course/{first.slug}/{first.slug}.ipynb, run its test cell, "
                     "then `airoadmap progress` again.")
    return "\n".join(lines)


def as_json(results: list[Notebook]) -> list[dict]:
    return [{**asdict(nb), "passed": nb.passed, "total": len(nb.exercises)} for nb in results]
