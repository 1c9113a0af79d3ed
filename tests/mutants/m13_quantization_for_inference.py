"""Plausible wrong answers for 13-quantization-for-inference. Each must fail at least one test cell.

``CORRECT`` holds right answers written differently: each must pass every test of its exercise.
"""

BLOCKS = '''
def block_bytes(fmt):
    values, bits, scale, minimum = LAYOUTS[fmt]
    return {block}


def bits_per_weight(fmt):
    return {bpw}


def tensor_bytes(shape, fmt):
    values = LAYOUTS[fmt][0]
    {unpack}
    if {check}:
        raise ValueError("rows do not split into blocks")
    return {size}
'''
B_OK = dict(block="values * bits // 8 + scale + minimum", bpw="8 * block_bytes(fmt) / LAYOUTS[fmt][0]",
            unpack="*rows, width = shape", check="width % values", size="math.prod(rows) * (width // values) * block_bytes(fmt)")


def blocks(**changes):
    return BLOCKS.format(**{**B_OK, **changes})


Q8 = '''
def quantize_q8_0(x):
    blocks = {blocks}
    d = {scale}
    inverse = torch.where(d == 0, torch.zeros_like(d), 1 / d)
    scaled = {scaled}
    q = {rounding}
    return {ret}


def dequantize_q8_0(d, q):
    values = {values}
    return {join}
'''
Q_OK = dict(blocks="x.float().reshape(*x.shape[:-1], x.shape[-1] // 32, 32)",
            scale="blocks.abs().amax(dim=-1, keepdim=True) / 127", scaled="blocks * inverse",
            rounding="torch.sign(scaled) * torch.floor(scaled.abs() + 0.5)",
            ret="d.squeeze(-1).to(torch.float16), q.to(torch.int8)",
            values="q.float() * d.float().unsqueeze(-1)", join="values.reshape(*q.shape[:-2], q.shape[-2] * 32)")


def q8(**changes):
    return Q8.format(**{**Q_OK, **changes})


PPL = '''
def sliding_window_nll(model, ids, window, stride):
    if not 1 <= stride < window:
        raise ValueError("need 1 <= stride < window")
    total, count, scored_to = 0.0, 0, 1
    with {context}:
        for start in range(0, len(ids), {step}):
            end = min(start + window, len(ids))
            logits = model(input_ids={window_ids}.unsqueeze(0)).logits[0]{upcast}
            logp = logits.log_softmax(dim=-1)
            targets = ids[scored_to:end]
            offset = {offset}
            total -= logp[scored_to - offset:end - offset].gather(1, targets.unsqueeze(1)).sum().item()
            count += len(targets){extra_count}
            scored_to = {scored_to}
            if end == len(ids):
                break
    return total, count


def perplexity(model, ids, window, stride):
    total, count = sliding_window_nll(model, ids, window, stride)
    return math.exp(total / count)
'''
P_OK = dict(context="torch.no_grad()", step="stride", window_ids="ids[start:end]", upcast=".float()",
            offset="start + 1", extra_count="", scored_to="end")


def ppl(**changes):
    return PPL.format(**{**P_OK, **changes})


HF_RECIPE = '''
def sliding_window_nll(model, ids, window, stride):
    if not 1 <= stride < window:
        raise ValueError("need 1 <= stride < window")
    nll_sum, n_tokens, prev_end = 0.0, 0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + window, len(ids))
        trg_len = end - prev_end
        input_ids = ids[begin:end].unsqueeze(0)
        target_ids = input_ids.clone()
        target_ids[:, :-trg_len] = -100
        with torch.no_grad():
            loss = model(input_ids=input_ids, labels=target_ids).loss
        n_valid = {n_valid}
        nll_sum += loss.item() * n_valid
        n_tokens += n_valid
        prev_end = end
        if end == len(ids):
            break
    return nll_sum, n_tokens


def perplexity(model, ids, window, stride):
    total, count = sliding_window_nll(model, ids, window, stride)
    return math.exp(total / count)
'''

CHOOSE = '''
def choose_format(rows, budget_bytes, max_increase, reference):
    {prelude}
    ok = [r for r in rows if {fits} and {quality}]
    if not ok:
        return None
    return {pick}
'''
C_OK = dict(prelude="pass", fits='r["bytes"] <= budget_bytes', quality='r["perplexity"] <= reference * (1 + max_increase)',
            pick='min(ok, key=lambda r: (r["bytes"], r["perplexity"]))["format"]')


def choose(**changes):
    return CHOOSE.format(**{**C_OK, **changes})


MUTANTS = {
    "block_formats": {
        "the scale is forgotten": blocks(block="values * bits // 8 + minimum"),
        "the minimum is forgotten": blocks(block="values * bits // 8 + scale"),
        "bits, not bytes, per block": blocks(block="values * bits + 8 * (scale + minimum)"),
        "bits per weight without the scale": blocks(bpw="float(LAYOUTS[fmt][1])"),
        "bits per weight per block, not per value": blocks(bpw="8 * block_bytes(fmt)"),
        "blocks counted across rows (no error)": blocks(check="False", size="math.prod(shape) // values * block_bytes(fmt)"),
        "a partial block padded instead of an error": blocks(check="False",
                                                              size="math.prod(rows) * -(-width // values) * block_bytes(fmt)"),
        "the first dimension taken as the row": blocks(unpack="width, *rows = shape"),
        "sizes as floats": blocks(size="math.prod(rows) * (width / values) * block_bytes(fmt)"),
    },
    "q8_0": {
        "torch.round: halves to even": q8(rounding="torch.round(scaled)"),
        "truncated instead of rounded": q8(rounding="torch.trunc(scaled)"),
        "scale from the maximum, not the largest magnitude": q8(scale="blocks.amax(dim=-1, keepdim=True) / 127"),
        "scale over 128 codes": q8(scale="blocks.abs().amax(dim=-1, keepdim=True) / 128"),
        "codes from the float16 scale": q8(scaled="blocks / torch.where(d == 0, torch.ones_like(d), d.half().float())"),
        "scale kept in float32": q8(ret="d.squeeze(-1), q.to(torch.int8)"),
        "one scale per row, not per block": q8(scale="blocks.abs().amax(dim=(-1, -2), keepdim=True) / 127"),
        "blocks strided across the row": q8(blocks="x.float().reshape(*x.shape[:-1], 32, x.shape[-1] // 32).transpose(-1, -2)"),
        "computed in the input's dtype": q8(blocks="x.reshape(*x.shape[:-1], x.shape[-1] // 32, 32)"),
        "through NumPy and gguf (not PyTorch, loses the device)": '''
def quantize_q8_0(x):
    raw = torch.from_numpy(quants.quantize(x.float().numpy(), GGMLQuantizationType.Q8_0))
    raw = raw.reshape(*x.shape[:-1], x.shape[-1] // 32, 34)
    return raw[..., :2].contiguous().view(torch.float16).squeeze(-1), raw[..., 2:].contiguous().view(torch.int8)


def dequantize_q8_0(d, q):
    return (q.float() * d.float().unsqueeze(-1)).reshape(*q.shape[:-2], q.shape[-2] * 32)
''',
        "dequantize leaves the blocks apart": q8(join="values"),
        "dequantize scales every block by the first scale": q8(values="q.float() * d.float()[..., :1].unsqueeze(-1)"),
    },
    "perplexity": {
        "gradients on": ppl(context="torch.enable_grad()"),
        "stride ignored: windows side by side": ppl(step="window"),
        "every window scores all its tokens again": ppl(scored_to="start + stride + 1"),
        "no shift: token t from the logits at t": ppl(offset="start"),
        "log-probabilities in the model's dtype": ppl(upcast=""),
        "the first token counted too": ppl(extra_count=" + (1 if start == 0 else 0)"),
        "the whole prefix as context, not a window": ppl(window_ids="ids[:end]", offset="1"),
        "no check of stride and window": ppl().replace('    if not 1 <= stride < window:\n        raise ValueError("need 1 <= stride < window")\n', ""),
        "the HF docs' recipe: one token short per window": HF_RECIPE.format(
            n_valid="(target_ids != -100).sum().item() - 1"),
        "mean of the windows' means": ppl().replace(
            "    total, count = sliding_window_nll(model, ids, window, stride)\n    return math.exp(total / count)",
            "    return math.exp(_window_mean(model, ids, window, stride))") + '''

def _window_mean(model, ids, window, stride):
    means, scored_to = [], 1
    with torch.no_grad():
        for start in range(0, len(ids), stride):
            end = min(start + window, len(ids))
            logp = model(input_ids=ids[start:end].unsqueeze(0)).logits[0].float().log_softmax(-1)
            targets = ids[scored_to:end]
            means.append(-logp[scored_to - start - 1:end - start - 1].gather(1, targets.unsqueeze(1)).mean().item())
            scored_to = end
            if end == len(ids):
                break
    return sum(means) / len(means)
''',
    },
    "choose_format": {
        "the best perplexity within the budget": choose(pick='min(ok, key=lambda r: r["perplexity"])["format"]'),
        "the budget limit excluded": choose(fits='r["bytes"] < budget_bytes'),
        "the quality limit excluded": choose(quality='r["perplexity"] < reference * (1 + max_increase)'),
        "quality relative to the best row, not the reference": choose(
            prelude='reference = min(r["perplexity"] for r in rows) if rows else reference'),
        "max_increase read as percent": choose(quality='r["perplexity"] <= reference * (1 + max_increase / 100)'),
        "the row, not its format": choose(pick='min(ok, key=lambda r: (r["bytes"], r["perplexity"]))'),
        "sorts the rows in place": choose(prelude='rows.sort(key=lambda r: (r["bytes"], r["perplexity"]))',
                                          pick='ok[0]["format"]'),
        "the first that qualifies, in the given order": choose(pick='ok[0]["format"]'),
        "ties go to the first row seen": choose(pick='min(ok, key=lambda r: r["bytes"])["format"]'),
    },
}

CORRECT = {
    "block_formats": {
        "bits first, then bytes; a loop over rows": '''
def block_bytes(fmt):
    values, bits, scale, minimum = LAYOUTS[fmt]
    return int((values * bits + 8 * (scale + minimum)) / 8)


def bits_per_weight(fmt):
    values, bits, scale, minimum = LAYOUTS[fmt]
    return bits + 8 * (scale + minimum) / values


def tensor_bytes(shape, fmt):
    values = LAYOUTS[fmt][0]
    blocks_per_row, rest = divmod(shape[-1], values)
    if rest:
        raise ValueError(f"{shape[-1]} is not a multiple of {values}")
    n_rows = 1
    for size in shape[:-1]:
        n_rows *= size
    return n_rows * blocks_per_row * block_bytes(fmt)
''',
    },
    "q8_0": {
        "divides by d, rounds with trunc(x + 0.5 sign)": '''
def quantize_q8_0(x):
    rows = x.to(torch.float32).unflatten(-1, (-1, 32))
    d = rows.abs().max(dim=-1, keepdim=True).values / 127.0
    scaled = torch.where(d > 0, rows / torch.where(d > 0, d, torch.ones_like(d)), torch.zeros_like(rows))
    q = torch.trunc(scaled + 0.5 * torch.sign(scaled))
    return d[..., 0].half(), q.to(torch.int8)


def dequantize_q8_0(d, q):
    return (q.to(torch.float32) * d.to(torch.float32)[..., None]).flatten(-2)
''',
        "flattened blocks, nan_to_num for empty blocks": '''
def quantize_q8_0(x):
    flat = x.float().reshape(-1, 32)
    d = flat.abs().amax(dim=1) / 127
    scaled = torch.nan_to_num(flat * (1 / d)[:, None], nan=0.0)
    q = scaled.sign() * (scaled.abs() + 0.5).floor()
    return d.to(torch.float16).reshape(*x.shape[:-1], -1), q.to(torch.int8).reshape(*x.shape[:-1], -1, 32)


def dequantize_q8_0(d, q):
    out = q.float() * d.float()[..., None]
    return out.reshape(*out.shape[:-2], -1)
''',
    },
    "perplexity": {
        "the labels route with the right token counts": HF_RECIPE.format(
            n_valid="(target_ids[:, 1:] != -100).sum().item()").replace(
            "nll_sum += loss.item() * n_valid", "nll_sum += float(loss) * n_valid"),
        "one token at a time, cross_entropy with a sum": '''
def sliding_window_nll(model, ids, window, stride):
    if stride < 1 or stride >= window:
        raise ValueError("stride must be in [1, window)")
    was = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        total, count, done = 0.0, 0, 1
        start = 0
        while True:
            end = min(start + window, len(ids))
            logits = model(ids[start:end][None]).logits[0].to(torch.float32)
            first = max(done, start + 1)
            total += torch.nn.functional.cross_entropy(logits[first - start - 1:end - start - 1], ids[first:end],
                                                       reduction="sum").item()
            count += end - first
            done = end
            if end >= len(ids):
                return total, count
            start += stride
    finally:
        torch.set_grad_enabled(was)


def perplexity(model, ids, window, stride):
    total, count = sliding_window_nll(model, ids, window, stride)
    return float(torch.tensor(total / count).exp())
''',
    },
    "choose_format": {
        "sorted copy, first that qualifies": '''
def choose_format(rows, budget_bytes, max_increase, reference):
    limit = reference * (1 + max_increase)
    for row in sorted(rows, key=lambda r: (r["bytes"], r["perplexity"])):
        if row["bytes"] <= budget_bytes and row["perplexity"] <= limit:
            return row["format"]
    return None
''',
        "a running best": '''
def choose_format(rows, budget_bytes, max_increase, reference):
    best = None
    for row in rows:
        if row["bytes"] > budget_bytes or row["perplexity"] > reference * (1 + max_increase):
            continue
        if best is None or (row["bytes"], row["perplexity"]) < (best["bytes"], best["perplexity"]):
            best = row
    return best and best["format"]
''',
    },
}
