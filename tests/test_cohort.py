"""``airoadmap cohort``: collect, autograde (sandbox, limits, parallel, resumable), report, feedback.

The slow tests grade a simulated cohort of module 01 (``cohort_fixtures.EXPECTED``) once with two
workers, a subset once with one worker, and compare. Limits are cut for the test (15 s per cell,
60 s per notebook, 2 GB): the whole module takes about three minutes on two cores.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import sqlite3

import nbformat
import pytest
from click.testing import CliRunner

from airoadmap.grading import autograde as ag
from airoadmap.grading import collect, feedback, report, sandbox, similarity, tamper, worker
from airoadmap.grading.cohort import Cohort
from airoadmap.grading.handout import release
from airoadmap.tooling.cli import main
from cohort_fixtures import (
    COHORT_TOML,
    EXPECTED,
    LIMITS,
    SERIAL_SUBSET,
    SLUG,
    answered,
    build_download,
    cell,
    submissions,
)
from conftest import ROOT

STUDENT_NB = ROOT / "course" / SLUG / f"{SLUG}.ipynb"
NO_SANDBOX = sandbox.problem()
needs_sandbox = pytest.mark.skipif(NO_SANDBOX is not None, reason=f"sandbox unavailable: {NO_SANDBOX}")


# -- fast: the pieces -----------------------------------------------------------------------------

def fake_cohort(tmp_path, toml: str = COHORT_TOML) -> Cohort:
    """A cohort folder without nbgrader: enough for collect, late penalties and similarity."""
    (tmp_path / "source" / SLUG).mkdir(parents=True)
    (tmp_path / "release" / SLUG).mkdir(parents=True)
    shutil.copy(STUDENT_NB, tmp_path / "source" / SLUG)
    shutil.copy(STUDENT_NB, tmp_path / "release" / SLUG)
    (tmp_path / "gradebook.db").touch()
    (tmp_path / "cohort.toml").write_text(toml)
    return Cohort.open(tmp_path)


@pytest.mark.parametrize("path, student, problem", [
    (f"jdoe_{SLUG}.ipynb", "jdoe", None),
    (f"{SLUG}_jdoe.ipynb", "jdoe", None),
    (f"jdoe/{SLUG}.ipynb", "jdoe", None),
    (f"jdoe_{SLUG} (2).ipynb", "jdoe", None),
    (f"doejohn_late_1234_5678_{SLUG}.ipynb", "doejohn", None),
    (f"doejohn_1234_5678_{SLUG}_final.ipynb", "doejohn", None),
    (f"John Doe_1002_assignsubmission_file_/{SLUG}.ipynb", "dave", None),
    (f"John Doe_77_assignsubmission_file_{SLUG}.ipynb", "john-doe", None),
    ("jdoe_homework1.ipynb", None, "no assignment name"),
    (f"jdoe_{SLUG}.py", None, "not a notebook"),
    (f"{SLUG}.ipynb", None, "no student id"),
    (f"jdoe_{SLUG}_bob.ipynb", None, "cannot tell the student"),
])
def test_lms_file_names_give_the_student(path, student, problem):
    found = collect.identify(collect.Found(f"dl.zip:{path}", b"", dt.datetime.now(dt.UTC)),
                             [SLUG], {"1002": "dave"})
    assert (found.student, found.problem and problem in found.problem) == (student, problem and True), found


def test_collect_reports_duplicates_and_unknown_files_and_keeps_them(tmp_path):
    cohort = fake_cohort(tmp_path / "cohort")
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / f"jdoe_{SLUG}.ipynb").write_text("new")
    (dl / f"jdoe_{SLUG} (1).ipynb").write_text("old")
    (dl / "notes.txt").write_text("?")
    shutil.os.utime(dl / f"jdoe_{SLUG} (1).ipynb", (1, 1))
    out = collect.collect(cohort.root, [dl], echo=lambda *a: None)
    assert (cohort.submission("jdoe", SLUG) / f"{SLUG}.ipynb").read_text() == "new"
    assert cohort.timestamp("jdoe", SLUG) is not None
    problems = {p["file"].split(":")[1]: p["problem"] for p in out["problems"]}
    assert "duplicate" in problems[f"jdoe_{SLUG} (1).ipynb"] and "not a notebook" in problems["notes.txt"]
    [index] = (cohort.state / "collect-problems").rglob("index.json")
    kept = json.loads(index.read_text())
    assert sorted(kept.values()) == sorted([f"dl:jdoe_{SLUG} (1).ipynb", "dl:notes.txt"]), kept
    assert {(index.parent / name).read_text() for name in kept} == {"old", "?"}, "expected the files' own bytes kept"
    # a changed resubmission replaces the old one, which is kept; the same file again changes nothing
    (dl / f"jdoe_{SLUG}.ipynb").write_text("newer")
    (dl / f"jdoe_{SLUG} (1).ipynb").unlink()
    out = collect.collect(cohort.root, [dl], echo=lambda *a: None)
    assert out["collected"][0]["status"].startswith("replaced")
    assert list((cohort.state / "superseded").rglob(f"{SLUG}.ipynb"))[0].read_text() == "new"
    assert collect.collect(cohort.root, [dl], echo=lambda *a: None)["collected"][0]["status"] == "unchanged"


def test_collect_reads_an_lms_zip_with_its_times(tmp_path):
    import zipfile
    cohort = fake_cohort(tmp_path / "cohort")
    with zipfile.ZipFile(tmp_path / "canvas.zip", "w") as z:
        z.writestr(zipfile.ZipInfo(f"doejohn_late_1234_5678_{SLUG}.ipynb", (2025, 3, 3, 10, 0, 0)), "{}")
        z.writestr(zipfile.ZipInfo(f"__MACOSX/._doejohn_late_1234_5678_{SLUG}.ipynb", (2025, 3, 3, 10, 0, 0)), "x")
        z.writestr(zipfile.ZipInfo(f"John Doe_77_assignsubmission_file_/{SLUG}.ipynb", (2025, 3, 1, 9, 0, 0)), "{}")
    out = collect.collect(cohort.root, [tmp_path / "canvas.zip"], echo=lambda *a: None)
    assert out["problems"] == []
    assert {(c["student"], c["lms_late"]) for c in out["collected"]} == {("doejohn", True), ("john-doe", False)}
    assert cohort.timestamp("doejohn", SLUG) == dt.datetime(2025, 3, 3, 10, tzinfo=dt.UTC)


def test_late_penalty_per_started_day_with_extensions(tmp_path):
    cohort = fake_cohort(tmp_path)
    for student, delay in [("bob", dt.timedelta(days=1, hours=12)), ("carol", dt.timedelta(days=1, hours=12)),
                           ("al", dt.timedelta(minutes=10)), ("zed", dt.timedelta(days=30))]:
        folder = cohort.submission(student, SLUG)
        folder.mkdir(parents=True)
        stamp = dt.datetime(2025, 3, 1, 23, 59, tzinfo=dt.UTC) + delay
        (folder / "timestamp.txt").write_text(stamp.strftime(collect.TIMESTAMP_FORMAT))
    assert report.late_penalty(cohort, "bob", SLUG, 15) == (2, 3.0)
    assert report.late_penalty(cohort, "carol", SLUG, 15) == (0, 0.0)   # 3-day extension
    assert report.late_penalty(cohort, "al", SLUG, 15) == (0, 0.0)      # within the grace minutes
    assert report.late_penalty(cohort, "zed", SLUG, 15) == (30, 15.0)   # capped at max_penalty


def test_tamper_check_names_the_cells():
    released = nbformat.read(STUDENT_NB, as_version=4)
    nb = nbformat.read(STUDENT_NB, as_version=4)
    cell(nb, "test_fit_line").source = "assert True"
    cell(nb, "test_fit_line").metadata["nbgrader"]["points"] = 100
    cell(nb, "test_evaluate").metadata["nbgrader"]["grade"] = False
    nb.cells.remove(cell(nb, "test_mlp"))
    assert tamper.check(nb, released) == [
        {"cell": "test_fit_line", "issue": "locked cell edited"},
        {"cell": "test_fit_line", "issue": "points changed: 2 -> 100"},
        {"cell": "test_mlp", "issue": "deleted (or its nbgrader metadata removed or renamed)"},
        {"cell": "test_evaluate", "issue": "grade changed: True -> False"}]
    assert tamper.check(released, released) == []


def _assembled(nb):
    from airoadmap.grading import engine
    released = nbformat.read(STUDENT_NB, as_version=4)
    source = nbformat.read(ROOT / "solutions" / SLUG / f"{SLUG}.ipynb", as_version=4)
    return engine.assemble(engine.parse_submission(nbformat.writes(nb).encode()), released, source)


def test_assembly_forces_the_profile_and_runs_no_student_code_before_setup():
    from airoadmap.grading import engine
    nb = nbformat.read(STUDENT_NB, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("print('student code before everything')"))
    cells = _assembled(nb).cells
    kinds = [c.kind for c in cells]
    first_student = next(i for i, k in enumerate(kinds) if k in ("student", "solution"))
    last_setup = max(i for i, k in enumerate(kinds) if k == "setup")
    assert cells[1].source == engine.PROFILE_CELL and kinds[:2] == ["parameters", "parameters"], kinds[:3]
    assert last_setup < first_student, f"expected every setup cell before student code, got {kinds}"
    assert cells[last_setup].marker == engine.SNAPSHOT and all(
        c.marker == engine.TEST for c in cells if c.kind == "test"), "expected the snapshot and test markers"


def test_assembly_takes_tests_from_the_source_whatever_the_submission_did():
    nb = nbformat.read(STUDENT_NB, as_version=4)
    nb.cells.remove(cell(nb, "test_mlp"))                       # deleted
    cell(nb, "test_fit_line").source = "assert True"             # edited
    for c in nb.cells:                                          # and every other cell's metadata stripped
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") not in ("fit_line", "test_fit_line"):
            c.metadata.pop("nbgrader", None)
    source = nbformat.read(ROOT / "solutions" / SLUG / f"{SLUG}.ipynb", as_version=4)
    wanted = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
              if c.get("metadata", {}).get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}
    assembly = _assembled(nb)
    tests = {c.grade_id: c.source for c in assembly.cells if c.kind == "test"}
    assert tests == wanted, f"expected the source's test cells, in full, got {sorted(tests)}"
    assert "test_mlp" in assembly.missing and assembly.matched["test_make_dataloaders"] == "text", assembly.matched
    order = [c.grade_id for c in assembly.cells if c.kind == "test"]
    assert order == list(wanted), f"expected the release's order of tests, got {order}"


def test_similarity_sees_through_renaming_but_not_other_code():
    a = "def f(x, n):\n    total = 0\n    for i in range(n):\n        total += x[i] * 2  # double\n    return total\n"
    b = "def f(values, count):\n    acc = 0\n    for k in range(count):\n        acc += values[k] * 3\n    return acc\n"
    c = "def f(x, n):\n    return sum(x[:n]) * 2\n"
    assert similarity.tokens(a) == similarity.tokens(b)
    assert similarity.tokens(a) != similarity.tokens(c)


def test_missing_sandbox_gives_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setattr(sandbox, "_probe_cache", {})
    assert "apt-get install bubblewrap" in sandbox.problem()
    cohort = fake_cohort(tmp_path)
    with pytest.raises(Exception, match="--no-sandbox"):
        ag.autograde(cohort.root, SLUG, echo=lambda *a: None)


def test_cli_has_every_verb():
    out = CliRunner().invoke(main, ["cohort", "--help"]).output
    assert all(verb in out for verb in ("release", "collect", "autograde", "report", "feedback", "similarity"))
    out = CliRunner().invoke(main, ["cohort", "report", "--course", "/nonexistent/cohort"])
    assert out.exit_code != 0 and "airoadmap cohort release" in out.output


# -- slow: a whole cohort -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def listener():
    """A TCP server on the host's loopback: a sandboxed kernel must not be able to reach it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


@pytest.fixture(scope="module")
def collected(tmp_path_factory, listener):
    root = tmp_path_factory.mktemp("cohort") / "cohort"
    release(root, [SLUG], echo=lambda *a: None)
    (root / "cohort.toml").write_text(COHORT_TOML)
    download = build_download(root.parent / "download", root / "release" / SLUG / f"{SLUG}.ipynb", listener)
    out = collect.collect(root, [download], echo=lambda *a: None)
    return root, out


def grade_copy(collected, name: str, **kwargs):
    root = collected[0].parent / name
    shutil.copytree(collected[0], root)
    summary = ag.autograde(root, SLUG, limits=LIMITS, use_sandbox=NO_SANDBOX is None, echo=print, **kwargs)
    return root, summary


@pytest.fixture(scope="module")
def parallel(collected):
    return grade_copy(collected, "parallel", workers=2)


@pytest.fixture(scope="module")
def serial(collected, parallel):
    # one thread like each parallel worker's: 2 threads on a machine busy with other work collapse 5x
    return grade_copy(collected, "serial", workers=1, threads=1, students=SERIAL_SUBSET)


def comparable(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ag.VOLATILE}


@pytest.mark.slow
def test_collect_took_every_student_and_reported_the_rest(collected):
    root, out = collected
    assert sorted(c["student"] for c in out["collected"]) == sorted(EXPECTED)
    problems = " ".join(f"{p['file']} {p['problem']}" for p in out["problems"])
    assert "pat_homework1.ipynb" in problems and "duplicate for alice" in problems
    assert Cohort(root).timestamp("bob", SLUG) > Cohort(root).deadline(SLUG)


@pytest.mark.slow
def test_every_submission_gets_its_score_and_reason(parallel):
    root, summary = parallel
    results = Cohort(root).results(SLUG)
    assert summary["failed"] == [] and sorted(results) == sorted(EXPECTED)
    wrong = {}
    for student, (score, reasons) in EXPECTED.items():
        r = results[student]
        text = " | ".join(r["limits"] + [r["error"] or ""] + [t["message"] for t in r["tests"].values()])
        if r["score"] != score or r["max_score"] != 15 or not all(reason in text for reason in reasons):
            wrong[student] = (r["score"], text)
    assert not wrong, f"unexpected scores or reasons: {wrong}"


@pytest.mark.slow
def test_limits_keep_the_points_earned_before(parallel):
    results = Cohort(parallel[0]).results(SLUG)
    heidi = {t: v["passed"] for t, v in results["heidi"]["tests"].items()}
    assert heidi == {"test_fit_line": True, "test_stable_cross_entropy": True, "test_mlp": True,
                     "test_make_dataloaders": False, "test_train_one_epoch": False, "test_evaluate": False}
    assert "NotRun" in results["heidi"]["tests"]["test_evaluate"]["message"]
    frank = results["frank"]
    assert [t for t, v in frank["tests"].items() if not v["passed"]] == ["test_evaluate"]
    assert "wall-clock limit (60 s) reached" in results["gus"]["limits"][-1]
    assert results["erin"]["tests"]["test_fit_line"]["message"].startswith("CellTimeoutError")


@pytest.mark.slow
def test_tampering_is_flagged_and_undone(parallel):
    results = Cohort(parallel[0]).results(SLUG)
    assert tamper.summary(results["ivan"]["tamper"]) == \
        "test_fit_line: locked cell edited; test_fit_line: points changed: 2 -> 100"
    assert not results["ivan"]["tests"]["test_fit_line"]["passed"]  # the real test ran, and failed
    assert results["judy"]["tamper"] == [{"cell": "test_mlp",
                                          "issue": "deleted (or its nbgrader metadata removed or renamed)"}]
    assert results["judy"]["tests"]["test_mlp"]["max_score"] == 2 and not results["judy"]["tests"]["test_mlp"]["passed"]
    assert all(not results[s]["tamper"] for s in EXPECTED if s not in ("ivan", "judy", "oscar", "bea"))


@pytest.mark.slow
@needs_sandbox
def test_student_code_cannot_reach_files_or_network(parallel):
    root = parallel[0]
    def printed(student, marker):
        nb = nbformat.read(root / "autograded" / student / SLUG / f"{SLUG}.ipynb", as_version=4)
        lines = [line for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 for line in o.get("text", "").splitlines() if line.startswith(marker)]
        assert lines, f"{student}'s notebook printed no {marker!r} line"
        return lines[0].split(" ", 1)[1]
    attempts = json.loads(printed("mallory", "ATTACK"))
    assert attempts == {"solutions read": "FileNotFoundError"}, "the kernel saw a grader file: " + str(attempts)
    assert printed("niaj", "NETWORK") == "ConnectionRefusedError"   # the host's loopback is another namespace


@pytest.mark.slow
def test_gradebook_is_intact_and_holds_every_score(parallel):
    root = parallel[0]
    with sqlite3.connect(root / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    from airoadmap.grading import nbtools
    results = Cohort(root).results(SLUG)
    for student, r in results.items():
        assert nbtools.scores(root, SLUG, student)["score"] == r["score"], student
    assert (root / "submitted" / "alice" / SLUG / f"{SLUG}.ipynb").read_bytes() == \
        (root.parent / "cohort" / "submitted" / "alice" / SLUG / f"{SLUG}.ipynb").read_bytes()


@pytest.mark.slow
def test_report_has_penalties_reasons_and_run_id(parallel):
    root, summary = parallel
    table = {r["student"]: r for r in report.report(root, SLUG, echo=lambda *a: None)[SLUG]}
    assert (table["bob"]["days_late"], table["bob"]["penalty"], table["bob"]["final"]) == (2, 3.0, 7.0)
    assert (table["carol"]["days_late"], table["carol"]["penalty"], table["carol"]["final"]) == (0, 0.0, 15)
    assert "TAMPER" not in table["alice"].get("tamper", "") and "points changed" in table["ivan"]["tamper"]
    assert "wall-clock" in table["gus"]["limits"] and "not a readable notebook" in table["oscar"]["failures"]
    assert {r["run_id"] for r in table.values()} == {summary["run_id"]}
    header = (root / "reports" / f"{SLUG}.csv").read_text().splitlines()[0]
    assert header.startswith("student,assignment,test_fit_line,") and "penalty" in header


@pytest.mark.slow
def test_feedback_shows_messages_but_never_hidden_tests(parallel):
    root = parallel[0]
    pages = feedback.feedback(root, SLUG, echo=lambda *a: None)
    assert len(pages) == len(EXPECTED)
    for page in pages:
        text = page.read_text()
        assert "HIDDEN TESTS" not in text and "_reference_fit_line" not in text and "assert_close(" not in text
    bob = (root / "feedback" / "bob" / f"{SLUG}.html").read_text()
    assert "test_stable_cross_entropy" in bob and "failed" in bob and "7" in bob


@pytest.mark.slow
def test_rerun_grades_nothing_and_changes_nothing(parallel):
    root = parallel[0]
    before = {p: p.read_bytes() for p in (root / ".grading" / "results").rglob("*.json")}
    summary = ag.autograde(root, SLUG, workers=2, limits=LIMITS, use_sandbox=NO_SANDBOX is None, echo=print)
    assert (summary["graded"], summary["skipped"]) == (0, len(EXPECTED))
    assert before == {p: p.read_bytes() for p in (root / ".grading" / "results").rglob("*.json")}
    log = [json.loads(line) for line in (root / ".grading" / "regrade-log.jsonl").read_text().splitlines()]
    assert [e["event"] for e in log if e["event"] in ("run", "run end")] == ["run", "run end"] * 2
    assert sum(e["event"] == "graded" for e in log) == len(EXPECTED)


@pytest.mark.slow
def test_parallel_grades_equal_serial_grades(parallel, serial):
    par, ser = Cohort(parallel[0]).results(SLUG), Cohort(serial[0]).results(SLUG)
    assert sorted(ser) == sorted(SERIAL_SUBSET)
    for student in SERIAL_SUBSET:
        assert comparable(par[student]) == comparable(ser[student]), student


@pytest.mark.slow
def test_similarity_pairs_the_copies_not_the_blank(parallel):
    pairs = similarity.similarity(parallel[0], SLUG, threshold=0.9, echo=lambda *a: None)
    paired = {frozenset((p["student_a"], p["student_b"])) for p in pairs}
    assert frozenset(("alice", "carol")) in paired
    assert not any("bea" in p for p in paired) and not any("bob" in p for p in paired)


def test_submissions_build(tmp_path):
    """The simulated cohort itself (fast): every student but the corrupt one is a valid notebook."""
    subs = submissions(STUDENT_NB, 1)
    assert sorted(subs) == sorted(EXPECTED)
    for student, nb in subs.items():
        if student != "oscar":
            nbformat.validate(nb)


@pytest.mark.slow
def test_release_and_collect_through_an_nbgrader_exchange(tmp_path):
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit
    from traitlets.config import Config

    from airoadmap.grading import nbtools
    root, exchange = tmp_path / "cohort", tmp_path / "exchange"
    exchange.mkdir(mode=0o1777)
    root.mkdir()
    (root / "cohort.toml").write_text(f'[exchange]\nroot = "{exchange}"\n')
    release(root, [SLUG], echo=lambda *a: None)
    assert (exchange / nbtools.COURSE_ID / "outbound" / SLUG / f"{SLUG}.ipynb").exists()
    assert not (root / "handout").exists()
    c = Config()   # a student fetches and submits, as JupyterHub's assignment list does
    c.Exchange.root, c.Exchange.assignment_dir = str(exchange), str(tmp_path / "student")
    c.CourseDirectory.course_id, c.CourseDirectory.assignment_id = nbtools.COURSE_ID, SLUG
    (tmp_path / "student").mkdir()
    for step in (ExchangeFetchAssignment, ExchangeSubmit):
        step(coursedir=CourseDirectory(config=c), authenticator=Authenticator(config=c), config=c).start()
    out = collect.collect(root, [], SLUG, echo=lambda *a: None)
    [entry] = out["collected"]
    assert Cohort(root).timestamp(entry["student"], SLUG) is not None


@pytest.mark.slow
@needs_sandbox
def test_a_kernel_that_cannot_start_is_the_graders_failure_not_a_zero(parallel, monkeypatch):
    root = parallel[0]
    monkeypatch.setattr(sandbox, "readonly_paths", lambda extra=(): [])   # no Python inside the sandbox
    job = {"student": "alice", "slug": SLUG, "submitted": str(root / "submitted" / "alice" / SLUG),
           "source": str(root / "source" / SLUG / f"{SLUG}.ipynb"),
           "release": str(root / "release" / SLUG / f"{SLUG}.ipynb"),
           "scratch": str(root.parent / "broken"), "out": str(root.parent / "broken.out"),
           "limits": LIMITS, "mode": "bwrap", "threads": 1}
    result = worker.grade(job)
    assert result["status"] == worker.NOT_GRADED and "did not start" in result["error"], result


@pytest.mark.slow
@needs_sandbox
def test_a_setup_failure_is_not_graded_with_its_cause(tmp_path, monkeypatch):
    """An asset missing in the kernel is the grader's problem: NOT GRADED, the cause in one line, exit 1."""
    slug = "05-transformers-essentials"
    root = tmp_path / "cohort"
    release(root, [slug], echo=lambda *a: None)
    folder = root / "submitted" / "sam" / slug
    folder.mkdir(parents=True)
    nbformat.write(answered(root / "release" / slug / f"{slug}.ipynb"), folder / f"{slug}.ipynb")
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    monkeypatch.setattr(ag, "_cache_dir", lambda: empty)
    monkeypatch.setattr(ag, "prepare_assets", lambda slugs, echo=print: {})
    out = CliRunner().invoke(main, ["cohort", "autograde", "--course", str(root), slug, "--workers", "1"])
    assert out.exit_code != 0 and "NOT GRADED" in out.output, f"expected NOT GRADED and exit 1, got {out.output}"
    result = Cohort(root).result(slug, "sam")
    assert result["status"] == "not graded", result
    assert "setup cell" in result["error"] and "AssetError" in result["error"], result
    assert "\n" not in result["error"], f"expected the cause in one line, got {result['error']!r}"
    from airoadmap.grading import nbtools
    with nbtools.gradebook(root) as gb:
        assert not gb.find_assignment(slug).submissions, "expected no grade in the gradebook for a setup failure"
    again = ag.autograde(root, slug, workers=1, echo=lambda *a: None)
    assert again["skipped"] == 0 and list(again["not_graded"]) == [f"sam/{slug}"], \
        f"expected a not-graded submission to be graded again on the next run, got {again}"


@pytest.mark.slow
@needs_sandbox
def test_private_hidden_tests_grade_but_never_reach_the_release(tmp_path):
    root = tmp_path / "cohort"
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / f"{SLUG}.py").write_text(
        "# Private tests of this cohort\n# %% test_fit_line\nassert False, 'expected this private test to run'\n")
    root.mkdir()
    (root / "cohort.toml").write_text('[private_tests]\nfolder = "../private"\n')
    release(root, [SLUG], echo=lambda *a: None)
    assert "private test" not in (root / "release" / SLUG / f"{SLUG}.ipynb").read_text(), \
        "expected the private test absent from what students get"
    assert "private test" in (root / "source" / SLUG / f"{SLUG}.ipynb").read_text(), "expected it in source/"
    folder = root / "submitted" / "alice" / SLUG
    folder.mkdir(parents=True)
    nbformat.write(answered(root / "release" / SLUG / f"{SLUG}.ipynb"), folder / f"{SLUG}.ipynb")
    ag.autograde(root, SLUG, workers=1, limits=LIMITS, echo=lambda *a: None)
    tests = Cohort(root).result(SLUG, "alice")["tests"]
    fit = tests["test_fit_line"]
    assert not fit["passed"] and "expected this private test to run" in fit["message"], \
        f"expected the private test to run and its own message to be shown, got {tests['test_fit_line']}"
    assert all(t["passed"] for name, t in tests.items() if name != "test_fit_line"), tests


def test_private_tests_name_unknown_cells_clearly(tmp_path):
    from airoadmap.grading.cohort import CohortError
    root = tmp_path / "cohort"
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / f"{SLUG}.py").write_text("# %% test_nothing\nassert True\n")
    root.mkdir()
    (root / "cohort.toml").write_text('[private_tests]\nfolder = "../private"\n')
    with pytest.raises(CohortError, match="test_nothing.*test_fit_line"):
        release(root, [SLUG], echo=lambda *a: None)


@pytest.mark.slow
def test_stopping_after_the_last_test_gives_the_same_scores_and_skips_the_rest(collected):
    root, summary = grade_copy(collected, "stopped", workers=1, threads=1, students=["alice", "gus"],
                               stop_after_last_test=True)
    results = Cohort(root).results(SLUG)
    assert {s: r["score"] for s, r in results.items()} == {"alice": 15, "gus": 15}, results
    assert results["gus"]["limits"] == [], "expected gus's slow cells after the last test skipped, not timed out"
    nb = json.loads((root / "autograded" / "gus" / SLUG / f"{SLUG}.ipynb").read_text())
    assert nb["cells"][-1]["metadata"]["airoadmap"]["kind"] == "test", "expected the graded run to end at the last test"
