"""Benchmark cohort autograding on a light and a heavy notebook: serial against parallel workers.

    .venv/bin/python scripts/bench_grading.py                                  # 01 and 07, 4 students each
    .venv/bin/python scripts/bench_grading.py --notebooks 01-pytorch-fundamentals --students 6
    .venv/bin/python scripts/bench_grading.py --notebooks 11-dpo --students 2 --workers 2

For each notebook, a cohort of correct submissions (the released notebook with the reference
answers typed in) is graded through ``airoadmap cohort autograde`` twice: 1 worker x 1 thread, then
N workers x cores // N threads. Reported per run: seconds per submission, the peak memory of one
grading kernel (its VmHWM), the peak disk a submission's scratch folder held plus the autograded
notebook kept, and whether every result is identical and full marks. Run it on a quiet machine:
other processes on the same cores distort every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from airoadmap.grading import autograde as ag  # noqa: E402
from airoadmap.grading import sandbox  # noqa: E402
from airoadmap.grading.cohort import Cohort  # noqa: E402
from airoadmap.grading.handout import release  # noqa: E402
from cohort_fixtures import answered  # noqa: E402


class Sampler(threading.Thread):
    """Polls the grading kernels' peak memory and the scratch folders' size every half second."""

    def __init__(self, work: Path):
        super().__init__(daemon=True)
        self.work, self.stop, self.peak_kb, self.peak_disk = work, threading.Event(), 0, 0

    def run(self):
        while not self.stop.is_set():
            for pid in os.listdir("/proc"):
                try:
                    if b"grading/kernel.py" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                        continue
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            if self.work.is_dir():
                for folder in self.work.glob("*/*"):
                    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
                    self.peak_disk = max(self.peak_disk, size)
            time.sleep(0.5)


def grade(base: Path, name: str, slug: str, workers: int, threads: int, use_sandbox: bool) -> dict:
    root = base.parent / name
    shutil.copytree(base, root)
    sampler = Sampler(root / ".grading" / "work")
    sampler.start()
    started = time.perf_counter()
    summary = ag.autograde(root, slug, workers=workers, threads=threads, use_sandbox=use_sandbox,
                           echo=lambda *a: None)
    seconds = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    results = Cohort(root).results(slug)
    kept = [p.stat().st_size for p in (root / "autograded").rglob("*.ipynb")]
    return {"workers": workers, "threads": threads, "seconds": seconds, "per_submission": seconds / len(results),
            "peak_kernel_mb": sampler.peak_kb / 1024, "peak_scratch_mb": sampler.peak_disk / 1e6,
            "autograded_mb": max(kept, default=0) / 1e6, "not_graded": summary["not_graded"],
            "full_marks": all(r["score"] == r["max_score"] > 0 for r in results.values()),
            "results": {s: {k: v for k, v in r.items() if k not in (*ag.VOLATILE, "seconds")}
                        for s, r in results.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", nargs="+", default=["01-pytorch-fundamentals", "07-sft-with-trl"])
    parser.add_argument("--students", type=int, default=4, help="submissions per notebook")
    parser.add_argument("--workers", type=int, default=ag.cores(), help="workers of the parallel run")
    parser.add_argument("--no-sandbox", action="store_true", help="grade without bubblewrap")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    use_sandbox = not args.no_sandbox and sandbox.problem() is None
    table = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        for slug in args.notebooks:
            base = Path(tmp) / slug / "cohort"
            release(base, [slug], echo=lambda *a: None)
            nb = answered(base / "release" / slug / f"{slug}.ipynb")
            for i in range(args.students):
                folder = base / "submitted" / f"student{i:02d}" / slug
                folder.mkdir(parents=True)
                nbformat.write(nb, folder / f"{slug}.ipynb")
            ag.prepare_assets([slug], echo=print)  # once, outside the timings
            runs = [grade(base, "serial", slug, 1, 1, use_sandbox),
                    grade(base, "parallel", slug, args.workers, max(1, ag.cores() // args.workers), use_sandbox)]
            same = runs[0]["results"] == runs[1]["results"]
            for r in runs:
                table.append({"notebook": slug, **{k: v for k, v in r.items() if k != "results"}, "identical": same})
    print(f"{args.students} correct submissions per notebook, sandbox {'bwrap' if use_sandbox else 'none'}, "
          f"{ag.cores()} cores")
    print("| notebook | workers x threads | s per submission | peak kernel memory | peak scratch disk | "
          "autograded notebook | full marks, identical |")
    print("|---|---|---:|---:|---:|---:|---|")
    for r in table:
        print(f"| {r['notebook']} | {r['workers']} x {r['threads']} | {r['per_submission']:.1f} | "
              f"{r['peak_kernel_mb']:.0f} MB | {r['peak_scratch_mb']:.1f} MB | {r['autograded_mb']:.2f} MB | "
              f"{'yes' if r['full_marks'] and not r['not_graded'] else 'NO'}, {'yes' if r['identical'] else 'NO'} |")
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
