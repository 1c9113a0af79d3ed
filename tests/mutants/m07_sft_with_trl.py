"""Plausible wrong answers for 07-sft-with-trl. Each must fail at least one test cell.

``MUTANTS[solution grade_id][description]`` is the whole replacement source of that cell;
``CORRECT[solution grade_id][description]`` holds right answers written differently from the
solution: they must pass every test cell.
"""

PC = '''
def to_prompt_completion(system, ticket, triage):
    return {{
        "prompt": {prompt},
        "completion": [{{"role": "assistant", "content": {content}}}],
    }}
'''
PROMPT_OK = '[{"role": "system", "content": system}, {"role": "user", "content": ticket}]'

LABELS = '''
def completion_labels(tokenizer, prompt, completion):
    prompt_ids = list(tokenizer.apply_chat_template(prompt, tokenize=True, add_generation_prompt={gen},
                                                    return_dict=False))
    input_ids = list(tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=False))
    labels = {labels}
    return input_ids, labels
'''

LOSS = '''
def completion_only_loss(logits, labels):
    {body}
'''

SCORES = '''
def triage_scores(texts, expected):
    keys = ("valid_json", "category_correct", "priority_correct", "exact", "reward")
    scores = [score_triage_json({args}) for t, e in zip(texts, expected)]
    return {{k: {agg} for k in keys}}
'''

MERGE = '''
def merge_and_save(peft_model, tokenizer, path):
    {body}
'''

MUTANTS = {
    "to_prompt_completion": {
        "keys sorted": PC.format(prompt=PROMPT_OK, content="json.dumps(triage, sort_keys=True)"),
        "pretty-printed JSON": PC.format(prompt=PROMPT_OK, content="json.dumps(triage, indent=2)"),
        "no system message": PC.format(prompt='[{"role": "user", "content": ticket}]', content="json.dumps(triage)"),
        "Python repr instead of JSON": PC.format(prompt=PROMPT_OK, content="str(triage)"),
    },
    "completion_labels": {
        "prompt not masked": LABELS.format(gen="True", labels="list(input_ids)"),
        "generation prompt left in the labels": LABELS.format(
            gen="False", labels="[-100] * len(prompt_ids) + input_ids[len(prompt_ids):]"),
        "completion masked instead": LABELS.format(
            gen="True", labels="input_ids[:len(prompt_ids)] + [-100] * (len(input_ids) - len(prompt_ids))"),
        "labels shifted by hand": LABELS.format(
            gen="True", labels="([-100] * len(prompt_ids) + input_ids[len(prompt_ids):])[1:] + [-100]"),
    },
    "completion_only_loss": {
        "no shift": LOSS.format(
            body="return F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)"),
        "masked positions averaged in": LOSS.format(
            body="lab = labels[:, 1:].reshape(-1)\n"
                 "    ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), lab.clamp_min(0),\n"
                 "                         reduction='none')\n"
                 "    return (ce * (lab != -100)).sum() / lab.numel()"),
        "summed": LOSS.format(
            body="return F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1),\n"
                 "                           ignore_index=-100, reduction='sum')"),
        "shifted the wrong way": LOSS.format(
            body="return F.cross_entropy(logits[:, 1:].reshape(-1, logits.size(-1)), labels[:, :-1].reshape(-1),\n"
                 "                           ignore_index=-100)"),
    },
    "triage_scores": {
        "arguments swapped": SCORES.format(args="e, t", agg="sum(float(s[k]) for s in scores) / len(scores)"),
        "sums instead of means": SCORES.format(args="t, e", agg="float(sum(float(s[k]) for s in scores))"),
        "only the first answer": SCORES.format(args="t, e", agg="float(scores[0][k])"),
    },
    "merge_and_save": {
        "saves the adapter only": MERGE.format(
            body="peft_model.save_pretrained(path)\n    tokenizer.save_pretrained(path)\n    return peft_model"),
        "no tokenizer": MERGE.format(
            body="merged = peft_model.merge_and_unload()\n    merged.save_pretrained(path)\n    return merged"),
        "unloads without merging": MERGE.format(
            body="merged = peft_model.unload()\n    merged.save_pretrained(path)\n    tokenizer.save_pretrained(path)\n"
                 "    return merged"),
    },
}


FIRST_HEADER = '''
def completion_labels(tokenizer, prompt, completion):
    input_ids = list(tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=False))
    header = tokenizer.encode("<|im_start|>assistant\\n", add_special_tokens=False)
    start = next(i for i in range(len(input_ids)) if input_ids[i:i + len(header)] == header) + len(header)
    return input_ids, [-100] * start + input_ids[start:]
'''

EXTENDS_PROMPT = '''
def completion_labels(tokenizer, prompt, completion):
    prompt_ids = list(tokenizer.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True,
                                                    return_dict=False))
    conversation = prompt
    conversation += completion
    input_ids = list(tokenizer.apply_chat_template(conversation, tokenize=True, return_dict=False))
    return input_ids, [-100] * len(prompt_ids) + input_ids[len(prompt_ids):]
'''

ROW_MEANS = '''
def completion_only_loss(logits, labels):
    losses = [F.cross_entropy(row_logits[:-1], row_labels[1:], ignore_index=-100)
              for row_logits, row_labels in zip(logits, labels)]
    return torch.stack(losses).mean()
'''

ZERO_IN_PLACE = '''
def completion_only_loss(logits, labels):
    keep = labels[:, 1:] != -100
    labels[labels == -100] = 0
    ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1), reduction="none")
    return (ce * keep.reshape(-1)).sum() / keep.sum()
'''

EXACT_STRINGS = '''
def triage_scores(texts, expected):
    keys = ("valid_json", "category_correct", "priority_correct", "reward")
    scores = [score_triage_json(t, e) for t, e in zip(texts, expected)]
    means = {k: sum(float(s[k]) for s in scores) / len(scores) for k in keys}
    means["exact"] = sum(t.strip() == e.strip() for t, e in zip(texts, expected)) / len(texts)
    return means
'''

MUTANTS_NEW = {
    "to_prompt_completion": {
        "only the schema's three keys": PC.format(
            prompt=PROMPT_OK,
            content='json.dumps({k: v for k, v in triage.items() if k in ("category", "priority", "summary")})'),
        "non-ASCII kept as is (ensure_ascii=False)": PC.format(prompt=PROMPT_OK,
                                                              content="json.dumps(triage, ensure_ascii=False)"),
        "strips the texts": PC.format(
            prompt='[{"role": "system", "content": system.strip()}, {"role": "user", "content": ticket.strip()}]',
            content="json.dumps(triage)"),
        "compact separators": PC.format(prompt=PROMPT_OK, content='json.dumps(triage, separators=(",", ":"))'),
    },
    "completion_labels": {
        "boundary at the first assistant header": FIRST_HEADER,
        "extends the caller's prompt list": EXTENDS_PROMPT,
        "labels as a tensor": LABELS.format(
            gen="True", labels="torch.tensor([-100] * len(prompt_ids) + input_ids[len(prompt_ids):])"),
    },
    "completion_only_loss": {
        "returns loss.item()": LOSS.format(
            body="return F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1),\n"
                 "                           ignore_index=-100).item()"),
        "detached": LOSS.format(
            body="return F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1),\n"
                 "                           ignore_index=-100).detach()"),
        "mean of per-row means": ROW_MEANS,
        "zeroes the ignored labels in the caller's tensor": ZERO_IN_PLACE,
        "label 0 ignored too (as if it were padding)": LOSS.format(
            body="targets = labels[:, 1:].masked_fill(labels[:, 1:] == 0, -100)\n"
                 "    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), targets.reshape(-1),\n"
                 "                           ignore_index=-100)"),
    },
    "triage_scores": {
        "every answer against the first reference": SCORES.format(
            args="t, expected[0]", agg="sum(float(s[k]) for s in scores) / len(scores)"),
        "exact as string equality": EXACT_STRINGS,
        "averaged over the valid answers only": SCORES.format(
            args="t, e", agg="sum(float(s[k]) for s in scores) / max(1, sum(s['valid_json'] for s in scores))"),
    },
    "merge_and_save": {
        "saves in float16": MERGE.format(
            body="merged = peft_model.merge_and_unload()\n    merged.half().save_pretrained(path)\n"
                 "    tokenizer.save_pretrained(path)\n    return merged.float()"),
        "tokenizer in a subfolder": MERGE.format(
            body="import os\n    merged = peft_model.merge_and_unload()\n    merged.save_pretrained(path)\n"
                 "    tokenizer.save_pretrained(os.path.join(path, 'tokenizer'))\n    return merged"),
        "merge_adapter, then saves the PeftModel": MERGE.format(
            body="peft_model.merge_adapter()\n    peft_model.save_pretrained(path)\n"
                 "    tokenizer.save_pretrained(path)\n    return peft_model"),
    },
}
for gid, new in MUTANTS_NEW.items():
    MUTANTS[gid].update(new)

CORRECT = {
    "to_prompt_completion": {
        "messages built one by one": '''
def to_prompt_completion(system, ticket, triage):
    system_message = {"role": "system", "content": system}
    user_message = {"role": "user", "content": ticket}
    answer = {"role": "assistant", "content": json.dumps(triage, ensure_ascii=True)}
    return {"prompt": [system_message, user_message], "completion": [answer]}
''',
        "dict() constructors, dumps into a variable": '''
def to_prompt_completion(system, ticket, triage):
    answer = json.dumps(triage)
    prompt = [dict(role="system", content=system), dict(role="user", content=ticket)]
    return dict(prompt=prompt, completion=[dict(role="assistant", content=answer)])
''',
    },
    "completion_labels": {
        "rendered strings tokenized without special tokens": '''
def completion_labels(tokenizer, prompt, completion):
    full_text = tokenizer.apply_chat_template(prompt + completion, tokenize=False)
    prompt_text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    input_ids = tokenizer(full_text, add_special_tokens=False)["input_ids"]
    n = len(tokenizer(prompt_text, add_special_tokens=False)["input_ids"])
    return input_ids, [-100] * n + input_ids[n:]
''',
        "length of the prompt from the rendered prefix": '''
def completion_labels(tokenizer, prompt, completion):
    n = len(tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=False))
    ids = [int(t) for t in tokenizer.apply_chat_template([*prompt, *completion], tokenize=True, return_dict=False)]
    labels = list(ids)
    for position in range(min(n, len(labels))):
        labels[position] = -100
    return ids, labels
''',
    },
    "completion_only_loss": {
        "labels shifted left and padded with -100 (as transformers does)": '''
def completion_only_loss(logits, labels):
    targets = F.pad(labels, (0, 1), value=-100)[:, 1:]
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), ignore_index=-100)
''',
        "log_softmax and gather, masked mean": '''
def completion_only_loss(logits, labels):
    logp = logits[:, :-1].float().log_softmax(dim=-1)
    targets = labels[:, 1:]
    keep = targets != -100
    picked = logp.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(picked * keep).sum() / keep.sum()
''',
    },
    "triage_scores": {
        "running totals in a dict": '''
def triage_scores(texts, expected):
    keys = ["valid_json", "category_correct", "priority_correct", "exact", "reward"]
    totals = dict.fromkeys(keys, 0.0)
    for text, reference in zip(texts, expected):
        score = score_triage_json(text, reference)
        for key in keys:
            totals[key] += float(score[key])
    return {key: totals[key] / len(texts) for key in keys}
''',
        "statistics.fmean per key": '''
import statistics


def triage_scores(texts, expected):
    scored = [score_triage_json(text, reference) for text, reference in zip(texts, expected)]
    return {key: statistics.fmean(float(s[key]) for s in scored)
            for key in ("valid_json", "category_correct", "priority_correct", "exact", "reward")}
''',
    },
    "merge_and_save": {
        "makedirs first, str path": '''
import os


def merge_and_save(peft_model, tokenizer, path):
    os.makedirs(path, exist_ok=True)
    model = peft_model.merge_and_unload()
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return model
''',
        "safe_merge, Path, safetensors": '''
from pathlib import Path


def merge_and_save(peft_model, tokenizer, path):
    folder = Path(path)
    merged = peft_model.merge_and_unload(safe_merge=True)
    merged.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return merged
''',
    },
}
