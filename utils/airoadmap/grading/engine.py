"""The grading engine: what runs, in which order, and what each test cell's verdict is.

nbgrader generates the assignments and keeps the gradebook; this module replaces its autograde
step, which trusts the submission more than a grader may (its tags, its metadata, its outputs).

:func:`assemble` builds the notebook to execute from three sources:

* the cohort's ``source/`` notebook (trusted): every locked cell (setup) and every test cell,
  hidden tests included, with its points;
* the cohort's ``release/`` notebook (trusted): the cells before the first graded cell (the
  ``parameters`` cell), and what the student's copies of locked cells should look like;
* the submission (untrusted): the answer in each solution cell, and every cell the student added
  or kept (demo cells, helpers), in the student's order after the graded cell they follow.

A student cell is matched to a graded cell by its ``grade_id`` (valid metadata, first use) or,
when the metadata was stripped or renamed, by having exactly the released text of a locked or
test cell. Metadata and tags of student cells are dropped: nothing a submission writes decides
what runs or how it scores. Deleted test cells are back, because every test comes from the
source. No student code runs before the last leading setup cell: that is where the grading
kernel takes its snapshot (:mod:`.kernel`), and before each test cell it restores it.

:func:`execute` runs the cells in the grading kernel with the limits of :class:`~.limits.Limits`
and returns, per cell, the kernel's reply status: a test passes when its reply is ``ok``, never
because of what it printed (so a learner's progress bar or warning on stderr costs nothing, and a
hook that prints a number before a test earns nothing).
"""
from __future__ import annotations

import difflib
import json
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from .kernel import SNAPSHOT, TEST
from .limits import Limits

PROFILE_CELL = '# Parameters (set by the grader)\nprofile = "cpu"\n'


class SubmissionError(Exception):
    """The submission itself cannot be graded (not a notebook, too large, ...): it scores zero, with this reason."""


# -- reading untrusted files ----------------------------------------------------------------------

def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``max_bytes``; never follows a link,
    never blocks on a FIFO or a device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as e:
        raise SubmissionError(f"{Path(path).name} cannot be opened as a plain file ({e.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(f"{Path(path).name} is not a regular file")
        if info.st_size > max_bytes:
            raise SubmissionError(f"{Path(path).name} is {info.st_size / 1e6:.1f} MB, over the "
                                  f"{max_bytes / 1e6:.0f} MB limit (clear the outputs and resubmit)")
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > max_bytes:
                raise SubmissionError(f"{Path(path).name} grew past {max_bytes / 1e6:.0f} MB while read")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _text(source) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return ""


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def grade_id_of(cell) -> str | None:
    gid = _nbgrader(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def parse_submission(data: bytes) -> list[dict]:
    """The submission's cells as plain dicts (cell_type, source, grade_id, nbgrader, tags); robust to any JSON:
    whatever is not a cell is skipped, whatever is not a string is empty."""
    try:
        nb = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError as e:
        raise SubmissionError(f"not a readable notebook: not JSON ({str(e)[:80]})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError("not a readable notebook: no list of cells")
    cells = []
    for raw in nb["cells"]:
        if not isinstance(raw, dict):
            continue
        kind = raw.get("cell_type")
        if kind not in ("code", "markdown", "raw"):
            continue
        meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        tags = meta.get("tags") if isinstance(meta.get("tags"), list) else []
        cells.append({"cell_type": kind, "source": _text(raw.get("source")), "grade_id": grade_id_of(raw),
                      "nbgrader": _nbgrader(raw), "tags": [t for t in tags if isinstance(t, str)][:20]})
    return cells


def normalized(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


# -- assembling what runs -------------------------------------------------------------------------

@dataclass
class Cell:
    """One cell of the notebook that is executed."""
    kind: str                     # "parameters", "setup", "solution", "test", "student", "markdown"
    source: str
    grade_id: str | None = None
    points: float = 0.0
    metadata: dict = field(default_factory=dict)   # trusted nbgrader metadata, for the autograded copy
    marker: str = ""              # first line for the grading kernel (SNAPSHOT, TEST)


@dataclass
class Assembly:
    cells: list[Cell]
    matched: dict[str, str]       # grade_id -> "id" | "text" (how the student's copy was found)
    missing: list[str]            # graded cells of the release absent from the submission
    duplicates: list[str]         # grade ids used more than once


def _anchors(source_nb) -> list[tuple[str, str, dict, str]]:
    """(grade_id, kind, nbgrader metadata, trusted source) of the source notebook's graded and locked cells."""
    out = []
    for cell in source_nb.cells:
        meta = _nbgrader(cell)
        gid = meta.get("grade_id")
        if not gid:
            continue
        if meta.get("solution"):
            kind = "solution"
        elif meta.get("grade"):
            kind = "test"
        elif meta.get("locked"):
            kind = "setup"
        else:
            continue
        out.append((gid, kind, dict(meta), _text(cell.source)))
    return out


def assemble(submission: list[dict], release_nb, source_nb) -> Assembly:
    anchors = _anchors(source_nb)
    kinds = {gid: kind for gid, kind, _, _ in anchors}
    released = {grade_id_of(c): normalized(_text(c.source)) for c in release_nb.cells if grade_id_of(c)}
    by_text = {}
    for gid, kind, _, _ in anchors:
        if kind != "solution" and released.get(gid):
            by_text.setdefault(released[gid], gid)

    # 1. which student cell is which graded cell; every other cell belongs to the graded cell before it
    matched, how, duplicates = {}, {}, []
    attached: dict[str | None, list[dict]] = {None: []}
    current = None
    for cell in submission:
        gid = cell["grade_id"]
        if gid in kinds and gid in matched:
            duplicates.append(gid)
            gid = None
        elif gid not in kinds:
            gid = None
        if gid is None and cell["cell_type"] == "code":
            text_gid = by_text.get(normalized(cell["source"]))
            if text_gid and text_gid not in matched:
                gid = text_gid
                how[gid] = "text"
        if gid is not None:
            matched[gid] = cell
            how.setdefault(gid, "id")
            current = gid
            attached.setdefault(gid, [])
        else:
            attached.setdefault(current, []).append(cell)

    # 2. the release's cells before the first graded cell (parameters), then the forced profile
    cells = []
    first_graded = next((i for i, c in enumerate(release_nb.cells) if grade_id_of(c)), len(release_nb.cells))
    for c in release_nb.cells[:first_graded]:
        if c.cell_type == "code" and _text(c.source).strip():
            cells.append(Cell("parameters", _text(c.source)))
    cells.append(Cell("parameters", PROFILE_CELL))

    # 3. graded cells in the release's order; no student code before the last leading setup cell
    leading = 0
    while leading < len(anchors) and anchors[leading][1] == "setup":
        leading += 1
    deferred = list(attached[None])
    for i, (gid, kind, meta, trusted) in enumerate(anchors):
        if kind == "solution":
            if gid in matched:
                cells.append(Cell("solution", matched[gid]["source"], gid, metadata=meta))
        else:
            points = float(meta.get("points") or 0) if kind == "test" else 0.0
            cells.append(Cell(kind, trusted, gid, points, meta, TEST if kind == "test" else ""))
        followers = [_student_cell(c) for c in attached.get(gid, [])]
        if i < leading:
            deferred += attached.get(gid, [])
            if i == leading - 1:
                cells[-1].marker = SNAPSHOT
                cells += [_student_cell(c) for c in deferred]
        else:
            cells += followers
    if leading == 0:  # no locked setup: snapshot after the parameters, before any student code
        cells[len([c for c in cells if c.kind == "parameters"]) - 1].marker = SNAPSHOT
        cells += [_student_cell(c) for c in deferred]
    missing = [gid for gid, kind, _, _ in anchors if gid not in matched and kind != "setup"]
    return Assembly(cells, how, missing, sorted(set(duplicates)))


def _student_cell(cell: dict) -> Cell:
    return Cell("student" if cell["cell_type"] == "code" else "markdown", cell["source"])


# -- executing it ---------------------------------------------------------------------------------

@dataclass
class CellRun:
    status: str = "not run"       # "ok", "error", "timeout", "died", "not run"
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0
    restored: list[str] = field(default_factory=list)
    outputs: list = field(default_factory=list)
    dropped_bytes: int = 0


@dataclass
class Execution:
    runs: list[CellRun]
    events: list[str]             # limits hit, in order
    started: bool                 # False: the kernel never started (the grader's problem)
    start_error: str = ""
    seconds: float = 0.0


def _size(content) -> int:
    try:
        return len(json.dumps(content))
    except (TypeError, ValueError):
        return 1 << 30


def make_client(nb, km, limits: Limits, workdir: str):
    from nbclient import NotebookClient

    class Client(NotebookClient):
        """nbclient, keeping the kernel's replies and at most the output budget."""

        def output(self, outs, msg, display_id, cell_index):
            size = _size(msg.get("content"))
            if (self.cell_bytes + size > limits.cell_output_kb * 1024
                    or self.notebook_bytes + size > limits.notebook_output_mb << 20):
                self.dropped += size
                return None
            self.cell_bytes += size
            self.notebook_bytes += size
            return super().output(outs, msg, display_id, cell_index)

    client = Client(nb, km=km, timeout=limits.cell_timeout, allow_errors=True, interrupt_on_timeout=True,
                    error_on_timeout={"ename": "CellTimeoutError", "evalue": "no reply before the cell timeout",
                                      "traceback": []},
                    raise_on_iopub_timeout=True, iopub_timeout=15, startup_timeout=120, coalesce_streams=True,
                    record_timing=False, skip_cells_with_tag="\x00", shutdown_kernel="immediate",
                    resources={"metadata": {"path": workdir}})
    client.cell_bytes = client.notebook_bytes = client.dropped = 0
    return client


def execute(cells: list[Cell], km, limits: Limits, workdir: str) -> Execution:
    """Run ``cells`` in a kernel started by ``km``; one :class:`CellRun` per cell, in order."""
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell((c.marker + "\n" if c.marker else "") + c.source)
                if c.kind not in ("markdown",) else nbformat.v4.new_markdown_cell(c.source) for c in cells]
    runs = [CellRun() for _ in cells]
    events: list[str] = []
    client = make_client(nb, km, limits, workdir)
    replies: dict[int, dict] = {}
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(cell_index, execute_reply)
    started = time.perf_counter()
    deadline = time.monotonic() + limits.wall_clock
    stopped = ""
    try:
        with client.setup_kernel():
            for index, (cell, run) in enumerate(zip(cells, runs, strict=False)):
                if cell.kind == "markdown" or not cell.source.strip():
                    run.status = "ok"
                    continue
                left = deadline - time.monotonic()
                if not stopped and left <= 0:
                    stopped = f"wall-clock limit ({limits.wall_clock} s) reached before {_label(cell, index)}"
                    events.append(stopped)
                if stopped:
                    run.evalue = f"not run: {stopped}"
                    continue
                client.timeout = max(1, min(limits.cell_timeout, int(left) + 1))
                client.cell_bytes, client.dropped = 0, 0
                t0 = time.perf_counter()
                try:
                    client.execute_cell(nb.cells[index], index)
                except CellTimeoutError:
                    run.status, run.ename = "timeout", "CellTimeoutError"
                    events.append(f"cell timeout ({limits.cell_timeout} s) in {_label(cell, index)}")
                    stopped = f"the kernel ignored the interrupt in {_label(cell, index)}: stopped"
                    events.append(stopped)
                except DeadKernelError:
                    run.status, run.ename = "died", "KernelDied"
                    stopped = f"kernel died ({_exit_status(km)}) in {_label(cell, index)}"
                    run.evalue = stopped
                    events.append(stopped)
                else:
                    _record(run, replies.get(index), cell, index, limits, deadline, events)
                run.seconds = round(time.perf_counter() - t0, 2)
                run.outputs = list(nb.cells[index].get("outputs", []))
                run.dropped_bytes = client.dropped
                if run.status == "died" or stopped and run.status == "timeout":
                    break
            for cell, run in zip(cells, runs, strict=False):  # after a stop, every later cell is not run
                if run.status == "not run" and cell.kind != "markdown":
                    run.evalue = run.evalue or f"not run: {stopped}"
    except Exception as e:  # the kernel never came up, or nbclient failed around it
        if not any(r.status != "not run" for r in runs):
            return Execution(runs, events, False, f"{type(e).__name__}: {str(e)[:300]}",
                             round(time.perf_counter() - started, 1))
        events.append(f"grading kernel failed: {type(e).__name__}")
    return Execution(runs, events, True, "", round(time.perf_counter() - started, 1))


def _record(run: CellRun, reply: dict | None, cell: Cell, index: int, limits: Limits, deadline: float,
            events: list[str]) -> None:
    content = (reply or {}).get("content") or {}
    status = content.get("status")
    restored = content.get("airoadmap_restored")
    run.restored = [str(r) for r in restored][:50] if isinstance(restored, list) else []
    if status == "ok":
        run.status = "ok"
        return
    run.status = "error"
    run.ename = str(content.get("ename") or "error")[:100]
    run.evalue = str(content.get("evalue") or "")[:2000]
    if run.ename == "CellTimeoutError":
        run.status = "timeout"
        if time.monotonic() >= deadline - 1:
            events.append(f"wall-clock limit ({limits.wall_clock} s) reached in {_label(cell, index)}")
        else:
            events.append(f"cell timeout ({limits.cell_timeout} s) in {_label(cell, index)}")
    elif run.ename == "MemoryError" or "can't allocate memory" in run.evalue:
        events.append(f"memory limit ({limits.memory_mb} MB) in {_label(cell, index)}")


def _label(cell: Cell, index: int) -> str:
    return cell.grade_id or f"cell {index}"


def _exit_status(km) -> str:
    process = getattr(getattr(km, "provisioner", None), "process", None)
    code = process.poll() if process is not None else None
    return f"exit code {code}" if code is not None and code >= 0 else f"signal {-code}" if code else "no exit code"


# -- what a student may be shown ------------------------------------------------------------------

def hidden_text(source: str) -> str:
    """The code of a test cell's hidden tests (between nbgrader's markers), without its string literals
    and comments: a test's own messages ("expected ...") may be shown, its code may not."""
    parts = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, flags=re.S)
    return "\n".join(code_only(p) for p in parts)


def code_only(source: str) -> str:
    """``source`` with every string literal and comment replaced by a NUL (which no message contains)."""
    import io
    import tokenize

    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    chars = list(source)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.STRING, tokenize.COMMENT) or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                a = starts[tok.start[0] - 1] + tok.start[1]
                b = starts[tok.end[0] - 1] + tok.end[1]
                chars[a:b] = ["\x00"] * (b - a)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return "".join(chars)


def redact(message: str, secrets: list[str], limit: int = 200, min_run: int = 12) -> str:
    """``message`` with every stretch of ``min_run`` or more characters of a test's source taken out,
    one line, at most ``limit`` characters."""
    message = " ".join(message.split())
    for secret in secrets:
        flat = " ".join(secret.split())
        if not flat.replace("\x00", "").strip():
            continue
        matcher = difflib.SequenceMatcher(None, message, flat, autojunk=False)
        blocks = [b for b in matcher.get_matching_blocks() if b.size >= min_run]
        for b in sorted(blocks, key=lambda b: -b.a):
            message = message[:b.a] + "[test source]" + message[b.a + b.size:]
    return message[:limit] + ("..." if len(message) > limit else "")
