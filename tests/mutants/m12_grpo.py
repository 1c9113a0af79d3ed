"""Plausible wrong answers for 12-grpo. Each must fail at least one test cell."""

REWARDS = '''
def parse_object(text):
    try:
        answer = json.loads(text)
    except ValueError:
        return None
    return {parse_return}


def format_reward(completions, **kwargs):
    rewards = []
    for completion in completions:
        answer = parse_object(text_of(completion))
        rewards.append(1.0 if {format_ok} else 0.0)
    return rewards


def correctness_reward(completions, expected, **kwargs):
    rewards = []
    for completion, reference in zip(completions, expected):
        answer = {parse_for_correctness}
        rewards.append(1.0 if {correct_ok} else 0.0)
    return rewards


def length_reward(completions, **kwargs):
    rewards = []
    for completion in completions:
        answer = parse_object(text_of(completion))
        summary = answer.get("summary") if answer is not None else None
        if not isinstance(summary, str):
            rewards.append(0.0)
            continue
        extra = {extra}
        rewards.append({length})
    return rewards
'''
R_OK = dict(parse_return="answer if isinstance(answer, dict) else None",
            format_ok="answer is not None and all(f in answer for f in FIELDS)",
            parse_for_correctness="parse_object(text_of(completion))",
            correct_ok='answer is not None and answer.get("category") == json.loads(reference)["category"]',
            extra="max(0, len(summary.split()) - MAX_SUMMARY_WORDS)", length="max(0.0, 1.0 - 0.25 * extra)")

ADV = '''
def group_advantages(rewards, num_generations, scale=True):
    groups = {groups}
    advantages = groups - {mean}
    if scale:
        advantages = advantages / {std}
    return advantages.reshape(-1)
'''
A_OK = dict(groups="rewards.float().view(-1, num_generations)", mean="groups.mean(dim=1, keepdim=True)",
            std="(groups.std(dim=1, keepdim=True) + 1e-4)")

MUTANTS = {
    "reward_functions": {
        "any JSON counts as an object": REWARDS.format(**{**R_OK, "parse_return": "answer"}).replace(
            "all(f in answer for f in FIELDS)", "(not isinstance(answer, dict) or all(f in answer for f in FIELDS))"),
        "format: only the category is required": REWARDS.format(**{**R_OK, "format_ok": 'answer is not None and "category" in answer'}),
        "correctness: the whole answer must match": REWARDS.format(**{**R_OK, "correct_ok": "answer == json.loads(reference)"}),
        "correctness: priority compared instead": REWARDS.format(
            **{**R_OK, "correct_ok": 'answer is not None and answer.get("priority") == json.loads(reference)["priority"]'}),
        "correctness raises on text that is not JSON": REWARDS.format(
            **{**R_OK, "parse_for_correctness": "json.loads(text_of(completion))",
               "correct_ok": 'answer.get("category") == json.loads(reference)["category"]'}),
        "length counted in characters": REWARDS.format(**{**R_OK, "extra": "max(0, len(summary) - MAX_SUMMARY_WORDS)"}),
        "length: all or nothing": REWARDS.format(**{**R_OK, "length": "1.0 if extra == 0 else 0.0"}),
        "length: no floor at zero": REWARDS.format(**{**R_OK, "length": "1.0 - 0.25 * extra"}),
        "length: off by one (fewer than 4 words)": REWARDS.format(**{**R_OK, "extra": "max(0, len(summary.split()) - MAX_SUMMARY_WORDS + 1)"}),
    },
    "group_advantages": {
        "mean over the whole batch": ADV.format(**{**A_OK, "mean": "groups.mean()"}),
        "groups interleaved": ADV.format(**{**A_OK, "groups": "rewards.float().view(num_generations, -1).t()"}),
        "no epsilon": ADV.format(**{**A_OK, "std": "groups.std(dim=1, keepdim=True)"}),
        "population std (no Bessel correction)": ADV.format(**{**A_OK, "std": "(groups.std(dim=1, keepdim=True, correction=0) + 1e-4)"}),
        "std of the whole batch": ADV.format(**{**A_OK, "std": "(groups.std() + 1e-4)"}),
        "scaled by the mean instead of the std": ADV.format(**{**A_OK, "std": "(groups.mean(dim=1, keepdim=True) + 1e-4)"}),
    },
}
