"""``airoadmap cohort similarity``: pairs of students whose answers are suspiciously alike.

For each submission, the code the student wrote (every code cell, less the lines of the released
notebook) is tokenized with :mod:`tokenize`; names the student binds (variables, arguments, functions)
become ``V1, V2, ...`` in order of first use, numbers ``NUM`` and strings ``STR``, comments go.
Renaming variables or reformatting therefore changes nothing, while calling other functions does.
Two students are compared by the Jaccard similarity of their token 5-grams (and difflib's ratio
of the token sequences, for a second opinion). Pairs above the threshold are listed for the
instructor to look at: similarity is a reason to read two notebooks, never a verdict.
"""
from __future__ import annotations

import ast
import builtins
import csv
import difflib
import io
import itertools
import keyword
import os
import tokenize

import nbformat

from .cohort import Cohort
from .engine import SubmissionError, parse_submission, read_regular_file

MAX_NOTEBOOK_BYTES = 50 << 20

SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING, tokenize.ENDMARKER}


def bound_names(source: str) -> set[str]:
    """Names the code itself defines: assignment targets, arguments, functions, classes, imports as."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias) and node.asname:
            names.add(node.asname)
    return names - set(dir(builtins))


def tokens(source: str) -> list[str]:
    """Normalised tokens of ``source``: bound names numbered, literals replaced, layout ignored."""
    bound, numbered, out = bound_names(source), {}, []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in SKIP:
                continue
            if tok.type == tokenize.NAME and tok.string in bound and not keyword.iskeyword(tok.string):
                out.append(numbered.setdefault(tok.string, f"V{len(numbered) + 1}"))
            elif tok.type == tokenize.NUMBER:
                out.append("NUM")
            elif tok.type == tokenize.STRING:
                out.append("STR")
            else:
                out.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError, RecursionError, ValueError):
        out += source.split()
    return out


def answer_code(cells: list[dict], released_lines: set[str]) -> str:
    """What the student wrote: every code cell (cells parsed by :func:`.engine.parse_submission`), less
    the lines that are in the released notebook (stubs, demos, tests). Metadata plays no part, so
    stripping or renaming it hides nothing."""
    return "\n".join(line for c in cells if c["cell_type"] == "code" for line in c["source"].splitlines()
                     if line.strip() and line.strip() not in released_lines)


def shingles(toks: list[str], n: int = 5) -> set[tuple[str, ...]]:
    return {tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1))} if toks else set()


def similarity(course: str | os.PathLike, slug: str, threshold: float = 0.8, min_tokens: int = 30,
               echo=print) -> list[dict]:
    cohort = Cohort.open(course, slug)
    released = nbformat.read(cohort.root / "release" / slug / f"{slug}.ipynb", as_version=4)
    released_lines = {line.strip() for c in released.cells if c.cell_type == "code" for line in c.source.splitlines()}
    seqs = {}
    for student in cohort.students(slug):
        try:
            data = read_regular_file(cohort.submission(student, slug) / f"{slug}.ipynb", MAX_NOTEBOOK_BYTES)
            cells = parse_submission(data)
        except (OSError, SubmissionError):
            continue  # unreadable notebooks are reported by autograde
        toks = tokens(answer_code(cells, released_lines)[:200_000])
        if len(toks) >= min_tokens:  # blank or near-blank answers are alike by construction
            seqs[student] = toks
    grams = {s: shingles(t) for s, t in seqs.items()}
    pairs = []
    for a, b in itertools.combinations(sorted(seqs), 2):
        jaccard = len(grams[a] & grams[b]) / len(grams[a] | grams[b])
        if jaccard >= threshold:
            ratio = difflib.SequenceMatcher(None, seqs[a], seqs[b], autojunk=False).ratio()
            pairs.append({"student_a": a, "student_b": b, "jaccard": round(jaccard, 3), "difflib": round(ratio, 3)})
    pairs.sort(key=lambda p: -p["jaccard"])
    path = cohort.root / "reports" / f"{slug}-similarity.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["student_a", "student_b", "jaccard", "difflib"])
        writer.writeheader()
        writer.writerows(pairs)
    echo(f"{slug}: {len(seqs)} answered submissions compared, {len(pairs)} pair(s) at Jaccard >= {threshold}")
    for p in pairs:
        echo(f"  {p['student_a']:<16} {p['student_b']:<16} jaccard {p['jaccard']:.2f}  difflib {p['difflib']:.2f}")
    echo(f"written {path}")
    return pairs
