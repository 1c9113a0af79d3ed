"""Plausible wrong answers for 08-when-to-fine-tune. Each must fail at least one test cell."""

FEW = '''
def few_shot_messages(system, examples, ticket):
    messages = [{{"role": "system", "content": system}}]
    for example_ticket, answer in {examples}:
        {pair}
    {last}
    return messages
'''
PAIR = ('messages.append({"role": "user", "content": example_ticket})\n'
        '        messages.append({"role": "assistant", "content": answer})')
LAST = 'messages.append({"role": "user", "content": ticket})'
SWAPPED = ('messages.append({"role": "assistant", "content": answer})\n'
           '        messages.append({"role": "user", "content": example_ticket})')

NEAREST = '''
def nearest(query, pool, k):
    similarity = {similarity}
    return {ranking}
'''

CROSS = '''
def crossover_requests(training_cost, tokens_before, tokens_after, price_per_million):
    saving = (tokens_before - tokens_after) * price_per_million / {scale}
    if saving {cmp} 0:
        return math.inf
    return {rounding}(training_cost / saving)
'''


def cross(scale="1_000_000", cmp="<=", rounding="math.ceil"):
    return CROSS.format(scale=scale, cmp=cmp, rounding=rounding)


DECIDE = '''
def fine_tuning_triggers(s):
    triggers = set()
    if s["needs_strict_format"] {fmt_op} s["requests_per_day"] {ge} 10_000:
        triggers.add("format_at_scale")
    if s["specialised_task"] and s["labelled_examples"] {ge} 1_000:
        triggers.add("specialised_task")
    if s["prompt_tokens"] {ge} 2_000 {cost_op} s["requests_per_day"] {ge} 10_000:
        triggers.add("prompt_cost")
    if s["data_must_stay_on_premise"]:
        triggers.add("on_premise")
    return triggers


def should_fine_tune(s):
    return {decision}
'''


def decide(fmt_op="and", ge=">=", cost_op="and", decision='bool(fine_tuning_triggers(s)) and s["labelled_examples"] >= 100'):
    return DECIDE.format(fmt_op=fmt_op, ge=ge, cost_op=cost_op, decision=decision)


MUTANTS = {
    "few_shot_messages": {
        "examples as one user message": FEW.format(
            examples="[]", pair="pass",
            last='messages.append({"role": "user", "content": "\\n".join(f"{t} -> {a}" for t, a in examples) + "\\n" + ticket})'),
        "answers before tickets": FEW.format(examples="examples", pair=SWAPPED, last=LAST),
        "new ticket forgotten": FEW.format(examples="examples", pair=PAIR, last="pass"),
        "examples reversed": FEW.format(examples="reversed(examples)", pair=PAIR, last=LAST),
    },
    "nearest": {
        "dot product, not cosine": NEAREST.format(similarity="pool @ query", ranking="similarity.topk(k).indices.tolist()"),
        "least similar first": NEAREST.format(similarity="F.normalize(pool, dim=-1) @ F.normalize(query, dim=-1)",
                                              ranking="similarity.topk(k, largest=False).indices.tolist()"),
        "euclidean distance on raw vectors": NEAREST.format(similarity="-(pool - query).norm(dim=-1)",
                                                           ranking="similarity.topk(k).indices.tolist()"),
        "returns a tensor": NEAREST.format(similarity="F.normalize(pool, dim=-1) @ F.normalize(query, dim=-1)",
                                           ranking="similarity.topk(k).indices"),
    },
    "crossover_requests": {
        "price per thousand": cross(scale="1_000"),
        "rounds down": cross(rounding="math.floor"),
        "no rounding": cross(rounding="float"),
        "negative savings allowed": cross(cmp="=="),
    },
    "fine_tuning_triggers": {
        "format without volume": decide(fmt_op="or"),
        "strict thresholds": decide(ge=">"),
        "long prompt alone": decide(cost_op="or"),
        "ignores the data requirement": decide(decision="bool(fine_tuning_triggers(s))"),
    },
}
