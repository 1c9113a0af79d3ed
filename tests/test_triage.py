"""``airoadmap.triage``: the triage schema and metric, shared by 07-09, 11 and 12."""
from __future__ import annotations

import json

import pytest

from airoadmap import triage


@pytest.mark.parametrize("text, valid, exact", [
    ('{"category": "bug", "priority": "high", "summary": "Sync crashes on start"}', True, True),
    ('```json\n{"category": "bug", "priority": "high", "summary": "Sync crashes"}\n```', True, True),
    ('Sure! {"category": "bug", "priority": "high", "summary": "Sync crashes"}', False, False),
    ('{"category": "bug", "priority": "low", "summary": "Sync crashes"}', True, False),
    ('{"category": "bug", "priority": "high"}', True, False),
    ('["bug", "high"]', False, False),
    ('', False, False),
])
def test_score_triage_json(text, valid, exact):
    expected = {"category": "bug", "priority": "high", "summary": "anything"}
    score = triage.score_triage_json(text, json.dumps(expected))
    assert (score["valid_json"], score["exact"]) == (valid, exact)
    assert 0.0 <= score["reward"] <= 1.0 and (score["reward"] == 1.0) == exact
    assert valid or score["reward"] == 0.0


def test_summary_length_and_weights():
    ref = {"category": "bug", "priority": "high", "summary": "x"}
    words = lambda n: json.dumps({**ref, "summary": " ".join(["w"] * n)})  # noqa: E731
    assert triage.score_triage_json(words(triage.MAX_SUMMARY_WORDS), ref)["summary_ok"]
    assert not triage.score_triage_json(words(triage.MAX_SUMMARY_WORDS + 1), ref)["summary_ok"]
    assert abs(sum(triage.WEIGHTS.values()) - 1.0) < 1e-9 and triage.SHORT_SUMMARY_WORDS < triage.MAX_SUMMARY_WORDS
    assert triage.FIELDS == ("category", "priority", "summary")
    wrong = triage.score_triage_json(json.dumps({**ref, "category": "billing"}), ref)
    assert wrong["reward"] == pytest.approx(1.0 - triage.WEIGHTS["category_correct"])
