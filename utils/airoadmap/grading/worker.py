"""Grade one submission, alone: what each parallel worker runs.

:func:`grade` reads the submission as untrusted bytes, assembles the notebook to run from the
cohort's trusted source and release (:func:`.engine.assemble`), executes it in the sandboxed
grading kernel (:mod:`.sandbox`, :mod:`.kernel`) with the :class:`~.limits.Limits`, scores each
test cell from the kernel's reply and writes the autograded notebook into a folder only the grader
writes. The kernel's own working folder is an empty scratch folder: nothing in it is read back,
copied, followed or chmod-ed afterwards, it is only removed (``shutil.rmtree`` does not follow links).

It returns plain data (scores, messages, limits hit, flags); only the parent process writes the
cohort's gradebook (SQLite is not a parallel writer).

Three outcomes:

* ``graded``: a score, with reasons (a test's error, a limit hit);
* ``error``: the submission cannot be graded as it is (not a notebook, too large): zero, with why;
* ``not graded``: the grader's problem (the kernel did not start, a setup cell failed: a missing
  asset, an import error, a full disk). No score is given, the cause is recorded, and the next run
  grades it again.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from ..recording import MIME
from . import engine, sandbox, tamper
from .limits import Limits

NOT_GRADED = "not graded"


def _message(run: engine.CellRun) -> str:
    if run.status == "ok":
        return ""
    if run.status == "not run":
        return f"NotRun: {run.evalue}" if not run.evalue.startswith("not run") else f"NotRun: {run.evalue}"
    last = (run.evalue.strip().splitlines() or [""])[-1]
    return f"{run.ename}: {last}" if last else run.ename


def _autograded_notebook(assembly: engine.Assembly, execution: engine.Execution, tests: dict) -> dict:
    """The executed notebook for the instructor: cells in run order, outputs as kept, scores in metadata."""
    nb = nbformat.v4.new_notebook()
    for cell, run in zip(assembly.cells, execution.runs, strict=False):
        if cell.kind == "markdown":
            out = nbformat.v4.new_markdown_cell(cell.source)
        else:
            out = nbformat.v4.new_code_cell(cell.source)
            out.outputs = [o for o in run.outputs if isinstance(o, dict)]
            if run.dropped_bytes:
                out.outputs.append(nbformat.v4.new_output(
                    "stream", name="stdout", text=f"\n[{run.dropped_bytes:,} bytes of output dropped by the grader]\n"))
            if run.status not in ("ok",) and not any(o.get("output_type") == "error" for o in out.outputs):
                out.outputs.append(nbformat.v4.new_output("error", ename=run.ename or "NotRun",
                                                          evalue=run.evalue[:500], traceback=[]))
        meta = {"kind": cell.kind}
        if cell.metadata:
            out.metadata["nbgrader"] = cell.metadata
        if cell.grade_id in tests:
            meta.update(score=tests[cell.grade_id]["score"], max_score=tests[cell.grade_id]["max_score"])
        out.metadata["airoadmap"] = meta
        nb.cells.append(out)
    return nb


def _remove(folder: Path) -> None:
    """Remove a folder the kernel could write: links are removed, never followed."""
    shutil.rmtree(folder, ignore_errors=True)


def grade(job: dict) -> dict:
    """Grade ``job["submitted"]`` (a folder holding ``<slug>.ipynb``) and return the result.

    ``job`` keys: student, slug, submitted, source and release (the cohort's notebooks), scratch
    (a folder of its own), out (where the autograded notebook goes), limits (a :class:`Limits` dict),
    mode ("bwrap" or "none"), threads, assets (read-only folders the kernel may see: the prepared cache),
    cache (the path the kernel gets as AIROADMAP_CACHE), stop_after_last_test (skip the cells after it).
    """
    started = time.perf_counter()
    student, slug, limits = job["student"], job["slug"], Limits(**job["limits"])
    release_nb = nbformat.read(job["release"], as_version=4)
    source_nb = nbformat.read(job["source"], as_version=4)
    graded_cells = [c for c in source_nb.cells
                    if engine._nbgrader(c).get("grade") and not engine._nbgrader(c).get("solution")]
    result = {"student": student, "slug": slug, "status": "graded", "error": None, "limits": [], "tamper": [],
              "tests": {engine.grade_id_of(c): {"score": 0.0,
                                               "max_score": float(engine._nbgrader(c).get("points") or 0),
                                               "passed": False, "message": "not graded"} for c in graded_cells},
              "score": 0.0, "autograded": None}
    result["max_score"] = sum(t["max_score"] for t in result["tests"].values())

    # 1. the submission: untrusted bytes
    notebook = Path(job["submitted"]) / f"{slug}.ipynb"
    try:
        data = engine.read_regular_file(notebook, limits.notebook_mb << 20)
        cells = engine.parse_submission(data)
    except FileNotFoundError:
        found = sorted(p.name for p in Path(job["submitted"]).glob("*.ipynb"))[:5]
        return {**result, "status": "error",
                "error": f"no {slug}.ipynb in the submission (found: {found or 'nothing'})"}
    except engine.SubmissionError as e:
        return {**result, "status": "error", "error": str(e)}
    result["tamper"] = tamper.check_cells(cells, release_nb)
    assembly = engine.assemble(cells, release_nb, source_nb)
    if job.get("stop_after_last_test"):  # what follows the last test cannot change a score
        last = max((i for i, c in enumerate(assembly.cells) if c.kind == "test"), default=len(assembly.cells) - 1)
        assembly.cells = assembly.cells[:last + 1]

    # 2. a scratch folder for the kernel (hostile once it ran) and a short one for its sockets
    scratch = Path(job["scratch"])
    _remove(scratch)
    workdir = scratch / "work"
    workdir.mkdir(parents=True)
    runtime = Path(tempfile.mkdtemp(prefix="aig-"))  # unix socket paths must stay under 108 characters
    uid = sandbox.grading_uid() if job["mode"] == "bwrap" else None  # bare: the grader's own user (trusted code)
    if uid is not None:
        os.chown(workdir, uid, uid)
    try:
        policy = sandbox.Policy(mode=job["mode"], memory_mb=limits.memory_mb, threads=job["threads"],
                                processes=limits.processes, uid=uid,
                                readonly=(sandbox.readonly_paths(job.get("assets", []))
                                          if job["mode"] == "bwrap" else []),
                                env={"AIROADMAP_CACHE": job["cache"]} if job.get("cache") else {})
        sandbox.write_kernelspec(str(runtime / "spec"), policy)
        (runtime / "rt").mkdir()
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync
        km = AsyncKernelManager(kernel_name=sandbox.KERNEL_NAME,
                           kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(runtime / "spec" / "kernels")]),
                           transport="ipc", connection_file=str(runtime / "rt" / "kernel.json"))
        try:
            execution = engine.execute(assembly.cells, km, limits, str(workdir))
        finally:
            if km.has_kernel:  # nbclient does not stop a kernel it did not start
                run_sync(km.shutdown_kernel)(now=True)
    finally:
        _remove(runtime)
        _remove(scratch)
    if not execution.started:
        return {**result, "status": NOT_GRADED,
                "error": f"the grading kernel did not start: {execution.start_error} (try `--no-sandbox` on your "
                         "own solution to tell the sandbox from the environment)"}

    # 3. verdicts: a test passes when the kernel's reply to it is "ok"
    secrets = [engine.hidden_text(c.source) for c in assembly.cells if c.kind == "test"]
    tests = {}
    for cell, run in zip(assembly.cells, execution.runs, strict=False):
        if cell.kind == "setup" and run.status != "ok":
            cause = engine.redact(_message(run), secrets)
            return {**result, "status": NOT_GRADED, "limits": execution.events,
                    "error": f"setup cell {cell.grade_id} failed: {cause}"}
        if cell.kind == "test":
            passed = run.status == "ok"
            tests[cell.grade_id] = {"score": cell.points if passed else 0.0, "max_score": cell.points,
                                    "passed": passed, "message": engine.redact(_message(run), secrets)}
        if run.restored:
            result["tamper"].append({"cell": cell.grade_id or "test",
                                     "issue": "restored before the test: " + ", ".join(run.restored[:8])})
    result["tests"] = tests
    result["limits"] = execution.events
    result["score"] = sum(t["score"] for t in tests.values())
    result["max_score"] = sum(t["max_score"] for t in tests.values())

    # 4. the autograded notebook, written where only the grader writes
    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{slug}.ipynb"
    nbformat.write(_autograded_notebook(assembly, execution, tests), str(path))
    result.update(autograded=str(path), seconds=round(time.perf_counter() - started, 1),
                  metrics=_metrics(execution))
    return result


def _metrics(execution: engine.Execution) -> list[dict]:
    """Metrics the notebook recorded (``airoadmap.record`` prints them as a JSON display): for reports only."""
    found = []
    for run in execution.runs:
        for o in run.outputs:
            data = o.get("data", {}) if isinstance(o, dict) else {}
            value = data.get(MIME) if isinstance(data, dict) else None
            if isinstance(value, dict):
                found.append({k: value.get(k) for k in ("name", "value", "at_least", "at_most", "ok")})
    return found[:200]


def dump(result: dict) -> str:
    return json.dumps(result)
