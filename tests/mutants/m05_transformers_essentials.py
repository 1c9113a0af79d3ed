"""Plausible wrong answers for 05-transformers-essentials. Each must fail at least one test cell.

``MUTANTS[solution grade_id][description]`` is the whole replacement source of that cell;
``CORRECT[solution grade_id][description]`` holds right answers written differently from the
solution: they must pass every test cell.
"""

CHAT = '''
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def render_chat(messages, add_generation_prompt=False, default_system=DEFAULT_SYSTEM):
    if {needs_system}:
        {prepend}
    text = "".join(f"<|im_start|>{{m['role']}}\\n{{m['content']}}{end}" for m in messages)
    if {gen_flag}:
        text += "<|im_start|>assistant\\n"
    return text
'''


def chat(needs_system='messages and messages[0]["role"] != "system"',
         prepend='messages = [{"role": "system", "content": default_system}] + list(messages)',
         end="<|im_end|>\\n", gen_flag="add_generation_prompt"):
    return CHAT.format(needs_system=needs_system, prepend=prepend, end=end, gen_flag=gen_flag)


GREEDY = '''
@torch.no_grad()
def greedy_decode(model, input_ids, max_new_tokens, eos_token_id):
    ids = input_ids
    new = []
    for _ in range({steps}):
        logits = model(input_ids=ids, use_cache=False).logits
        next_id = {pick}
        {stop_before}
        new.append(int(next_id))
        ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
        {stop_after}
    return {ret}
'''
STOP = "if eos_token_id is not None and int(next_id) == eos_token_id:\n            break"


def greedy(steps="max_new_tokens", pick="logits[0, -1].argmax()", stop_before="pass", stop_after=STOP, ret="new"):
    return GREEDY.format(steps=steps, pick=pick, stop_before=stop_before, stop_after=stop_after, ret=ret)


BATCH = '''
def left_pad(sequences, pad_id):
    length = max(len(seq) for seq in sequences)
    input_ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), length), dtype=torch.long)
    for i, seq in enumerate(sequences):
        if seq:
            {fill}
    {mask_fix}
    return input_ids, attention_mask


def generate_batch(model, tokenizer, conversations, max_new_tokens):
    prompts = [tokenizer.apply_chat_template(c, add_generation_prompt=True)["input_ids"] for c in conversations]
    {pad}
    out = model.generate(input_ids=input_ids.to(model.device), {mask_arg}
                         do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
    return tokenizer.batch_decode({new_tokens}, skip_special_tokens={skip})
'''
LEFT = ("input_ids[i, length - len(seq):] = torch.tensor(seq, dtype=torch.long)\n"
        "            attention_mask[i, length - len(seq):] = 1")
RIGHT = ("input_ids[i, :len(seq)] = torch.tensor(seq, dtype=torch.long)\n"
         "            attention_mask[i, :len(seq)] = 1")
OWN_PAD = "input_ids, attention_mask = left_pad(prompts, tokenizer.pad_token_id)"


def batch(fill=LEFT, mask_fix="pass", pad=OWN_PAD, mask_arg="attention_mask=attention_mask.to(model.device),",
          new_tokens="out[:, input_ids.shape[1]:]", skip="True"):
    return BATCH.format(fill=fill, mask_fix=mask_fix, pad=pad, mask_arg=mask_arg, new_tokens=new_tokens, skip=skip)


MEMORY = '''
def count_parameters(model):
    {count}


def weight_bytes(num_params, dtype):
    per_param = {table}
    if dtype not in per_param:
        raise ValueError(dtype)
    return num_params * per_param[dtype]


def kv_cache_bytes(config, seq_len, batch_size, dtype):
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    per_token = {per_token}
    return weight_bytes(per_token * seq_len * batch_size, dtype)
'''
COUNT = ('params = list(model.parameters())\n'
         '    return {"total": sum(p.numel() for p in params), '
         '"trainable": sum(p.numel() for p in params if p.requires_grad)}')
TABLE = '{"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "int4": 0.5}'


def memory(count=COUNT, table=TABLE,
           per_token="2 * config.num_hidden_layers * config.num_key_value_heads * head_dim"):
    return MEMORY.format(count=count, table=table, per_token=per_token)


SAMPLING = '''
def top_p_filter(logits, top_p):
    sorted_logits, order = logits.sort(dim=-1, descending={descending})
    probs = sorted_logits.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs
    drop_sorted = {drop}
    drop_sorted[..., 0] = False
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def sample_next_token(logits, temperature=1.0, top_p=1.0, generator=None):
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = {probs}
    return {draw}
'''


def sampling(descending="True", drop="mass_before >= top_p",
             probs="top_p_filter(logits / temperature, top_p).softmax(dim=-1)",
             draw="torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)"):
    return SAMPLING.format(descending=descending, drop=drop, probs=probs, draw=draw)


CHAT_STRIP = chat().replace("{m['content']}", "{m['content'].strip()}")

GREEDY_DO_WHILE = '''
@torch.no_grad()
def greedy_decode(model, input_ids, max_new_tokens, eos_token_id):
    ids, new = input_ids, []
    while True:
        next_id = model(input_ids=ids, use_cache=False).logits[0, -1].argmax()
        new.append(int(next_id))
        ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
        if len(new) >= max_new_tokens or (eos_token_id is not None and new[-1] == eos_token_id):
            return new
'''

GREEDY_KV_CACHE = '''
@torch.no_grad()
def greedy_decode(model, input_ids, max_new_tokens, eos_token_id):
    new, past, step_ids = [], None, input_ids
    for _ in range(max_new_tokens):
        out = model(input_ids=step_ids, past_key_values=past, use_cache=True)
        past = out.past_key_values
        next_id = out.logits[0, -1].argmax()
        new.append(int(next_id))
        step_ids = next_id.view(1, 1)
        if eos_token_id is not None and new[-1] == eos_token_id:
            break
    return new
'''

GREEDY_GLOBAL_NO_GRAD = '''
def greedy_decode(model, input_ids, max_new_tokens, eos_token_id):
    torch.set_grad_enabled(False)
    ids, new = input_ids, []
    for _ in range(max_new_tokens):
        next_id = model(input_ids=ids, use_cache=False).logits[0, -1].argmax()
        new.append(int(next_id))
        ids = torch.cat([ids, next_id.view(1, 1)], dim=1)
        if eos_token_id is not None and new[-1] == eos_token_id:
            break
    return new
'''

BATCH_IN_PLACE = batch().replace('''def left_pad(sequences, pad_id):
    length = max(len(seq) for seq in sequences)''', '''def left_pad(sequences, pad_id):
    lengths = [len(seq) for seq in sequences]
    for seq in sequences:
        seq[:0] = [pad_id] * (max(lengths) - len(seq))
    mask = torch.tensor([[0] * (max(lengths) - n) + [1] * n for n in lengths])
    return torch.tensor(sequences, dtype=torch.long), mask


def unused(sequences, pad_id):
    length = max(len(seq) for seq in sequences)''')

BATCH_LOOP = batch().replace(
    '''    out = model.generate(input_ids=input_ids.to(model.device), attention_mask=attention_mask.to(model.device),
                         do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
    return tokenizer.batch_decode(out[:, input_ids.shape[1]:], skip_special_tokens=True)''', '''    answers = []
    for row in range(len(prompts)):
        ids, mask = input_ids[row:row + 1].to(model.device), attention_mask[row:row + 1].to(model.device)
        out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=max_new_tokens,
                             pad_token_id=tokenizer.pad_token_id)
        answers.append(tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True))
    return answers''')
assert "for row in range" in BATCH_LOOP

BATCH_TOKENIZER_SIDE = batch(
    pad='tokenizer.padding_side = "left"\n'
        '    enc = tokenizer.pad({"input_ids": prompts}, return_tensors="pt")\n'
        '    input_ids, attention_mask = enc["input_ids"], enc["attention_mask"]')

SAMPLING_CPU_MASK = sampling().replace(
    "    drop = drop_sorted.scatter(-1, order, drop_sorted)",
    "    drop = torch.zeros(logits.shape, dtype=torch.bool)\n    drop.scatter_(-1, order, drop_sorted)")
assert "drop.scatter_" in SAMPLING_CPU_MASK


MUTANTS = {
    "render_chat": {
        "no generation prompt": chat(gen_flag="False"),
        "no default system turn": chat(needs_system="False"),
        "<|endoftext|> closes each turn": chat(end="<|endoftext|>\\n"),
        "no newline after <|im_end|>": chat(end="<|im_end|>"),
        "a default system turn even when the chat has one": chat(needs_system="messages"),
        "the default system prompt hard-coded": chat(
            prepend='messages = [{"role": "system", "content": DEFAULT_SYSTEM}] + list(messages)'),
        "inserts into the caller's list": chat(
            prepend='messages.insert(0, {"role": "system", "content": default_system})'),
        "no default system turn when a system message comes later": chat(
            needs_system='messages and not any(m["role"] == "system" for m in messages)'),
        "strips each message's content": CHAT_STRIP,
        "generation prompt only after a user turn": chat(
            gen_flag='add_generation_prompt and messages[-1]["role"] == "user"'),
    },
    "greedy_decode": {
        "argmax at the first position": greedy(pick="logits[0, 0].argmax()"),
        "never stops at EOS": greedy(stop_after="pass"),
        "drops the EOS token": greedy(stop_before=STOP, stop_after="pass"),
        "one token too few": greedy(steps="max_new_tokens - 1"),
        "returns the prompt too": greedy(ret="input_ids[0].tolist() + new"),
        "samples instead of argmax": greedy(pick="torch.multinomial(logits[0, -1].softmax(-1), 1)[0]"),
        "squeezes the logits (a one-token prompt breaks)": greedy(pick="logits.squeeze()[-1].argmax()"),
        "EOS id tested by its truth value (0 never stops)": greedy(
            stop_after="if eos_token_id and int(next_id) == eos_token_id:\n            break"),
        "always returns at least one token": GREEDY_DO_WHILE,
        "uses a KV cache after the first step": GREEDY_KV_CACHE,
        "turns gradients off globally": GREEDY_GLOBAL_NO_GRAD,
    },
    "left_pad_generate": {
        "right padding": batch(fill=RIGHT),
        "mask from comparing with pad_id": batch(mask_fix="attention_mask = (input_ids != pad_id).long()"),
        "generate_batch pads with the tokenizer's default (right) side": batch(
            pad='enc = tokenizer.pad({"input_ids": prompts}, return_tensors="pt")\n'
                '    input_ids, attention_mask = enc["input_ids"], enc["attention_mask"]'),
        "generate without the attention mask": batch(mask_arg=""),
        "decodes the prompt too": batch(new_tokens="out"),
        "keeps special tokens": batch(skip="False"),
        "pads the caller's lists in place": BATCH_IN_PLACE,
        "one generate call per conversation": BATCH_LOOP,
        "batch never moved to model.device": batch(mask_arg="attention_mask=attention_mask,").replace(
            "input_ids=input_ids.to(model.device)", "input_ids=input_ids"),
        "switches the tokenizer to left padding and leaves it so": BATCH_TOKENIZER_SIDE,
        "decodes the last max_new_tokens positions": batch(new_tokens="out[:, -max_new_tokens:]"),
        "strips each answer": batch().replace(
            "return tokenizer.batch_decode(out[:, input_ids.shape[1]:], skip_special_tokens=True)",
            "return [a.strip() for a in\n"
            "            tokenizer.batch_decode(out[:, input_ids.shape[1]:], skip_special_tokens=True)]"),
    },
    "memory": {
        "tied weights counted twice (state_dict)": memory(
            count='total = sum(t.numel() for t in model.state_dict().values())\n'
                  '    return {"total": total, "trainable": total}'),
        "every parameter counted as trainable": memory(
            count='params = list(model.parameters())\n'
                  '    return {"total": sum(p.numel() for p in params), "trainable": sum(p.numel() for p in params)}'),
        "4 bytes for 4-bit": memory(table='{"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "int4": 4}'),
        "bfloat16 as 4 bytes": memory(table='{"float32": 4, "float16": 2, "bfloat16": 4, "int8": 1, "int4": 0.5}'),
        "KV cache with query heads instead of key-value heads": memory(
            per_token="2 * config.num_hidden_layers * config.num_attention_heads * head_dim"),
        "KV cache without the factor 2 (keys only)": memory(
            per_token="config.num_hidden_layers * config.num_key_value_heads * head_dim"),
        "head_dim always hidden_size // num_attention_heads": memory().replace(
            'getattr(config, "head_dim", None) or ', ""),
        "head_dim read without a fallback": memory().replace(
            'getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads', "config.head_dim"),
        "parameters counted from bytes (4 per parameter)": memory(
            count='params = list(model.parameters())\n'
                  '    return {"total": sum(p.nbytes for p in params) // 4, '
                  '"trainable": sum(p.nbytes for p in params if p.requires_grad) // 4}'),
        "counts with num_parameters() (Hugging Face models only)": memory(
            count='return {"total": model.num_parameters(), "trainable": model.num_parameters(only_trainable=True)}'),
        "int4 in whole bytes (bits // 8)": memory(
            table='{"float32": 32, "float16": 16, "bfloat16": 16, "int8": 8, "int4": 4}').replace(
            "return num_params * per_param[dtype]", "return num_params * per_param[dtype] // 8"),
        "float64 accepted as 8 bytes": memory(
            table='{"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "int4": 0.5}'),
    },
    "sampling": {
        "drops the token that crosses top_p": sampling(drop="probs.cumsum(dim=-1) > top_p"),
        "ascending sort": sampling(descending="False"),
        "top-p on logits, not probabilities": sampling(drop="sorted_logits.cumsum(dim=-1) - sorted_logits >= top_p"),
        "top-p before temperature": sampling(probs="(top_p_filter(logits, top_p) / temperature).softmax(dim=-1)"),
        "multiplies by the temperature": sampling(probs="top_p_filter(logits * temperature, top_p).softmax(dim=-1)"),
        "greedy instead of sampling": sampling(draw="probs.argmax(dim=-1)"),
        "ignores the generator": sampling(draw="torch.multinomial(probs, num_samples=1).squeeze(-1)"),
        "keeps the token whose mass above is exactly top_p": sampling(drop="mass_before > top_p"),
        "filters the caller's logits in place": sampling().replace(
            'return logits.masked_fill(drop, float("-inf"))', 'return logits.masked_fill_(drop, float("-inf"))'),
        "squeezes the draws (a batch of one gives a 0-d tensor)": sampling(
            draw="torch.multinomial(probs, num_samples=1, generator=generator).squeeze()"),
        "seeds the global RNG instead of using the generator": sampling(
            draw="(torch.manual_seed(0), torch.multinomial(probs, num_samples=1).squeeze(-1))[1]"),
        "builds the unsorted mask on the CPU": SAMPLING_CPU_MASK,
        "returns float32 logits whatever the input dtype": sampling().replace(
            'return logits.masked_fill(drop, float("-inf"))', 'return logits.float().masked_fill(drop, float("-inf"))'),
        "temperature 0 as a tiny temperature (still samples)": sampling().replace(
            "    if temperature == 0:\n        return logits.argmax(dim=-1)\n",
            "    temperature = max(temperature, 1e-2)\n"),
        "every row drawn from the first row's distribution": sampling(
            draw="torch.multinomial(probs[0], len(probs), replacement=True, generator=generator)"),
    },
}


CORRECT = {
    "render_chat": {
        "turns built in a loop, system turn added as text": '''
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def render_chat(messages, add_generation_prompt=False, default_system=DEFAULT_SYSTEM):
    parts = []
    if len(messages) > 0 and messages[0]["role"] != "system":
        parts.append("<|im_start|>system\\n" + default_system + "<|im_end|>\\n")
    for message in messages:
        parts.append("<|im_start|>" + message["role"] + "\\n" + message["content"] + "<|im_end|>\\n")
    if add_generation_prompt:
        parts.append("<|im_start|>assistant\\n")
    return "".join(parts)
''',
        "unpacked copy of the list": '''
DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def render_chat(messages, add_generation_prompt=False, default_system=DEFAULT_SYSTEM):
    turns = [*messages]
    if turns and turns[0]["role"] != "system":
        turns = [dict(role="system", content=default_system), *turns]
    text = ""
    for turn in turns:
        text += "<|im_start|>%s\\n%s<|im_end|>\\n" % (turn["role"], turn["content"])
    return text + ("<|im_start|>assistant\\n" if add_generation_prompt else "")
''',
    },
    "greedy_decode": {
        "while loop, argmax keepdim, inference_mode": '''
@torch.no_grad()
def greedy_decode(model, input_ids, max_new_tokens, eos_token_id):
    sequence = input_ids
    with torch.inference_mode():
        while sequence.shape[1] - input_ids.shape[1] < max_new_tokens:
            logits = model(sequence, use_cache=False).logits
            next_token = torch.argmax(logits[:, -1, :], dim=-1, keepdim=True)
            sequence = torch.cat((sequence, next_token), dim=1)
            if eos_token_id is not None and next_token.item() == eos_token_id:
                break
    return sequence[0, input_ids.shape[1]:].tolist()
''',
        "new token tensor built on the prompt's device": '''
@torch.no_grad()
def greedy_decode(model, input_ids, max_new_tokens, eos_token_id):
    out = []
    seq = input_ids.clone()
    for step in range(max_new_tokens):
        token = model(input_ids=seq, use_cache=False).logits[0, -1].argmax().item()
        out.append(token)
        seq = torch.cat([seq, torch.tensor([[token]], device=seq.device, dtype=seq.dtype)], dim=-1)
        if token == eos_token_id:
            break
    return out
''',
    },
    "left_pad_generate": {
        "lists padded first, decode row by row": '''
def left_pad(sequences, pad_id):
    width = max(map(len, sequences))
    ids = [[pad_id] * (width - len(s)) + list(s) for s in sequences]
    mask = [[0] * (width - len(s)) + [1] * len(s) for s in sequences]
    return torch.tensor(ids, dtype=torch.long), torch.tensor(mask, dtype=torch.long)


def generate_batch(model, tokenizer, conversations, max_new_tokens):
    rendered = [tokenizer.apply_chat_template(c, add_generation_prompt=True, return_dict=False) for c in conversations]
    ids, mask = left_pad([list(r) for r in rendered], tokenizer.pad_token_id)
    ids, mask = ids.to(model.device), mask.to(model.device)
    with torch.no_grad():
        out = model.generate(ids, attention_mask=mask, do_sample=False, max_new_tokens=max_new_tokens,
                             pad_token_id=tokenizer.pad_token_id)
    return [tokenizer.decode(row[ids.shape[1]:], skip_special_tokens=True) for row in out]
''',
        "F.pad per row, dict of tensors to generate": '''
import torch.nn.functional as F


def left_pad(sequences, pad_id):
    length = max(len(s) for s in sequences)
    rows = [F.pad(torch.tensor(s, dtype=torch.long), (length - len(s), 0), value=pad_id) for s in sequences]
    masks = [F.pad(torch.ones(len(s), dtype=torch.long), (length - len(s), 0), value=0) for s in sequences]
    return torch.stack(rows), torch.stack(masks)


def generate_batch(model, tokenizer, conversations, max_new_tokens):
    prompts = [tokenizer.apply_chat_template(c, add_generation_prompt=True)["input_ids"] for c in conversations]
    input_ids, attention_mask = left_pad(prompts, tokenizer.pad_token_id)
    batch = {"input_ids": input_ids.to(model.device), "attention_mask": attention_mask.to(model.device)}
    out = model.generate(**batch, do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id)
    return tokenizer.batch_decode(out[:, batch["input_ids"].shape[-1]:], skip_special_tokens=True)
''',
    },
    "memory": {
        "ids of parameters, if/elif dtype, hasattr head_dim": '''
def count_parameters(model):
    unique = {id(p): p for p in model.parameters()}.values()
    return {"total": sum(p.numel() for p in unique), "trainable": sum(p.numel() for p in unique if p.requires_grad)}


def weight_bytes(num_params, dtype):
    if dtype == "float32":
        size = 4
    elif dtype in ("float16", "bfloat16"):
        size = 2
    elif dtype == "int8":
        size = 1
    elif dtype == "int4":
        size = 0.5
    else:
        raise ValueError(f"unsupported dtype {dtype}")
    return num_params * size


def kv_cache_bytes(config, seq_len, batch_size, dtype):
    if hasattr(config, "head_dim") and config.head_dim:
        head_dim = config.head_dim
    else:
        head_dim = config.hidden_size // config.num_attention_heads
    elements = 2 * batch_size * seq_len * config.num_hidden_layers * config.num_key_value_heads * head_dim
    return weight_bytes(elements, dtype)
''',
        "named_parameters, a bytes table with a KeyError, head_dim is None": '''
BYTES = {"float32": 4.0, "float16": 2.0, "bfloat16": 2.0, "int8": 1.0, "int4": 0.5}


def count_parameters(model):
    total = trainable = 0
    for _, p in model.named_parameters():
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return {"total": total, "trainable": trainable}


def weight_bytes(num_params, dtype):
    try:
        return num_params * BYTES[dtype]
    except KeyError:
        raise ValueError(dtype) from None


def kv_cache_bytes(config, seq_len, batch_size, dtype):
    head_dim = getattr(config, "head_dim", None)
    if head_dim is None:
        head_dim = config.hidden_size // config.num_attention_heads
    keys = config.num_hidden_layers * batch_size * config.num_key_value_heads * seq_len * head_dim
    return 2 * weight_bytes(keys, dtype)
''',
    },
    "sampling": {
        "Hugging Face's ascending-sort rule, [:, 0] instead of squeeze": '''
def top_p_filter(logits, top_p):
    sorted_logits, sorted_idx = torch.sort(logits, descending=False, dim=-1)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove_sorted = cumulative <= (1 - top_p)
    remove_sorted[..., -1] = False
    remove = torch.zeros_like(remove_sorted).scatter(-1, sorted_idx, remove_sorted)
    return logits.masked_fill(remove, -float("inf"))


def sample_next_token(logits, temperature=1.0, top_p=1.0, generator=None):
    if temperature == 0:
        return logits.max(dim=-1).indices
    filtered = top_p_filter(logits / temperature, top_p)
    return torch.multinomial(torch.softmax(filtered, dim=-1), 1, generator=generator)[:, 0]
''',
        "keep mask from cumulative mass, torch.where": '''
def top_p_filter(logits, top_p):
    probs, order = torch.sort(torch.softmax(logits, dim=-1), dim=-1, descending=True)
    keep_sorted = (torch.cumsum(probs, dim=-1) - probs) < top_p
    keep_sorted[:, 0] = True
    keep = torch.empty_like(keep_sorted).scatter_(1, order, keep_sorted)
    return torch.where(keep, logits, torch.full_like(logits, float("-inf")))


def sample_next_token(logits, temperature=1.0, top_p=1.0, generator=None):
    if not temperature:
        return torch.argmax(logits, dim=1)
    probs = torch.softmax(top_p_filter(logits / temperature, top_p), dim=1)
    return torch.multinomial(probs, num_samples=1, generator=generator).view(-1)
''',
    },
}
