"""The grader must not be the way out of the sandbox: one test per attack class, with its invariant.

The slow half grades ``hostile_fixtures.EXPECTED`` (module 01, an honest student among them) in
one sandboxed run with two workers, then checks that host files, the gradebook, the cohort's
source and other submissions are byte-identical, that no attack earned a point, and that nothing
is left running. The fast half attacks ``collect`` with hostile archives and folders, and the
engine with hostile notebook JSON.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest
from hostile_fixtures import EXPECTED, submissions, write_raw
from test_cohort import NO_SANDBOX, fake_cohort

from airoadmap.grading import autograde as ag
from airoadmap.grading import collect, engine, feedback, similarity
from airoadmap.grading.cohort import Cohort
from airoadmap.grading.handout import release
from cohort_fixtures import SLUG, answered
from conftest import ROOT

LIMITS = {"cell_timeout": 60, "wall_clock": 240, "memory_mb": 3072}
needs_sandbox = pytest.mark.skipif(NO_SANDBOX is not None, reason=f"sandbox unavailable: {NO_SANDBOX}")


def digest(path: Path) -> tuple[str, int]:
    """Content hash and mode of a file (or of every file under a folder), read without following links."""
    if path.is_dir():
        h = hashlib.sha256()
        for p in sorted(path.rglob("*")):
            if p.is_file() and not p.is_symlink():
                h.update(str(p.relative_to(path)).encode() + p.read_bytes())
        return h.hexdigest(), stat.S_IMODE(path.lstat().st_mode)
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(path.lstat().st_mode)


def kernels_running() -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "grading/kernel.py" in cmdline or "grading/sandbox.py" in cmdline:
            found.append(f"{pid}: {cmdline[:120]}")
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    root, host = base / "cohort", base / "host"
    release(root, [SLUG], echo=lambda *a: None)
    host.mkdir()
    (host / "target.txt").write_text("a host file the grader must never write\n")
    (host / "secret.txt").write_text("SECRET-7f3a9c of the instructor\n")
    (host / "secret.txt").chmod(0o600)
    download = base / "download"
    download.mkdir()
    release_nb = root / "release" / SLUG / f"{SLUG}.ipynb"
    (download / f"alice_{SLUG}.ipynb").write_text(nbformat.writes(answered(release_nb)))
    collect.collect(root, [download], echo=lambda *a: None)   # alice first, so her file can be a target
    targets = {f"{SLUG}.ipynb": str(host / "target.txt"), "timestamp.txt": str(host / "secret.txt"),
               "gradebook.db": str(root / "gradebook.db"),
               "source.ipynb": str(root / "source" / SLUG / f"{SLUG}.ipynb"),
               "alice.ipynb": str(root / "submitted" / "alice" / SLUG / f"{SLUG}.ipynb"),
               "solutions": str(ROOT / "solutions"), "autograded": str(root / "autograded")}
    for student, nb in submissions(release_nb, SLUG, targets).items():
        (download / f"{student}_{SLUG}.ipynb").write_bytes(write_raw(nb))
    collect.collect(root, [download], echo=lambda *a: None)
    watched = [host / "target.txt", host / "secret.txt", root / "source" / SLUG / f"{SLUG}.ipynb",
               root / "submitted" / "alice" / SLUG / f"{SLUG}.ipynb", ROOT / "solutions" / SLUG]
    before = {p: digest(p) for p in watched}
    summary = ag.autograde(root, SLUG, workers=2, threads=1, limits=LIMITS, use_sandbox=NO_SANDBOX is None, echo=print)
    return {"root": root, "host": host, "before": before, "summary": summary, "running": kernels_running(),
            "results": Cohort(root).results(SLUG)}


def printed(root: Path, student: str, marker: str) -> str:
    nb = json.loads((root / "autograded" / student / SLUG / f"{SLUG}.ipynb").read_text())
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            text = o.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            for line in text.splitlines():
                if line.startswith(marker):
                    return line
    return ""


@pytest.mark.slow
@needs_sandbox
def test_every_attack_scores_what_its_answers_earn(hostile):
    results, summary = hostile["results"], hostile["summary"]
    assert summary["not_graded"] == {}, f"expected every submission graded, got NOT GRADED: {summary['not_graded']}"
    wrong = {s: (results[s]["score"], results[s]["status"], why) for s, (score, why) in EXPECTED.items()
             if s not in results or results[s]["score"] != score or results[s]["max_score"] != 15}
    assert not wrong, f"expected the scores of hostile_fixtures.EXPECTED, got {wrong}"


@pytest.mark.slow
@needs_sandbox
def test_links_in_the_working_folder_reach_nothing(hostile):
    changed = [str(p) for p, d in hostile["before"].items() if digest(p) != d]
    assert not changed, f"expected host files, the source and alice's submission byte-identical; changed: {changed}"
    secret = "SECRET-7f3a9c"
    leaked = [str(p) for p in (hostile["root"] / "autograded").rglob("*") if p.is_file() and secret in p.read_text()]
    assert not leaked, f"expected the instructor's 0600 file nowhere in autograded/, found in {leaked}"


@pytest.mark.slow
@needs_sandbox
def test_autograded_folders_hold_only_the_graded_notebook(hostile):
    odd = {}
    for folder in (hostile["root"] / "autograded").iterdir():
        entries = sorted(os.listdir(folder / SLUG))
        kinds = {e: stat.S_ISREG(os.lstat(folder / SLUG / e).st_mode) for e in entries}
        if entries != [f"{SLUG}.ipynb"] or not all(kinds.values()):
            odd[folder.name] = kinds
    assert not odd, f"expected exactly one regular file, {SLUG}.ipynb, per student; got {odd}"


@pytest.mark.slow
@needs_sandbox
def test_gradebook_is_intact_and_agrees(hostile):
    root = hostile["root"]
    with sqlite3.connect(root / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "expected an intact gradebook"
    from airoadmap.grading import nbtools
    disagree = {s: (nbtools.scores(root, SLUG, s)["score"], r["score"]) for s, r in hostile["results"].items()
                if nbtools.scores(root, SLUG, s)["score"] != r["score"]}
    assert not disagree, f"expected the gradebook to hold each result's score, got (gradebook, result) {disagree}"


@pytest.mark.slow
@needs_sandbox
@pytest.mark.parametrize("student", ["skiptags", "prerun", "transformer", "postrun", "patched"])
def test_hooks_tags_and_patches_cannot_pass_a_failing_test(hostile, student):
    tests = hostile["results"][student]["tests"]
    passed = [t for t in ("test_fit_line", "test_stable_cross_entropy") if tests[t]["passed"]]
    assert not passed, f"{student}: expected the wrong answers' tests to fail, but {passed} passed"
    assert all(tests[t]["passed"] for t in ("test_mlp", "test_make_dataloaders", "test_train_one_epoch")), \
        f"{student}: expected the right answers' tests to pass, got {tests}"


@pytest.mark.slow
@needs_sandbox
@pytest.mark.parametrize("student, flag", [("skiptags", "execution tags added"), ("prerun", "restored before the test"),
                                           ("transformer", "restored before the test"),
                                           ("postrun", "restored before the test"), ("patched", "assert_close"),
                                           ("stripped", "deleted"), ("renamed", "not in the assignment"),
                                           ("points", "points changed: 2 -> 100")])
def test_attempts_are_flagged_for_the_instructor(hostile, student, flag):
    issues = " | ".join(f"{f['cell']}: {f['issue']}" for f in hostile["results"][student]["tamper"])
    assert flag in issues, f"{student}: expected a tamper flag mentioning {flag!r}, got {issues!r}"


@pytest.mark.slow
@needs_sandbox
def test_honest_submissions_are_not_flagged(hostile):
    for student in ("alice", "bigprint", "forker"):
        assert hostile["results"][student]["tamper"] == [], \
            f"{student}: expected no tamper flags, got {hostile['results'][student]['tamper']}"


@pytest.mark.slow
@needs_sandbox
def test_outputs_are_capped(hostile):
    path = hostile["root"] / "autograded" / "bigprint" / SLUG / f"{SLUG}.ipynb"
    size = path.stat().st_size
    assert size < 12 << 20, f"expected the 50 MB print cut to the output budget, got {size:,} bytes"
    assert "dropped by the grader" in path.read_text(), "expected a note where output was dropped"


@pytest.mark.slow
@needs_sandbox
def test_messages_never_carry_hidden_test_code(hostile):
    root = hostile["root"]
    source = nbformat.read(root / "source" / SLUG / f"{SLUG}.ipynb", as_version=4)
    code = " ".join(" ".join(engine.hidden_text(c.source).replace("\x00", " ").split()) for c in source.cells)
    windows = {code[i:i + 40] for i in range(0, max(1, len(code) - 40), 7)}
    feedback.feedback(root, SLUG, ["leaker"], echo=lambda *a: None)
    page = " ".join((root / "feedback" / "leaker" / f"{SLUG}.html").read_text().split())
    page = page[page.index("<h2>Tests</h2>"):page.index("</table>")]  # the messages (answers are the student's own)
    message = hostile["results"]["leaker"]["tests"]["test_fit_line"]["message"]
    assert message.startswith("ValueError"), f"expected the learner's error to be reported, got {message!r}"
    shown = [w for w in windows if w.strip() and w in page]
    assert not shown, f"expected no hidden-test code in the feedback page's messages, found {shown[:2]}"
    assert len(message) <= 210, f"expected messages capped near 200 characters, got {len(message)}"


@pytest.mark.slow
@needs_sandbox
def test_processes_are_capped(hostile):
    line = printed(hostile["root"], "forker", "FORKS")
    assert line, "expected the forker's notebook to print its FORKS line"
    _, count, why = line.split()
    assert int(count) < 300 and why == "BlockingIOError", f"expected fork to fail before 300 children, got {line!r}"


@pytest.mark.slow
@needs_sandbox
def test_nothing_is_left_running(hostile):
    assert hostile["running"] == [], f"expected no grading kernel after autograde, found {hostile['running']}"


@pytest.mark.slow
@needs_sandbox
def test_similarity_reads_every_submission(hostile):
    pairs = similarity.similarity(hostile["root"], SLUG, threshold=0.95, echo=lambda *a: None)
    paired = {frozenset((p["student_a"], p["student_b"])) for p in pairs}
    assert frozenset(("alice", "stripped")) in paired and frozenset(("alice", "baddict")) in paired, \
        f"expected alice paired with the copies whose metadata was stripped or broken, " \
        f"got {sorted(map(sorted, paired))}"


@pytest.mark.slow
@needs_sandbox
def test_a_rerun_changes_nothing(hostile):
    summary = ag.autograde(hostile["root"], SLUG, workers=2, threads=1, limits=LIMITS, echo=lambda *a: None)
    assert (summary["graded"], summary["skipped"], summary["not_graded"]) == (0, len(EXPECTED), {}), \
        f"expected a rerun to grade nothing, got {summary}"


# -- fast: collect and the engine against hostile inputs -------------------------------------------

def _zip_entry(z: zipfile.ZipFile, name: str, data: bytes = b"{}", mode: int = 0o100644):
    info = zipfile.ZipInfo(name, (2025, 3, 1, 9, 0, 0))
    info.external_attr = mode << 16
    z.writestr(info, data)


def test_collect_never_writes_outside_the_cohort_and_prints_names_escaped(tmp_path):
    cohort = fake_cohort(tmp_path / "cohort")
    outside = tmp_path / "outside.ipynb"
    with zipfile.ZipFile(tmp_path / "lms.zip", "w") as z:
        _zip_entry(z, f"../../outside_{SLUG}.ipynb")
        _zip_entry(z, "../outside.ipynb")
        _zip_entry(z, f"/tmp/abs_{SLUG}.ipynb")
        _zip_entry(z, f"link_{SLUG}.ipynb", b"/etc/passwd", mode=0o120777)
        _zip_entry(z, f"fifo_{SLUG}.ipynb", b"", mode=0o010644)
        _zip_entry(z, f"evil\x1b[31m_{SLUG}.ipynb")
        _zip_entry(z, f"new\nline_{SLUG}.ipynb")
        _zip_entry(z, f"José Pérez_1003_assignsubmission_file_/{SLUG}.ipynb")
        _zip_entry(z, f"..\\..\\win_{SLUG}.ipynb")
    lines = []
    before = sorted(p.name for p in tmp_path.iterdir())
    out = collect.collect(cohort.root, [tmp_path / "lms.zip"], echo=lines.append)
    assert sorted(p.name for p in tmp_path.iterdir()) == before and not outside.exists(), \
        "expected nothing written next to the cohort"
    assert not Path(f"/tmp/abs_{SLUG}.ipynb").exists(), "expected an absolute entry never written"
    everything = [p for p in cohort.root.rglob("*")]
    assert all(p.resolve().is_relative_to(cohort.root.resolve()) for p in everything), "expected every file inside"
    assert not any(p.is_symlink() for p in everything), "expected no link created from an archive entry"
    text = "\n".join(lines)
    assert "\x1b" not in text and all("\n" not in line for line in lines), f"expected escaped names, got {text!r}"
    problems = {p["file"].split(":", 1)[1]: p["problem"] for p in out["problems"]}
    for name, why in [(f"../../outside_{SLUG}.ipynb", ".."), (f"/tmp/abs_{SLUG}.ipynb", "absolute"),
                      (f"link_{SLUG}.ipynb", "link"), (f"fifo_{SLUG}.ipynb", "not a regular file"),
                      (f"..\\..\\win_{SLUG}.ipynb", "..")]:
        assert why in problems.get(name, ""), f"expected {name!r} rejected ({why}), got {problems.get(name)!r}"
    collected = {c["student"]: c for c in out["collected"]}
    assert "jose-perez" in collected and "José Pérez" in text, \
        f"expected José Pérez collected as jose-perez with a note, got {sorted(collected)} / {text!r}"


def test_collect_from_a_folder_skips_links_and_fifos_without_blocking(tmp_path):
    cohort = fake_cohort(tmp_path / "cohort")
    dl = tmp_path / "dl"
    dl.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    (dl / f"link_{SLUG}.ipynb").symlink_to(secret)
    (dl / "loop").symlink_to(dl / "loop")
    os.mkfifo(dl / f"fifo_{SLUG}.ipynb")
    (dl / f"ok_{SLUG}.ipynb").write_text("{}")
    out = collect.collect(cohort.root, [dl], echo=lambda *a: None)
    assert [c["student"] for c in out["collected"]] == ["ok"], f"expected only the regular file collected: {out}"
    assert not any("SECRET" in p.read_text(errors="ignore") for p in cohort.root.rglob("*") if p.is_file()), \
        "expected the link's target never read into the cohort"


@pytest.mark.parametrize("junk", [b"", b"[]", b"null", b'{"cells": 3}', b'{"cells": [1, "x", null, {"cell_type": 5}]}',
                                  b'{"cells": [{"cell_type": "code", "source": {"a": 1}, "metadata": []}]}',
                                  b'{"cells": [{"cell_type": "code", "source": ["ok"], "metadata": {"nbgrader": "x", '
                                  b'"tags": "skip-execution"}}]}', "\u00e9\ud800".encode("utf-8", "surrogatepass")])
def test_any_json_is_parsed_or_refused_clearly(junk):
    try:
        cells = engine.parse_submission(junk)
    except engine.SubmissionError as e:
        assert "notebook" in str(e), f"expected a message about the notebook, got {e}"
    else:
        assert all(isinstance(c["source"], str) and isinstance(c["nbgrader"], dict) for c in cells), cells


def test_read_regular_file_refuses_links_fifos_and_large_files(tmp_path):
    (tmp_path / "real").write_text("x" * 100)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    os.mkfifo(tmp_path / "fifo")
    for name, expected in [("link", "cannot be opened"), ("fifo", "not a regular file")]:
        with pytest.raises(engine.SubmissionError, match=expected):
            engine.read_regular_file(tmp_path / name, 1000)
    with pytest.raises(engine.SubmissionError, match="over the"):
        engine.read_regular_file(tmp_path / "real", 99)
    assert engine.read_regular_file(tmp_path / "real", 100) == b"x" * 100


def test_redact_removes_test_code_but_keeps_the_tests_own_messages():
    source = ('assert ok\n### BEGIN HIDDEN TESTS\nw, b, losses = fit_line(torch.arange(5.0), 2 * torch.arange(5.0))\n'
              'assert abs(w - 2) < 0.1, f"expected a slope of 2, got {w:.3f}"\n### END HIDDEN TESTS\n')
    secret = engine.hidden_text(source)
    assert engine.redact("AssertionError: expected a slope of 2, got 1.500", [secret]) == \
        "AssertionError: expected a slope of 2, got 1.500", "expected the test's own message kept"
    leaked = engine.redact("ValueError: w, b, losses = fit_line(torch.arange(5.0), 2 * torch.arange(5.0))", [secret])
    assert "fit_line(torch.arange" not in leaked and "[test source]" in leaked, f"expected the code redacted: {leaked}"
    assert len(engine.redact("x" * 5000, [secret])) <= 203, "expected messages capped"


def test_timestamp_is_untouched_by_names(tmp_path):
    """A download's entry times go to timestamp.txt; a zip with impossible times still collects."""
    cohort = fake_cohort(tmp_path / "cohort")
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as z:
        _zip_entry(z, f"tim_{SLUG}.ipynb")
    out = collect.collect(cohort.root, [tmp_path / "t.zip"], echo=lambda *a: None)
    assert out["collected"][0]["student"] == "tim"
    assert cohort.timestamp("tim", SLUG) == dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)
