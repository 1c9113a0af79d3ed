"""The grading contract, for every notebook in solutions/ (later notebooks get it for free).

One nbgrader course directory per notebook, in a temporary folder:
1. ``generate_assignment --force``: the release must equal the committed ``course/`` version;
2. autograde the solution notebook as a submission: full marks (this run is also the solution's
   execution under the cpu profile: its recorded metrics and thresholds are checked by it);
3. autograde the released student notebook as a submission: zero.
The executed solution and a small report are kept in ``build/test-executed/``.
"""
from __future__ import annotations

import json
import shutil
import time

import pytest

from airoadmap.execute import temporary_env
from airoadmap.grading import nbtools
from airoadmap.recording import read_records
from conftest import ROOT, SLUGS

pytestmark = pytest.mark.slow
BUILD = ROOT / "build" / "test-executed"


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    cache: dict[str, dict] = {}

    def grade(slug: str) -> dict:
        if slug in cache:
            return cache[slug]
        root = tmp_path_factory.mktemp(f"course-{slug}")
        release = nbtools.generate(root, slug, ROOT / "solutions")
        for student, src in (("solution", ROOT / "solutions" / slug), ("blank", release)):
            shutil.copytree(src, root / "submitted" / student / slug, ignore=nbtools.IGNORED)
        records = root / "metrics.jsonl"
        with temporary_env(AIROADMAP_RECORD=str(records), AIROADMAP_PROFILE="cpu", AIROADMAP_NOTEBOOK=slug):
            started = time.perf_counter()
            nbtools.autograde(root, slug, "solution")
            seconds = time.perf_counter() - started
            nbtools.autograde(root, slug, "blank")
        result = {"root": root, "release": release, "seconds": seconds, "metrics": read_records(records),
                  "solution": nbtools.scores(root, slug, "solution"), "blank": nbtools.scores(root, slug, "blank")}
        BUILD.mkdir(parents=True, exist_ok=True)
        executed = BUILD / f"{slug}.ipynb"
        executed.unlink(missing_ok=True)  # nbgrader makes autograded notebooks read-only
        shutil.copyfile(root / "autograded" / "solution" / slug / f"{slug}.ipynb", executed)
        (BUILD / f"{slug}.json").write_text(json.dumps(
            {"notebook": slug, "seconds": round(seconds, 1), "score": result["solution"]["score"],
             "max_score": result["solution"]["max_score"],
             "metrics": {m["name"]: m["value"] for m in result["metrics"]}}, indent=2))
        cache[slug] = result
        return result

    return grade


@pytest.mark.parametrize("slug", SLUGS)
def test_committed_student_version_matches_a_fresh_release(slug, graded):
    fresh = graded(slug)["release"] / f"{slug}.ipynb"
    committed = ROOT / "course" / slug / f"{slug}.ipynb"
    assert committed.exists(), f"course/{slug} is missing: run make release"
    assert nbtools.normalized(fresh) == nbtools.normalized(committed), \
        f"course/{slug} has drifted from solutions/{slug}: run make release and commit course/"
    extra = {p.name for p in graded(slug)["release"].iterdir()} ^ {p.name for p in committed.parent.iterdir()}
    assert not extra, f"files differ between the release and course/{slug}: {sorted(extra)}"


@pytest.mark.parametrize("slug", SLUGS)
def test_solution_scores_full_marks(slug, graded):
    result = graded(slug)["solution"]
    lost = {k: v for k, v in result["cells"].items() if v[0] != v[1]}
    assert result["max_score"] > 0
    assert result["score"] == result["max_score"], f"the solution lost points in {lost}"


@pytest.mark.parametrize("slug", SLUGS)
def test_solution_met_its_quality_thresholds(slug, graded):
    metrics = graded(slug)["metrics"]
    assert metrics, "the solution recorded no metrics (airoadmap.record)"
    missed = [m for m in metrics if not m["ok"]]
    assert not missed, f"missed thresholds: {missed}"


@pytest.mark.parametrize("slug", SLUGS)
def test_student_version_scores_zero(slug, graded):
    result = graded(slug)["blank"]
    scored = {k: v for k, v in result["cells"].items() if v[0]}
    assert result["score"] == 0, f"the unanswered student notebook earns points in {scored}: a test that cannot fail"
