"""A cohort's course folder: nbgrader's layout, ``cohort.toml``, and the grader's own records.

    cohort/
      cohort.toml          deadlines, late policy, extensions, limits, exchange, roster
      gradebook.db         nbgrader's gradebook (only the parent grading process writes it)
      source/ release/     the assignment as nbgrader generated it (release: what students got)
      submitted/<student>/<assignment>/   what was collected, with timestamp.txt
      autograded/ feedback/ reports/      outputs of autograde, feedback, report
      handout/<assignment>.zip            what to upload to an LMS when no exchange is used
      .grading/results/<assignment>/<student>.json   one graded result per submission
      .grading/regrade-log.jsonl          append-only: every run and every submission it graded

Used by the ``airoadmap cohort`` verbs (:mod:`.handout`, :mod:`.collect`, :mod:`.autograde`,
:mod:`.report`, :mod:`.feedback`, :mod:`.similarity`).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from pathlib import Path

TEMPLATE = """\
# The cohort's grading settings (airoadmap cohort ...). Times are TOML datetimes with a zone.

[assignments."{slug}"]
deadline = {deadline}

[late]
per_day = 0.10          # fraction of the assignment's points lost per day (or part of a day) late
max_penalty = 1.0       # at most this fraction
grace_minutes = 15      # submissions this close after the deadline are on time

[extensions]            # extra days per student and assignment
# jdoe = {{ "{slug}" = 3 }}

[limits]                # per submission, when autograding (defaults: airoadmap.grading.limits)
cell_timeout = {limits.cell_timeout}      # seconds per cell
wall_clock = {limits.wall_clock}       # seconds for the whole notebook
memory_mb = {limits.memory_mb}        # the kernel's heap
processes = {limits.processes}        # processes and threads of the kernel
# cell_output_kb = {limits.cell_output_kb}   # output kept per cell
# notebook_output_mb = {limits.notebook_output_mb}  # output kept per notebook
# notebook_mb = {limits.notebook_mb}        # the largest submitted notebook read

[grading]
stop_after_last_test = false   # true: skip the cells after the last test (same scores, often half the time)

# [private_tests]       # hidden tests of your own, not in the public repository (docs/instructors.md)
# folder = "private-tests"   # holds <assignment>.py with "# %% <test id>" blocks

# [exchange]            # an nbgrader exchange shared with the students' JupyterHub
# root = "/srv/nbgrader/exchange"

[roster]                # LMS names or numbers -> student ids, where they differ
# "12345" = "jdoe"
"""


class CohortError(Exception):
    """Something an instructor must fix; the message says what to do."""


class Cohort:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()
        self.state = self.root / ".grading"
        self.config = {}
        if (self.root / "cohort.toml").exists():
            try:
                self.config = tomllib.loads((self.root / "cohort.toml").read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as e:
                raise CohortError(f"{self.root / 'cohort.toml'} is not valid TOML: {e}") from None

    @classmethod
    def open(cls, root: str | os.PathLike, slug: str | None = None) -> Cohort:
        cohort = cls(root)
        if not (cohort.root / "gradebook.db").exists():
            raise CohortError(f"{cohort.root} is not a cohort folder (no gradebook.db): "
                              f"run `airoadmap cohort release --course {root}` first")
        if slug and not (cohort.root / "source" / slug / f"{slug}.ipynb").exists():
            known = ", ".join(cohort.assignments()) or "none"
            raise CohortError(f"assignment {slug!r} was not released in {cohort.root} (released: {known})")
        return cohort

    def assignments(self) -> list[str]:
        src = self.root / "source"
        return sorted(p.name for p in src.iterdir() if (p / f"{p.name}.ipynb").exists()) if src.is_dir() else []

    def students(self, slug: str) -> list[str]:
        sub = self.root / "submitted"
        return sorted(p.name for p in sub.iterdir() if (p / slug).is_dir()) if sub.is_dir() else []

    def submission(self, student: str, slug: str) -> Path:
        return self.root / "submitted" / student / slug

    # -- settings --------------------------------------------------------------------------------
    def limits(self) -> dict:
        return dict(self.config.get("limits", {}))

    def exchange(self) -> str | None:
        return self.config.get("exchange", {}).get("root")

    def roster(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.config.get("roster", {}).items()}

    def deadline(self, slug: str) -> dt.datetime | None:
        value = self.config.get("assignments", {}).get(slug, {}).get("deadline")
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time(23, 59, 59))
        if value is not None and value.tzinfo is None:
            raise CohortError(f"the deadline of {slug} in cohort.toml has no time zone: write e.g. "
                              f"{value.isoformat()}+00:00")
        return value

    def extension_days(self, student: str, slug: str) -> float:
        return float(self.config.get("extensions", {}).get(student, {}).get(slug, 0))

    def timestamp(self, student: str, slug: str) -> dt.datetime | None:
        """When the submission was made (``timestamp.txt``, as nbgrader's exchange writes it)."""
        path = self.submission(student, slug) / "timestamp.txt"
        if not path.exists():
            return None
        from nbgrader.utils import parse_utc
        return parse_utc(path.read_text().strip()).replace(tzinfo=dt.UTC)

    # -- results and the log ---------------------------------------------------------------------
    def result_path(self, slug: str, student: str) -> Path:
        return self.state / "results" / slug / f"{student}.json"

    def result(self, slug: str, student: str) -> dict | None:
        path = self.result_path(slug, student)
        return json.loads(path.read_text()) if path.exists() else None

    def results(self, slug: str) -> dict[str, dict]:
        folder = self.state / "results" / slug
        return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}

    def save_result(self, result: dict) -> None:
        path = self.result_path(result["slug"], result["student"])
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1))  # tests stay in notebook order
        os.replace(tmp, path)  # atomic: an interrupted run never leaves half a result

    def log(self, event: dict) -> None:
        """Append one line to the regrade log (never rewritten)."""
        self.state.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"time": now().isoformat(timespec="seconds"), **event}, sort_keys=True)
        with open(self.state / "regrade-log.jsonl", "a", encoding="utf-8") as f:
            f.write(line + "\n")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def write_template(root: Path, slug: str) -> Path:
    """A commented ``cohort.toml`` for a new cohort (deadline two weeks from now)."""
    path = root / "cohort.toml"
    if not path.exists():
        deadline = (now() + dt.timedelta(days=14)).replace(hour=23, minute=59, second=0, microsecond=0)
        from .limits import DEFAULTS
        path.write_text(TEMPLATE.format(slug=slug, deadline=deadline.isoformat(), limits=DEFAULTS), encoding="utf-8")
    return path
