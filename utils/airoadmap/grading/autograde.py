"""``airoadmap cohort autograde``: grade a whole cohort, in parallel, resumably.

Before the first kernel starts, the assets the assignments need (models, converted checkpoints,
07's adapter, datasets) are prepared in the cache, which every sandboxed kernel then sees read-only:
nothing is downloaded, converted or trained inside a submission's grading.

Each submission is graded by :func:`.worker.grade`, by ``workers`` processes at once (longest
first), each kernel limited to ``cores // workers`` torch threads. This process alone merges every
result into the cohort's ``gradebook.db`` and ``autograded/``, as soon as it arrives, then writes
``.grading/results/<slug>/<student>.json``: an interrupted run loses nothing already graded, and
the next run picks up the rest. One submission's failure (a crash, odd files, unreadable metadata)
is that submission's: grading goes on for the others.

A submission is regraded only when its hash changes (its files, the assignment's source, the
limits, the sandbox mode, the grader's version) or when it was not graded last time; ``force=True``
regrades everything. Every run and every grade it gives is appended to ``.grading/regrade-log.jsonl``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path

from . import nbtools, sandbox
from .cohort import Cohort, CohortError, now
from .limits import Limits
from .worker import NOT_GRADED, grade

GRADER_VERSION = 2  # bump when a change to grading must regrade every submission
VOLATILE = ("run_id", "graded_at", "seconds", "autograded", "timestamp")  # differ between identical runs
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def regular_files(folder: Path, limit: int = 1000) -> list[Path]:
    """The regular files under ``folder``, found without following links (at most ``limit``)."""
    found, stack = [], [folder]
    while stack and len(found) < limit:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                found.append(Path(entry.path))
    return found


def submission_hash(folder: Path, source: Path, settings: dict) -> str:
    h = hashlib.sha256(json.dumps({**settings, "grader": GRADER_VERSION}, sort_keys=True).encode())
    h.update(source.read_bytes())
    for path in regular_files(folder):
        if path.name == "timestamp.txt":
            continue
        info = path.lstat()
        h.update(str(path.relative_to(folder)).encode() + b"\0" + f"{info.st_size}:{info.st_mtime_ns}".encode())
        if stat.S_ISREG(info.st_mode) and info.st_size <= 64 << 20:
            h.update(path.read_bytes())
    return h.hexdigest()


def prepare_assets(slugs: list[str], echo=print) -> dict:
    """Prepare what the assignments need, before any kernel starts; say how long and how much disk."""
    from ..cache import share
    from ..tooling import assets

    names = sorted({name for s in slugs for name in assets.needs(s, grading=True)})
    if not names:
        return {}
    started = time.perf_counter()
    done = assets.prepare(names)
    if _cache_dir().is_dir() and (fixed := share(_cache_dir())):  # kernels run as another user: must read it
        echo(f"made {fixed} private file(s) of the asset cache readable by the grading kernels")
    total = sum(int(v.get("bytes", 0)) for v in done.values())
    echo(f"assets for grading ({', '.join(names)}): ready in {time.perf_counter() - started:.1f} s, "
         f"{total / 1e6:.0f} MB in {_cache_dir()}")
    return done


def merge(cohort: Cohort, result: dict) -> None:
    """Copy one result into the cohort's gradebook and autograded/ (only this process writes them)."""
    student, slug = result["student"], result["slug"]
    dest = cohort.root / "autograded" / student / slug
    shutil.rmtree(dest, ignore_errors=True)
    if result["status"] == NOT_GRADED:
        return
    stamp = cohort.timestamp(student, slug)
    with nbtools.gradebook(cohort.root) as gb:
        gb.update_or_create_student(student)
        sub = gb.update_or_create_submission(slug, student, timestamp=stamp.replace(tzinfo=None) if stamp else None)
        tests = result.get("tests") or {}
        for notebook in sub.notebooks:
            for g in notebook.grades:
                g.auto_score = float(tests.get(g.name, {}).get("score", 0.0))
                g.needs_manual_grade = False
        gb.db.commit()
    if result.get("autograded"):
        dest.mkdir(parents=True)
        shutil.copyfile(result["autograded"], dest / f"{slug}.ipynb")  # our own file, written by the worker


def _grade_safely(job: dict) -> dict:
    """:func:`grade`, with any crash turned into this submission's "not graded" (never the run's)."""
    try:
        return grade(job)
    except Exception as e:  # noqa: BLE001 - one submission must not stop the others
        return {"student": job["student"], "slug": job["slug"], "status": NOT_GRADED, "score": 0.0,
                "max_score": 0.0, "tests": {}, "limits": [], "tamper": [], "autograded": None,
                "error": f"the grader failed on this submission: {type(e).__name__}: {str(e)[:200]}"}


def autograde(course: str | os.PathLike, slug: str | None = None, *, workers: int | None = None,
              force: bool = False, limits: dict | None = None, use_sandbox: bool = True, threads: int | None = None,
              students: list[str] | None = None, stop_after_last_test: bool | None = None, echo=print) -> dict:
    """Grade what changed; return ``{"run_id", "graded", "skipped", "failed", "not_graded", "seconds"}``.

    ``stop_after_last_test`` (default: ``[grading] stop_after_last_test`` in cohort.toml, else False)
    skips the cells after the last test cell: they cannot change a score, and in the LLM notebooks
    they are the long training and evaluation runs. The autograded notebook then ends there."""
    cohort = Cohort.open(course, slug)
    slugs = [slug] if slug else cohort.assignments()
    try:
        limits = Limits.merged(cohort.limits(), limits)
    except ValueError as e:
        raise CohortError(f"{e} (in [limits] of cohort.toml or on the command line)") from None
    mode = "bwrap" if use_sandbox else "none"
    if use_sandbox and (problem := sandbox.problem()):
        raise CohortError(f"{problem}.\nOr pass --no-sandbox to grade without isolation (only for code you trust).")
    workers = max(1, workers or cores())
    threads = threads or max(1, cores() // workers)  # threads x workers <= cores: no oversubscription
    run_id = now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    if stop_after_last_test is None:
        stop_after_last_test = bool(cohort.config.get("grading", {}).get("stop_after_last_test", False))
    settings = {**asdict(limits), "mode": mode, "stop_after_last_test": stop_after_last_test}

    jobs, skipped, unsafe = [], 0, []
    for s in slugs:
        source = cohort.root / "source" / s / f"{s}.ipynb"
        release = cohort.root / "release" / s / f"{s}.ipynb"
        for student in students or cohort.students(s):
            if not SAFE_NAME.match(student):
                unsafe.append(ascii(student))
                continue
            folder = cohort.submission(student, s)
            if not folder.is_dir() or folder.is_symlink():
                raise CohortError(f"no submission of {s} by {student} in {folder.parent}: "
                                  "run `airoadmap cohort collect`")
            digest = submission_hash(folder, source, settings)
            old = cohort.result(s, student)
            if old and old.get("hash") == digest and old.get("status") != NOT_GRADED and not force:
                skipped += 1
                continue
            jobs.append({"student": student, "slug": s, "submitted": str(folder), "hash": digest,
                         "source": str(source), "release": str(release),
                         "scratch": str(cohort.state / "work" / run_id / f"{s}-{student}"),
                         "out": str(cohort.state / "work" / run_id / f"{s}-{student}.out"),
                         "limits": asdict(limits), "mode": mode, "threads": threads,
                         "stop_after_last_test": stop_after_last_test,
                         "expected": (old or {}).get("seconds") or _expected(cohort, s)})
    if unsafe:
        echo(f"  skipped submission folders with unusable names: {', '.join(unsafe)}")
    summary = {"run_id": run_id, "graded": 0, "skipped": skipped, "failed": [], "not_graded": {}, "seconds": 0.0}
    if jobs:
        assets = prepare_assets(sorted({j["slug"] for j in jobs}), echo)
        cache = str(_cache_dir())
        for job in jobs:
            job["assets"], job["cache"] = ([cache] if os.path.isdir(cache) else []), cache
        summary["assets"] = {k: {"seconds": v.get("seconds"), "bytes": v.get("bytes")} for k, v in assets.items()}
    jobs.sort(key=lambda j: -float(j["expected"] or 0))  # longest first: two workers finish together
    echo(f"run {run_id}: {len(jobs)} to grade, {skipped} unchanged; {min(workers, len(jobs) or 1)} worker(s) x "
         f"{threads} thread(s), sandbox {mode}, limits {limits.cell_timeout} s/cell, {limits.wall_clock} s/notebook, "
         f"{limits.memory_mb} MB, {limits.processes} processes")
    cohort.log({"event": "run", "run_id": run_id, "to_grade": len(jobs), "skipped": skipped, "workers": workers,
                **settings})

    def finish(job: dict, result: dict) -> None:
        try:
            result.update(hash=job["hash"] if result["status"] != NOT_GRADED else None, run_id=run_id,
                          graded_at=now().isoformat(timespec="seconds"))
            previous = cohort.result(job["slug"], job["student"])
            merge(cohort, result)
            cohort.save_result({k: v for k, v in result.items() if k != "autograded"})
        except Exception as e:  # noqa: BLE001 - e.g. a gradebook without this assignment: this one only
            result = {**result, "status": NOT_GRADED, "error": f"could not record the grade: {type(e).__name__}: {e}"}
            previous = None
        cohort.log({"event": "graded", "run_id": run_id, "student": job["student"], "slug": job["slug"],
                    "score": result["score"], "previous": previous["score"] if previous else None,
                    "status": result["status"], "hash": job["hash"], "error": result.get("error")})
        if result["status"] == NOT_GRADED:
            summary["not_graded"][f"{job['student']}/{job['slug']}"] = result["error"]
            echo(f"  {job['student']:<16} {job['slug']}: NOT GRADED ({result['error']})")
            return
        summary["graded"] += 1
        notes = "; ".join(result["limits"] + ([result["error"]] if result["error"] else []))
        echo(f"  {job['student']:<16} {job['slug']}: {result['score']:g}/{result['max_score']:g}"
             f" ({result.get('seconds', 0):.1f} s){'  ' + notes if notes else ''}")

    def crashed(job: dict, error: BaseException) -> None:  # the worker process itself died: a rerun may help
        summary["failed"].append(job["student"])
        message = f"the grading worker crashed ({type(error).__name__}: {error}); run the command again to retry"
        summary["not_graded"][f"{job['student']}/{job['slug']}"] = message
        cohort.log({"event": "not graded", "run_id": run_id, "student": job["student"], "slug": job["slug"],
                    "error": message})
        echo(f"  {job['student']:<16} {job['slug']}: NOT GRADED ({message})")

    started = time.perf_counter()
    interrupted = True
    try:
        if workers == 1 or len(jobs) <= 1:
            for job in jobs:
                finish(job, _grade_safely(job))
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(_grade_safely, job): job for job in jobs}
                try:
                    for future in as_completed(futures):
                        try:
                            result = future.result()
                        except (Exception, BrokenProcessPool) as e:
                            crashed(futures[future], e)
                        else:
                            finish(futures[future], result)
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        interrupted = False
    finally:
        shutil.rmtree(cohort.state / "work" / run_id, ignore_errors=True)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        cohort.log({"event": "run end", "run_id": run_id, "graded": summary["graded"],
                    "not_graded": sorted(summary["not_graded"]), "interrupted": interrupted,
                    "seconds": summary["seconds"]})
    return summary


def _expected(cohort: Cohort, slug: str) -> float:
    """Seconds a submission of ``slug`` took last time (any student), to grade the long ones first."""
    times = [r.get("seconds") or 0 for r in cohort.results(slug).values()]
    return max(times, default=0) or float(int(slug[:2]) if slug[:2].isdigit() else 0) / 100


def _cache_dir() -> Path:
    from ..cache import cache_dir
    return cache_dir()
