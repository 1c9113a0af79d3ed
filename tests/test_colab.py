"""Colab's setup cell: installs only what a learner needs, at CI's versions, and leaves Colab's torch
and its kernel's packages alone. Run here with a fake ``google.colab`` and a recording ``pip``."""
from __future__ import annotations

import importlib.metadata as md
import subprocess
import sys
import types

import pytest
import torch  # noqa: F401  (imported before metadata is faked: the cell imports it)

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import sync_notebooks  # noqa: E402

KERNEL = {"ipykernel", "ipython", "jupyter-client", "jupyter-core", "tornado", "pyzmq", "traitlets"}


def run_setup_cell(monkeypatch, tmp_path, upgraded: dict[str, str]):
    """Execute the generated setup cell as Colab would; ``upgraded`` is what pip 'installs'."""
    calls = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    real = {sync_notebooks.re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d for d in md.distributions()}
    modules = md.packages_distributions()
    monkeypatch.setattr(md, "packages_distributions", lambda: modules)

    def fake_run(cmd, check=False, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)

    state = {"after": False}

    def fake_distributions():
        for name, dist in real.items():
            version = upgraded.get(name, dist.version) if state["after"] else dist.version
            yield types.SimpleNamespace(metadata={"Name": name}, version=version)

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: (state.__setitem__("after", True), fake_run(*a, **k))[1])
    monkeypatch.setattr(md, "distributions", fake_distributions)
    keep_file = tmp_path / "keep.txt"
    source = sync_notebooks.setup_cell_source().replace("/tmp/airoadmap-keep.txt", str(keep_file))
    exec(compile(source, "<setup cell>", "exec"), {"__name__": "__main__"})
    return calls, keep_file.read_text()


def test_the_setup_cell_pins_colabs_own_packages_and_ci_versions(monkeypatch, tmp_path, capsys):
    calls, keep = run_setup_cell(monkeypatch, tmp_path, {})
    pins = dict(line.split("==") for line in keep.splitlines())
    assert pins["torch"] == md.version("torch") and pins["ipykernel"] == md.version("ipykernel"), \
        f"expected Colab's torch and kernel packages pinned at their installed versions, got {pins}"
    install = calls[0]
    assert install[install.index("-c") + 1] == str(tmp_path / "keep.txt") and any(
        a.endswith("/constraints/colab.txt") for a in install), f"expected both constraint files, got {install}"
    wanted = [a for a in install if not a.startswith("-") and "/" not in a and a not in ("install",)]
    assert not [a for a in wanted if a.split("=")[0] in {"torch", "torchvision", *KERNEL}], \
        f"expected no kernel package or torch named for installation, got {install}"
    out = capsys.readouterr().out
    assert "installed: nothing new" in out and "No restart needed." in out, out


def test_the_setup_cell_says_when_a_restart_is_needed(monkeypatch, tmp_path, capsys):
    run_setup_cell(monkeypatch, tmp_path, {"numpy": "0.0.1"})   # numpy is loaded here, and 'changed'
    out = capsys.readouterr().out
    assert "numpy 0.0.1" in out and "Restart the runtime" in out and "'numpy'" in out, out


def test_colab_constraints_are_the_ci_lock_without_torch_cuda_and_the_kernel():
    text = (ROOT / "constraints" / "colab.txt").read_text()
    assert text == sync_notebooks.colab_constraints(), "constraints/colab.txt is stale: run scripts/sync_notebooks.py"
    names = {sync_notebooks.re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()
             for line in text.splitlines() if "==" in line}
    assert not names & ({"torch", "torchvision", "triton"} | KERNEL), names & ({"torch", "torchvision"} | KERNEL)
    assert not any(n.startswith("nvidia-") for n in names), "expected no CUDA wheels pinned for Colab"
    assert {"transformers", "trl", "peft", "datasets"} <= names, "expected the course's libraries pinned"


NOTEBOOKS = [str(p.relative_to(ROOT)) for p in sorted(ROOT.glob("course/*/*.ipynb"))]


@pytest.mark.parametrize("path", ["README.md", *NOTEBOOKS])
def test_every_colab_link_points_at_the_configured_repository(path):
    import re
    repo = sync_notebooks.project_settings()["repo"]
    text = (ROOT / path).read_text()
    found = set(re.findall(r"github(?:usercontent)?\.com/(?:github/)?([\w.-]+/[\w.-]+?)(?:/|@|\.git)", text))
    assert found <= {repo}, f"expected every GitHub link to name {repo} ([tool.airoadmap] repo), found {found}"
