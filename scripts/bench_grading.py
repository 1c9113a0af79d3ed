"""Benchmark cohort autograding: one worker against N, on a cohort of correct module-01 submissions.

    .venv/bin/python scripts/bench_grading.py                      # 6 students, 1 vs all cores
    .venv/bin/python scripts/bench_grading.py --students 12 --workers 4 --no-sandbox

Runs 1 worker with every core's threads, 1 worker with 1 thread, then N workers with cores // N
threads each; prints seconds per submission and the speed-up; the results must be identical.
Run it on a quiet machine: other processes on the same cores distort both figures.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from airoadmap.grading import autograde as ag
from airoadmap.grading import collect, sandbox
from airoadmap.grading.cohort import Cohort
from airoadmap.grading.handout import release
from airoadmap.tooling.course import solution_path

SLUG = "01-pytorch-fundamentals"


def answered(release_nb: Path):
    """The released notebook with the reference answers typed in, as a good student would."""
    solution = nbformat.read(solution_path(SLUG), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: "\n".join(
        line for line in c.source.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
        for c in solution.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    nb = nbformat.read(release_nb, as_version=4)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            cell.source = answers[meta["grade_id"]]
    return nb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6, help="submissions in the cohort")
    parser.add_argument("--workers", type=int, default=ag.cores(), help="workers of the parallel run")
    parser.add_argument("--no-sandbox", action="store_true", help="grade without bubblewrap")
    args = parser.parse_args()
    use_sandbox = not args.no_sandbox and sandbox.problem() is None
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = Path(tmp) / "cohort"
        release(base, [SLUG], echo=lambda *a: None)
        download = Path(tmp) / "download"
        download.mkdir()
        nb = nbformat.writes(answered(base / "release" / SLUG / f"{SLUG}.ipynb"))
        for i in range(args.students):
            (download / f"student{i:02d}_{SLUG}.ipynb").write_text(nb)
        collect.collect(base, [download], echo=lambda *a: None)
        ag.template(Cohort(base), SLUG)  # build the template once, outside the timings
        timings, results = {}, {}
        runs = [(1, ag.cores()), (1, 1), (args.workers, max(1, ag.cores() // args.workers))]
        for workers, threads in runs:
            root = Path(tmp) / f"w{workers}t{threads}"
            shutil.copytree(base, root)
            started = time.perf_counter()
            ag.autograde(root, SLUG, workers=workers, threads=threads, use_sandbox=use_sandbox, echo=lambda *a: None)
            timings[workers, threads] = time.perf_counter() - started
            results[workers, threads] = {s: {k: v for k, v in r.items() if k not in ag.VOLATILE}
                                         for s, r in Cohort(root).results(SLUG).items()}
    print(f"{args.students} submissions of {SLUG}, sandbox {'bwrap' if use_sandbox else 'none'}, {ag.cores()} cores")
    for (workers, threads), seconds in timings.items():
        print(f"  {workers} worker(s) x {threads} thread(s): {seconds:6.1f} s in all, "
              f"{seconds / args.students:5.1f} s per submission")
    first, last = runs[0], runs[-1]
    print(f"  speed-up {timings[first] / timings[last]:.2f}x; results identical: "
          f"{all(r == results[first] for r in results.values())}")


if __name__ == "__main__":
    main()
