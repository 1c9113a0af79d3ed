"""``airoadmap cohort collect``: bring submissions into ``submitted/<student>/<assignment>/``.

Two sources:

* nbgrader's exchange (``[exchange] root`` in cohort.toml): ``nbgrader collect``, which writes
  each ``timestamp.txt`` itself;
* an LMS download, a folder or a ``.zip``, whose file names carry the student. Recognised names::

      jdoe_01-pytorch-fundamentals.ipynb                  plain: <student>_<assignment>
      01-pytorch-fundamentals_jdoe.ipynb                  plain, the other way round
      jdoe/01-pytorch-fundamentals.ipynb                  one folder per student
      doejohn_12345_67890_01-pytorch-fundamentals.ipynb   Canvas (login, user id, submission id)
      doejohn_late_12345_67890_01-pytorch-fundamentals.ipynb
      John Doe_12345_assignsubmission_file_01-pytorch-fundamentals.ipynb   Moodle (also as a folder)

  ``[roster]`` in cohort.toml maps LMS numbers or names to student ids. The submission time is
  the file's time in the zip (taken as UTC) or on disk.

Nothing is dropped or overwritten silently: unrecognised files and duplicates (two files for one
student and assignment: the newest is kept) are reported and copied to ``.grading/collect-problems/``;
a changed resubmission replaces the old one, which is kept in ``.grading/superseded/``.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import nbtools
from .cohort import Cohort, CohortError, now

JUNK = ("__MACOSX", ".DS_Store", "Thumbs.db", ".ipynb_checkpoints", "desktop.ini")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<num>\d+)_assignsubmission_[a-z]+_?$")
CANVAS = re.compile(r"^(?P<login>[A-Za-z0-9.-]+?)(?P<late>_late)?_(?P<uid>\d+)_(?P<sub>\d+)(?:_\d+)?$", re.I)
COPY_SUFFIX = re.compile(r"^(?:[ _-]?\(\d+\)|-\d+|[ _-]copy)$", re.I)  # "x (1).ipynb", "x-1.ipynb"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's exchange format


@dataclass
class Found:
    origin: str                    # "download.zip:folder/file.ipynb"
    data: bytes
    time: dt.datetime
    student: str | None = None
    slug: str | None = None
    problem: str | None = None
    lms_late: bool = False


def student_of(prefix: str, roster: dict[str, str]) -> tuple[str, bool]:
    """The student id in an LMS prefix (Moodle, Canvas or a plain id) and Canvas's late flag."""
    if m := MOODLE.match(prefix):
        name = m["name"]
        return roster.get(m["num"]) or roster.get(name) or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"), False
    if m := CANVAS.match(prefix):
        return roster.get(m["uid"]) or roster.get(m["login"]) or m["login"].lower(), bool(m["late"])
    return roster.get(prefix, prefix), False


def identify(item: Found, slugs: list[str], roster: dict[str, str]) -> Found:
    path = PurePosixPath(item.origin.split(":", 1)[-1])
    if path.suffix != ".ipynb":
        item.problem = "not a notebook"
        return item
    stem, parent = path.stem, path.parent.name
    slug = next((s for s in sorted(slugs, key=len, reverse=True) if s in stem), None)
    if not slug:
        item.problem = f"no assignment name ({', '.join(slugs)}) in the file name"
        return item
    before, after = stem[:stem.index(slug)].rstrip(" _-"), stem[stem.index(slug) + len(slug):]
    lms_prefix = bool(MOODLE.match(before) or CANVAS.match(before))
    after = "" if (not after or COPY_SUFFIX.match(after) or lms_prefix) else after.strip(" _-")
    if before and after:
        item.problem = f"cannot tell the student from {path.name!r} ({before!r} or {after!r}?)"
        return item
    prefix = before or after or parent
    if not prefix:
        item.problem = "no student id in the file name or its folder"
        return item
    student, item.lms_late = student_of(prefix, roster)
    if not STUDENT_ID.match(student):
        item.problem = f"{student!r} is not a usable student id (letters, digits, . _ -): map it in [roster] of cohort.toml"
        return item
    item.student, item.slug = student, slug
    return item


def read_download(source: Path) -> list[Found]:
    items = []
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as z:
            for info in z.infolist():
                if not info.is_dir() and not any(j in info.filename for j in JUNK):
                    when = dt.datetime(*info.date_time, tzinfo=dt.timezone.utc)
                    items.append(Found(f"{source.name}:{info.filename}", z.read(info), when))
    elif source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file() and not any(j in path.parts or path.name == j for j in JUNK):
                when = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
                items.append(Found(f"{source.name}:{path.relative_to(source).as_posix()}", path.read_bytes(), when))
    else:
        raise CohortError(f"{source} is neither a folder nor a .zip file")
    return items


def store(cohort: Cohort, item: Found) -> str:
    """Write one submission; return what happened ("new", "unchanged", "replaced ...")."""
    dest = cohort.submission(item.student, item.slug)
    notebook = dest / f"{item.slug}.ipynb"
    if notebook.exists() and notebook.read_bytes() == item.data:
        return "unchanged"
    status = "new"
    if dest.exists():
        keep = cohort.state / "superseded" / item.slug / item.student / now().strftime("%Y%m%d-%H%M%S-%f")
        shutil.move(str(dest), keep)
        status = f"replaced (previous kept in {keep.relative_to(cohort.root)})"
    dest.mkdir(parents=True)
    notebook.write_bytes(item.data)
    (dest / "timestamp.txt").write_text(item.time.astimezone(dt.timezone.utc).strftime(TIMESTAMP_FORMAT))
    return status


def collect(course, sources: list[str | Path] = (), slug: str | None = None, echo=print) -> dict:
    cohort = Cohort.open(course, slug)
    slugs = [slug] if slug else cohort.assignments()
    report = {"time": now().isoformat(timespec="seconds"), "collected": [], "problems": []}
    if not sources:
        if not cohort.exchange():
            raise CohortError("nothing to collect from: give LMS downloads (folders or .zip files), "
                              "or set [exchange] root in cohort.toml")
        for s in slugs:
            report["collected"] += collect_exchange(cohort, s)
    items = [identify(item, slugs, cohort.roster()) for src in sources for item in read_download(Path(src))]
    groups: dict[tuple[str, str], list[Found]] = {}
    for item in items:
        if item.problem:
            report["problems"].append({"file": item.origin, "problem": item.problem})
        else:
            groups.setdefault((item.student, item.slug), []).append(item)
    set_aside = [i for i in items if i.problem]
    for (student, s), group in sorted(groups.items()):
        group.sort(key=lambda i: i.time)
        keep = group[-1]
        for other in group[:-1]:
            report["problems"].append({"file": other.origin, "problem": f"duplicate for {student}/{s}: "
                                       f"kept the newer {keep.origin}"})
            set_aside.append(other)
        status = store(cohort, keep)
        report["collected"].append({"student": student, "slug": s, "file": keep.origin, "status": status,
                                    "timestamp": keep.time.isoformat(), "lms_late": keep.lms_late})
    stamp = now().strftime("%Y%m%d-%H%M%S")
    for item in set_aside:
        dest = cohort.state / "collect-problems" / stamp / item.origin.replace(":", "/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(item.data)
    (cohort.state / "collect").mkdir(parents=True, exist_ok=True)
    (cohort.state / "collect" / f"{stamp}.json").write_text(json.dumps(report, indent=1))
    for c in report["collected"]:
        echo(f"  {c['student']:<16} {c['slug']}: {c['status']}{'  (marked late by the LMS)' if c['lms_late'] else ''}")
    for p in report["problems"]:
        echo(f"  PROBLEM {p['file']}: {p['problem']}")
    if set_aside:
        echo(f"files with problems were copied to {cohort.state / 'collect-problems' / stamp}")
    return report


def collect_exchange(cohort: Cohort, slug: str) -> list[dict]:
    nbtools.ensure_tools_on_path()
    from nbgrader.apps import NbGraderAPI
    with nbtools.quiet_logs():
        out = NbGraderAPI(config=nbtools.course_config(cohort.root, exchange=cohort.exchange())).collect(slug, update=True)
    if not out.get("success"):
        raise CohortError(f"nbgrader could not collect {slug} from {cohort.exchange()}: {out.get('error') or out.get('log')}")
    return [{"student": s, "slug": slug, "file": "exchange", "status": "collected",
             "timestamp": str(cohort.timestamp(s, slug)), "lms_late": False} for s in cohort.students(slug)]
