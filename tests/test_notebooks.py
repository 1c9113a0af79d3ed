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

from airoadmap.settings import PROFILES, SIZES
from airoadmap.tooling.course import solution_path, student_path
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
    assert "-c\", \"/tmp/airoadmap-keep.txt" in text and "constraints/colab.txt" in text, \
        "expected Colab's own packages and the CI versions both given to pip as constraints"


@pytest.mark.parametrize("slug", SLUGS)
def test_notebook_uses_its_profile_table(slug):
    text = "\n".join(source(c) for c in cells(solution_nb(slug)))
    assert f'airoadmap.start("{slug}"' in text, "call airoadmap.start with the notebook's slug"
    assert slug in SIZES, f"add {slug} to airoadmap.settings.SIZES"
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
            assert source(c).lstrip().startswith('"""Check'), \
                f"{meta['grade_id']} should open with a \"\"\"Check ...\"\"\" docstring"
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
    from airoadmap.settings import resolve_profile, sizes
    monkeypatch.setenv("AIROADMAP_PROFILE", "gpu")
    profile, reason = resolve_profile("auto")
    assert profile == "gpu" and "AIROADMAP_PROFILE" in reason
    gpu, cpu = sizes(slug, "gpu"), sizes(slug, "cpu")
    for key, value in gpu.items():
        assert type(value) is type(cpu[key]), f"{key}: gpu {value!r} and cpu {cpu[key]!r} differ in type"
        if isinstance(value, (int, float)) and not key.startswith(("min_", "max_")) and key not in ("lr",):
            assert value > 0


SETUP_META = {"grade": False, "solution": False, "locked": True, "schema_version": 3}


@pytest.mark.parametrize("slug", SLUGS)
def test_setup_cells_are_locked_and_parameters_stay_open(slug):
    """The grader restores locked cells from the source: a learner cannot edit the setup away."""
    nb_cells = cells(solution_nb(slug))
    setup = [c for c in nb_cells if c["cell_type"] == "code" and "setup" in c["metadata"].get("tags", [])]
    assert setup, "no setup cells"
    ids = [nbgrader_meta(c).get("grade_id") for c in setup]
    assert ids == ["setup"] + [f"setup_{i}" for i in range(2, len(setup) + 1)], ids
    for cell in setup:
        meta = {k: v for k, v in nbgrader_meta(cell).items() if k != "grade_id"}
        assert meta == SETUP_META, f"setup cell {nbgrader_meta(cell).get('grade_id')} is not a locked cell: {meta}"
    parameters = next(c for c in nb_cells if "parameters" in c["metadata"].get("tags", []))
    assert not nbgrader_meta(parameters), "the parameters cell stays editable (papermill writes into it)"


@pytest.mark.parametrize("slug", SLUGS)
def test_notebooks_take_device_dtype_and_sizes_from_start(slug):
    nb = json.loads(solution_nb(slug).read_text())
    colab = setup_cell_index(nb)
    code = "\n".join(source(c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and i != colab)
    for probe in ("cuda.is_available", "is_bf16_supported", "get_device_capability", "airoadmap.chat"):
        assert probe not in code, f"{probe}: read cfg.device / cfg.dtype / cfg.bf16 / cfg.fp16 from airoadmap.start"
    stale = re.findall(r"airoadmap\.\w+\.\w+\([^()]*cfg\.profile", code)
    assert not stale, f"loaders take the settings (cfg), not cfg.profile: {stale}"


def test_notebooks_on_07s_adapter_name_no_model_of_their_own():
    """08, 11, 12 and the deployment modules start from 07's model (airoadmap.adapters.TriageSFTRecipe.model):
    a model of their own in SIZES could silently disagree with it."""
    users = [slug for slug in SLUGS if "load_triage_sft(" in solution_nb(slug).read_text()]
    assert {"08-when-to-fine-tune", "11-dpo", "12-grpo"} <= set(users), f"expected 08, 11 and 12 among {users}"
    for slug in users:
        for profile in PROFILES:
            assert "model" not in SIZES[slug][profile], f"{slug} ({profile}) names its own model"


@pytest.mark.parametrize("slug", SLUGS)
def test_the_package_names_a_notebook_uses_exist(slug):
    """``airoadmap.<module>.<name>`` and ``from airoadmap.<module> import <name>`` in any code cell."""
    import importlib

    code = "\n".join(source(c) for c in cells(solution_nb(slug)) if c["cell_type"] == "code")
    used = set(re.findall(r"\bairoadmap\.(\w+)\.(\w+)", code))
    for module, names in re.findall(r"^\s*from airoadmap\.(\w+) import ([\w, ]+)", code, flags=re.M):
        used |= {(module, n.split(" as ")[0].strip()) for n in names.split(",")}
    missing = [f"airoadmap.{m}.{n}" for m, n in sorted(used)
               if not hasattr(importlib.import_module(f"airoadmap.{m}"), n)]
    assert not missing, f"the notebook uses names the package does not have: {missing}"


@pytest.mark.parametrize("slug", SLUGS)
def test_student_notebook_keeps_the_course_rhythm(slug):
    """LLMs-from-scratch's rhythm: small code cells, a note on what to look at between them."""
    nb = json.loads(student_path(slug, ROOT).read_text())
    kinds = [c["cell_type"] for c in nb["cells"]]
    code = [source(c) for c in nb["cells"] if c["cell_type"] == "code"]
    long_cells = [s.splitlines()[0][:60] for s in code if len(s.splitlines()) > 25]
    assert not long_cells, f"code cells over 25 lines (split them, with a note between): {long_cells}"
    ratio = kinds.count("markdown") / len(code)
    assert ratio >= 0.9, f"{ratio:.2f} markdown cells per code cell: expected about one (what to look at)"
    runs = "".join("c" if k == "code" else "m" for k in kinds)
    assert "ccc" not in runs, "three code cells in a row: say what to look at between them"

@pytest.mark.parametrize("slug", SLUGS)
def test_every_assert_in_a_test_cell_says_what_was_expected(slug):
    """A bare assert shows the learner (and the feedback page) only 'AssertionError'."""
    bare = []
    for c in cells(solution_nb(slug)):
        if is_test(c):
            tree = ast.parse(source(c))
            bare += [ast.unparse(n)[:80] for n in ast.walk(tree) if isinstance(n, ast.Assert) and n.msg is None]
    assert not bare, f"asserts without a message in {slug}'s test cells: {bare}"
