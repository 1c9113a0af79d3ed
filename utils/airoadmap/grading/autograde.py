"""``airoadmap cohort autograde``: grade a whole cohort, in parallel, resumably.

Each submission is graded by :func:`.worker.grade` in a scratch course of its own (a copy of a
template gradebook holding only the assignment), by ``workers`` processes at once, each kernel
limited to ``cores // workers`` torch threads. This process alone merges every result into the
cohort's ``gradebook.db``, as soon as it arrives, then writes ``.grading/results/<slug>/<student>.json``:
an interrupted run loses nothing already graded, and the next run picks up the rest.

A submission is regraded only when its hash changes (its files, the assignment's source, the
limits, the sandbox mode); ``force=True`` regrades everything. Every run and every grade it gives
is appended to ``.grading/regrade-log.jsonl``.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path

from . import nbtools, sandbox
from .cohort import Cohort, CohortError, now
from .worker import Limits, grade

GRADER_VERSION = 1  # bump when a change to grading must regrade every submission
VOLATILE = ("run_id", "graded_at", "seconds", "autograded", "timestamp")  # differ between identical runs


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def submission_hash(folder: Path, source: Path, settings: dict) -> str:
    h = hashlib.sha256(json.dumps({**settings, "grader": GRADER_VERSION}, sort_keys=True).encode())
    h.update(source.read_bytes())
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "timestamp.txt"):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def template(cohort: Cohort, slug: str) -> Path:
    """A course folder with the assignment's gradebook and sources, and no students (cached)."""
    folder = cohort.state / "template" / slug
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted((cohort.root / "source" / slug).rglob("*"))
                                     if p.is_file())).hexdigest()
    stamp = folder / "source.sha256"
    if not (stamp.exists() and stamp.read_text() == digest):
        shutil.rmtree(folder, ignore_errors=True)
        nbtools.generate(folder, slug, cohort.root / "source")
        stamp.write_text(digest)
    return folder


def merge(cohort: Cohort, result: dict) -> None:
    """Copy one result into the cohort's gradebook and autograded/ (only this process writes them)."""
    from nbgrader.api import Gradebook
    student, slug = result["student"], result["slug"]
    stamp = cohort.timestamp(student, slug)
    with Gradebook(f"sqlite:///{cohort.root / 'gradebook.db'}", nbtools.COURSE_ID) as gb:
        gb.update_or_create_student(student)
        sub = gb.update_or_create_submission(slug, student, timestamp=stamp.replace(tzinfo=None) if stamp else None)
        grades = result.get("grades") or {}
        for notebook in sub.notebooks:
            for g in notebook.grades:
                entry = grades.get(g.name, {"auto_score": 0.0, "needs_manual_grade": False})
                g.auto_score, g.needs_manual_grade = entry["auto_score"], entry["needs_manual_grade"]
        gb.db.commit()
    dest = cohort.root / "autograded" / student / slug
    shutil.rmtree(dest, ignore_errors=True)
    if result.get("autograded"):
        shutil.copytree(result["autograded"], dest)


def autograde(course: str | os.PathLike, slug: str | None = None, *, workers: int | None = None,
              force: bool = False, limits: dict | None = None, use_sandbox: bool = True, threads: int | None = None,
              students: list[str] | None = None, echo=print) -> dict:
    """Grade what changed; return ``{"run_id", "graded", "skipped", "failed"}``."""
    cohort = Cohort.open(course, slug)
    slugs = [slug] if slug else cohort.assignments()
    limits = Limits(**{**cohort.limits(), **{k: v for k, v in (limits or {}).items() if v is not None}})
    mode = "bwrap" if use_sandbox else "none"
    if use_sandbox and (problem := sandbox.problem()):
        raise CohortError(f"{problem}.\nOr pass --no-sandbox to grade without isolation (only for code you trust).")
    workers = max(1, workers or cores())
    threads = threads or max(1, cores() // workers)  # threads x workers <= cores: no oversubscription
    run_id = now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    settings = {**asdict(limits), "mode": mode}

    jobs, skipped = [], 0
    for s in slugs:
        source, tpl = cohort.root / "source" / s / f"{s}.ipynb", None
        for student in students or cohort.students(s):
            folder = cohort.submission(student, s)
            if not folder.is_dir():
                raise CohortError(f"no submission of {s} by {student} in {folder.parent}: run `airoadmap cohort collect`")
            digest = submission_hash(folder, source, settings)
            old = cohort.result(s, student)
            if old and old.get("hash") == digest and not force:
                skipped += 1
                continue
            tpl = tpl or template(cohort, s)
            jobs.append({"student": student, "slug": s, "submitted": str(folder), "hash": digest, "template": str(tpl),
                         "scratch": str(cohort.state / "work" / run_id / f"{s}-{student}"),
                         "limits": asdict(limits), "mode": mode, "threads": threads})
    echo(f"run {run_id}: {len(jobs)} to grade, {skipped} unchanged; {min(workers, len(jobs) or 1)} worker(s) x {threads} thread(s), "
         f"sandbox {mode}, limits {limits.cell_timeout} s/cell, {limits.wall_clock} s/notebook, {limits.memory_mb} MB")
    cohort.log({"event": "run", "run_id": run_id, "to_grade": len(jobs), "skipped": skipped, "workers": workers, **settings})

    summary = {"run_id": run_id, "graded": 0, "skipped": skipped, "failed": []}

    def finish(job: dict, result: dict) -> None:
        result.update(hash=job["hash"], run_id=run_id, graded_at=now().isoformat(timespec="seconds"))
        previous = cohort.result(job["slug"], job["student"])
        merge(cohort, result)
        cohort.save_result({k: v for k, v in result.items() if k not in ("autograded", "grades")})
        shutil.rmtree(job["scratch"], ignore_errors=True)
        cohort.log({"event": "graded", "run_id": run_id, "student": job["student"], "slug": job["slug"],
                    "score": result["score"], "previous": previous["score"] if previous else None,
                    "status": result["status"], "hash": job["hash"]})
        summary["graded"] += 1
        notes = "; ".join(result["limits"] + ([result["error"]] if result["error"] else []))
        echo(f"  {job['student']:<16} {job['slug']}: {result['score']:g}/{result['max_score']:g}"
             f" ({result.get('seconds', 0):.1f} s){'  ' + notes if notes else ''}")

    def failed(job: dict, error: BaseException) -> None:  # the grader itself failed: retried next run
        summary["failed"].append(job["student"])
        cohort.log({"event": "not graded", "run_id": run_id, "student": job["student"], "slug": job["slug"],
                    "error": f"{type(error).__name__}: {error}"})
        echo(f"  {job['student']:<16} {job['slug']}: NOT GRADED ({type(error).__name__}: {error}); rerun to retry")

    started = time.perf_counter()
    interrupted = True
    try:
        if workers == 1 or len(jobs) <= 1:
            for job in jobs:
                try:
                    result = grade(job)
                except Exception as e:
                    failed(job, e)
                else:
                    finish(job, result)
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(grade, job): job for job in jobs}
                try:
                    for future in as_completed(futures):
                        try:
                            result = future.result()
                        except (Exception, BrokenProcessPool) as e:
                            failed(futures[future], e)
                        else:
                            finish(futures[future], result)
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        interrupted = False
    finally:
        shutil.rmtree(cohort.state / "work" / run_id, ignore_errors=True)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        cohort.log({"event": "run end", "run_id": run_id, "graded": summary["graded"], "failed": summary["failed"],
                    "interrupted": interrupted, "seconds": summary["seconds"]})
    return summary
