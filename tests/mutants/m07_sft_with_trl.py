"""Plausible wrong answers for 07-sft-with-trl. Each must fail at least one test cell."""

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
    prompt_ids = list(tokenizer.apply_chat_template(prompt, tokenize=True, add_generation_prompt={gen}, return_dict=False))
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
        "no shift": LOSS.format(body="return F.cross_entropy(logits.reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)"),
        "masked positions averaged in": LOSS.format(
            body="lab = labels[:, 1:].reshape(-1)\n    ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), lab.clamp_min(0), reduction='none')\n"
                 "    return (ce * (lab != -100)).sum() / lab.numel()"),
        "summed": LOSS.format(
            body="return F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1), ignore_index=-100, reduction='sum')"),
        "shifted the wrong way": LOSS.format(
            body="return F.cross_entropy(logits[:, 1:].reshape(-1, logits.size(-1)), labels[:, :-1].reshape(-1), ignore_index=-100)"),
    },
    "triage_scores": {
        "arguments swapped": SCORES.format(args="e, t", agg="sum(float(s[k]) for s in scores) / len(scores)"),
        "sums instead of means": SCORES.format(args="t, e", agg="float(sum(float(s[k]) for s in scores))"),
        "only the first answer": SCORES.format(args="t, e", agg="float(scores[0][k])"),
    },
    "merge_and_save": {
        "saves the adapter only": MERGE.format(
            body="peft_model.save_pretrained(path)\n    tokenizer.save_pretrained(path)\n    return peft_model"),
        "no tokenizer": MERGE.format(body="merged = peft_model.merge_and_unload()\n    merged.save_pretrained(path)\n    return merged"),
        "unloads without merging": MERGE.format(
            body="merged = peft_model.unload()\n    merged.save_pretrained(path)\n    tokenizer.save_pretrained(path)\n    return merged"),
    },
}
