"""The course's datasets, offline, as Hugging Face ``datasets`` objects with the usual columns.

One domain runs through the course: support tickets of Fjordly, a fictional team workspace company
(``scripts/make_datasets.py`` generates them; each folder under ``datasets/`` has a ``CARD.md``).

    loader                     columns                                      used by
    -------------------------  -------------------------------------------  ----------------------------
    load_tickets()             text, label (ClassLabel, 6 classes)          classification, embeddings
    load_sft()                 messages (system, user, assistant)           SFT, LoRA, evaluation
    load_preferences()         prompt, chosen, rejected (messages), kind    DPO
    load_knowledge_base()      id, title, text                              RAG, embeddings
    load_rag_qa()              question, answer, doc_id                     RAG evaluation
    load_corpus()              module, text (Python stdlib source)          a transformer from scratch

The triage answer's schema and metric live in :mod:`airoadmap.triage`, CIFAR-10 in
:mod:`airoadmap.cifar`. The ticket data is the course's own, so every profile uses the bundled files
(no Hub dataset fits). Used by 03 (corpus), 04 and 05 (tickets), 06-09, 11 and 12 (SFT chats),
10 and 11 (preferences); the knowledge base and its questions are for the RAG modules to come.
"""
from __future__ import annotations

import json
import sysconfig
from pathlib import Path

from .triage import CATEGORIES

DATA_DIR = Path(__file__).resolve().parent / "datasets"


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _splits(name: str, splits=("train", "test"), features=None, convert=None):
    """A ``DatasetDict`` of ``datasets/<name>/<split>.jsonl``, built in memory (no HF cache files)."""
    from datasets import Dataset, DatasetDict

    out = {}
    for split in splits:
        rows = _read_jsonl(DATA_DIR / name / f"{split}.jsonl")
        out[split] = Dataset.from_list([convert(r) for r in rows] if convert else rows, features=features)
    return DatasetDict(out)


def load_tickets():
    """Support tickets for classification: ``DatasetDict`` train (480) / test (120), 6 balanced classes.

    ``label`` is an int; ``ds["train"].features["label"].names`` holds the class names. A fifth of the
    test tickets use phrasings that never occur in train.
    """
    from datasets import ClassLabel, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=CATEGORIES)})
    return _splits("tickets", features=features,
                   convert=lambda r: {"text": r["text"], "label": CATEGORIES.index(r["label"])})


def load_sft(format: str = "messages"):
    """Ticket -> triage JSON as chats: train (300) / test (60).

    ``format="messages"``: one ``messages`` column (system, user, assistant), TRL's conversational
    format. ``format="prompt_completion"``: ``prompt`` (system + user) and ``completion`` (assistant),
    for which TRL computes the loss on the completion only. The expected answer of a row is
    ``json.loads(row["messages"][-1]["content"])``.
    """
    if format == "messages":
        return _splits("sft")
    if format == "prompt_completion":
        return _splits("sft", convert=lambda r: {"prompt": r["messages"][:-1], "completion": r["messages"][-1:]})
    raise ValueError(f"format={format!r}: use 'messages' or 'prompt_completion'.")


def load_preferences():
    """Preference pairs for DPO in TRL's conversational format: train (240) / test (60).

    ``prompt`` is a message list (system + user); ``chosen``/``rejected`` are one assistant message
    each. ``chosen`` is always the right triage JSON. ``kind`` says how ``rejected`` is worse: the easy
    ones (invalid_json, verbose, missing_field) break the format; the hard ones (wrong_category,
    wrong_priority, long_summary) are valid JSON with one field wrong. TRL ignores ``kind``.
    """
    return _splits("preferences")


def load_knowledge_base():
    """Fjordly's help-centre articles: a ``Dataset`` of 48 documents (``id``, ``title``, ``text``)."""
    from datasets import Dataset

    return Dataset.from_list(_read_jsonl(DATA_DIR / "knowledge_base" / "docs.jsonl"))


def load_rag_qa():
    """96 questions about the knowledge base: ``question``, ``answer`` (a short span that appears
    verbatim in the document) and ``doc_id`` (the document that answers it), for RAG evaluation."""
    from datasets import Dataset

    return Dataset.from_list(_read_jsonl(DATA_DIR / "rag_qa" / "qa.jsonl"))


# Pure-Python standard-library modules, a fixed list in a fixed order: real, varied, well-written
# text that every Python installation already has on disk.
CORPUS_MODULES = [
    "abc", "argparse", "ast", "base64", "bisect", "calendar", "cmd", "codecs", "colorsys", "configparser",
    "contextlib", "copy", "csv", "dataclasses", "difflib", "enum", "fnmatch", "fractions", "functools",
    "getopt", "gettext", "glob", "graphlib", "gzip", "heapq", "hmac", "inspect", "ipaddress", "keyword",
    "linecache", "locale", "numbers", "operator", "optparse", "pprint", "queue", "random", "reprlib",
    "sched", "secrets", "selectors", "shlex", "shutil", "statistics", "string", "textwrap", "threading",
    "timeit", "tokenize", "trace", "traceback", "types", "typing", "uuid", "warnings", "weakref",
]


def load_corpus(max_chars: int = 1_500_000):
    """Python source code for training a small language model from scratch, with no download.

    Whole files of ``CORPUS_MODULES`` from the running Python's standard library, in list order, until
    ``max_chars`` would be passed; every 10th file goes to ``validation`` (whole files, so no file is
    in both splits). ``DatasetDict`` train /
    validation with columns ``module`` and ``text``. The exact text depends on the Python version.
    """
    from datasets import Dataset, DatasetDict, Features, Value

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    rows, total = [], 0
    for module in CORPUS_MODULES:
        path = next((p for p in (stdlib / f"{module}.py", stdlib / module / "__init__.py") if p.is_file()), None)
        if path is None:
            continue
        text = path.read_text(encoding="utf-8")
        if total + len(text) > max_chars:
            break
        rows.append({"module": module, "text": text})
        total += len(text)
    if not rows:
        raise FileNotFoundError(f"No standard-library source found under {stdlib} (is this a Python "
                                "without .py sources?). Pass max_chars larger than one file, or use another corpus.")
    features = Features({"module": Value("string"), "text": Value("string")})

    def split(keep) -> Dataset:  # from_dict, not from_list: a split may be empty with a small max_chars
        picked = [r for i, r in enumerate(rows) if keep(i)]
        return Dataset.from_dict({k: [r[k] for r in picked] for k in features}, features=features)

    return DatasetDict(train=split(lambda i: i % 10 != 9), validation=split(lambda i: i % 10 == 9))


def check_bundled() -> Path:
    """Load every bundled text dataset once (``airoadmap assets`` calls this); return their folder."""
    for load in (load_tickets, load_sft, load_preferences, load_knowledge_base, load_rag_qa):
        load()
    return DATA_DIR
