"""``airoadmap progress``: a learner's own self-check, offline and bounded."""
from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from click.testing import CliRunner

from airoadmap.tooling import progress
from airoadmap.tooling.cli import main
from cohort_fixtures import NAIVE_CE, SLUG, answered
from conftest import ROOT, SLUGS


def learner_checkout(tmp_path, slugs):
    """A copy of the released notebooks, as a learner gets them (no git: stubs are recognised as such)."""
    for slug in slugs:
        shutil.copytree(ROOT / "course" / slug, tmp_path / "course" / slug)
    return tmp_path


def test_a_fresh_clone_is_not_started_and_runs_no_kernel(tmp_path, monkeypatch):
    root = learner_checkout(tmp_path, SLUGS)
    monkeypatch.setattr("nbclient.NotebookClient.execute", lambda self: pytest.fail("expected no kernel started"))
    results = progress.progress(SLUGS, root=root)
    assert all(e.status == "not started" for nb in results for e in nb.exercises), "expected every exercise not started"
    assert all(nb.exercises for nb in results), "expected every notebook to list its exercises"
    text = progress.table(results)
    assert f"Next: Do {results[0].exercises[0].name} in course/{SLUGS[0]}" in text, text


@pytest.mark.slow
def test_a_half_done_learner_sees_what_passes_and_what_to_fix_next(tmp_path):
    root = learner_checkout(tmp_path, [SLUG])
    path = root / "course" / SLUG / f"{SLUG}.ipynb"
    nb = answered(path, {"stable_cross_entropy": NAIVE_CE})
    for cell in nb.cells:   # only the first three exercises answered
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in ("make_dataloaders", "train_one_epoch", "evaluate"):
            cell.source = nbformat.read(ROOT / "course" / SLUG / f"{SLUG}.ipynb", as_version=4).cells[
                [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells].index(gid)].source
    nbformat.write(nb, path)
    [result] = progress.progress([SLUG], root=root, timeout=120)
    status = {e.name: e.status for e in result.exercises}
    later = {"make_dataloaders": "not started", "train_one_epoch": "not started", "evaluate": "not started"}
    assert status == {"fit_line": "passed", "stable_cross_entropy": "failed", "MLP": "passed", **later}, status
    failed = next(e for e in result.exercises if e.name == "stable_cross_entropy")
    assert failed.message, "expected the failing test's message"
    text = progress.table([result])
    assert "2/6" in text and "Next: Fix stable_cross_entropy" in text, text
    assert json.loads(json.dumps(progress.as_json([result])))[0]["passed"] == 2


def test_cli_prints_the_table_or_json(tmp_path, monkeypatch):
    root = learner_checkout(tmp_path, SLUGS[:2])
    monkeypatch.setattr(progress, "repo_root", lambda: root)
    monkeypatch.setattr(progress, "notebook_slugs", lambda r: SLUGS[:2])
    out = CliRunner().invoke(main, ["progress"])
    assert out.exit_code == 0 and "not started" in out.output and "Next:" in out.output, out.output
    data = json.loads(CliRunner().invoke(main, ["progress", "--json"]).output)
    assert [d["slug"] for d in data] == SLUGS[:2] and all(d["passed"] == 0 for d in data), data
