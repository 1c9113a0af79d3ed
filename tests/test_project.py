"""The project's own definition: dependencies declared once, the two commands, CI, the GPU path."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

from conftest import ROOT, SLUGS

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


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
    for req in declared:
        name = re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is declared in pyproject.toml but not pinned in constraints/ci.txt"
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
    out = subprocess.run([sys.executable, "-m", "airoadmap.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for verb in ("lab", "release", "solutions", "assets"):
        assert verb in out.stdout


def test_every_notebook_is_in_the_readme_table():
    subprocess.run([sys.executable, str(ROOT / "scripts/sync_notebooks.py"), "--check"], check=True)
    readme = (ROOT / "README.md").read_text()
    for slug in SLUGS:
        assert f"course/{slug}/{slug}.ipynb" in readme
