"""A Hugging Face model card for the pipeline's fine-tune (15), with ``huggingface_hub``'s own classes.

    card = render_card(card_data, context)    # huggingface_hub.ModelCard: YAML metadata + the text below
    check_card(card, metrics)                 # parse it back as the Hub would; its numbers must be the metrics

The metadata (``ModelCardData``: base model, datasets, licence, ``eval_results``) is built by 15's
learner from the measured metrics; this module only lays out the text around it (intended use,
limitations, training hyper-parameters, the evaluation table, how to run it) and checks the result.
``ModelCard.validate()`` asks the Hub's API, so it runs only when publishing; :func:`check_card` is the
offline part: the YAML parses, ``model-index`` turns back into the same ``EvalResult`` values.
"""
from __future__ import annotations

import math

TEMPLATE = """---
{{ card_data }}
---

# {{ model_name }}

A LoRA adapter on [{{ base_model }}](https://huggingface.co/{{ base_model }}) that triages Fjordly support
tickets into one JSON object: `{"category": ..., "priority": ..., "summary": ...}`. Made by the
AI-engineer roadmap's pipeline (notebook 15), from labelled data to a served model in one command.

## Intended use

- Triage of English support tickets of a team-workspace product into the six categories
  ({{ categories }}) and four priorities ({{ priorities }}), as a first pass that a person checks.
- The answer is checkable JSON: parse it, and send anything that does not parse to a person.

## Limitations

- Trained on {{ train_rows }} made-up tickets of one fictional company (Fjordly): it has not seen real
  customers' wording, other products, or other languages.
- Evaluated on {{ eval_examples }} held-out tickets only: every number below has a wide interval.
- A {{ params }} model: it copies the format well and misreads unusual tickets; never let it act alone
  on security or billing tickets.

## Training

| hyper-parameter | value |
|---|---|
{% for key, value in hyperparameters.items() -%}
| {{ key }} | {{ value }} |
{% endfor %}
Training data: {{ train_rows }} rows (sha256 `{{ train_sha256[:16] }}`), after the pipeline dropped
{{ dropped }} rows (schema errors, duplicates, test tickets that leaked from train).

## Evaluation

Greedy answers on {{ eval_examples }} held-out tickets (sha256 `{{ eval_sha256[:16] }}`), scored against the labels.
The gain is paired (the same tickets for both models), with a {{ confidence }} bootstrap interval.

| metric | base model | this adapter |
|---|---|---|
{% for row in table -%}
| {{ row[0] }} | {{ row[1] }} | {{ row[2] }} |
{% endfor %}
Reward gain: {{ gain }} ({{ gain_low }} to {{ gain_high }}). Gate: {{ gate }}.

## How to run it

```bash
llama-server -m {{ gguf_name }} --port 8080     # llama.cpp, the {{ qtype }} GGUF in this repository
```

```python
from openai import OpenAI
client = OpenAI(base_url="http://127.0.0.1:8080/v1", api_key="none")
client.chat.completions.create(model="triage", messages=[...system prompt..., {"role": "user", "content": ticket}])
```

Run manifest (config, data and artefact hashes, package versions, git commit): `manifest.json`.
"""


def render_card(card_data, context: dict):
    """``huggingface_hub.ModelCard`` from the learner's ``ModelCardData`` and the run's ``context``."""
    from huggingface_hub import ModelCard

    from .triage import CATEGORIES, PRIORITIES

    return ModelCard.from_template(card_data, template_str=TEMPLATE, categories=", ".join(CATEGORIES),
                                   priorities=", ".join(PRIORITIES), model_name=card_data.model_name,
                                   base_model=card_data.base_model, **context)


def check_card(card, metrics: dict) -> list:
    """Parse ``card``'s text back as the Hub would and return its ``eval_results``; raise ValueError unless
    each metric appears exactly once with exactly its value. (``card.validate()`` does the Hub's check
    online.)"""
    from huggingface_hub import ModelCard

    parsed = ModelCard(str(card))  # YAML front matter -> ModelCardData, model-index -> EvalResult
    results = parsed.data.eval_results or []
    found = {r.metric_type: r.metric_value for r in results}
    if len(found) != len(results):
        raise ValueError("the card lists a metric twice")
    wrong = {k: (found.get(k), v) for k, v in metrics.items()
             if not (isinstance(found.get(k), float | int) and math.isclose(found[k], v, rel_tol=0, abs_tol=0))}
    if wrong or set(found) != set(metrics):
        raise ValueError(f"the card's numbers are not the metrics: {wrong or sorted(set(found) ^ set(metrics))}")
    if not parsed.data.base_model:
        raise ValueError("the card names no base_model")
    return results
