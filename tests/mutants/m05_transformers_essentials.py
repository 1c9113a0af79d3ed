"""Plausible wrong answers for 05-transformers-essentials. Each must fail at least one test cell.

``MUTANTS[solution grade_id][description]`` is the whole replacement source of that cell.
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
    },
    "greedy_decode": {
        "argmax at the first position": greedy(pick="logits[0, 0].argmax()"),
        "never stops at EOS": greedy(stop_after="pass"),
        "drops the EOS token": greedy(stop_before=STOP, stop_after="pass"),
        "one token too few": greedy(steps="max_new_tokens - 1"),
        "returns the prompt too": greedy(ret="input_ids[0].tolist() + new"),
        "samples instead of argmax": greedy(pick="torch.multinomial(logits[0, -1].softmax(-1), 1)[0]"),
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
    },
    "sampling": {
        "drops the token that crosses top_p": sampling(drop="probs.cumsum(dim=-1) > top_p"),
        "ascending sort": sampling(descending="False"),
        "top-p on logits, not probabilities": sampling(drop="sorted_logits.cumsum(dim=-1) - sorted_logits >= top_p"),
        "top-p before temperature": sampling(probs="(top_p_filter(logits, top_p) / temperature).softmax(dim=-1)"),
        "multiplies by the temperature": sampling(probs="top_p_filter(logits * temperature, top_p).softmax(dim=-1)"),
        "greedy instead of sampling": sampling(draw="probs.argmax(dim=-1)"),
        "ignores the generator": sampling(draw="torch.multinomial(probs, num_samples=1).squeeze(-1)"),
    },
}
