"""Plausible wrong answers for 15-mlops-pipeline. Each must fail at least one test cell.

``CORRECT`` holds answers written differently from the solution: each must pass its exercise's tests.
"""

# -- hashes: one cell defines the three functions; each wrong answer breaks one of them ------------------------
CONFIG_OK = '''
def config_hash(config):
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
'''
FILE_OK = '''
def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
'''
FOLDER_OK = '''
def folder_sha256(path):
    root = Path(path)
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for name in names:
        digest.update(f"{name}\\0{sha256_file(root / name)}\\n".encode("utf-8"))
    return digest.hexdigest()
'''


def hashes(config=CONFIG_OK, file=FILE_OK, folder=FOLDER_OK):
    return config + file + folder


HASHES = {
    "config hash depends on key order (no sort_keys)": hashes(config='''
def config_hash(config):
    return hashlib.sha256(json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
'''),
    "config hash of repr(config)": hashes(config='''
def config_hash(config):
    return hashlib.sha256(repr(sorted(config.items())).encode()).hexdigest()
'''),
    "config hash with ASCII escapes (ensure_ascii default)": hashes(config='''
def config_hash(config):
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
'''),
    "config hash with json's default separators": hashes(config='''
def config_hash(config):
    return hashlib.sha256(json.dumps(config, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
'''),
    "file read as text (newlines translated, bytes decoded)": hashes(file='''
def sha256_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return hashlib.sha256(f.read().encode("utf-8")).hexdigest()
'''),
    "file: only the first chunk": hashes(file='''
def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read(1 << 20)).hexdigest()
'''),
    "md5 instead of sha256": hashes(file='''
def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()
'''),
    "file: digest bytes, not hex": hashes(file='''
def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).digest()
'''),
    "folder: contents only, names ignored": hashes(folder='''
def folder_sha256(path):
    root = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(f"{sha256_file(file)}\\n".encode())
    return digest.hexdigest()
'''),
    "folder: top level only": hashes(folder='''
def folder_sha256(path):
    root = Path(path)
    names = sorted(p.name for p in root.iterdir() if p.is_file())
    digest = hashlib.sha256()
    for name in names:
        digest.update(f"{name}\\0{sha256_file(root / name)}\\n".encode())
    return digest.hexdigest()
'''),
    "folder: absolute paths (depends on where it sits)": hashes(folder='''
def folder_sha256(path):
    root = Path(path)
    digest = hashlib.sha256()
    for file in sorted(str(p) for p in root.rglob("*") if Path(p).is_file()):
        digest.update(f"{file}\\0{sha256_file(file)}\\n".encode())
    return digest.hexdigest()
'''),
    "folder: file names only, not their bytes": hashes(folder='''
def folder_sha256(path):
    root = Path(path)
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return hashlib.sha256("\\n".join(names).encode()).hexdigest()
'''),
}

# -- data validation ------------------------------------------------------------------------------------------
VALIDATE = '''
def validate_splits(train, test):
    def later_copies(texts):
        seen, found = set(), []
        for i, text in enumerate(texts):
            key = {key}
            if key in seen:
                found.append(i)
            seen.add(key)
        return found

    in_train = {{{key_t} for t in train}}
    return {{"train_duplicates": later_copies(train), "test_duplicates": later_copies(test),
            "leaks": {leaks}}}
'''
V_OK = dict(key="normalize(text)", key_t="normalize(t)", leaks="[i for i, t in enumerate(test) if normalize(t) in in_train]")

VALIDATE_SPLITS = {
    "exact text, not normalised": VALIDATE.format(**{**V_OK, "key": "text", "key_t": "t",
                                                     "leaks": "[i for i, t in enumerate(test) if t in in_train]"}),
    "lower() and strip() instead of normalize (no casefold, inner whitespace kept)": VALIDATE.format(**{
        **V_OK, "key": "text.lower().strip()", "key_t": "t.lower().strip()",
        "leaks": "[i for i, t in enumerate(test) if t.lower().strip() in in_train]"}),
    "leaks by position (train[i] == test[i])": VALIDATE.format(**{
        **V_OK, "leaks": "[i for i, (a, b) in enumerate(zip(train, test)) if normalize(a) == normalize(b)]"}),
    "leaks skip rows already reported as test duplicates": VALIDATE.format(**{
        **V_OK, "leaks": "[i for i, t in enumerate(test) if normalize(t) in in_train and i not in later_copies(test)]"}),
    "duplicates report every copy, the first included": '''
def validate_splits(train, test):
    from collections import Counter

    def copies(texts):
        counts = Counter(normalize(t) for t in texts)
        return [i for i, t in enumerate(texts) if counts[normalize(t)] > 1]

    in_train = {normalize(t) for t in train}
    return {"train_duplicates": copies(train), "test_duplicates": copies(test),
            "leaks": [i for i, t in enumerate(test) if normalize(t) in in_train]}
''',
    "a duplicate only when it follows its copy directly": '''
def validate_splits(train, test):
    def later_copies(texts):
        return [i for i in range(1, len(texts)) if normalize(texts[i]) == normalize(texts[i - 1])]

    in_train = {normalize(t) for t in train}
    return {"train_duplicates": later_copies(train), "test_duplicates": later_copies(test),
            "leaks": [i for i, t in enumerate(test) if normalize(t) in in_train]}
''',
    "only one copy per text reported (a triple gives one index)": '''
def validate_splits(train, test):
    def later_copies(texts):
        first = {}
        for i, t in enumerate(texts):
            first.setdefault(normalize(t), i)
        second = {}
        for i, t in enumerate(texts):
            if first[normalize(t)] != i:
                second.setdefault(normalize(t), i)
        return sorted(second.values())

    in_train = {normalize(t) for t in train}
    return {"train_duplicates": later_copies(train), "test_duplicates": later_copies(test),
            "leaks": [i for i, t in enumerate(test) if normalize(t) in in_train]}
''',
    "sets instead of sorted lists": '''
def validate_splits(train, test):
    def later_copies(texts):
        seen, found = set(), set()
        for i, t in enumerate(texts):
            if normalize(t) in seen:
                found.add(i)
            seen.add(normalize(t))
        return found

    in_train = {normalize(t) for t in train}
    return {"train_duplicates": later_copies(train), "test_duplicates": later_copies(test),
            "leaks": {i for i, t in enumerate(test) if normalize(t) in in_train}}
''',
    "deduplicates the lists in place (pops the copies)": '''
def validate_splits(train, test):
    def later_copies(texts):
        seen, found = set(), []
        for i, t in enumerate(list(texts)):
            if normalize(t) in seen:
                found.append(i)
            seen.add(normalize(t))
        for i in reversed(found):
            texts.pop(i)
        return found

    dups_train, dups_test = later_copies(train), later_copies(test)
    in_train = {normalize(t) for t in train}
    return {"train_duplicates": dups_train, "test_duplicates": dups_test,
            "leaks": [i for i, t in enumerate(test) if normalize(t) in in_train]}
''',
}

# -- the gate --------------------------------------------------------------------------------------------------
GATE = '''
def gate_decision(finetuned, baseline, min_gain, confidence=0.95, seed=0):
    gain, low, high = {ci}
    return {{"passed": {passed}, "gain": float(gain), "low": float(low), "high": float(high)}}
'''
G_OK = dict(ci="paired_bootstrap_ci(finetuned, baseline, confidence=confidence, seed=seed)", passed="bool(low > min_gain)")

GATE_DECISION = {
    "passes on the mean gain": GATE.format(**{**G_OK, "passed": "bool(gain > min_gain)"}),
    "low >= min_gain passes": GATE.format(**{**G_OK, "passed": "bool(low >= min_gain)"}),
    "unpaired: each model's interval on its own": '''
def gate_decision(finetuned, baseline, min_gain, confidence=0.95, seed=0):
    mean_a, low_a, high_a = bootstrap_ci(finetuned, confidence=confidence, seed=seed)
    mean_b, low_b, high_b = bootstrap_ci(baseline, confidence=confidence, seed=seed)
    gain, low, high = mean_a - mean_b, low_a - high_b, high_a - low_b
    return {"passed": bool(low > min_gain), "gain": float(gain), "low": float(low), "high": float(high)}
''',
    "arguments swapped (baseline - finetuned)": GATE.format(**{
        **G_OK, "ci": "(lambda g, lo, hi: (-g, -hi, -lo))(*paired_bootstrap_ci(baseline, finetuned, confidence=confidence, "
                      "seed=seed))"}) .replace("(-g, -hi, -lo)", "(g, lo, hi)"),
    "confidence ignored (always 95%)": GATE.format(**{**G_OK, "ci": "paired_bootstrap_ci(finetuned, baseline, seed=seed)"}),
    "seed ignored": GATE.format(**{**G_OK, "ci": "paired_bootstrap_ci(finetuned, baseline, confidence=confidence)"}),
    "a NumPy bool": GATE.format(**{**G_OK, "passed": "np.bool_(low > min_gain)"}),
    "a lower bound with min_gain subtracted twice (passes on low > 2 * min_gain)": GATE.format(**{
        **G_OK, "passed": "bool(low - min_gain > min_gain)"}),
    "different lengths silently truncated": '''
def gate_decision(finetuned, baseline, min_gain, confidence=0.95, seed=0):
    n = min(len(finetuned), len(baseline))
    gain, low, high = paired_bootstrap_ci(list(finetuned)[:n], list(baseline)[:n], confidence=confidence, seed=seed)
    return {"passed": bool(low > min_gain), "gain": float(gain), "low": float(low), "high": float(high)}
''',
}

# -- the card's metadata --------------------------------------------------------------------------------------
CARD = '''
def model_card_data(metrics, card):
    results = [EvalResult(task_type="text-generation", dataset_type={dataset_type},
                          dataset_name=card["dataset_name"], dataset_split="test", metric_type=name,
                          metric_name=name, metric_value={value}) for name, value in {items}]
    return ModelCardData(model_name=card["model_name"], base_model={base_model}, license=card["license"],
                         language=card["language"], datasets=[card["dataset_id"]], library_name="peft",
                         pipeline_tag="text-generation", tags=["lora", "sft", "triage"], eval_results=results)
'''
C_OK = dict(dataset_type='card["dataset_id"]', value="float(value)", items="metrics.items()",
            base_model='card["base_model"]')

MODEL_CARD_DATA = {
    "values rounded to 2 decimals": CARD.format(**{**C_OK, "value": "round(float(value), 2)"}),
    "NumPy floats passed through (YAML writes Python objects)": CARD.format(**{**C_OK, "value": "value"}),
    "values as formatted strings": CARD.format(**{**C_OK, "value": 'f"{value:.4f}"'}),
    "only the reward": CARD.format(**{**C_OK, "items": '[("reward", metrics["reward"])]'}),
    "metrics sorted by name (not the dict's order)": CARD.format(**{**C_OK, "items": "sorted(metrics.items())"}),
    "hard-coded base model": CARD.format(**{**C_OK, "base_model": '"HuggingFaceTB/SmolLM2-135M-Instruct"'}),
    "dataset_type from the dataset's display name": CARD.format(**{**C_OK, "dataset_type": 'card["dataset_name"]'}),
    "no library_name (not marked as a PEFT adapter)": CARD.format(**C_OK).replace(' library_name="peft",', ""),
}

# -- DDP arithmetic -------------------------------------------------------------------------------------------
DDP = '''
def per_process_batch(global_batch, world_size, grad_accum=1):
    {batch}


def rank_indices(n, world_size, rank):
    {indices}
'''
BATCH_OK = ('if min(global_batch, world_size, grad_accum) < 1 or global_batch % (world_size * grad_accum):\n'
            '        raise ValueError("does not split")\n    return global_batch // (world_size * grad_accum)')
INDICES_OK = "total = -(-n // world_size) * world_size\n    return [i % n for i in range(total)][rank::world_size]"

DDP_ARITHMETIC = {
    "gradient accumulation ignored": DDP.format(batch='if global_batch % world_size:\n        raise ValueError("x")\n'
                                                      '    return global_batch // world_size', indices=INDICES_OK),
    "the global batch on every process": DDP.format(batch="return global_batch", indices=INDICES_OK),
    "float division": DDP.format(batch='if global_batch % (world_size * grad_accum):\n        raise ValueError("x")\n'
                                       '    return global_batch / (world_size * grad_accum)', indices=INDICES_OK),
    "floor division, no ValueError": DDP.format(batch="return max(1, global_batch // (world_size * grad_accum))",
                                                indices=INDICES_OK),
    "multiplied instead of divided": DDP.format(batch="return global_batch * world_size * grad_accum",
                                                indices=INDICES_OK),
    "rank indices without padding": DDP.format(batch=BATCH_OK, indices="return list(range(n))[rank::world_size]"),
    "rank indices as contiguous chunks": DDP.format(
        batch=BATCH_OK, indices="size = -(-n // world_size)\n"
                                "    return [i % n for i in range(rank * size, (rank + 1) * size)]"),
    "padding with the last index": DDP.format(
        batch=BATCH_OK, indices="total = -(-n // world_size) * world_size\n"
                                "    return [min(i, n - 1) for i in range(total)][rank::world_size]"),
    "padding repeated once only (wrong when n < world_size)": DDP.format(
        batch=BATCH_OK, indices="total = -(-n // world_size) * world_size\n"
                                "    padded = list(range(n)) + list(range(n))[:total - n]\n"
                                "    return padded[rank::world_size]"),
}

MUTANTS = {"hashes": HASHES, "validate_splits": VALIDATE_SPLITS, "gate_decision": GATE_DECISION,
           "model_card_data": MODEL_CARD_DATA, "ddp_arithmetic": DDP_ARITHMETIC}

CORRECT = {
    "hashes": {
        "hashlib.file_digest and os.walk": '''
def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
                          .encode()).hexdigest()


def sha256_file(path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def folder_sha256(path) -> str:
    lines = []
    for folder, _, files in os.walk(path):
        for name in files:
            full = os.path.join(folder, name)
            lines.append(f"{Path(os.path.relpath(full, path)).as_posix()}\\0{sha256_file(full)}\\n")
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()
''',
        "a small chunk size and Path.read_bytes for nothing big": CONFIG_OK + '''
def sha256_file(path):
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(4096):
            h.update(block)
    return h.hexdigest()
''' + FOLDER_OK,
    },
    "validate_splits": {
        "first index per text in a dict": '''
def validate_splits(train, test):
    def later(texts):
        first = {}
        out = []
        for i, t in enumerate(texts):
            if first.setdefault(normalize(t), i) != i:
                out.append(i)
        return out

    keys = set(map(normalize, train))
    return {"leaks": [i for i, t in enumerate(test) if normalize(t) in keys],
            "train_duplicates": later(train), "test_duplicates": later(test)}
''',
        "quadratic but correct": '''
def validate_splits(train, test):
    norm_train, norm_test = [normalize(t) for t in train], [normalize(t) for t in test]
    return {"train_duplicates": [i for i in range(len(train)) if norm_train[i] in norm_train[:i]],
            "test_duplicates": [i for i in range(len(test)) if norm_test[i] in norm_test[:i]],
            "leaks": [i for i in range(len(test)) if norm_test[i] in norm_train]}
''',
    },
    "gate_decision": {
        "positional arguments, explicit comparison": '''
def gate_decision(finetuned, baseline, min_gain, confidence=0.95, seed=0):
    result = paired_bootstrap_ci(np.asarray(finetuned, dtype=float), np.asarray(baseline, dtype=float), confidence,
                                 10_000, seed)
    gain, low, high = (float(x) for x in result)
    return {"gain": gain, "low": low, "high": high, "passed": True if low > min_gain else False}
''',
    },
    "model_card_data": {
        "keyword dict and a loop": '''
def model_card_data(metrics, card):
    results = []
    for name in metrics:
        results.append(EvalResult(metric_value=float(metrics[name]), metric_type=name, metric_name=name,
                                  task_type="text-generation", dataset_split="test", dataset_type=card["dataset_id"],
                                  dataset_name=card["dataset_name"], task_name="Ticket triage"))
    meta = {key: card[key] for key in ("model_name", "base_model", "license", "language")}
    return ModelCardData(**meta, datasets=[card["dataset_id"]], library_name="peft", pipeline_tag="text-generation",
                         tags=["lora"], eval_results=results)
''',
    },
    "ddp_arithmetic": {
        "divmod and math.ceil": '''
import math


def per_process_batch(global_batch: int, world_size: int, grad_accum: int = 1) -> int:
    if global_batch < 1 or world_size < 1 or grad_accum < 1:
        raise ValueError("arguments must be at least 1")
    per, left = divmod(global_batch, world_size * grad_accum)
    if left:
        raise ValueError(f"{global_batch} is not a multiple of {world_size * grad_accum}")
    return per


def rank_indices(n, world_size, rank):
    per_rank = math.ceil(n / world_size)
    return [(rank + k * world_size) % n for k in range(per_rank)]
''',
    },
}
