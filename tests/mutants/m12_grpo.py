"""Plausible wrong answers for 12-grpo. Each must fail at least one test cell.

``CORRECT`` holds answers written differently from the solution: each must pass its exercise's tests.
"""

FORMAT = '''
def parse_object(text):
    {parse}


def format_reward(completions, **kwargs):
    rewards = []
    for completion in completions:
        answer = parse_object(text_of(completion))
        if answer is None:
            rewards.append(0.0)
        else:
            rewards.append({score})
    return rewards
'''
PARSE_OK = ("try:\n        answer = json.loads(text)\n    except ValueError:\n        return None\n"
            "    return answer if isinstance(answer, dict) else None")
F_OK = dict(parse=PARSE_OK, score="1.0 if set(answer) == set(FIELDS) else 0.5")

CORRECTNESS = '''
def correctness_reward(completions, expected, **kwargs):
    rewards = []
    for completion, reference in zip(completions, {references}):
        answer, reference = {parse}, json.loads(reference)
        if answer is None:
            rewards.append(0.0)
            continue
        rewards.append({score})
    return rewards
'''
C_OK = dict(references="expected", parse="parse_object(text_of(completion))",
            score='0.75 * (answer.get("category") == reference["category"])\n'
                  '                       + 0.25 * (answer.get("priority") == reference["priority"])')

LENGTH = '''
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
LEN_OK = dict(extra="max(0, len(summary.split()) - MAX_SUMMARY_WORDS)", length="max(0.0, 1.0 - 0.25 * extra)")
OK_CORRECTNESS, OK_LENGTH = CORRECTNESS.format(**C_OK), LENGTH.format(**LEN_OK)

LENIENT_PARSE = '''
def lenient(text):
    body = re.sub(r"^```(?:json)?\\s*|\\s*```$", "", text.strip())
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None
'''

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

SETUP = '''
def make_grpo_trainer(model, tokenizer, prompts, reward_funcs, cfg, output_dir):
    on_cpu = cfg.device == "cpu"
    args = GRPOConfig(output_dir=output_dir, max_steps=cfg.max_steps, per_device_train_batch_size={batch},
                      {sampling}, learning_rate=cfg.lr, beta={beta}, seed=cfg.seed,
                      logging_steps=1, save_strategy="no", report_to="none", {device}, {checkpointing}{weights})
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=2 * cfg.lora_r, lora_dropout=0.0, target_modules={targets},
                      task_type="CAUSAL_LM")
    return GRPOTrainer(model=model, reward_funcs={funcs}, args=args, train_dataset=prompts,
                       processing_class=tokenizer, peft_config=lora)
'''
S_OK = dict(batch="cfg.batch_size", beta="0.0", weights="", targets='"all-linear"', funcs="list(reward_funcs)",
            sampling="num_generations=cfg.num_generations, max_completion_length=cfg.max_completion_length, "
                     "temperature=1.0",
            device="use_cpu=on_cpu, bf16=cfg.bf16, fp16=cfg.fp16", checkpointing="activation_checkpointing=False")

MUTANTS = {
    "format_reward": {
        # the package's lenient metric is not this exercise's answer
        "score_triage_json: all fields present, else 0.5 for valid JSON": '''
from airoadmap.triage import score_triage_json


def format_reward(completions, **kwargs):
    rewards = []
    for completion in completions:
        score = score_triage_json(text_of(completion), {"category": None, "priority": None})
        rewards.append(1.0 if score["fields_present"] == 1 else 0.5 if score["valid_json"] else 0.0)
    return rewards
''',
        "score_triage_json's reward as the format reward": '''
from airoadmap.triage import score_triage_json


def format_reward(completions, **kwargs):
    return [1.0 if score_triage_json(text_of(c), {"category": "", "priority": ""})["fields_present"] == 1 else 0.0
            for c in completions]
''',
        "fence stripped (lenient)": "import re\n" + LENIENT_PARSE.replace("def lenient", "def parse_object")
        + FORMAT.format(**F_OK).split("\n\n\n", 1)[1],
        "the first {...} found in the text": "import re\n" + FORMAT.format(**{**F_OK, "parse": (
            'match = re.search(r"\\{.*\\}", text, re.S)\n    if match is None:\n        return None\n'
            '    try:\n        return json.loads(match.group())\n    except ValueError:\n        return None')}),
        "all three keys present, extra keys allowed": FORMAT.format(
            **{**F_OK, "score": "1.0 if all(f in answer for f in FIELDS) else 0.5"}),
        "keys compared as a list (order matters)": FORMAT.format(
            **{**F_OK, "score": "1.0 if list(answer) == list(FIELDS) else 0.5"}),
        "no partial credit": FORMAT.format(**{**F_OK, "score": "1.0 if set(answer) == set(FIELDS) else 0.0"}),
        "partial credit for any JSON, lists and numbers too": FORMAT.format(
            **{**F_OK, "parse": "try:\n        return json.loads(text)\n    except ValueError:\n        return None",
               "score": "1.0 if isinstance(answer, dict) and set(answer) == set(FIELDS) else 0.5"}),
        "object with the three keys required, partial credit for three keys of any name": FORMAT.format(
            **{**F_OK, "score": "1.0 if len(answer) == 3 else 0.5"}),
    },
    "correctness_and_length": {
        # the package's lenient metric is not this exercise's answer
        "score_triage_json for correctness (0.75 category + 0.25 priority)": '''
from airoadmap.triage import score_triage_json


def correctness_reward(completions, expected, **kwargs):
    scores = [score_triage_json(text_of(c), e) for c, e in zip(completions, expected)]
    return [0.75 * s["category_correct"] + 0.25 * s["priority_correct"] for s in scores]
''' + OK_LENGTH,
        "score_triage_json for both (summary from its lenient parse)": '''
from airoadmap.triage import score_triage_json


def correctness_reward(completions, expected, **kwargs):
    scores = [score_triage_json(text_of(c), e) for c, e in zip(completions, expected)]
    return [0.75 * float(s["category_correct"]) + 0.25 * float(s["priority_correct"]) for s in scores]


def length_reward(completions, **kwargs):
    rewards = []
    for completion in completions:
        if not score_triage_json(text_of(completion), {"category": "", "priority": ""})["valid_json"]:
            rewards.append(0.0)
            continue
        body = text_of(completion).strip().removeprefix("```json").removesuffix("```")
        summary = json.loads(body).get("summary")
        words = len(summary.split()) if isinstance(summary, str) else None
        rewards.append(0.0 if words is None else max(0.0, 1.0 - 0.25 * max(0, words - MAX_SUMMARY_WORDS)))
    return rewards
''',
        "the first row's expected answer for every row": CORRECTNESS.format(
            **{**C_OK, "references": "[expected[0]] * len(completions)"}) + OK_LENGTH,
        "category only, all or nothing": CORRECTNESS.format(
            **{**C_OK, "score": 'float(answer.get("category") == reference["category"])'}) + OK_LENGTH,
        "weights swapped (0.25 category, 0.75 priority)": CORRECTNESS.format(
            **{**C_OK, "score": '0.25 * (answer.get("category") == reference["category"])'
                                ' + 0.75 * (answer.get("priority") == reference["priority"])'}) + OK_LENGTH,
        "fence stripped before parsing (lenient)": "import re\n" + LENIENT_PARSE + CORRECTNESS.format(
            **{**C_OK, "parse": "lenient(text_of(completion))"}) + OK_LENGTH,
        "raises on text that is not JSON": CORRECTNESS.format(
            **{**C_OK, "parse": "json.loads(text_of(completion))"}) + OK_LENGTH,
        "JSON that is not an object crashes it": '''
def correctness_reward(completions, expected, **kwargs):
    rewards = []
    for completion, reference in zip(completions, expected):
        try:
            answer = json.loads(text_of(completion))
        except ValueError:
            rewards.append(0.0)
            continue
        reference = json.loads(reference)
        rewards.append(0.75 * (answer.get("category") == reference["category"])
                       + 0.25 * (answer.get("priority") == reference["priority"]))
    return rewards
''' + OK_LENGTH,
        "length counted in characters": OK_CORRECTNESS + LENGTH.format(
            **{**LEN_OK, "extra": "max(0, len(summary) - MAX_SUMMARY_WORDS)"}),
        "length: all or nothing": OK_CORRECTNESS + LENGTH.format(**{**LEN_OK, "length": "1.0 if extra == 0 else 0.0"}),
        "length: no floor at zero": OK_CORRECTNESS + LENGTH.format(**{**LEN_OK, "length": "1.0 - 0.25 * extra"}),
        "length: off by one (fewer than 4 words)": OK_CORRECTNESS + LENGTH.format(
            **{**LEN_OK, "extra": "max(0, len(summary.split()) - MAX_SUMMARY_WORDS + 1)"}),
        "length: words split on single spaces": OK_CORRECTNESS + LENGTH.format(
            **{**LEN_OK, "extra": 'max(0, len(summary.split(" ")) - MAX_SUMMARY_WORDS)'}),
    },
    "group_advantages": {
        "mean over the whole batch": ADV.format(**{**A_OK, "mean": "groups.mean()"}),
        "groups interleaved": ADV.format(**{**A_OK, "groups": "rewards.float().view(num_generations, -1).t()"}),
        "no epsilon": ADV.format(**{**A_OK, "std": "groups.std(dim=1, keepdim=True)"}),
        "population std (no Bessel correction)": ADV.format(
            **{**A_OK, "std": "(groups.std(dim=1, keepdim=True, correction=0) + 1e-4)"}),
        "std of the whole batch": ADV.format(**{**A_OK, "std": "(groups.std() + 1e-4)"}),
        "scaled by the mean instead of the std": ADV.format(
            **{**A_OK, "std": "(groups.mean(dim=1, keepdim=True) + 1e-4)"}),
        # a documented limit, side effects, device
        "epsilon inside the square root": ADV.format(
            **{**A_OK, "std": "torch.sqrt(groups.var(dim=1, keepdim=True) + 1e-4)"}),
        "rewards centred in place": '''
def group_advantages(rewards, num_generations, scale=True):
    groups = rewards.view(-1, num_generations)
    std = groups.std(dim=1, keepdim=True)
    groups -= groups.mean(dim=1, keepdim=True)
    return (groups / (std + 1e-4) if scale else groups).reshape(-1)
''',
        "per-group statistics in Python (CPU only)": '''
import statistics


def group_advantages(rewards, num_generations, scale=True):
    values = rewards.tolist()
    out = []
    for start in range(0, len(values), num_generations):
        group = values[start:start + num_generations]
        mean, std = statistics.mean(group), statistics.stdev(group)
        out += [(v - mean) / (std + 1e-4) if scale else v - mean for v in group]
    return torch.tensor(out)
''',
    },
    "make_grpo_trainer": {
        "batch counted in prompts (batch_size x num_generations)": SETUP.format(
            **{**S_OK, "batch": "cfg.batch_size * cfg.num_generations"}),
        "batch rounded down to whole groups instead of raising": SETUP.format(
            **{**S_OK, "batch": "cfg.batch_size // cfg.num_generations * cfg.num_generations"}),
        "num_generations and lengths left at TRL's defaults": SETUP.format(**{**S_OK, "sampling": "temperature=1.0"}),
        "max_completion_length left at TRL's default (512)": SETUP.format(
            **{**S_OK, "sampling": "num_generations=cfg.num_generations, temperature=1.0"}),
        "a KL penalty (beta 0.04)": SETUP.format(**{**S_OK, "beta": "0.04"}),
        "temperature 0.7": SETUP.format(**{**S_OK, "sampling": S_OK["sampling"].replace("1.0", "0.7")}),
        "reward functions reversed": SETUP.format(**{**S_OK, "funcs": "list(reward_funcs)[::-1]"}),
        "correctness weighted double": SETUP.format(
            **{**S_OK, "weights": ", reward_weights=[1.0, 2.0] + [1.0] * (len(reward_funcs) - 2)"}),
        "use_cpu always on": SETUP.format(**{**S_OK, "device": "use_cpu=True, bf16=cfg.bf16, fp16=cfg.fp16"}),
        "precision left at TRL's default (bf16)": SETUP.format(**{**S_OK, "device": "use_cpu=on_cpu"}),
        "activation checkpointing left on (TRL's default)": SETUP.format(
            **{**S_OK, "checkpointing": "logging_first_step=False"}),
        "LoRA on q_proj and v_proj only": SETUP.format(**{**S_OK, "targets": '["q_proj", "v_proj"]'}),
    },
}

CORRECT = {
    "format_reward": {
        "sorted keys, a list comprehension": '''
def parse_object(text):
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if type(value) is dict else None


def format_reward(completions, **kwargs):
    parsed = [parse_object(text_of(c)) for c in completions]
    return [0.0 if p is None else (1.0 if sorted(p) == sorted(FIELDS) else 0.5) for p in parsed]
''',
        "raw_decode must consume the whole text": '''
_decoder = json.JSONDecoder()


def parse_object(text):
    stripped = text.strip()
    try:
        value, end = _decoder.raw_decode(stripped)
    except ValueError:
        return None
    return value if end == len(stripped) and isinstance(value, dict) else None


def format_reward(completions, **kwargs):
    out = []
    for c in completions:
        obj = parse_object(text_of(c))
        out.append(0.0 if obj is None else 1.0 if len(obj) == 3 and all(k in obj for k in FIELDS) else 0.5)
    return out
''',
    },
    "correctness_and_length": {
        "sum of two booleans as floats, regex word count": '''
import re


def correctness_reward(completions, expected, **kwargs):
    out = []
    for completion, ref in zip(completions, expected):
        obj, want = parse_object(text_of(completion)), json.loads(ref)
        score = 0.0
        if obj is not None:
            score += 0.75 if obj.get("category") == want.get("category") else 0.0
            score += 0.25 if obj.get("priority") == want.get("priority") else 0.0
        out.append(score)
    return out


def length_reward(completions, **kwargs):
    out = []
    for completion in completions:
        obj = parse_object(text_of(completion)) or {}
        summary = obj.get("summary")
        words = len(re.findall(r"\\S+", summary)) if isinstance(summary, str) else None
        out.append(0.0 if words is None else min(1.0, max(0.0, 1 - 0.25 * (words - MAX_SUMMARY_WORDS))))
    return out
''',
        "one parse, then dictionaries of weights": '''
WEIGHTS = {"category": 0.75, "priority": 0.25}


def correctness_reward(completions, expected, **kwargs):
    rewards = []
    for completion, ref in zip(completions, expected):
        obj = parse_object(text_of(completion))
        want = json.loads(ref)
        rewards.append(float(sum(w for k, w in WEIGHTS.items() if obj is not None and obj.get(k) == want[k])))
    return rewards


def length_reward(completions, **kwargs):
    def one(text):
        obj = parse_object(text)
        if obj is None or not isinstance(obj.get("summary"), str):
            return 0.0
        over = len(obj["summary"].split()) - MAX_SUMMARY_WORDS
        return 1.0 if over <= 0 else max(0.0, 1.0 - over / 4)
    return [one(text_of(c)) for c in completions]
''',
    },
    "group_advantages": {
        "loop over groups with torch ops": '''
def group_advantages(rewards, num_generations, scale=True):
    out = torch.empty_like(rewards, dtype=torch.float32)
    for start in range(0, rewards.numel(), num_generations):
        group = rewards[start:start + num_generations].float()
        centred = group - group.mean()
        out[start:start + num_generations] = centred / (group.std() + 1e-4) if scale else centred
    return out
''',
        "Bessel's correction by hand, repeat_interleave": '''
def group_advantages(rewards, num_generations, scale=True):
    g = rewards.to(torch.float32).reshape(-1, num_generations)
    mean = g.mean(1)
    adv = rewards - mean.repeat_interleave(num_generations)
    if not scale:
        return adv
    std = ((g - mean[:, None]) ** 2).sum(1).div(num_generations - 1).sqrt()
    return adv / (std.repeat_interleave(num_generations) + 1e-4)
''',
    },
    "make_grpo_trainer": {
        "explicit check first, keyword dict, deprecated checkpointing name": '''
def make_grpo_trainer(model, tokenizer, prompts, reward_funcs, cfg, output_dir):
    if cfg.batch_size % cfg.num_generations:
        raise ValueError(f"batch_size={cfg.batch_size} is not a multiple of num_generations={cfg.num_generations}")
    options = dict(num_generations=cfg.num_generations, max_completion_length=cfg.max_completion_length,
                   per_device_train_batch_size=cfg.batch_size, temperature=1.0, beta=0.0)
    args = GRPOConfig(output_dir, max_steps=cfg.max_steps, learning_rate=cfg.lr, seed=cfg.seed, logging_steps=1,
                      save_strategy="no", report_to=[], use_cpu=cfg.device == "cpu", bf16=cfg.bf16, fp16=cfg.fp16,
                      gradient_checkpointing=False, **options)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    peft_config = LoraConfig(task_type="CAUSAL_LM", r=cfg.lora_r, lora_alpha=2 * cfg.lora_r, target_modules=targets)
    return GRPOTrainer(model, reward_funcs, args=args, train_dataset=prompts, processing_class=tokenizer,
                       peft_config=peft_config)
''',
        "precision from cfg.dtype, explicit equal weights": '''
def make_grpo_trainer(model, tokenizer, prompts, reward_funcs, cfg, output_dir):
    gpu = cfg.device == "cuda"
    funcs = list(reward_funcs)
    config = GRPOConfig(output_dir=output_dir, max_steps=cfg["max_steps"], learning_rate=cfg["lr"],
                        per_device_train_batch_size=cfg["batch_size"], num_generations=cfg["num_generations"],
                        max_completion_length=cfg["max_completion_length"], seed=cfg["seed"],
                        reward_weights=[1.0] * len(funcs), logging_steps=1, save_strategy="no", report_to="none",
                        use_cpu=not gpu, bf16=gpu and cfg.dtype == torch.bfloat16,
                        fp16=gpu and cfg.dtype == torch.float16, activation_checkpointing=gpu)
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_r * 2, lora_dropout=0.05, target_modules="all-linear",
                      task_type="CAUSAL_LM")
    return GRPOTrainer(model=model, reward_funcs=funcs, args=config, train_dataset=prompts,
                       processing_class=tokenizer, peft_config=lora)
''',
    },
}
