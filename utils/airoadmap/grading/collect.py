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
student and assignment: the newest is kept) are reported and copied to ``.grading/collect-problems/``
(under names made here, never from the archive); a changed resubmission replaces the old one, which
is kept in ``.grading/superseded/``.

Archives and folders are untrusted: an entry with an absolute path or ``..``, a link, a device or
FIFO, or more than ``MAX_FILE_BYTES`` is rejected and reported (Python's ``tarfile`` "data" filter,
PEP 706, applied to zip entries by hand); names are printed escaped; nothing is ever written at a
path built from a name in the download.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
import unicodedata
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
MAX_FILE_BYTES = 50 << 20     # a notebook larger than this is not read
MAX_TOTAL_BYTES = 4 << 30     # what one download may unpack to, in all


def shown(name: str, limit: int = 160) -> str:
    """A name from a download, safe to print: control characters escaped, length capped."""
    out = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(name))
    return out[:limit] + ("..." if len(out) > limit else "")


def student_id(name: str) -> str:
    """A usable id from a person's name: accents dropped, lower case, other characters as '-'
    ("José Pérez" -> "jose-perez")."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def unsafe_entry(name: str) -> str | None:
    """Why an archive member's name may not be used (None if it may)."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    parts = name.split("/")
    if any(p == ".." for p in parts):
        return "'..' in the path"
    if any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        return "control characters in the name"
    return None


@dataclass
class Found:
    origin: str                    # "download.zip:folder/file.ipynb"
    data: bytes
    time: dt.datetime
    student: str | None = None
    slug: str | None = None
    problem: str | None = None
    lms_late: bool = False
    name: str | None = None        # the person's name the id was made from (Moodle, no roster entry)


def student_of(prefix: str, roster: dict[str, str]) -> tuple[str, bool]:
    """The student id in an LMS prefix (Moodle, Canvas or a plain id) and Canvas's late flag."""
    if m := MOODLE.match(prefix):
        name = m["name"]
        return roster.get(m["num"]) or roster.get(name) or student_id(name), False
    if m := CANVAS.match(prefix):
        return roster.get(m["uid"]) or roster.get(m["login"]) or m["login"].lower(), bool(m["late"])
    return roster.get(prefix, prefix), False


def identify(item: Found, slugs: list[str], roster: dict[str, str]) -> Found:
    if item.problem:
        return item
    path = PurePosixPath(item.origin.split(":", 1)[-1].replace("\\", "/"))
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
    if (m := MOODLE.match(prefix)) and not (roster.get(m["num"]) or roster.get(m["name"])):
        item.name = m["name"]
    if not STUDENT_ID.match(student) and student not in roster.values() and STUDENT_ID.match(student_id(student)):
        item.name, student = student, student_id(student)
    if not STUDENT_ID.match(student):
        item.problem = (f"{student!r} is not a usable student id (letters, digits, . _ -): "
                        "map it in [roster] of cohort.toml")
        return item
    item.student, item.slug = student, slug
    return item


def read_download(source: Path) -> list[Found]:
    items = []
    if source.is_file() and zipfile.is_zipfile(source):
        total = 0
        with zipfile.ZipFile(source) as z:
            for info in z.infolist():
                origin = f"{source.name}:{info.filename}"
                if info.is_dir() or any(j in info.filename for j in JUNK):
                    continue
                when = _zip_time(info)
                mode = info.external_attr >> 16
                kind = stat.S_IFMT(mode)
                why = unsafe_entry(info.filename)
                if why is None and kind and kind != stat.S_IFREG:
                    why = "a link" if stat.S_ISLNK(mode) else "not a regular file"
                if why is None and info.file_size > MAX_FILE_BYTES:
                    why = f"{info.file_size / 1e6:.0f} MB, over the {MAX_FILE_BYTES >> 20} MB limit"
                if why is None and total + info.file_size > MAX_TOTAL_BYTES:
                    why = "the download unpacks to more than the limit"
                if why:
                    items.append(Found(origin, b"", when, problem=f"rejected: {why}"))
                    continue
                with z.open(info) as f:
                    data = f.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    items.append(Found(origin, b"", when, problem="rejected: larger than it says"))
                    continue
                total += len(data)
                items.append(Found(origin, data, when))
    elif source.is_dir() and not source.is_symlink():
        for path, entry in _walk(source):
            rel = path.relative_to(source).as_posix()
            origin = f"{source.name}:{rel}"
            if any(j in path.relative_to(source).parts or path.name == j for j in JUNK):
                continue
            if entry is None or not entry.is_file(follow_symlinks=False):
                items.append(Found(origin, b"", dt.datetime.now(dt.UTC),
                                   problem="rejected: a link" if entry is not None and entry.is_symlink()
                                   else "rejected: not a regular file"))
                continue
            info = entry.stat(follow_symlinks=False)
            when = dt.datetime.fromtimestamp(info.st_mtime, dt.UTC)
            if info.st_size > MAX_FILE_BYTES:
                items.append(Found(origin, b"", when, problem=f"rejected: over the {MAX_FILE_BYTES >> 20} MB limit"))
                continue
            from .engine import SubmissionError, read_regular_file
            try:
                items.append(Found(origin, read_regular_file(path, MAX_FILE_BYTES), when))
            except (OSError, SubmissionError) as e:
                items.append(Found(origin, b"", when, problem=f"rejected: {e}"))
    else:
        raise CohortError(f"{source} is neither a folder nor a .zip file")
    return items


def _zip_time(info: zipfile.ZipInfo) -> dt.datetime:
    try:
        return dt.datetime(*info.date_time, tzinfo=dt.UTC)
    except ValueError:
        return dt.datetime(1980, 1, 1, tzinfo=dt.UTC)


def _walk(folder: Path):
    """(path, DirEntry) of every entry below ``folder``, links not followed; folders recursed into."""
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            else:
                yield Path(entry.path), entry


def set_aside_path(folder: Path, index: int, item: Found) -> Path:
    """Where a file with a problem is kept: a name made here (number, hash, cleaned base name)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", PurePosixPath(item.origin.replace("\\", "/")).name)[-80:].lstrip(".")
    digest = hashlib.sha256(item.origin.encode("utf-8", "replace")).hexdigest()[:8]
    return folder / f"{index:04d}-{digest}-{base or 'file'}"


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
    (dest / "timestamp.txt").write_text(item.time.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT))
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
                                    "timestamp": keep.time.isoformat(), "lms_late": keep.lms_late,
                                    **({"name": keep.name} if keep.name and keep.name != student else {})})
    stamp = now().strftime("%Y%m%d-%H%M%S-%f")
    kept = cohort.state / "collect-problems" / stamp
    index = {}
    for i, item in enumerate(set_aside):
        if not item.data and item.problem and item.problem.startswith("rejected"):
            continue  # nothing to keep: a link, a special file, an entry not read
        kept.mkdir(parents=True, exist_ok=True)
        dest = set_aside_path(kept, i, item)
        with open(dest, "xb") as f:
            f.write(item.data)
        index[dest.name] = item.origin
    if index:
        (kept / "index.json").write_text(json.dumps(index, indent=1, ensure_ascii=False), encoding="utf-8")
    (cohort.state / "collect").mkdir(parents=True, exist_ok=True)
    (cohort.state / "collect" / f"{stamp}.json").write_text(json.dumps(report, indent=1))
    for c in report["collected"]:
        renamed = f"  (id made from the name {shown(c['name'])!r}: map it in [roster] to choose another)" \
            if c.get("name") else ""
        echo(f"  {c['student']:<16} {c['slug']}: {c['status']}{'  (marked late by the LMS)' if c['lms_late'] else ''}"
             f"{renamed}")
    for p in report["problems"]:
        echo(f"  PROBLEM {shown(p['file'])}: {shown(p['problem'], 300)}")
    if index:
        echo(f"files with problems were copied to {kept} (index.json: which is which)")
    return report


def collect_exchange(cohort: Cohort, slug: str) -> list[dict]:
    with nbtools.quiet_logs():
        out = nbtools.api(cohort.root, exchange=cohort.exchange()).collect(slug, update=True)
    if not out.get("success"):
        raise CohortError(f"nbgrader could not collect {slug} from {cohort.exchange()}: "
                          f"{out.get('error') or out.get('log')}")
    return [{"student": s, "slug": slug, "file": "exchange", "status": "collected",
             "timestamp": str(cohort.timestamp(s, slug)), "lms_late": False} for s in cohort.students(slug)]
