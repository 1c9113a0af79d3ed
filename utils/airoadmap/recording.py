"""Record a notebook's key metrics and fail the run when one misses its threshold.

``record("test_accuracy", 0.94, at_least=0.90)`` prints one line, appends the metric to the file
named by ``AIROADMAP_RECORD`` (JSON lines; set by ``airoadmap solutions`` and the tests) and raises
:class:`QualityError` when the value is on the wrong side of its threshold, so a notebook that ran
but learned nothing fails like any other error.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

ENV_VAR = "AIROADMAP_RECORD"
_recorded: list[dict] = []


class QualityError(AssertionError):
    """A recorded metric missed its stated threshold."""


def record(name: str, value: float, *, at_least: float | None = None, at_most: float | None = None,
           notebook: str | None = None) -> float:
    value = float(value)
    ok = math.isfinite(value)
    if at_least is not None:
        ok = ok and value >= at_least
    if at_most is not None:
        ok = ok and value <= at_most
    bounds = []
    if at_least is not None:
        bounds.append(f">= {at_least:g}")
    if at_most is not None:
        bounds.append(f"<= {at_most:g}")
    entry = {"notebook": notebook or os.environ.get("AIROADMAP_NOTEBOOK", ""), "name": name, "value": value,
             "at_least": at_least, "at_most": at_most, "ok": ok, "time": time.time()}
    _recorded.append(entry)
    path = os.environ.get(ENV_VAR)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
    mark = "ok" if ok else "MISSED"
    _show(f"[{mark}] {name} = {value:.4g}" + (f"  (threshold {' and '.join(bounds)})" if bounds else ""), entry)
    if not ok:
        raise QualityError(f"{name} = {value:.4g} missed its threshold {' and '.join(bounds)}. "
                           "The code ran but the result is not good enough: check the exercises above.")
    return value


MIME = "application/vnd.airoadmap.metric+json"  # how the grader and the tests read a kernel's metrics


def _show(line: str, entry: dict) -> None:
    """Print ``line``; in a Jupyter kernel, as a display whose JSON part carries the metric itself."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None and hasattr(get_ipython(), "kernel"):
        metric = {k: entry[k] for k in ("name", "value", "at_least", "at_most", "ok")}
        metric["value"] = metric["value"] if math.isfinite(metric["value"]) else None  # JSON has no NaN
        display({"text/plain": line, MIME: metric}, raw=True)
    else:
        print(line)


def recorded() -> list[dict]:
    """The metrics recorded in this process, in order."""
    return list(_recorded)


def read_records(path: str | os.PathLike) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
