"""Static checks of every notebook: structure, nbgrader metadata, profiles, Colab setup, no outputs.

These run in the fast tier; executing the notebooks is test_grading_contract.py's job.
"""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import pytest

from airoadmap.course import solution_path, student_path
from airoadmap.profiles import PROFILES, SIZES
from conftest import ROOT, SLUGS
from notebook_harness import is_solution, is_test, nbgrader_meta

sys.path.insert(0, str(ROOT / "scripts"))
from sync_notebooks import setup_cell_index, setup_cell_source  # noqa: E402


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


solution_nb, student_nb = solution_path, student_path


def test_there_are_notebooks():
    assert "01-pytorch-fundamentals" in SLUGS


def test_committed_notebooks_have_no_outputs():
    tracked = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    paths = [ROOT / p for p in tracked] or list(ROOT.glob("solutions/*/*.ipynb")) + list(ROOT.glob("course/*/*.ipynb"))
    dirty = [str(p.relative_to(ROOT)) for p in paths
             if any(c.get("outputs") or c.get("execution_count") for c in cells(p) if c["cell_type"] == "code")]
    assert not dirty, f"notebooks committed with outputs (clear them): {dirty}"


@pytest.mark.parametrize("slug", SLUGS)
def test_first_code_cell_is_the_parameters_cell(slug):
    code = [c for c in cells(solution_nb(slug)) if c["cell_type"] == "code"]
    first = code[0]
    assert "parameters" in first["metadata"].get("tags", []), "the first code cell must be tagged 'parameters'"
    assigned = {t.id: ast.literal_eval(n.value) for n in ast.parse(source(first)).body
                if isinstance(n, ast.Assign) for t in n.targets}
    assert assigned.get("profile") == "auto", "the parameters cell must set profile = \"auto\""


@pytest.mark.parametrize("slug", SLUGS)
def test_setup_cell_installs_the_course_on_colab_and_never_torch(slug):
    nb = json.loads(solution_nb(slug).read_text())
    i = setup_cell_index(nb)
    assert i is not None, "no Colab setup cell (a code cell tagged 'setup' that checks google.colab)"
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells[1] is nb["cells"][i], "the Colab setup cell comes right after the parameters cell"
    text = source(nb["cells"][i])
    assert text == setup_cell_source(), "setup cell is out of date: run scripts/sync_notebooks.py"
    assert not re.search(r"install[^\n]*['\"]torch(vision)?['\"=<> ]", text), "the setup cell must never install torch"
    assert "-c" in text and "torch=={torch.__version__}" in text, "Colab's torch must be pinned as a constraint"


@pytest.mark.parametrize("slug", SLUGS)
def test_notebook_uses_its_profile_table(slug):
    text = "\n".join(source(c) for c in cells(solution_nb(slug)))
    assert f'airoadmap.start("{slug}"' in text, "call airoadmap.start with the notebook's slug"
    assert slug in SIZES, f"add {slug} to airoadmap.profiles.SIZES"
    assert set(SIZES[slug]) == set(PROFILES)
    assert set(SIZES[slug]["cpu"]) == set(SIZES[slug]["gpu"]), "cpu and gpu profiles must set the same knobs"
    assert "airoadmap.record(" in text, "record at least one metric with a threshold"


@pytest.mark.parametrize("slug", SLUGS)
def test_nbgrader_metadata_is_consistent(slug):
    nb_cells = cells(solution_nb(slug))
    graded = [c for c in nb_cells if nbgrader_meta(c)]
    ids = [nbgrader_meta(c)["grade_id"] for c in graded]
    assert len(ids) == len(set(ids)), f"duplicate grade ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    for c in graded:
        meta = nbgrader_meta(c)
        if is_test(c):
            assert meta.get("points", 0) > 0, f"{meta['grade_id']} has no points"
            assert meta.get("locked"), f"{meta['grade_id']} should be read-only"
            assert "### BEGIN HIDDEN TESTS" in source(c) and "### END HIDDEN TESTS" in source(c), \
                f"{meta['grade_id']} has no hidden tests"
            assert source(c).lstrip().startswith('"""Check'), f"{meta['grade_id']} should open with a \"\"\"Check ...\"\"\" docstring"
        if is_solution(c):
            assert source(c).count("### BEGIN SOLUTION") == source(c).count("### END SOLUTION") >= 1


@pytest.mark.parametrize("slug", SLUGS)
def test_every_solution_region_is_followed_by_a_test(slug):
    pending = None
    for c in cells(solution_nb(slug)):
        if is_solution(c):
            assert pending is None, f"solution {pending} has no test cell before the next exercise"
            pending = nbgrader_meta(c)["grade_id"]
        elif is_test(c):
            pending = None
    assert pending is None, f"solution {pending} has no test cell"


@pytest.mark.parametrize("slug", SLUGS)
def test_student_version_exists_without_answers(slug):
    path = student_nb(slug)
    assert path.exists(), f"course/{slug} missing: run make release"
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert "raise NotImplementedError()" in text


@pytest.mark.parametrize("slug", SLUGS)
def test_gpu_profile_resolves_with_valid_parameters(slug, monkeypatch):
    from airoadmap.profiles import resolve_profile, sizes
    monkeypatch.setenv("AIROADMAP_PROFILE", "gpu")
    profile, reason = resolve_profile("auto")
    assert profile == "gpu" and "AIROADMAP_PROFILE" in reason
    gpu, cpu = sizes(slug, "gpu"), sizes(slug, "cpu")
    for key, value in gpu.items():
        assert type(value) is type(cpu[key]), f"{key}: gpu {value!r} and cpu {cpu[key]!r} differ in type"
        if isinstance(value, (int, float)) and not key.startswith(("min_", "max_")) and key not in ("lr",):
            assert value > 0
