"""The bundled datasets: loaders, the generator's byte-for-byte reproducibility, the stdlib corpus."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from airoadmap import data, triage
from airoadmap.tooling.course import repo_root

ROOT = repo_root()
SCRIPT = ROOT / "scripts" / "make_datasets.py"


def _load_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_datasets", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_committed_files_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True, capture_output=True)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.jsonl"))
    committed = sorted(p.relative_to(data.DATA_DIR) for p in data.DATA_DIR.rglob("*.jsonl"))
    assert made == committed, "the generator and the committed files list different files"
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (data.DATA_DIR / rel).read_bytes(), (
            f"{rel} differs from what scripts/make_datasets.py makes: re-run the script, never edit the JSONL")


def test_script_and_package_agree_on_the_schema():
    script = _load_script()
    assert script.CATEGORIES == triage.CATEGORIES and script.PRIORITIES == triage.PRIORITIES
    assert data.load_sft()["train"][0]["messages"][0]["content"] == script.SYSTEM_PROMPT


def test_committed_data_is_small_and_carded():
    total = sum(p.stat().st_size for p in data.DATA_DIR.rglob("*") if p.is_file())
    assert total < 2_000_000, f"bundled data is {total:,} bytes"
    for folder in [p for p in data.DATA_DIR.iterdir() if p.is_dir()]:
        card = (folder / "CARD.md").read_text()
        for section in ("Source", "Licence", "How it was made", "Columns"):
            assert section in card, f"{folder.name}/CARD.md lacks a '{section}' section"
        for jsonl in folder.glob("*.jsonl"):
            rows = len(jsonl.read_text(encoding="utf-8").splitlines())
            assert f"{rows:,}" in card or str(rows) in card, \
                f"{folder.name}/CARD.md does not state {jsonl.name}'s {rows} rows"


def test_tickets_are_balanced_typed_and_disjoint():
    ds = data.load_tickets()
    assert set(ds) == {"train", "test"} and (ds["train"].num_rows, ds["test"].num_rows) == (480, 120)
    assert ds["train"].column_names == ["text", "label"]
    assert ds["train"].features["label"].names == triage.CATEGORIES
    assert Counter(ds["train"]["label"]) == {i: 80 for i in range(6)}
    assert Counter(ds["test"]["label"]) == {i: 20 for i in range(6)}
    assert not set(ds["train"]["text"]) & set(ds["test"]["text"])
    assert ds["train"][:5] == data.load_tickets()["train"][:5]  # deterministic


def test_a_bag_of_words_baseline_is_good_but_not_perfect():
    """The classification notebook needs headroom: a TF-IDF model must not solve the test set."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    ds = data.load_tickets()
    vec = TfidfVectorizer()
    clf = LogisticRegression(max_iter=2000, C=10).fit(vec.fit_transform(ds["train"]["text"]), ds["train"]["label"])
    acc = (clf.predict(vec.transform(ds["test"]["text"])) == np.array(ds["test"]["label"])).mean()
    assert 0.6 < acc < 0.95, acc


def test_sft_answers_are_exact_triage_json():
    ds = data.load_sft()
    assert (ds["train"].num_rows, ds["test"].num_rows) == (300, 60)
    for row in ds["train"]:
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["system", "user", "assistant"]
        answer = row["messages"][-1]["content"]
        assert triage.score_triage_json(answer, answer)["exact"]
        assert json.loads(answer)["priority"] in triage.PRIORITIES
    pc = data.load_sft(format="prompt_completion")["test"][0]
    assert [m["role"] for m in pc["prompt"]] == ["system", "user"] and pc["completion"][0]["role"] == "assistant"
    with pytest.raises(ValueError):
        data.load_sft(format="text")


def test_preferences_chosen_always_scores_higher():
    ds = data.load_preferences()
    assert (ds["train"].num_rows, ds["test"].num_rows) == (240, 60)
    assert ds["train"].column_names == ["prompt", "chosen", "rejected", "kind"]
    for row in ds["train"]:
        expected = row["chosen"][0]["content"]
        chosen = triage.score_triage_json(expected, expected)
        rejected = triage.score_triage_json(row["rejected"][0]["content"], expected)
        assert chosen["exact"] and rejected["reward"] < chosen["reward"], row
        assert row["prompt"][-1]["role"] == "user" and row["chosen"][0]["role"] == "assistant"
    kinds = Counter(ds["train"]["kind"])
    hard = sum(kinds[k] for k in ("wrong_category", "wrong_priority", "long_summary")) / ds["train"].num_rows
    assert 0.25 < hard < 0.6, kinds


def test_knowledge_base_and_rag_qa_are_consistent():
    kb, qa = data.load_knowledge_base(), data.load_rag_qa()
    assert kb.column_names == ["id", "title", "text"] and qa.column_names == ["question", "answer", "doc_id"]
    assert 30 <= kb.num_rows <= 60 and len(set(kb["id"])) == kb.num_rows
    docs = dict(zip(kb["id"], kb["text"], strict=True))
    for row in qa:
        assert row["answer"] in docs[row["doc_id"]], row
    assert set(qa["doc_id"]) == set(kb["id"])  # every document answers at least one question


def test_corpus_is_real_python_capped_and_deterministic():
    ds = data.load_corpus()
    assert set(ds) == {"train", "validation"} and ds["validation"].num_rows >= 2
    sizes = [sum(map(len, ds[s]["text"])) for s in ds]
    assert 500_000 < sum(sizes) <= 1_500_000
    assert not set(ds["train"]["module"]) & set(ds["validation"]["module"])
    assert "def " in ds["train"]["text"][0]
    assert data.load_corpus()["validation"]["module"] == ds["validation"]["module"]
    small = data.load_corpus(max_chars=100_000)
    assert sum(map(len, small["train"]["text"])) + sum(map(len, small["validation"]["text"])) <= 100_000


def test_loaders_never_touch_the_network(no_network):
    for load in (data.load_tickets, data.load_sft, data.load_preferences, data.load_knowledge_base,
                 data.load_rag_qa, data.load_corpus):
        assert load() is not None
    assert Path(data.check_bundled()) == data.DATA_DIR
