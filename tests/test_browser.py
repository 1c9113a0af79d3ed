"""The learner's path in a real browser: JupyterLab as `make lab` starts it, driven by Playwright.

Debian's Chromium (``/usr/bin/chromium``; `make` installs it where apt-get works, since
``playwright install`` cannot download browsers here). On a copy of the course (so nothing in
``course/`` is touched), the test opens 01, runs all cells and sees the first stub's
NotImplementedError, types a correct answer, runs its test cell and sees it pass, presses
nbgrader's Validate and reads the dialog, and opens the Assignment List. Screenshots of each step
are kept in ``build/browser/``.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from cohort_fixtures import clean
from conftest import ROOT

pytestmark = pytest.mark.slow
SLUG = "01-pytorch-fundamentals"
TOKEN = "airoadmap-browser-token"
SHOTS = ROOT / "build" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[dev]' (make does it)"
    if not CHROMIUM:
        return "Debian's chromium is missing: apt-get install chromium (make does it where apt-get works)"
    return None


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory):
    if why := _missing():
        pytest.skip(why)
    root = tmp_path_factory.mktemp("learner") / "checkout"
    (root / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "course" / SLUG, root / "course" / SLUG)
    port = free_port()
    log = root.parent / "lab.log"
    settings = root.parent / "user-settings"   # this browser's own JupyterLab settings: every cell rendered,
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)  # so that off-screen outputs can be read
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}')
    env = dict(os.environ, AIROADMAP_REPO=str(root), JUPYTER_TOKEN=TOKEN, AIROADMAP_THREADS="1", OMP_NUM_THREADS="1",
               JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(root.parent / "workspaces"))
    with open(log, "w") as out:  # exactly what `make lab` runs
        proc = subprocess.Popen([str(Path(sys.executable).parent / "airoadmap"), "lab", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=5)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"expected JupyterLab to start; it exited: {log.read_text()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail(f"expected JupyterLab to start within 60 s: {log.read_text()[-2000:]}")
        yield base, root
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def page(lab_url):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        base, _ = lab_url
        page.goto(f"{base}/lab/tree/{SLUG}/{SLUG}.ipynb?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached")
        yield page
        browser.close()


def shot(page, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def cell_of(page, grade_id_text: str):
    """The code cell whose editor contains ``grade_id_text`` (its first line)."""
    return page.locator(".jp-CodeCell", has=page.locator(".cm-content", has_text=grade_id_text)).first


def test_no_news_popup_covers_the_notebook(page):
    assert page.locator("text=official Jupyter news").count() == 0, \
        "expected no 'Would you like to get notified about official Jupyter news?' pop-up"
    shot(page, "1-opened")


def test_run_all_stops_at_the_first_stub(page):
    menu(page, "Run", "Run All Cells")
    error = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                         has_text="NotImplementedError").first
    error.wait_for(state="visible", timeout=240_000)
    time.sleep(3)  # Run All stops at the first error: no later cell may run
    last = page.locator(".jp-CodeCell .jp-InputArea-prompt").last
    last.scroll_into_view_if_needed()
    assert last.inner_text().strip() in ("[ ]:", ""), \
        f"expected the cells after the first error not run, the last one shows {last.inner_text()!r}"
    error.scroll_into_view_if_needed()
    shot(page, "2-run-all-stops-at-the-first-stub")
    assert "NotImplementedError" in error.inner_text(), f"expected the stub's error, got {error.inner_text()[-300:]!r}"


def test_a_correct_answer_passes_its_test_cell(page):
    solution = nbformat.read(ROOT / "solutions" / SLUG / f"{SLUG}.ipynb", as_version=4)
    answer = clean(next(c.source for c in solution.cells
                        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "fit_line"))
    cell = cell_of(page, "def fit_line")
    editor = cell.locator(".cm-content").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(answer)
    page.keyboard.press("Shift+Enter")   # run the answer, move to the next cell
    test = cell_of(page, "Check that fit_line")
    test.locator(".cm-content").first.click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("""el => el.querySelector('.jp-InputArea-prompt').textContent.match(/\\[\\d+\\]/)""",
                           arg=test.element_handle(), timeout=120_000)
    shot(page, "3-answer-passes-its-test")
    assert test.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0, \
        f"expected fit_line's test cell to pass, got: {test.inner_text()[-500:]}"


def test_validate_lists_the_tests_still_failing(page):
    page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).first.click()
    dialog = page.locator(".jp-Dialog").first
    dialog.wait_for(state="visible", timeout=240_000)
    page.wait_for_function("() => !document.querySelector('.jp-Dialog')?.innerText.includes('Validating')",
                           timeout=240_000)
    text = dialog.inner_text()
    shot(page, "4-validate")
    assert "test_stable_cross_entropy" in text or "failed" in text.lower(), \
        f"expected the Validate dialog to list a failing test, got {text[:500]!r}"
    assert "test_fit_line" not in text.split("\n")[0], f"expected fit_line to pass validation: {text[:300]!r}"
    dialog.locator("button").last.click()


def test_assignment_list_opens_without_errors(page):
    menu(page, "Nbgrader", "Assignment List")
    tab = page.locator(".lm-TabBar-tab", has_text="Assignments").first
    tab.wait_for(state="visible", timeout=60_000)
    panel = page.locator(".jp-MainAreaWidget:visible", has_text="Released assignments").first
    panel.wait_for(state="visible", timeout=60_000)
    time.sleep(3)  # the list loads from the server after the panel opens
    shot(page, "5-assignment-list")
    text = panel.inner_text()
    assert "Error" not in text and "error" not in text.lower().replace("no error", ""), \
        f"expected the Assignment List without errors, got {text[:800]!r}"
    assert page.locator(".jp-Dialog").count() == 0, "expected no error dialog over the Assignment List"
