"""Plausible wrong answers for 08-when-to-fine-tune. Each must fail at least one test cell.

``MUTANTS[solution grade_id][description]`` is the whole replacement source of that cell;
``CORRECT[solution grade_id][description]`` holds right answers written differently from the
solution: they must pass every test cell.
"""

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


def decide(fmt_op="and", ge=">=", cost_op="and",
           decision='bool(fine_tuning_triggers(s)) and s["labelled_examples"] >= 100'):
    return DECIDE.format(fmt_op=fmt_op, ge=ge, cost_op=cost_op, decision=decision)


MUTANTS = {
    "few_shot_messages": {
        "examples as one user message": FEW.format(
            examples="[]", pair="pass",
            last='messages.append({"role": "user", "content": "\\n".join(f"{t} -> {a}" for t, a in examples)'
                 ' + "\\n" + ticket})'),
        "answers before tickets": FEW.format(examples="examples", pair=SWAPPED, last=LAST),
        "new ticket forgotten": FEW.format(examples="examples", pair=PAIR, last="pass"),
        "examples reversed": FEW.format(examples="reversed(examples)", pair=PAIR, last=LAST),
    },
    "nearest": {
        "dot product, not cosine": NEAREST.format(similarity="pool @ query",
                                                  ranking="similarity.topk(k).indices.tolist()"),
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


FEW_GLOBAL = '''
MESSAGES = []


def few_shot_messages(system, examples, ticket):
    MESSAGES.append({"role": "system", "content": system})
    for example_ticket, answer in examples:
        MESSAGES.append({"role": "user", "content": example_ticket})
        MESSAGES.append({"role": "assistant", "content": answer})
    MESSAGES.append({"role": "user", "content": ticket})
    return MESSAGES
'''

FEW_EXTRA_KEY = '''
def few_shot_messages(system, examples, ticket):
    messages = [{"role": "system", "content": system}]
    for example_ticket, answer in examples:
        messages.append({"role": "user", "content": example_ticket, "name": "example"})
        messages.append({"role": "assistant", "content": answer, "name": "example"})
    messages.append({"role": "user", "content": ticket})
    return messages
'''

NEAREST_IN_PLACE = '''
def nearest(query, pool, k):
    pool /= pool.norm(dim=-1, keepdim=True)
    similarity = pool @ (query / query.norm())
    return similarity.topk(k).indices.tolist()
'''

NEAREST_FIXED_WIDTH = '''
def nearest(query, pool, k):
    pool, query = pool.float(), query.float()
    similarity = F.normalize(pool.view(-1, 8), dim=-1) @ F.normalize(query.view(8), dim=-1)
    return similarity.topk(k).indices.tolist()
'''

DECIDE_DATA_ALONE = decide().replace('if s["specialised_task"] and s["labelled_examples"] >= 1_000:',
                                     'if s["labelled_examples"] >= 1_000:')
DECIDE_VOLUME_ALONE = decide().replace('if s["prompt_tokens"] >= 2_000 and s["requests_per_day"] >= 10_000:',
                                       'if s["requests_per_day"] >= 10_000:')
assert "specialised_task\"] and" not in DECIDE_DATA_ALONE and "prompt_tokens" not in DECIDE_VOLUME_ALONE

MUTANTS_NEW = {
    "few_shot_messages": {
        "one list shared by every call": FEW_GLOBAL,
        "the last example dropped": FEW.format(examples="examples[:-1]", pair=PAIR, last=LAST),
        "the system prompt as a user turn": FEW.format(examples="examples", pair=PAIR, last=LAST).replace(
            '[{"role": "system", "content": system}]', '[{"role": "user", "content": system}]'),
        "an extra key in each example message": FEW_EXTRA_KEY,
    },
    "nearest": {
        "normalises the caller's pool in place": NEAREST_IN_PLACE,
        "squeezed similarities (a pool of one row breaks)": NEAREST.format(
            similarity="(F.normalize(pool, dim=-1) @ F.normalize(query, dim=-1)[:, None]).squeeze()",
            ranking="similarity.topk(k).indices.tolist()"),
        "a hard-coded embedding width": NEAREST_FIXED_WIDTH,
        "numpy integers": NEAREST.format(similarity="F.normalize(pool, dim=-1) @ F.normalize(query, dim=-1)",
                                         ranking="list(similarity.topk(k).indices.numpy())"),
    },
    "crossover_requests": {
        "floor + 1 (one too many when the cost divides exactly)": CROSS.format(
            scale="1_000_000", cmp="<=", rounding="1 + math.floor"),
        "never tests the price (free tokens divide by zero)": CROSS.replace(
            "if saving {cmp} 0:", "if tokens_before {cmp} tokens_after:").format(
            scale="1_000_000", cmp="<=", rounding="math.ceil"),
        "round to nearest": cross(rounding="round"),
        "int(x + 0.999) (a hair past a whole number rounds down)": cross(rounding="(lambda x: int(x + 0.999))"),
    },
    "fine_tuning_triggers": {
        "specialised task from the amount of data alone": DECIDE_DATA_ALONE,
        "prompt cost from the volume alone": DECIDE_VOLUME_ALONE,
        "prompt cost from 1,000 requests a day": decide().replace(
            's["prompt_tokens"] >= 2_000 and s["requests_per_day"] >= 10_000',
            's["prompt_tokens"] >= 2_000 and s["requests_per_day"] >= 1_000'),
        "needs more than 100 examples (strict)": decide(
            decision='bool(fine_tuning_triggers(s)) and s["labelled_examples"] > 100'),
        "returns the triggers as a sorted list": decide().replace("    return triggers", "    return sorted(triggers)"),
    },
}
for gid, new in MUTANTS_NEW.items():
    MUTANTS[gid].update(new)

CORRECT = {
    "few_shot_messages": {
        "itertools.chain of pairs": '''
import itertools


def few_shot_messages(system, examples, ticket):
    pairs = ([{"role": "user", "content": t}, {"role": "assistant", "content": a}] for t, a in examples)
    return [{"role": "system", "content": system}, *itertools.chain.from_iterable(pairs),
            {"role": "user", "content": ticket}]
''',
        "a list comprehension over the pairs": '''
def few_shot_messages(system, examples, ticket):
    turns = [m for t, a in examples for m in ({"role": "user", "content": t}, {"role": "assistant", "content": a})]
    return [{"role": "system", "content": system}, *turns, {"role": "user", "content": ticket}]
''',
    },
    "nearest": {
        "cosine by hand, sort in Python": '''
def nearest(query, pool, k):
    cos = (pool @ query) / (pool.norm(dim=1) * query.norm())
    order = sorted(range(len(pool)), key=lambda i: -float(cos[i]))
    return order[:k]
''',
        "F.cosine_similarity and argsort": '''
def nearest(query, pool, k):
    scores = F.cosine_similarity(pool, query.unsqueeze(0), dim=-1)
    return [int(i) for i in torch.argsort(scores, descending=True)[:k]]
''',
    },
    "crossover_requests": {
        "float(math.ceil(...)), cost in millionths": '''
def crossover_requests(training_cost, tokens_before, tokens_after, price_per_million):
    saved_tokens = tokens_before - tokens_after
    if saved_tokens <= 0 or price_per_million <= 0:
        return math.inf
    return float(math.ceil(training_cost * 1_000_000 / (saved_tokens * price_per_million)))
''',
        "int() plus one unless whole": '''
def crossover_requests(training_cost, tokens_before, tokens_after, price_per_million):
    per_request = (tokens_before - tokens_after) * price_per_million / 1e6
    if not per_request > 0:
        return math.inf
    n = training_cost / per_request
    return int(n) if n == int(n) else int(n) + 1
''',
    },
    "fine_tuning_triggers": {
        "one helper per trigger": '''
def at_scale(s):
    return s["requests_per_day"] >= 10_000


def fine_tuning_triggers(s):
    fired = []
    if s["needs_strict_format"] and at_scale(s):
        fired.append("format_at_scale")
    if s["specialised_task"] and s["labelled_examples"] >= 1_000:
        fired.append("specialised_task")
    if s["prompt_tokens"] >= 2_000 and at_scale(s):
        fired.append("prompt_cost")
    if s["data_must_stay_on_premise"]:
        fired.append("on_premise")
    return set(fired)


def should_fine_tune(s):
    return s["labelled_examples"] >= 100 and fine_tuning_triggers(s) != set()
''',
        "a table of (name, condition) pairs": '''
def fine_tuning_triggers(s):
    volume = s["requests_per_day"] >= 10_000
    rules = {
        "format_at_scale": s["needs_strict_format"] and volume,
        "specialised_task": s["specialised_task"] and s["labelled_examples"] >= 1_000,
        "prompt_cost": s["prompt_tokens"] >= 2_000 and volume,
        "on_premise": bool(s["data_must_stay_on_premise"]),
    }
    return {name for name, fires in rules.items() if fires}


def should_fine_tune(s):
    if s["labelled_examples"] < 100:
        return False
    return len(fine_tuning_triggers(s)) > 0
''',
    },
}
