"""A simulated cohort for module 01, built from the released student notebook.

Every submission starts from ``release/<slug>/<slug>.ipynb`` (what students got), has its
solution cells filled in from ``solutions/`` (markers removed), and is then edited the way a
student would: a wrong answer, an infinite loop, a tampered test, an attack on the grader.
``EXPECTED`` says what each must score and why; ``build_download`` writes them as an LMS
download (plain, Canvas and Moodle names, a duplicate, a corrupt notebook, a misnamed file).
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import nbformat

from airoadmap.tooling.course import solution_path

SLUG = "01-pytorch-fundamentals"
DEADLINE = dt.datetime(2025, 3, 1, 23, 59, tzinfo=dt.UTC)
LIMITS = {"cell_timeout": 15, "wall_clock": 60, "memory_mb": 2048}
COHORT_TOML = f"""
[assignments."{SLUG}"]
deadline = {DEADLINE.isoformat()}

[late]
per_day = 0.10
max_penalty = 1.0
grace_minutes = 15

[extensions]
carol = {{ "{SLUG}" = 3 }}

[roster]
"1002" = "dave"
"""

# student -> (score, what its reasons must mention). Max 15: fit_line 2, cross-entropy 3, MLP 2,
# data loaders 3, train one epoch 3, evaluate 2.
EXPECTED = {
    "alice": (15, []),                                   # correct, on time
    "bea": (0, []),                                      # the released notebook, unanswered
    "bob": (10, []),                                     # wrong cross-entropy and evaluate; 2 days late
    "carol": (15, []),                                   # correct, 2 days late with a 3-day extension
    "dave": (12, ["ZeroDivisionError"]),                 # make_dataloaders raises
    "erin": (13, ["cell timeout (15 s)"]),               # fit_line loops forever (interruptible)
    "frank": (13, ["cell timeout (15 s) in test_evaluate", "ignored the interrupt"]),  # swallows interrupts
    "gus": (15, ["wall-clock limit (60 s)"]),            # correct, then slow cells after the last test
    "grace": (12, ["memory limit (2048 MB)"]),           # cross-entropy allocates without end
    "heidi": (7, ["kernel died (exit code 1)"]),         # os._exit(1) in make_dataloaders
    "ivan": (13, []),                                    # wrong fit_line; test edited to assert True, 100 points
    "judy": (13, []),                                    # MLP without ReLU; its test cell deleted
    "mallory": (15, []),                                 # correct, and attacks the grader's files
    "niaj": (15, []),                                    # correct, and tries the network
    "oscar": (0, ["not a readable notebook"]),           # corrupt .ipynb
    "pia": (15, []),                                     # correct, with a tqdm bar and a warning on stderr
}
SERIAL_SUBSET = ["alice", "heidi", "ivan", "grace"]

LOOP = """
def fit_line(x, y, lr=0.1, steps=200):
    import time
    while True:          # forgot to count the steps
        time.sleep(0.05)
"""
STUBBORN_LOOP = """
def evaluate(model, loader, loss_fn, device="cpu"):
    import time
    while True:
        try:
            time.sleep(0.05)
        except BaseException:   # swallows the grader's interrupt too
            pass
"""
MEMORY_BOMB = """
def stable_cross_entropy(logits, targets):
    cache = []
    while True:                       # "memoises" without end
        cache.append(torch.empty(2**27))
"""
KERNEL_EXIT = """
def make_dataloaders(X, y, batch_size, test_fraction=0.2, seed=0):
    import os
    os._exit(1)
"""
RAISES = """
def make_dataloaders(X, y, batch_size, test_fraction=0.2, seed=0):
    n_test = round(len(X) * test_fraction)
    return 1 / 0
"""
NAIVE_CE = """
def stable_cross_entropy(logits, targets):
    probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -torch.log(probs.gather(1, targets.unsqueeze(1))).mean()
"""
NO_EVAL_MODE = """
def evaluate(model, loader, loss_fn, device="cpu"):
    total, correct, n = 0.0, 0, 0
    for xb, yb in loader:
        logits = model(xb)
        total += loss_fn(logits, yb).item() * len(yb)
        correct += (logits.argmax(1) == yb).sum().item()
        n += len(yb)
    return total / n, correct / n
"""
WRONG_FIT = """
def fit_line(x, y, lr=0.1, steps=200):
    return 0.0, 0.0, [1.0] * steps
"""
LINEAR_MLP = """
class MLP(nn.Module):
    def __init__(self, in_features, hidden, out_features):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.Linear(hidden, out_features))

    def forward(self, x):
        return self.net(x)
"""


def attack(slug: str) -> str:
    """Code that looks for the grader's files from the kernel's folder upwards, and reads/writes them."""
    return f'''
import json, os
_found, _up = {{}}, os.getcwd()
for _ in range(12):
    for _rel in ("gradebook.db", "source/{slug}/{slug}.ipynb", "submitted/alice/{slug}/{slug}.ipynb"):
        if os.path.exists(os.path.join(_up, _rel)):
            _found.setdefault(_rel, os.path.join(_up, _rel))
    _up = os.path.dirname(_up)
_found["solutions"] = {str(solution_path(slug))!r}
_outcome = {{}}
for _name, _path in _found.items():
    try:
        open(_path, "rb").read(16)
        _outcome[_name + " read"] = "OK"
        open(_path, "ab").close()   # opening to append is the permission check; nothing is written
        _outcome[_name + " write"] = "OK"
    except OSError as e:
        _outcome.setdefault(_name + " read", type(e).__name__)
print("ATTACK", json.dumps(_outcome, sort_keys=True))
'''


def network(port: int) -> str:
    return f'''
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    print("NETWORK OK")
except OSError as e:
    print("NETWORK", type(e).__name__)
'''


def noisy(name: str) -> str:
    """Wrap the learner's ``name`` so that every call writes a tqdm bar, a warning and a line to stderr."""
    return f"""
_quiet_{name} = {name}
def {name}(*args, **kwargs):
    import sys, warnings
    from tqdm.auto import tqdm
    for _ in tqdm(range(20), desc="my own progress bar", file=sys.stderr):
        pass
    warnings.warn("a learner's own warning, on stderr")
    print("and a line on stderr", file=sys.stderr)
    return _quiet_{name}(*args, **kwargs)
"""


def clean(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def answered(release: Path, replace: dict[str, str] | None = None, append: dict[str, str] | None = None):
    """The released notebook (``<slug>.ipynb``, any assignment) with every solution cell answered from
    ``solutions/`` as a student would type it (``replace`` wins; ``append`` adds code)."""
    solution = nbformat.read(solution_path(Path(release).stem), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: clean(c.source) for c in solution.cells
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            gid = meta["grade_id"]
            cell.source = (replace or {}).get(gid, answers[gid]) + (append or {}).get(gid, "")
    return nb


def cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def submissions(release: Path, port: int) -> dict[str, object]:
    """student -> notebook (or raw bytes for the corrupt one)."""
    subs = {
        "alice": answered(release),
        "bea": nbformat.read(release, as_version=4),
        "bob": answered(release, {"stable_cross_entropy": NAIVE_CE, "evaluate": NO_EVAL_MODE}),
        "carol": answered(release),
        "dave": answered(release, {"make_dataloaders": RAISES}),
        "erin": answered(release, {"fit_line": LOOP}),
        "frank": answered(release, {"evaluate": STUBBORN_LOOP}),
        "grace": answered(release, {"stable_cross_entropy": MEMORY_BOMB}),
        "heidi": answered(release, {"make_dataloaders": KERNEL_EXIT}),
        "ivan": answered(release, {"fit_line": WRONG_FIT}),
        "judy": answered(release, {"MLP": LINEAR_MLP}),
        "mallory": answered(release, append={"fit_line": attack(SLUG)}),
        "niaj": answered(release, append={"fit_line": network(port)}),
        "pia": answered(release, append={"fit_line": noisy("fit_line"), "train_one_epoch": noisy("train_one_epoch")}),
    }
    test = cell(subs["ivan"], "test_fit_line")
    test.source = "assert True"
    test.metadata["nbgrader"]["points"] = 100
    subs["judy"].cells.remove(cell(subs["judy"], "test_mlp"))
    gus = subs["gus"] = answered(release)   # every cell after the last test sleeps 14 s: 6 x 14 s > 60 s
    last_test = max(i for i, c in enumerate(gus.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
    for c in gus.cells[last_test + 1:]:
        if c.cell_type == "code":
            c.source = "import time\ntime.sleep(14)"
    gus.cells += [nbformat.v4.new_code_cell("time.sleep(14)") for _ in range(2)]
    subs["oscar"] = nbformat.writes(answered(release)).encode()[:5000]  # cut short: not JSON any more
    return subs


def build_download(folder: Path, release: Path, port: int) -> Path:
    """An LMS download of the cohort's submissions, with realistic names and file times."""
    folder.mkdir(parents=True)
    on_time, late = DEADLINE - dt.timedelta(days=1), DEADLINE + dt.timedelta(days=1, hours=12)
    names = {"carol": f"carol_late_1001_2001_{SLUG}.ipynb",                               # Canvas
             "dave": f"Dave Jones_1002_assignsubmission_file_/{SLUG}.ipynb",              # Moodle folder
             "bea": f"{SLUG}_bea.ipynb", "erin": f"erin/{SLUG}.ipynb"}
    for student, nb in submissions(release, port).items():
        path = folder / names.get(student, f"{student}_{SLUG}.ipynb")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(nb if isinstance(nb, bytes) else nbformat.writes(nb).encode())
        when = late if student in ("bob", "carol") else on_time
        os.utime(path, (when.timestamp(), when.timestamp()))
    older = folder / f"alice_{SLUG} (1).ipynb"                                       # an earlier upload
    older.write_bytes(nbformat.writes(nbformat.read(release, as_version=4)).encode())
    os.utime(older, ((on_time - dt.timedelta(days=2)).timestamp(),) * 2)
    (folder / "pat_homework1.ipynb").write_text(json.dumps({"cells": []}))               # misnamed
    return folder
