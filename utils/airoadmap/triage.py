"""Fjordly's triage answer: the one place for its schema and its metric.

A triage answer is a JSON object ``{"category": ..., "priority": ..., "summary": ...}``. The SFT
data (``airoadmap.data.load_sft``), 07 (SFT: the held-out score), 08 (prompting vs fine-tuning),
09 (QLoRA), 11 (DPO: does the format survive?) and 12 (GRPO: the rewards' field names and word
limit) all read the schema from here, so they cannot drift apart.
"""
from __future__ import annotations

import json
import re

CATEGORIES = ["billing", "bug", "account", "security", "feature_request", "how_to"]
PRIORITIES = ["low", "normal", "high", "urgent"]
FIELDS = ("category", "priority", "summary")
MAX_SUMMARY_WORDS = 12  # the schema's limit; every summary in the SFT data keeps to it
SHORT_SUMMARY_WORDS = 4  # 12 (GRPO) rewards summaries this short: a requirement the SFT data never shows
WEIGHTS = {"valid_json": 0.2, "fields_present": 0.2, "category_correct": 0.4, "priority_correct": 0.1,
           "summary_ok": 0.1}


def score_triage_json(text: str, expected: dict | str) -> dict:
    """Score one triage answer against the expected one; pure Python, cheap enough for a reward.

    ``text`` must be a JSON object and nothing else (one surrounding ```json fence is tolerated).
    Returns ``valid_json``, ``fields_present`` (share of ``FIELDS`` present), ``category_correct``,
    ``priority_correct``, ``summary_ok`` (a string of 1 to ``MAX_SUMMARY_WORDS`` words), ``exact``
    (all of these) and ``reward`` in [0, 1], the ``WEIGHTS``-weighted sum.
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
        fields_present=sum(f in answer for f in FIELDS) / len(FIELDS),
        category_correct=answer.get("category") == expected["category"],
        priority_correct=answer.get("priority") == expected["priority"],
        summary_ok=isinstance(summary, str) and 0 < len(summary.split()) <= MAX_SUMMARY_WORDS,
    )
    result["exact"] = bool(result["fields_present"] == 1 and result["category_correct"]
                           and result["priority_correct"] and result["summary_ok"])
    result["reward"] = round(sum(w * float(result[k]) for k, w in WEIGHTS.items()), 4)
    return result
