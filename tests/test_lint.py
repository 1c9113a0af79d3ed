"""ruff, with the small strict configuration in pyproject.toml ([tool.ruff]), over the package, tests
and scripts. Fix what it reports (`ruff check --fix` does the mechanical part)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

from conftest import ROOT


def test_ruff_passes():
    assert importlib.util.find_spec("ruff"), "ruff is not installed: pip install -e '.[dev]' (make installs it)"
    command = [sys.executable, "-m", "ruff", "check", "--output-format=concise", "utils", "tests", "scripts"]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, f"ruff check utils tests scripts:\n{out.stdout}{out.stderr}"
