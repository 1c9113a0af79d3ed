"""Grade one submission, alone, in a scratch nbgrader course of its own.

:func:`grade` is what each parallel worker runs: it copies a template gradebook (the assignment's
cells, no students) into a scratch folder, forces the ``cpu`` profile the way papermill injects
parameters, and autogrades with :class:`LimitedExecute` in the sandboxed kernel of :mod:`.sandbox`.
It returns plain data (scores, test messages, limits hit, tamper flags); only the parent process
writes the cohort's gradebook (SQLite is not a parallel writer).

Limits: a per-cell timeout (nbclient interrupts the cell, the next cells still run), a wall clock
for the whole notebook (after it, the kernel is killed and the remaining cells are marked as not
run), and the sandbox's memory limit. Points earned before a limit was hit are kept.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute
from traitlets import Integer, Unicode

from . import nbtools, sandbox, tamper


@dataclass
class Limits:
    cell_timeout: int = 600    # seconds per cell: ML cells train models
    wall_clock: int = 1800     # seconds for the whole notebook
    memory_mb: int = 8192      # heap of the kernel (RLIMIT_DATA)


KERNEL_START_FAILED = "the grading kernel did not start"


class GraderError(RuntimeError):
    """The grader, not the submission, failed: nothing is recorded and the next run retries."""


def error_output(ename: str, evalue: str) -> dict:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def label(cell, index: int) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"


class LimitedExecute(Execute):
    """nbgrader's Execute plus a notebook wall clock, and no lost grades when the kernel dies.

    nbgrader's own Execute lets a dead kernel abort the whole notebook (no grades saved at all);
    here the cells that did run keep their outputs and every later cell gets a ``NotRun`` error,
    so that its test scores zero and the ones before keep their points.
    """

    wall_clock = Integer(0, help="Seconds for the whole notebook (0: no limit).").tag(config=True)
    memory_mb = Integer(0, help="The kernel's memory limit, for messages only.").tag(config=True)
    events_file = Unicode("", help="Where to write the list of limits hit (JSON).").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._events, self._stopped, self._current = [], None, None
        self._deadline = monotonic() + self.wall_clock if self.wall_clock else None
        try:
            return super().preprocess(nb, resources, km)
        except Exception as e:  # nbclient gave up on the kernel (not the student's code: that is allowed to fail)
            if self._current is None:  # it never started: the grader's problem, not the student's
                self._events.append(f"{KERNEL_START_FAILED}: {type(e).__name__}: {str(e)[:300]}")
                raise
            self._stop(f"kernel failed ({type(e).__name__}) in {label(nb.cells[self._current], self._current)}")
            for cell in nb.cells[self._current:]:  # the cell it failed in, and every later one, score zero
                if cell.cell_type == "code":
                    self._not_run(cell)
            return nb, resources
        finally:
            if self.events_file:
                Path(self.events_file).write_text(json.dumps(self._events))

    def _get_timeout(self, cell):  # nbclient's hook: the cell timeout, cut short by the wall clock
        timeout = super()._get_timeout(cell)
        if self._deadline is not None:
            left = max(1, int(self._deadline - monotonic()) + 1)
            timeout = min(timeout, left) if timeout else left
        return timeout

    def _stop(self, reason: str) -> None:
        if not self._stopped:
            self._stopped = reason
            self._events.append(reason)

    def _not_run(self, cell):
        cell.outputs = [error_output("NotRun", f"not run: {self._stopped}")]
        return cell

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if not self._stopped and self._deadline is not None and monotonic() >= self._deadline:
            self._stop(f"wall-clock limit ({self.wall_clock} s) reached before {label(cell, index)}")
        if self._stopped:
            return self._not_run(cell), resources
        self._current = index
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except CellTimeoutError:  # interrupted after the cell timeout, the kernel did not answer
            self._events.append(f"cell timeout ({self.timeout} s) in {label(cell, index)}")
            self._stop(f"the kernel ignored the interrupt in {label(cell, index)}: stopped")
            return self._not_run(cell), resources
        except DeadKernelError:
            process = getattr(getattr(self.km, "provisioner", None), "process", None)
            code = process.poll() if process is not None else None
            how = f"exit code {code}" if code is not None and code >= 0 else f"signal {-code}" if code else "no exit code"
            self._stop(f"kernel died ({how}) in {label(cell, index)}")
            cell.outputs.append(error_output("KernelDied", self._stopped))
            return cell, resources
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if any(o.ename == "CellTimeoutError" for o in errors):
            if self._deadline is not None and monotonic() >= self._deadline - 1:
                self._stop(f"wall-clock limit ({self.wall_clock} s) reached in {label(cell, index)}")
            else:
                self._events.append(f"cell timeout ({self.timeout} s) in {label(cell, index)}")
        if any(o.ename == "MemoryError" or "can't allocate memory" in str(o.get("evalue", "")) for o in errors):
            self._events.append(f"memory limit ({self.memory_mb} MB) in {label(cell, index)}")
        return cell, resources


def force_profile(nb, profile: str = "cpu") -> None:
    """Insert ``profile = "cpu"`` after the ``parameters`` cell, tagged as papermill does."""
    cell = new_code_cell(f'# Parameters\nprofile = "{profile}"\n', metadata={"tags": ["injected-parameters"]})
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    index = next((i + 1 for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])),
                 next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), 0))
    nb.cells.insert(index, cell)


def test_results(nb, grades: dict) -> dict:
    """Per graded cell: score, max, passed and the error's last line (never the test's source)."""
    tests = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id not in grades:
            continue
        message = ""
        for o in cell.get("outputs", []):
            if o.output_type == "error":
                message = f"{o.ename}: {o.evalue}".strip().splitlines()[-1] if o.evalue else o.ename
            elif o.output_type == "stream" and o.name == "stderr" and not message:
                message = "wrote to stderr: " + (o.text.strip().splitlines() or [""])[-1]
        g = grades[grade_id]
        tests[grade_id] = {"score": g["score"], "max_score": g["max_score"], "message": message[:300],
                           "passed": g["score"] == g["max_score"]}
    return tests


def grade(job: dict) -> dict:
    """Autograde ``job["submitted"]`` (a folder holding ``<slug>.ipynb``) and return the result.

    ``job`` keys: student, slug, submitted, template (a course folder with source/ and a gradebook
    of the assignment), scratch (a folder of its own), limits (a :class:`Limits` dict),
    mode ("bwrap" or "none"), threads.
    """
    started = time.perf_counter()
    student, slug, limits = job["student"], job["slug"], Limits(**job["limits"])
    scratch = Path(job["scratch"])
    shutil.rmtree(scratch, ignore_errors=True)
    result = {"student": student, "slug": slug, "status": "graded", "error": None, "limits": [], "tamper": [],
              "tests": {}, "score": 0.0, "max_score": 0.0, "autograded": None}
    template = Path(job["template"])
    released = nbformat.read(template / "release" / slug / f"{slug}.ipynb", as_version=4)
    graded_cells = [c.metadata["nbgrader"] for c in released.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    result["max_score"] = sum(float(m.get("points", 0)) for m in graded_cells)
    result["tests"] = {m["grade_id"]: {"score": 0.0, "max_score": float(m.get("points", 0)), "passed": False,
                                       "message": "not graded"} for m in graded_cells}  # until it is
    notebook = Path(job["submitted"]) / f"{slug}.ipynb"
    try:
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)
    except FileNotFoundError:
        found = sorted(p.name for p in Path(job["submitted"]).glob("*.ipynb"))
        return {**result, "status": "error", "error": f"no {slug}.ipynb in the submission (found: {found or 'nothing'})"}
    except Exception as e:
        return {**result, "status": "error", "error": f"not a readable notebook: {type(e).__name__}: {(str(e).splitlines() or [''])[0][:120]}"}
    result["tamper"] = tamper.check(nb, released)

    # the scratch course: the template's gradebook and sources, this one submission
    (scratch / "submitted" / student).mkdir(parents=True)
    shutil.copy(template / "gradebook.db", scratch / "gradebook.db")
    (scratch / "source").symlink_to(template / "source", target_is_directory=True)
    dest = scratch / "submitted" / student / slug
    shutil.copytree(job["submitted"], dest, ignore=nbtools.IGNORED)
    force_profile(nb)
    nbformat.write(nb, dest / f"{slug}.ipynb")

    short = tempfile.mkdtemp(prefix="aig-")  # unix socket paths must stay under 108 characters
    saved_path, events = os.environ.get("JUPYTER_PATH"), scratch / "limits.json"
    try:
        policy = sandbox.Policy(mode=job["mode"], memory_mb=limits.memory_mb, threads=job["threads"],
                                readonly=sandbox.readonly_paths() if job["mode"] == "bwrap" else [])
        sandbox.write_kernelspec(short, policy)
        os.makedirs(f"{short}/rt")
        os.environ["JUPYTER_PATH"] = short
        c = nbtools.course_config(scratch, timeout=limits.cell_timeout)
        c.Execute.kernel_name = sandbox.KERNEL_NAME
        c.Execute.shutdown_kernel = "immediate"
        c.KernelManager.transport = "ipc"  # no TCP: the kernel has no network namespace in common with us
        c.KernelManager.connection_file = f"{short}/rt/kernel.json"
        c.LimitedExecute.wall_clock = limits.wall_clock
        c.LimitedExecute.memory_mb = limits.memory_mb
        c.LimitedExecute.events_file = str(events)
        from nbgrader.converters import Autograde
        c.Autograde.autograde_preprocessors = [LimitedExecute if p is Execute else p
                                               for p in Autograde.class_traits()["autograde_preprocessors"].default()]
        nbtools.ensure_tools_on_path()
        from nbgrader.apps import NbGraderAPI
        with nbtools.quiet_logs():
            out = NbGraderAPI(config=c).autograde(slug, student, force=True, create=True)
    finally:
        shutil.rmtree(short, ignore_errors=True)
        os.environ.pop("JUPYTER_PATH") if saved_path is None else os.environ.update(JUPYTER_PATH=saved_path)
    events_seen = json.loads(events.read_text()) if events.exists() else []
    if any(e.startswith(KERNEL_START_FAILED) for e in events_seen):
        raise GraderError(f"{events_seen[-1]} (try `--no-sandbox` on your own solution to tell the sandbox "
                          "from the environment)")
    if not out.get("success"):  # e.g. nbgrader metadata too damaged to read: last log line only (no sources)
        last = [line for line in (out.get("error") or out.get("log") or "").splitlines() if line.strip()][-1:]
        return {**result, "status": "error", "error": f"nbgrader could not grade it: {''.join(last)[:300]}"}

    graded = scratch / "autograded" / student / slug
    scores = nbtools.scores(scratch, slug, student)
    grades = {k: {"score": s or 0.0, "max_score": m} for k, (s, m) in scores["cells"].items()}
    result["tests"] = test_results(nbformat.read(graded / f"{slug}.ipynb", as_version=4), grades)
    result["limits"] = events_seen
    result.update(score=scores["score"], max_score=scores["max_score"], autograded=str(graded),
                  grades=_gradebook_grades(scratch, slug, student), seconds=round(time.perf_counter() - started, 1))
    return result


def _gradebook_grades(root: Path, slug: str, student: str) -> dict:
    """What the parent copies into the cohort's gradebook: auto score and manual-grading flag per cell."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        sub = gb.find_submission(slug, student)
        return {g.name: {"notebook": nb.name, "auto_score": g.auto_score, "needs_manual_grade": g.needs_manual_grade}
                for nb in sub.notebooks for g in nb.grades}
