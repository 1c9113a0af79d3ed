"""A hostile cohort for module 01: one submission per way a student could attack the grader.

Every submission starts from the released notebook with the reference answers typed in
(``cohort_fixtures.answered``), then adds an attack. ``EXPECTED`` says what each must score: an
attack that also gives wrong answers must not earn their points; an attack on the grader's files
must leave them byte-identical (checked by the tests, not here). The honest student ``alice``
is graded in the same run and must keep 15/15.
"""
from __future__ import annotations

import json

from cohort_fixtures import NAIVE_CE, WRONG_FIT, answered, cell

# student -> (expected score, why). Max 15: fit_line 2, cross-entropy 3, MLP 2, loaders 3, epoch 3, evaluate 2.
EXPECTED = {
    "alice": (15, "honest, in the same run"),
    "links": (15, "correct; plants links to host files, the gradebook, the source, another submission"),
    "fifo": (15, "correct; leaves a FIFO, a symlink loop and a deep tree in its working folder"),
    "skiptags": (10, "wrong fit_line and cross-entropy; tags the test cells skip-execution"),
    "prerun": (10, "wrong fit_line and cross-entropy; a pre_run_cell hook prints a number before each test"),
    "transformer": (10, "wrong fit_line and cross-entropy; an input transformer empties the tests"),
    "postrun": (10, "wrong fit_line and cross-entropy; a post_run_cell hook erases each error"),
    "patched": (10, "wrong fit_line and cross-entropy; patches assert_close, torch.allclose, AssertionError"),
    "stripped": (15, "correct; every cell's nbgrader metadata removed"),
    "renamed": (15, "correct; every grade id renamed"),
    "baddict": (15, "correct; nbgrader metadata that is not a dict, tags that are not a list"),
    "bigprint": (15, "correct; prints 50 MB"),
    "leaker": (13, "fit_line raises with the source of the test that calls it"),
    "forker": (15, "correct; forks 300 sleeping children"),
    "points": (13, "wrong fit_line; its test cell says 100 points and is replaced by `assert True`"),
}

WRONG = {"fit_line": WRONG_FIT, "stable_cross_entropy": NAIVE_CE}
LINKS = '''
import os
for _name, _target in {targets!r}.items():
    try:
        os.symlink(_target, _name)
    except OSError as _e:
        print("LINK", _name, type(_e).__name__)
'''
ODD_FILES = '''
import os
os.mkfifo("fifo")
os.mkfifo("{slug}.ipynb")
os.symlink("loop_b", "loop_a"); os.symlink("loop_a", "loop_b")
_d = "deep"
for _ in range(60):
    _d = os.path.join(_d, "d")
os.makedirs(_d)
os.symlink("/", "deep/root")
os.chmod("deep", 0)
'''
PRE_RUN = '''
def _full_marks(info):
    get_ipython().displayhook(100)
get_ipython().events.register("pre_run_cell", _full_marks)
'''
TRANSFORMER = '''
def _no_tests(lines):
    return ["pass\\n"] if any("assert" in line or "HIDDEN" in line for line in lines) else lines
get_ipython().input_transformers_cleanup.append(_no_tests)
'''
POST_RUN = '''
def _no_errors(result):
    result.error_in_exec = None
get_ipython().events.register("post_run_cell", _no_errors)
'''
PATCHED = '''
import builtins, torch, airoadmap.checks
assert_close = lambda *a, **k: None
airoadmap.checks.assert_close = assert_close
torch.allclose = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
class _Never(Exception):
    pass
builtins.AssertionError = _Never
'''
LEAK = '''
def fit_line(x, y, lr=0.1, steps=200):
    source = " ".join(get_ipython().user_ns["In"][-1].split())
    raise ValueError(source[:600])
'''
BIG_PRINT = '\nprint("x" * 50_000_000)\n'
FORK = '''
import os, time
_kids, _why = [], "none"
try:
    for _ in range(300):
        _pid = os.fork()
        if _pid == 0:
            time.sleep(20)
            os._exit(0)
        _kids.append(_pid)
except OSError as _e:
    _why = type(_e).__name__
for _pid in _kids:
    os.kill(_pid, 9)
    os.waitpid(_pid, 0)
print("FORKS", len(_kids), _why)
'''


def submissions(release, slug: str, targets: dict[str, str]) -> dict[str, object]:
    """student -> notebook. ``targets``: link name -> host path (files the grader must never touch)."""
    wrong = dict(WRONG)
    subs = {
        "alice": answered(release),
        "links": answered(release, append={"fit_line": LINKS.format(targets=targets)}),
        "fifo": answered(release, append={"fit_line": ODD_FILES.format(slug=slug)}),
        "skiptags": answered(release, wrong),
        "prerun": answered(release, wrong, append={"MLP": PRE_RUN}),
        "transformer": answered(release, wrong, append={"MLP": TRANSFORMER}),
        "postrun": answered(release, wrong, append={"MLP": POST_RUN}),
        "patched": answered(release, wrong, append={"MLP": PATCHED}),
        "stripped": answered(release),
        "renamed": answered(release),
        "baddict": answered(release),
        "bigprint": answered(release, append={"fit_line": BIG_PRINT}),
        "leaker": answered(release, {"fit_line": LEAK}),
        "forker": answered(release, append={"fit_line": FORK}),
        "points": answered(release, {"fit_line": WRONG_FIT}),
    }
    for c in subs["skiptags"].cells:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade"):
            c.metadata["tags"] = ["skip-execution"]
    for c in subs["stripped"].cells:
        c.metadata.pop("nbgrader", None)
        c.metadata.pop("tags", None)
    for c in subs["renamed"].cells:
        if "nbgrader" in c.metadata:
            c.metadata["nbgrader"]["grade_id"] = "x-" + c.metadata["nbgrader"]["grade_id"]
    for i, c in enumerate(subs["baddict"].cells):
        c.metadata["nbgrader"] = ["not", "a", "dict"] if i % 2 else "nbgrader"
        c.metadata["tags"] = "skip-execution"
    test = cell(subs["points"], "test_fit_line")
    test.source = "assert True"
    test.metadata["nbgrader"]["points"] = 100
    return subs


def write_raw(nb) -> bytes:
    """Notebook bytes without nbformat's validation (some of these are not valid nbformat on purpose)."""
    return json.dumps(nb, indent=1).encode()
