"""Plausible wrong answers for 09-qlora-nf4. Each must fail at least one test cell."""

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
OK = dict(unknown='raise ValueError(fmt)', dq="4 + 8 / block_size + 32 / (block_size * 256)", single="4 + 32 / block_size")

BOOK = '''
def nf4_code_book(offset=0.9677083):
    normal = torch.distributions.Normal(0.0, 1.0)
    {body}
'''
BOOK_OK_TAIL = "values = torch.cat([negative, torch.zeros(1), positive]).sort().values\n    return values / values.max()"

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
        "bytes instead of bits": BITS.format(**{**OK, "single": "(4 + 32 / block_size) / 8", "dq": "(4 + 8 / block_size + 32 / (block_size * 256)) / 8"}),
        "double quant ignored": BITS.format(**{**OK, "dq": "4 + 32 / block_size"}),
        "unknown format returns 0": BITS.format(**{**OK, "unknown": "return 0.0"}),
    },
    "nf4_code_book": {
        "symmetric: 8 and 8 quantiles": BOOK.format(body="positive = normal.icdf(torch.linspace(offset, 0.5, 9)[:-1])\n"
                                                         "    negative = -positive\n    values = torch.cat([negative, positive]).sort().values\n    return values / values.max()"),
        "uniform int4 levels": BOOK.format(body="return torch.linspace(-1, 1, 16)"),
        "not normalised": BOOK.format(body="positive = normal.icdf(torch.linspace(offset, 0.5, 9)[:-1])\n"
                                           "    negative = -normal.icdf(torch.linspace(offset, 0.5, 8)[:-1])\n"
                                           "    return torch.cat([negative, torch.zeros(1), positive]).sort().values"),
        "evenly spaced quantiles without the offset": BOOK.format(
            body="positive = normal.icdf(torch.linspace(0.99, 0.5, 9)[:-1])\n"
                 "    negative = -normal.icdf(torch.linspace(0.99, 0.5, 8)[:-1])\n    " + BOOK_OK_TAIL),
        "7 positive, 8 negative": BOOK.format(body="positive = normal.icdf(torch.linspace(offset, 0.5, 8)[:-1])\n"
                                                   "    negative = -normal.icdf(torch.linspace(offset, 0.5, 9)[:-1])\n    " + BOOK_OK_TAIL),
    },
    "nf4_quantize": {
        "low nibble first": QUANT.format(**{**Q_OK, "packed": "(codes[1::2] << 4) | codes[0::2]"}),
        "one scale per tensor": QUANT.format(**{**Q_OK, "absmax": "blocks.abs().max().expand(blocks.shape[0]).clone()"}),
        "scale by max, not absmax": QUANT.format(**{**Q_OK, "absmax": "blocks.amax(dim=1)"}),
        "code rounded, not nearest in the code book": QUANT.format(
            **{**Q_OK, "codes": "((scaled + 1) * 7.5).round().clamp(0, 15).reshape(-1).to(torch.uint8)"}),
        "blocks along columns": QUANT.format(**{**Q_OK, "blocks": "weight.float().t().reshape(-1, block_size)"}),
        "codes not packed": QUANT.format(**{**Q_OK, "packed": "codes"}),
    },
    "nf4_dequantize": {
        "low nibble first": DEQ.format(**{**D_OK, "codes": "torch.stack([packed & 0x0F, packed >> 4], dim=1).reshape(-1).long()"}),
        "scale not applied": DEQ.format(**{**D_OK, "values": "code_book.float()[codes]"}),
        "codes used as values": DEQ.format(**{**D_OK, "values": "(codes.float() / 7.5 - 1).reshape(-1, block_size) * absmax.float()[:, None]"}),
        "one scale per tensor": DEQ.format(**{**D_OK, "values": "code_book.float()[codes].reshape(-1, block_size) * absmax.float().max()"}),
        "nibbles concatenated, not interleaved": DEQ.format(**{**D_OK, "codes": "torch.cat([packed >> 4, packed & 0x0F]).long()"}),
    },
    "silent_adapters": {
        "lora_A checked (zero at the start by design)": SILENT.format(**{**S_OK, "which": "lora_A"}),
        "stale gradients not cleared first": SILENT.format(**{**S_OK, "before": "pass"}),
        "gradients left behind": SILENT.format(**{**S_OK, "after": "pass"}),
        "only all-zero gradients count, None is missed": SILENT.format(**{**S_OK, "condition": "p.grad is not None and p.grad.abs().sum() == 0"}),
        "every trainable parameter, not only B": SILENT.format(**{**S_OK, "which": "lora_"}),
    },
}
