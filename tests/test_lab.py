"""`make lab`'s server: JupyterLab on 127.0.0.1 with course/ open and nbgrader's extension working."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from airoadmap.tooling import lab
from conftest import ROOT

pytestmark = pytest.mark.slow
TOKEN = "airoadmap-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    lab.write_jupyter_config(ROOT)
    port = free_port()
    log = tmp_path_factory.mktemp("lab") / "lab.log"
    cmd = lab.lab_command(ROOT, port, [f"--IdentityProvider.token={TOKEN}", "--ServerApp.open_browser=False"])
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                get(f"{base}/api/status?token={TOKEN}")
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start in 60 s: {log.read_text()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_lab_serves_the_course(server):
    status, body = get(f"{server}/api/contents?token={TOKEN}")
    names = {item["name"] for item in json.loads(body)["content"]}
    assert status == 200 and "01-pytorch-fundamentals" in names, names
    assert get(f"{server}/lab?token={TOKEN}")[0] == 200


def test_nbgrader_assignment_list_does_not_error(server):
    status, body = get(f"{server}/assignments?course_id=ai-engineer-roadmap&token={TOKEN}")
    assert status == 200
    assert json.loads(body)["success"], body


def test_nbgrader_lab_extension_is_enabled():
    out = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    assert "@jupyter/nbgrader" in text and "enabled" in text.split("@jupyter/nbgrader", 1)[1].splitlines()[0], text
