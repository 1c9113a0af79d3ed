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
    load_cifar10()             torchvision CIFAR10 (real or look-alike)     CNNs

``score_triage_json(text, expected)`` scores one triage answer; the SFT, GRPO (as the reward) and
evaluation notebooks share it. The ticket data is the course's own, so every profile uses the
bundled files (no Hub dataset fits); only CIFAR-10 uses the real data when it can.
"""
from __future__ import annotations

import json
import re
import sysconfig
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "datasets"
CATEGORIES = ["billing", "bug", "account", "security", "feature_request", "how_to"]
PRIORITIES = ["low", "normal", "high", "urgent"]
TRIAGE_FIELDS = ("category", "priority", "summary")
MAX_SUMMARY_WORDS = 12


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


def score_triage_json(text: str, expected: dict | str) -> dict:
    """Score one triage answer against the expected one; pure Python, cheap enough for a reward.

    ``text`` must be a JSON object and nothing else (one surrounding ```json fence is tolerated).
    Returns ``valid_json``, ``fields_present`` (share of category/priority/summary present),
    ``category_correct``, ``priority_correct``, ``summary_ok`` (a string of 1-12 words), ``exact``
    (all of these) and ``reward`` in [0, 1] (weights: valid 0.2, fields 0.2, category 0.4,
    priority 0.1, summary 0.1).
    """
    expected = json.loads(expected) if isinstance(expected, str) else expected
    result = dict(valid_json=False, fields_present=0.0, category_correct=False, priority_correct=False,
                  summary_ok=False, exact=False, reward=0.0)
    body = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    try:
        answer = json.loads(body)
    except ValueError:
        return result
    if not isinstance(answer, dict):
        return result
    summary = answer.get("summary")
    result.update(
        valid_json=True,
        fields_present=sum(f in answer for f in TRIAGE_FIELDS) / len(TRIAGE_FIELDS),
        category_correct=answer.get("category") == expected["category"],
        priority_correct=answer.get("priority") == expected["priority"],
        summary_ok=isinstance(summary, str) and 0 < len(summary.split()) <= MAX_SUMMARY_WORDS,
    )
    result["exact"] = bool(result["fields_present"] == 1 and result["category_correct"]
                           and result["priority_correct"] and result["summary_ok"])
    result["reward"] = round(0.2 + 0.2 * result["fields_present"] + 0.4 * result["category_correct"]
                             + 0.1 * result["priority_correct"] + 0.1 * result["summary_ok"], 4)
    return result


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


def load_cifar10(root=None, profile: str = "cpu", train: bool = True, transform=None, target_transform=None):
    """A ``torchvision.datasets.CIFAR10``: the real data when present (or downloadable on ``gpu``),
    else the generated look-alike. See :func:`airoadmap.cifar.load_cifar10`."""
    from .cifar import load_cifar10 as load

    return load(root, profile, train, transform, target_transform)


def write_cifar10_like(root, n_train: int = 5000, n_test: int = 1000, seed: int = 0) -> Path:
    """Generate the CIFAR-10 look-alike into ``root/cifar-10-batches-py``. See :mod:`airoadmap.cifar`."""
    from .cifar import write_cifar10_like as write

    return write(root, n_train=n_train, n_test=n_test, seed=seed)


def generated_cifar10(force: bool = False) -> Path:
    """The look-alike in the cache, generated if missing (``airoadmap assets`` calls this)."""
    from .cifar import generated_root

    return generated_root(force=force)


def check_bundled() -> Path:
    """Load every bundled text dataset once (``airoadmap assets`` calls this); return their folder."""
    for load in (load_tickets, load_sft, load_preferences, load_knowledge_base, load_rag_qa):
        load()
    return DATA_DIR
