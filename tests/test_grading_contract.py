"""The grading contract, for every notebook in solutions/, through the path instructors use.

One cohort holds every assignment (``airoadmap cohort release``) and two students per assignment:
``solution``, the released notebook with the reference answers typed in, and ``blank``, the
released notebook as handed out. ``airoadmap cohort autograde`` grades them as an instructor
would: sandbox (where bubblewrap works), limits, 2 workers x 1 thread, the assets prepared before
the first kernel and read-only inside it; the solutions are run whole, the blank versions only up
to their last test (``--stop-after-last-test``: the rest cannot change a score). Then, per notebook:

1. the release equals the committed ``course/`` version;
2. the solution scores full marks, with no tamper flag and every recorded quality threshold met
   (this run is also each solution's execution under the cpu profile);
3. the released student version scores zero.

The executed solutions and a report (seconds, score, metrics) are kept in ``build/test-executed/``.
"""
from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from airoadmap.grading import autograde as ag
from airoadmap.grading import nbtools, sandbox
from airoadmap.grading.cohort import Cohort
from airoadmap.grading.handout import release
from cohort_fixtures import answered
from conftest import ROOT, SLUGS

pytestmark = pytest.mark.slow
BUILD = ROOT / "build" / "test-executed"
WORKERS, THREADS = 2, 1


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("contract") / "cohort"
    release(root, SLUGS, echo=lambda *a: None)
    for slug in SLUGS:
        released = root / "release" / slug / f"{slug}.ipynb"
        for student, nb in (("solution", answered(released)), ("blank", nbformat.read(released, as_version=4))):
            folder = root / "submitted" / student / slug
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{slug}.ipynb")
    # solutions run whole (their quality thresholds are checked); blanks only up to their last test
    use = sandbox.problem() is None
    summary = ag.autograde(root, workers=WORKERS, threads=THREADS, use_sandbox=use, students=["solution"], echo=print)
    blanks = ag.autograde(root, workers=WORKERS, threads=THREADS, use_sandbox=use, students=["blank"],
                          stop_after_last_test=True, echo=print)
    summary = {**summary, "seconds": summary["seconds"] + blanks["seconds"],
               "not_graded": {**summary["not_graded"], **blanks["not_graded"]}}
    results = {slug: Cohort(root).results(slug) for slug in SLUGS}
    BUILD.mkdir(parents=True, exist_ok=True)
    report = {}
    for slug in SLUGS:
        solution = results[slug].get("solution", {})
        executed = root / "autograded" / "solution" / slug / f"{slug}.ipynb"
        if executed.exists():
            (BUILD / f"{slug}.ipynb").unlink(missing_ok=True)
            shutil.copyfile(executed, BUILD / f"{slug}.ipynb")
        report[slug] = {"seconds": solution.get("seconds"),
                        "blank_seconds": results[slug].get("blank", {}).get("seconds"),
                        "score": solution.get("score"), "max_score": solution.get("max_score"),
                        "metrics": {m["name"]: m["value"] for m in solution.get("metrics", [])}}
    (BUILD / "contract.json").write_text(json.dumps({"workers": WORKERS, "threads": THREADS,
                                                     "seconds": summary["seconds"],
                                                     "assets": summary.get("assets"), "notebooks": report}, indent=1))
    return {"root": root, "summary": summary, "results": results}


@pytest.mark.parametrize("slug", SLUGS)
def test_committed_student_version_matches_a_fresh_release(slug, graded):
    fresh = graded["root"] / "release" / slug / f"{slug}.ipynb"
    committed = ROOT / "course" / slug / f"{slug}.ipynb"
    assert committed.exists(), f"course/{slug} is missing: run make release"
    assert nbtools.normalized(fresh) == nbtools.normalized(committed), \
        f"course/{slug} has drifted from solutions/{slug}: run make release and commit course/"
    extra = {p.name for p in fresh.parent.iterdir()} ^ {p.name for p in committed.parent.iterdir()}
    assert not extra, f"expected the same files in the release and course/{slug}, these differ: {sorted(extra)}"


@pytest.mark.parametrize("slug", SLUGS)
def test_solution_scores_full_marks(slug, graded):
    result = graded["results"][slug].get("solution")
    assert result is not None, f"expected the solution graded, got NOT GRADED: {graded['summary']['not_graded']}"
    lost = {k: v["message"] for k, v in result["tests"].items() if not v["passed"]}
    assert result["max_score"] > 0, "expected graded test cells with points"
    assert result["status"] == "graded" and result["score"] == result["max_score"], \
        f"expected full marks, the solution lost points in {lost} ({result['status']}: {result['error']}; " \
        f"limits: {result['limits']})"
    assert result["tamper"] == [], f"expected no tamper flag on the reference answers, got {result['tamper']}"


@pytest.mark.parametrize("slug", SLUGS)
def test_solution_met_its_quality_thresholds(slug, graded):
    metrics = graded["results"][slug].get("solution", {}).get("metrics", [])
    assert metrics, "expected the solution to record its metrics (airoadmap.record)"
    missed = [m for m in metrics if not m["ok"]]
    assert not missed, f"expected every recorded threshold met, missed: {missed}"


@pytest.mark.parametrize("slug", SLUGS)
def test_student_version_scores_zero(slug, graded):
    result = graded["results"][slug].get("blank")
    assert result is not None and result["status"] == "graded", \
        f"expected the blank notebook graded, got {graded['summary']['not_graded']}"
    scored = {k: v["score"] for k, v in result["tests"].items() if v["score"]}
    assert result["score"] == 0, f"the unanswered student notebook earns points in {scored}: a test that cannot fail"


def test_nothing_was_left_ungraded(graded):
    assert graded["summary"]["not_graded"] == {}, f"expected every submission graded: {graded['summary']['not_graded']}"
