"""Plausible wrong answers for 09-qlora-nf4. Each must fail at least one test cell.

``CORRECT`` holds answers written differently from the solution: each must pass its exercise's tests.
"""

BITS = '''
def bits_per_parameter(fmt, block_size=64, double_quant=False):
    plain = {{"fp32": 32.0, "bf16": 16.0, "int8": 8.0}}
    if fmt in plain:
        return plain[fmt]
    if fmt != "nf4":
        {unknown}
    if double_quant:
        return {dq}
    return {single}
'''
OK = dict(unknown='raise ValueError(fmt)', dq="4 + 8 / block_size + 32 / (block_size * 256)",
          single="4 + 32 / block_size")

BOOK = '''
def nf4_code_book(offset=0.9677083):
    normal = torch.distributions.Normal(0.0, 1.0)
    {body}
'''
BOOK_OK_TAIL = ("values = torch.cat([negative, torch.zeros(1), positive]).sort().values\n"
                "    return values / values.max()")
POS = "positive = normal.icdf(torch.linspace({offset}, 0.5, {n})[:-1])\n    "
NEG = "negative = -normal.icdf(torch.linspace({offset}, 0.5, {n})[:-1])\n    "
OK_BOOK_HEAD = POS.format(offset="offset", n=9) + NEG.format(offset="offset", n=8)

QUANT = '''
def nf4_quantize(weight, code_book, block_size=64):
    blocks = {blocks}
    absmax = {absmax}
    scaled = blocks / absmax[:, None]
    codes = {codes}
    packed = {packed}
    return packed, absmax
'''
Q_OK = dict(blocks="weight.float().reshape(-1, block_size)", absmax="blocks.abs().amax(dim=1)",
            codes="(scaled.unsqueeze(-1) - code_book.float()).abs().argmin(dim=-1).reshape(-1).to(torch.uint8)",
            packed="(codes[0::2] << 4) | codes[1::2]")

DEQ = '''
def nf4_dequantize(packed, absmax, code_book, shape, block_size=64):
    packed = packed.reshape(-1)
    codes = {codes}
    values = {values}
    return values.reshape(shape)
'''
D_OK = dict(codes="torch.stack([packed >> 4, packed & 0x0F], dim=1).reshape(-1).long()",
            values="code_book.float()[codes].reshape(-1, block_size) * absmax.float()[:, None]")

SILENT = '''
def silent_adapters(model, batch):
    {before}
    model(**batch).loss.backward()
    silent = sorted(name for name, p in model.named_parameters()
                    if "{which}" in name and p.requires_grad and ({condition}))
    {after}
    return silent
'''
S_OK = dict(before="model.zero_grad(set_to_none=True)", which="lora_B",
            condition="p.grad is None or not p.grad.abs().sum() > 0", after="model.zero_grad(set_to_none=True)")

MUTANTS = {
    "bits_per_parameter": {
        "scales not counted": BITS.format(**{**OK, "single": "4.0", "dq": "4.0"}),
        "scales in fp16": BITS.format(**{**OK, "single": "4 + 16 / block_size"}),
        "double quant without the second-level constants": BITS.format(**{**OK, "dq": "4 + 8 / block_size"}),
        "bytes instead of bits": BITS.format(**{**OK, "single": "(4 + 32 / block_size) / 8",
                                                "dq": "(4 + 8 / block_size + 32 / (block_size * 256)) / 8"}),
        "double quant ignored": BITS.format(**{**OK, "dq": "4 + 32 / block_size"}),
        "unknown format returns 0": BITS.format(**{**OK, "unknown": "return 0.0"}),
        # only one setting of what the spec leaves open
        "double quant applied to every format": BITS.format(**OK).replace(
            "        return plain[fmt]\n", "        return plain[fmt] + (8 / block_size if double_quant else 0.0)\n"),
        "second-level constant per 256 weights, not per 256 scales": BITS.format(
            **{**OK, "dq": "4 + 8 / block_size + 32 / 256"}),
        "double-quant block size fixed at 64": BITS.format(**{**OK, "dq": "4 + 8 / 64 + 32 / (64 * 256)"}),
        "unknown format raises KeyError": BITS.format(**{**OK, "unknown": "raise KeyError(fmt)"}),
    },
    "nf4_code_book": {
        "symmetric: 8 and 8 quantiles": BOOK.format(
            body=POS.format(offset="offset", n=9) + "negative = -positive\n"
                 "    values = torch.cat([negative, positive]).sort().values\n    return values / values.max()"),
        "uniform int4 levels": BOOK.format(body="return torch.linspace(-1, 1, 16)"),
        "not normalised": BOOK.format(
            body=OK_BOOK_HEAD + "return torch.cat([negative, torch.zeros(1), positive]).sort().values"),
        "evenly spaced quantiles without the offset": BOOK.format(
            body=POS.format(offset=0.99, n=9) + NEG.format(offset=0.99, n=8) + BOOK_OK_TAIL),
        "7 positive, 8 negative": BOOK.format(
            body=POS.format(offset="offset", n=8) + NEG.format(offset="offset", n=9) + BOOK_OK_TAIL),
        # the argument, the dtype, the type
        "offset argument ignored": BOOK.format(
            body=POS.format(offset=0.9677083, n=9) + NEG.format(offset=0.9677083, n=8) + BOOK_OK_TAIL),
        "float64 code book": BOOK.format(
            body=OK_BOOK_HEAD.replace("0.5, 9)", "0.5, 9, dtype=torch.float64)").replace(
                "0.5, 8)", "0.5, 8, dtype=torch.float64)")
            + BOOK_OK_TAIL.replace("torch.zeros(1)", "torch.zeros(1, dtype=torch.float64)")).replace(
            "Normal(0.0, 1.0)", "Normal(torch.tensor(0.0, dtype=torch.float64), 1.0)"),
        "a NumPy array (statistics.NormalDist)": BOOK.format(
            body="import numpy as np\n    from statistics import NormalDist\n"
                 "    pos = [NormalDist().inv_cdf(float(p)) for p in np.linspace(offset, 0.5, 9)[:-1]]\n"
                 "    neg = [-NormalDist().inv_cdf(float(p)) for p in np.linspace(offset, 0.5, 8)[:-1]]\n"
                 "    values = np.sort(np.array(neg + [0.0] + pos, dtype=np.float32))\n"
                 "    return values / values.max()"),
    },
    "nf4_quantize": {
        "low nibble first": QUANT.format(**{**Q_OK, "packed": "(codes[1::2] << 4) | codes[0::2]"}),
        "one scale per tensor": QUANT.format(
            **{**Q_OK, "absmax": "blocks.abs().max().expand(blocks.shape[0]).clone()"}),
        "scale by max, not absmax": QUANT.format(**{**Q_OK, "absmax": "blocks.amax(dim=1)"}),
        "code rounded, not nearest in the code book": QUANT.format(
            **{**Q_OK, "codes": "((scaled + 1) * 7.5).round().clamp(0, 15).reshape(-1).to(torch.uint8)"}),
        "blocks along columns": QUANT.format(**{**Q_OK, "blocks": "weight.float().t().reshape(-1, block_size)"}),
        "codes not packed": QUANT.format(**{**Q_OK, "packed": "codes"}),
        # the argument, side effects, dtype, device
        "code book argument ignored (bitsandbytes' NF4 instead)": QUANT.format(
            **{**Q_OK, "codes": "(scaled.unsqueeze(-1) - bnbf.get_4bit_type('nf4', device='cpu')).abs()"
                                ".argmin(dim=-1).reshape(-1).to(torch.uint8)"}),
        "weight divided in place": QUANT.format(**{**Q_OK, "blocks": "weight.reshape(-1, block_size)"}).replace(
            "scaled = blocks / absmax[:, None]", "scaled = blocks.div_(absmax[:, None])"),
        "computed in the weight's dtype (bfloat16 absmax)": QUANT.format(
            **{**Q_OK, "blocks": "weight.reshape(-1, block_size)",
               "codes": "(scaled.unsqueeze(-1) - code_book.to(weight.dtype)).abs().argmin(dim=-1)"
                        ".reshape(-1).to(torch.uint8)"}),
        "nearest code found with NumPy on the CPU": "import numpy as np\n" + QUANT.format(
            **{**Q_OK, "codes": "torch.from_numpy(np.abs(scaled.cpu().numpy()[..., None] - code_book.cpu().numpy())"
                                ".argmin(-1).reshape(-1).astype(np.uint8))"}),
    },
    "nf4_dequantize": {
        "low nibble first": DEQ.format(
            **{**D_OK, "codes": "torch.stack([packed & 0x0F, packed >> 4], dim=1).reshape(-1).long()"}),
        "scale not applied": DEQ.format(**{**D_OK, "values": "code_book.float()[codes]"}),
        "codes used as values": DEQ.format(
            **{**D_OK, "values": "(codes.float() / 7.5 - 1).reshape(-1, block_size) * absmax.float()[:, None]"}),
        "one scale per tensor": DEQ.format(
            **{**D_OK, "values": "code_book.float()[codes].reshape(-1, block_size) * absmax.float().max()"}),
        "nibbles concatenated, not interleaved": DEQ.format(
            **{**D_OK, "codes": "torch.cat([packed >> 4, packed & 0x0F]).long()"}),
        # dtype, rows, device, block size
        "output in the code book's dtype": DEQ.format(
            **{**D_OK, "values": "code_book[codes].reshape(-1, block_size) * absmax[:, None]"}),
        "scales tiled, not repeated per block": DEQ.format(
            **{**D_OK, "values": "(code_book.float()[codes] * absmax.float().repeat(block_size))"
                                 ".reshape(-1, block_size)"}),
        "code book looked up through a Python list (CPU only)": DEQ.format(
            **{**D_OK, "values": "torch.tensor(code_book.tolist())[codes].reshape(-1, block_size)"
                                 " * absmax.float()[:, None]"}),
        "block size fixed at 64": DEQ.format(
            **{**D_OK, "values": "code_book.float()[codes].reshape(-1, 64) * absmax.float()[:, None]"}),
    },
    "silent_adapters": {
        "lora_A checked (zero at the start by design)": SILENT.format(**{**S_OK, "which": "lora_A"}),
        "stale gradients not cleared first": SILENT.format(**{**S_OK, "before": "pass"}),
        "gradients left behind": SILENT.format(**{**S_OK, "after": "pass"}),
        "only all-zero gradients count, None is missed": SILENT.format(
            **{**S_OK, "condition": "p.grad is not None and p.grad.abs().sum() == 0"}),
        "every trainable parameter, not only B": SILENT.format(**{**S_OK, "which": "lora_"}),
        # the point of the exercise, side effects, batches
        "only a missing gradient counts (all-zero gradients missed)": SILENT.format(
            **{**S_OK, "condition": "p.grad is None"}),
        "frozen adapters reported too": SILENT.format(**S_OK).replace("p.requires_grad and ", ""),
        "labels popped from the caller's batch": SILENT.format(**S_OK).replace(
            "model(**batch).loss.backward()",
            'labels = batch.pop("labels")\n    model(**batch, labels=labels).loss.backward()'),
        "gradients never cleared here": SILENT.format(**{**S_OK, "before": "pass", "after": "pass"}),
    },
}

CORRECT = {
    "bits_per_parameter": {
        "match statement, scales over the block": '''
def bits_per_parameter(fmt, block_size=64, double_quant=False):
    match fmt:
        case "fp32":
            return 32.0
        case "bf16":
            return 16.0
        case "int8":
            return 8.0
        case "nf4":
            scale_bits = 8 + 32 / 256 if double_quant else 32
            return 4 + scale_bits / block_size
    raise ValueError(f"no such format: {fmt}")
''',
        "bytes first, then bits": '''
def bits_per_parameter(fmt, block_size=64, double_quant=False):
    if fmt not in ("fp32", "bf16", "int8", "nf4"):
        raise ValueError(fmt)
    if fmt != "nf4":
        return {"fp32": 4, "bf16": 2, "int8": 1}[fmt] * 8.0
    overhead_bytes = (1 + 4 / 256) if double_quant else 4
    return 4 + overhead_bytes * 8 / block_size
''',
    },
    "nf4_code_book": {
        "erfinv instead of icdf": '''
def nf4_code_book(offset=0.9677083):
    def quantile(p):
        return torch.erfinv(2 * p - 1) * 2 ** 0.5
    positive = quantile(torch.linspace(offset, 0.5, 9)[:-1])
    negative = -quantile(torch.linspace(offset, 0.5, 8)[:-1])
    book = torch.sort(torch.cat([positive, negative, torch.tensor([0.0])])).values
    return (book / book[-1]).float()
''',
        "Python floats, one tensor at the end": '''
def nf4_code_book(offset=0.9677083):
    normal = torch.distributions.Normal(0.0, 1.0)
    pos = [float(normal.icdf(torch.tensor(p))) for p in torch.linspace(offset, 0.5, 9)[:-1].tolist()]
    neg = [-float(normal.icdf(torch.tensor(p))) for p in torch.linspace(offset, 0.5, 8)[:-1].tolist()]
    top = max(pos)
    return torch.tensor(sorted(v / top for v in pos + neg + [0.0]), dtype=torch.float32)
''',
    },
    "nf4_quantize": {
        "bucketize on the midpoints of the code book": '''
def nf4_quantize(weight, code_book, block_size=64):
    flat = weight.detach().to(torch.float32).flatten().view(-1, block_size)
    absmax = flat.abs().max(dim=1).values
    book = code_book.to(device=flat.device, dtype=torch.float32)
    midpoints = (book[1:] + book[:-1]) / 2
    codes = torch.bucketize(flat / absmax.unsqueeze(1), midpoints).flatten().to(torch.uint8)
    high, low = codes[::2], codes[1::2]
    return high * 16 + low, absmax
''',
        "torch.cdist to the code book": '''
def nf4_quantize(weight, code_book, block_size=64):
    blocks = weight.to(torch.float32).reshape(-1, block_size)
    absmax = torch.amax(torch.abs(blocks), dim=-1)
    normed = (blocks / absmax.unsqueeze(-1)).reshape(-1, 1)
    codes = torch.cdist(normed, code_book.float().reshape(-1, 1)).argmin(dim=1).to(torch.uint8)
    pairs = codes.reshape(-1, 2)
    return (pairs[:, 0] << 4) | pairs[:, 1], absmax
''',
    },
    "nf4_dequantize": {
        "divide and remainder, repeat_interleave": '''
def nf4_dequantize(packed, absmax, code_book, shape, block_size=64):
    flat = packed.flatten().to(torch.int64)
    codes = torch.empty(flat.numel() * 2, dtype=torch.int64, device=flat.device)
    codes[0::2], codes[1::2] = flat // 16, flat % 16
    scales = absmax.to(torch.float32).repeat_interleave(block_size)
    return (code_book.to(torch.float32)[codes] * scales).view(*shape)
''',
        "index_select and broadcasting over blocks": '''
def nf4_dequantize(packed, absmax, code_book, shape, block_size=64):
    p = packed.view(-1)
    codes = torch.stack((torch.bitwise_right_shift(p, 4), torch.bitwise_and(p, 15)), dim=-1).flatten().long()
    values = torch.index_select(code_book.float(), 0, codes).view(absmax.numel(), block_size)
    return (values * absmax.float().view(-1, 1)).reshape(tuple(shape))
''',
    },
    "silent_adapters": {
        "gradients zeroed (set_to_none=False), count_nonzero": '''
def silent_adapters(model, batch):
    model.zero_grad(set_to_none=False)
    model(**batch).loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad and ".lora_B." in n}
    silent = sorted(n for n, g in grads.items() if g is None or torch.count_nonzero(g) == 0)
    model.zero_grad(set_to_none=False)
    return silent
''',
        "gradients cleared parameter by parameter": '''
def silent_adapters(model, batch):
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    for _, p in params:
        p.grad = None
    loss = model(**batch).loss
    loss.backward()
    out = [n for n, p in params if "lora_B" in n and (p.grad is None or p.grad.abs().max() == 0)]
    for _, p in params:
        p.grad = None
    return sorted(out)
''',
    },
}
