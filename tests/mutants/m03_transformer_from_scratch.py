"""Plausible wrong answers for 03-transformer-from-scratch. Each must fail at least one test cell.

``MUTANTS[solution grade_id][description]`` is the whole replacement source of that cell.
"""

TOKENIZER = '''
class CharTokenizer:
    unk_id = 0
    unk_char = "\\ufffd"

    def __init__(self, text):
        self.chars = {chars}
        self.stoi = {{ch: i + {offset} for i, ch in enumerate(self.chars)}}
        self.itos = {{i + {offset}: ch for i, ch in enumerate(self.chars)}}
        self.vocab_size = {vocab_size}

    def encode(self, s):
        return {encode}

    def decode(self, ids):
        return {decode}
'''


def tokenizer(chars="sorted(set(text))", offset="1", vocab_size="len(self.chars) + 1",
              encode="[self.stoi.get(ch, self.unk_id) for ch in s]",
              decode='"".join(self.itos.get(int(i), self.unk_char) for i in ids)'):
    return TOKENIZER.format(chars=chars, offset=offset, vocab_size=vocab_size, encode=encode, decode=decode)


ATTENTION = '''
def causal_attention(q, k, v):
    T, d = q.shape[-2], q.shape[-1]
    scores = {scores}
    future = {future}
    {mask}
    weights = {weights}
    {after}
    return weights @ v, weights
'''


def attention(scores="q @ k.transpose(-2, -1) / math.sqrt(d)",
              future="torch.ones(T, T, dtype=torch.bool, device=q.device).triu(diagonal=1)",
              mask='scores = scores.masked_fill(future, float("-inf"))',
              weights="torch.softmax(scores, dim=-1)", after="pass"):
    return ATTENTION.format(scores=scores, future=future, mask=mask, weights=weights, after=after)


MHA = '''
class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.d_model, self.n_heads = d_model, n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, return_weights=False):
        B, T, C = x.shape
        hs = C // self.n_heads
        {split}
        q, k, v = {heads}
        y, weights = {attend}
        y = {merge}
        return (y, weights) if return_weights else y
'''


def mha(split="q, k, v = self.qkv(x).split(self.d_model, dim=-1)",
        heads="(t.view(B, T, self.n_heads, hs).transpose(1, 2) for t in (q, k, v))",
        attend="causal_attention(q, k, v)",
        merge="self.proj(y.transpose(1, 2).reshape(B, T, C))"):
    return MHA.format(split=split, heads=heads, attend=attend, merge=merge)


BLOCK = '''
class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), {act}, nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        {body}
        return x
'''
PRE_NORM = "x = x + self.attn(self.ln1(x))\n        x = x + self.mlp(self.ln2(x))"


def block(act="nn.GELU()", body=PRE_NORM):
    return BLOCK.format(act=act, body=body)


LOSS = '''
def lm_loss(logits, tokens):
    V = logits.shape[-1]
    return {body}
'''

SAMPLE = '''
def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    logits = {scale}
    if top_k is not None and top_k < logits.shape[-1]:
        kth = {kth}
        logits = logits.masked_fill(logits < kth, {fill})
    probs = {probs}
    return {draw}
'''


def sample(scale="logits / temperature", kth="torch.topk(logits, top_k, dim=-1).values[:, -1:]",
           fill='float("-inf")', probs="torch.softmax(logits, dim=-1)",
           draw="torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)"):
    return SAMPLE.format(scale=scale, kth=kth, fill=fill, probs=probs, draw=draw)


MUTANTS = {
    "CharTokenizer": {
        "vocabulary in order of appearance": tokenizer(chars="list(dict.fromkeys(text))"),
        "ids start at 0, colliding with the unknown id": tokenizer(offset="0", vocab_size="len(self.chars)"),
        "vocab_size forgets the unknown id": tokenizer(vocab_size="len(self.chars)"),
        "unknown characters raise": tokenizer(encode="[self.stoi[ch] for ch in s]"),
        "unknown characters dropped": tokenizer(encode="[self.stoi[ch] for ch in s if ch in self.stoi]"),
        "decode fails on tensors": tokenizer(decode='"".join(self.itos.get(i, self.unk_char) for i in ids)'),
        "id 0 decodes to nothing": tokenizer(decode='"".join(self.itos.get(int(i), "") for i in ids)'),
        "encode returns a tensor": tokenizer(encode="torch.tensor([self.stoi.get(ch, 0) for ch in s])"),
        "a fixed printable alphabet": tokenizer(chars="sorted(set(__import__('string').printable))"),
        "chars kept as an unsorted set": tokenizer(chars="set(text)").replace(
            "enumerate(self.chars)", "enumerate(sorted(self.chars))"),
        "vocab_size as a method": tokenizer().replace(
            "        self.vocab_size = len(self.chars) + 1\n", "").replace(
            "    def encode(self, s):",
            "    def vocab_size(self):\n        return len(self.chars) + 1\n\n    def encode(self, s):"),
        "encode gives numpy ints": tokenizer(
            encode="list(__import__('numpy').array([self.stoi.get(ch, 0) for ch in s]))"),
        "unknown id decodes to '?'": tokenizer(decode='"".join(self.itos.get(int(i), "?") for i in ids)'),
    },
    "causal_attention": {
        "no 1/sqrt(d) scaling": attention(scores="q @ k.transpose(-2, -1)"),
        "scaled by 1/d": attention(scores="q @ k.transpose(-2, -1) / d"),
        "mask hides the diagonal too": attention(
            future="torch.ones(T, T, dtype=torch.bool, device=q.device).triu(diagonal=0)"),
        "softmax over the query dimension": attention(weights="torch.softmax(scores, dim=-2)"),
        "mask applied after the softmax": attention(
            mask="pass", weights="torch.softmax(scores, dim=-1).masked_fill(future, 0.0)"),
        "no mask": attention(mask="pass"),
        "masks the past instead of the future": attention(
            future="torch.ones(T, T, dtype=torch.bool, device=q.device).tril(diagonal=-1)"),
        "masked with 0 instead of -inf": attention(mask="scores = scores.masked_fill(future, 0.0)"),
        "keys times queries (transposed scores)": attention(scores="k @ q.transpose(-2, -1) / math.sqrt(d)"),
        "calls the library": attention(after="return F.scaled_dot_product_attention(q, k, v, is_causal=True), weights"),
        "mask made on the CPU": attention(future="torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)"),
        "masked with -1e4": attention(mask="scores = scores.masked_fill(future, -1e4)"),
        "computes in float32": attention(scores="q.float() @ k.float().transpose(-2, -1) / math.sqrt(d)"),
        "scales the caller's q in place": attention(scores="(q.div_(math.sqrt(d))) @ k.transpose(-2, -1)"),
        "tril mask made with torch.tril on the CPU": attention(
            future="torch.tril(torch.ones(T, T)) == 0"),
    },
    "CausalSelfAttention": {
        "heads split without the transpose": mha(heads="(t.reshape(B, self.n_heads, T, hs) for t in (q, k, v))"),
        "heads merged without the transpose": mha(merge="self.proj(y.reshape(B, T, C))"),
        "no output projection": mha(merge="y.transpose(1, 2).reshape(B, T, C)"),
        "q and k swapped": mha(split="k, q, v = self.qkv(x).split(self.d_model, dim=-1)"),
        "one head whatever n_heads": mha(heads="(t.unsqueeze(1) for t in (q, k, v))"),
        "no causal mask": mha(
            attend="(lambda w: (w @ v, w))(torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(hs), dim=-1))"),
        "scaled by the model width instead of the head size": mha(
            attend="(lambda w: (w @ v, w))(torch.softmax((q @ k.transpose(-2, -1) / math.sqrt(C)).masked_fill("
                   "torch.ones(T, T, dtype=torch.bool).triu(1), float('-inf')), dim=-1))"),
        "attention run without gradients": "def _no_grad_attention(q, k, v):\n    with torch.no_grad():\n"
                                           "        return causal_attention(q, k, v)\n"
                                           + mha(attend="_no_grad_attention(q, k, v)"),
        "squeezes the merged heads": mha(merge="self.proj(y.transpose(1, 2).reshape(B, T, C).squeeze())"),
        "computes in float32": mha(split="q, k, v = self.qkv(x.float()).float().split(self.d_model, dim=-1)"),
        "weights detached": mha(attend="(lambda o: (o[0].detach(), o[1]))(causal_attention(q, k, v))"),
    },
    "Block": {
        "post-norm": block(body="x = self.ln1(x + self.attn(x))\n        x = self.ln2(x + self.mlp(x))"),
        "no residual around attention": block(body="x = self.attn(self.ln1(x))\n        x = x + self.mlp(self.ln2(x))"),
        "no residual around the MLP": block(body="x = x + self.attn(self.ln1(x))\n        x = self.mlp(self.ln2(x))"),
        "ReLU instead of GELU": block(act="nn.ReLU()"),
        "one LayerNorm used twice": block(body="x = x + self.attn(self.ln1(x))\n        x = x + self.mlp(self.ln1(x))"),
        "attention and MLP in parallel": block(body="x = x + self.attn(self.ln1(x)) + self.mlp(self.ln2(x))"),
        "no LayerNorm": block(body="x = x + self.attn(x)\n        x = x + self.mlp(x)"),
        "adds into the caller's x": block(body="x += self.attn(self.ln1(x))\n        x += self.mlp(self.ln2(x))"),
        "residual from the normalised x": block(
            body="h = self.ln1(x)\n        x = h + self.attn(h)\n        x = x + self.mlp(self.ln2(x))"),
        "dropout on the residual branches": block(
            body="x = x + F.dropout(self.attn(self.ln1(x)), 0.1, self.training)\n"
                 "        x = x + F.dropout(self.mlp(self.ln2(x)), 0.1, self.training)"),
    },
    "lm_loss": {
        "targets not shifted": LOSS.format(body="F.cross_entropy(logits.reshape(-1, V), tokens.reshape(-1))"),
        "shifted the wrong way": LOSS.format(
            body="F.cross_entropy(logits[:, 1:].reshape(-1, V), tokens[:, :-1].reshape(-1))"),
        "sum instead of mean": LOSS.format(
            body="F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1), reduction='sum')"),
        "summed over time, averaged over the batch": LOSS.format(
            body="F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1), reduction='sum') "
                 "/ len(tokens)"),
        "wraps around: the last position predicts the first token": LOSS.format(
            body="F.cross_entropy(logits.reshape(-1, V), tokens.roll(-1, dims=1).reshape(-1))"),
        "computes in float32": LOSS.format(
            body="F.cross_entropy(logits[:, :-1].float().reshape(-1, V), tokens[:, 1:].reshape(-1))"),
        "token 0 treated as padding": LOSS.format(
            body="F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1), ignore_index=0)"),
        "only the first sequence": LOSS.format(body="F.cross_entropy(logits[0, :-1], tokens[0, 1:])"),
        "detached (a new tensor from .item())": LOSS.format(
            body="torch.tensor(F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1)).item(), "
                 "requires_grad=True)"),
    },
    "sample_next": {
        "multiplies by the temperature": sample(scale="logits * temperature"),
        "temperature applied after the softmax": sample(scale="logits",
                                                        probs="torch.softmax(logits, dim=-1) / temperature"),
        "top_k ignored": sample(kth="logits.min(dim=-1, keepdim=True).values"),
        "keeps k + 1 tokens": sample(kth="torch.topk(logits, min(top_k + 1, logits.shape[-1]), dim=-1).values[:, -1:]"),
        "keeps k - 1 tokens": sample(kth="torch.topk(logits, top_k, dim=-1).values[:, -2:-1] if top_k > 1 else "
                                         "logits.max(dim=-1, keepdim=True).values"),
        "filtered logits set to 0 instead of -inf": sample(fill="0.0"),
        "always greedy": sample(draw="probs.argmax(dim=-1)"),
        "one top k for the whole batch": sample(kth="torch.topk(logits.flatten(), top_k).values[-1]"),
        "returns a (B, 1) tensor": sample(draw="torch.multinomial(probs, num_samples=1, generator=generator)"),
        "ignores the generator": sample(draw="torch.multinomial(probs, num_samples=1).squeeze(-1)"),
        "squeeze() drops a batch of one": sample(
            draw="torch.multinomial(probs, num_samples=1, generator=generator).squeeze()"),
        "divides the caller's logits in place": sample(scale="logits.div_(temperature)"),
        "torch.distributions.Categorical": sample(draw="torch.distributions.Categorical(probs=probs).sample()"),
    },
}


# Correct answers written differently from the solution: every test must pass them.
CORRECT = {
    "CharTokenizer": {
        "chars kept as a string": tokenizer(chars='"".join(sorted(set(text)))'),
        "str.find lookups, ids via tolist()": """
class CharTokenizer:
    unk_id = 0
    unk_char = "\\ufffd"

    def __init__(self, text):
        self.chars = "".join(sorted(set(text)))
        self.vocab_size = len(self.chars) + 1

    def encode(self, s):
        return [self.chars.find(ch) + 1 for ch in s]

    def decode(self, ids):
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else ids
        return "".join(self.chars[i - 1] if i > 0 else self.unk_char for i in ids)
""",
        "vocab_size as a property": tokenizer().replace("        self.vocab_size = len(self.chars) + 1\n", "").replace(
            "    def encode(self, s):",
            "    @property\n    def vocab_size(self):\n        return len(self.chars) + 1\n\n"
                                      "    def encode(self, s):"),
    },
    "causal_attention": {
        "tril mask on q's device and the dtype's lowest value": """
def causal_attention(q, k, v):
    T = q.size(-2)
    scores = torch.matmul(q, k.transpose(-1, -2)) * q.size(-1) ** -0.5
    keep = torch.tril(torch.ones(T, T, device=q.device, dtype=torch.bool))
    weights = scores.masked_fill(~keep, torch.finfo(scores.dtype).min).softmax(dim=-1)
    return weights @ v, weights
""",
        "einsum and an additive -inf mask": """
def causal_attention(q, k, v):
    T, d = q.shape[-2:]
    scores = torch.einsum("bhid,bhjd->bhij", q, k) / math.sqrt(d)
    mask = torch.full((T, T), float("-inf"), device=q.device, dtype=q.dtype).triu(1)
    weights = F.softmax(scores + mask, dim=-1)
    return torch.einsum("bhij,bhjd->bhid", weights, v), weights
""",
    },
    "CausalSelfAttention": {
        "chunk and unflatten": """
class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x, return_weights=False):
        heads = [t.unflatten(-1, (self.n_heads, -1)).transpose(1, 2) for t in self.qkv(x).chunk(3, dim=-1)]
        y, w = causal_attention(*heads)
        y = self.proj(y.transpose(1, 2).flatten(2))
        return (y, w) if return_weights else y
""",
        "permute and contiguous().view": mha(
            heads="(t.view(B, T, self.n_heads, hs).permute(0, 2, 1, 3) for t in (q, k, v))",
            merge="self.proj(y.permute(0, 2, 1, 3).contiguous().view(B, T, C))"),
    },
    "Block": {
        "the two sub-layers written as helpers": """
class Block(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(approximate="none"),
                                 nn.Linear(4 * d_model, d_model))

    def _attend(self, x):
        return self.attn(self.ln1(x))

    def forward(self, x):
        h = x + self._attend(x)
        return h + self.mlp(self.ln2(h))
""",
        "torch.add and a new name": block(
            body="h = torch.add(x, self.attn(self.ln1(x)))\n        x = h + self.mlp(self.ln2(h))"),
    },
    "lm_loss": {
        "the (N, C, T) form of cross_entropy": LOSS.format(
            body="F.cross_entropy(logits[:, :-1].transpose(1, 2), tokens[:, 1:])"),
        "log_softmax and gather": LOSS.format(
            body="-logits[:, :-1].log_softmax(-1).gather(-1, tokens[:, 1:, None]).mean()"),
    },
    "sample_next": {
        "sort-based threshold and torch.where": sample(
            kth="logits.sort(dim=-1, descending=True).values[:, top_k - 1 : top_k]").replace(
            "logits = logits.masked_fill(logits < kth, float(\"-inf\"))",
            "logits = torch.where(logits >= kth, logits, torch.full_like(logits, float(\"-inf\")))"),
        "inverse CDF with the generator": """
def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    z = logits / temperature
    if top_k is not None and top_k < z.shape[-1]:
        z = z.masked_fill(z < z.topk(top_k, dim=-1).values[..., -1:], float("-inf"))
    cdf = z.softmax(dim=-1).double().cumsum(dim=-1)
    u = torch.rand(z.shape[0], 1, generator=generator, dtype=torch.float64, device=z.device) * cdf[:, -1:]
    return (cdf < u).sum(dim=-1).clamp_max(z.shape[-1] - 1)
""",
    },
}
