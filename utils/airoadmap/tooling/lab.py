"""``airoadmap lab``: start JupyterLab on 127.0.0.1 with ``course/`` open and nbgrader configured.

nbgrader's lab extension lists assignments from an exchange folder, which must exist; we point it
at ``.exchange/`` in the checkout by writing the virtual environment's own Jupyter config, so the
learner's personal configuration is left alone.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .course import repo_root

CONFIG_TEMPLATE = """# Written by `airoadmap lab`; the course's settings live in airoadmap.grading.nbtools.
from airoadmap.grading.nbtools import apply_config
apply_config(c, {root!r}, exchange={exchange!r}, gradebook={gradebook!r})
"""


def write_jupyter_config(root: Path) -> Path:
    exchange = root / ".exchange"
    exchange.mkdir(exist_ok=True)
    os.chmod(exchange, 0o777)  # nbgrader's exchange must be writable by every learner
    conf_dir = Path(sys.prefix) / "etc" / "jupyter"
    conf_dir.mkdir(parents=True, exist_ok=True)
    path = conf_dir / "nbgrader_config.py"
    # The course directory must sit inside the server's root (course/); the learner's gradebook
    # stays out of it, in .nbgrader/.
    (root / ".nbgrader").mkdir(exist_ok=True)
    path.write_text(CONFIG_TEMPLATE.format(root=str(root / "course"), exchange=str(exchange),
                                           gradebook=str(root / ".nbgrader" / "gradebook.db")), encoding="utf-8")
    return path


LAB_SETTINGS = {  # JupyterLab's defaults for everyone using this virtual environment
    # no "Would you like to get notified about official Jupyter news?" pop-up over the first notebook
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def write_lab_settings() -> Path:
    """``share/jupyter/lab/settings/overrides.json`` of this environment, merged with what is there."""
    import json

    path = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except ValueError:
        current = {}
    for plugin, values in LAB_SETTINGS.items():
        current[plugin] = {**current.get(plugin, {}), **values}
    path.write_text(json.dumps(current, indent=1) + "\n", encoding="utf-8")
    return path


def lab_command(root: Path, port: int = 8888, extra: list[str] | None = None) -> list[str]:
    return [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--ServerApp.root_dir={root / 'course'}", *(["--allow-root"] if os.geteuid() == 0 else []),
            *(extra or [])]


def main(port: int = 8888) -> int:
    root = repo_root()
    write_jupyter_config(root)
    write_lab_settings()
    print(f"Starting JupyterLab with {root / 'course'} open. Open the URL with its token printed below "
          "(http://127.0.0.1:...?token=...). Stop with Ctrl-C.", flush=True)
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.call(lab_command(root, port), env=env)
