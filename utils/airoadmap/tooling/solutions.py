"""``airoadmap solutions``: execute every solution notebook with papermill and report.

Executed copies go to ``build/solutions/`` (ignored by git), never over ``solutions/``: papermill
injects a parameters cell that must not be released to students. Each notebook's recorded
metrics (see :mod:`airoadmap.recording`) come back through a JSON-lines file; the report lists
notebook, status, seconds and metrics as Markdown and JSON. A notebook that ran but missed a
threshold raises :class:`~airoadmap.recording.QualityError` in its own run and counts as failed.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path

from ..recording import read_records
from .course import notebook_slugs, repo_root, solution_path


@contextlib.contextmanager
def temporary_env(**values: str):
    """Set environment variables for the kernels started inside the block, then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_notebook(slug: str, profile: str, out_dir: Path, root: Path, timeout: int = 1800) -> dict:
    import papermill as pm

    work = out_dir / "work" / slug
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(solution_path(slug, root).parent, work,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    records = out_dir / f"{slug}.metrics.jsonl"
    records.unlink(missing_ok=True)
    started = time.perf_counter()
    status, error = "ok", None
    try:
        with temporary_env(AIROADMAP_RECORD=str(records), AIROADMAP_NOTEBOOK=slug):
            pm.execute_notebook(str(work / f"{slug}.ipynb"), str(out_dir / f"{slug}.ipynb"),
                                parameters={"profile": profile}, cwd=str(work), kernel_name="python3",
                                progress_bar=False, execution_timeout=timeout)
    except Exception as exc:  # papermill wraps the cell's error; keep its last line
        status = "failed"
        error = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else type(exc).__name__
    seconds = time.perf_counter() - started
    metrics = read_records(records)
    if any(not m["ok"] for m in metrics):
        status = "failed"
    return {"notebook": slug, "profile": profile, "status": status, "seconds": round(seconds, 1),
            "error": error, "metrics": {m["name"]: m["value"] for m in metrics},
            "thresholds": {m["name"]: {"at_least": m["at_least"], "at_most": m["at_most"], "ok": m["ok"]}
                           for m in metrics}}


def write_report(results: list[dict], out_dir: Path) -> Path:
    (out_dir / "report.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = ["| notebook | profile | status | seconds | metrics |", "|---|---|---|---:|---|"]
    for r in results:
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in r["metrics"].items()) or "-"
        status = r["status"] + (f" ({r['error']})" if r["error"] else "")
        lines.append(f"| {r['notebook']} | {r['profile']} | {status} | {r['seconds']} | {metrics} |")
    total = sum(r["seconds"] for r in results)
    lines.append(f"\nTotal: {total:.0f} s for {len(results)} notebook(s).")
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_all(profile: str = "cpu", slugs: list[str] | None = None, out_dir: Path | None = None) -> list[dict]:
    root = repo_root()
    out_dir = out_dir or root / "build" / "solutions"
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for slug in slugs or notebook_slugs(root):
        print(f"running {slug} (profile {profile}) ...", flush=True)
        result = run_notebook(slug, profile, out_dir, root)
        print(f"  {result['status']} in {result['seconds']} s  {result['metrics']}"
              + (f"\n  error: {result['error']}" if result["error"] else ""), flush=True)
        results.append(result)
    report = write_report(results, out_dir)
    print(f"report: {report}")
    return results
