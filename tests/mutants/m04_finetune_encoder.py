"""Plausible wrong answers for 04-finetune-encoder. Each must fail at least one test cell."""

PAD = '''
def pad_and_mask(sequences, pad_id, max_length):
    trimmed = [{trim} for seq in sequences]
    length = {length}
    input_ids = torch.full((len(trimmed), length), pad_id, dtype=torch.long)
    attention_mask = torch.{mask_init}((len(trimmed), length), dtype=torch.long)
    for i, seq in enumerate(trimmed):
        {fill}
    return input_ids, attention_mask
'''
RIGHT = ("input_ids[i, :len(seq)] = torch.tensor(seq, dtype=torch.long)\n"
         "        attention_mask[i, :len(seq)] = {mask_value}")
LEFT = ("input_ids[i, length - len(seq):] = torch.tensor(seq, dtype=torch.long)\n"
        "        attention_mask[i, length - len(seq):] = 1")


RIGHT_FILL = RIGHT.format(mask_value="1")


def pad(trim="seq if len(seq) <= max_length else seq[:max_length - 1] + seq[-1:]",
        length="max(len(seq) for seq in trimmed)", mask_init="zeros", fill=RIGHT_FILL):
    return PAD.format(trim=trim, length=length, mask_init=mask_init, fill=fill)


POOL = '''
def mean_pool(last_hidden_state, attention_mask):
    {body}
'''

CLF = '''
class TicketClassifier(nn.Module):
    def __init__(self, encoder, num_labels, dropout=0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids, attention_mask, labels=None):
        states = self.encoder({encoder_args}).last_hidden_state
        pooled = {pooled}
        logits = self.head({dropped})
        out = {{"logits": logits}}
        if labels is not None:
            out["loss"] = {loss}
        return out
'''


def clf(encoder_args="input_ids=input_ids, attention_mask=attention_mask", pooled="mean_pool(states, attention_mask)",
        dropped="self.dropout(pooled)", loss="F.cross_entropy(logits, labels)"):
    return CLF.format(encoder_args=encoder_args, pooled=pooled, dropped=dropped, loss=loss)


METRICS = '''
def compute_metrics(eval_pred):
    logits, labels = eval_pred
    preds = np.asarray(logits).argmax(axis={axis})
    labels = np.asarray(labels)
    f1s = []
    for c in {classes}:
        tp = np.sum((preds == c) & (labels == c))
        fp = np.sum((preds == c) & (labels != c))
        fn = np.sum((preds != c) & (labels == c))
        f1s.append({f1})
    return {{"accuracy": float((preds == labels).mean()), "macro_f1": float({average})}}
'''


def metrics(axis="-1", classes="range(np.asarray(logits).shape[-1])",
            f1="0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)",
            average="np.mean(f1s)"):
    return METRICS.format(axis=axis, classes=classes, f1=f1, average=average)


EMBED = '''
def embed(encoder, tokenizer, texts, batch_size=32, max_length=128):
    {mode}
    device = next(encoder.parameters()).device
    chunks = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt").to(device)
            states = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            pooled = {pooled}
            chunks.append({normalise}.cpu())
    return torch.cat({order})
'''


def embed(mode="encoder.eval()", pooled="mean_pool(states, batch['attention_mask'])",
          normalise="F.normalize(pooled, dim=-1)", order="chunks"):
    return EMBED.format(mode=mode, pooled=pooled, normalise=normalise, order=order)


MUTANTS = {
    "pad_and_mask": {
        "pads to max_length": pad(length="max_length"),
        "truncation drops [SEP]": pad(trim="seq[:max_length]"),
        "left padding": pad(fill=LEFT),
        "inverted mask": pad(mask_init="ones", fill=RIGHT.format(mask_value="0")),
        "pads with 0 whatever pad_id": pad().replace("length), pad_id, dtype", "length), 0, dtype"),
        "extends the caller's lists in place": """
def pad_and_mask(sequences, pad_id, max_length):
    length = min(max_length, max(len(s) for s in sequences))
    masks = []
    for seq in sequences:
        if len(seq) > max_length:
            del seq[max_length - 1:-1]
        masks.append([1] * len(seq) + [0] * (length - len(seq)))
        seq.extend([pad_id] * (length - len(seq)))
    return torch.tensor(sequences), torch.tensor(masks)
""",
        "boolean mask": pad(fill=RIGHT.format(mask_value="True")).replace(
            "attention_mask = torch.zeros((len(trimmed), length), dtype=torch.long)",
            "attention_mask = torch.zeros((len(trimmed), length), dtype=torch.bool)"),
        "int32 ids": pad().replace("length), pad_id, dtype=torch.long)", "length), pad_id, dtype=torch.int32)"),
    },
    "mean_pool": {
        "plain mean over padding too": POOL.format(body="return last_hidden_state.mean(dim=1)"),
        "sum, not mean": POOL.format(body="return (last_hidden_state * attention_mask.unsqueeze(-1)).sum(1)"),
        "the [CLS] vector": POOL.format(body="return last_hidden_state[:, 0]"),
        "divides by the padded length": POOL.format(
            body="return (last_hidden_state * attention_mask.unsqueeze(-1)).sum(1) / attention_mask.shape[1]"),
        "mask cast to float32": POOL.format(
            body="m = attention_mask.unsqueeze(-1).float()\n"
                 "    return (last_hidden_state * m).sum(1) / m.sum(1).clamp_min(1e-9)"),
        "assumes right padding (the first n tokens)": POOL.format(
            body="n = attention_mask.sum(1).tolist()\n"
                 "    return torch.stack([last_hidden_state[i, :k].mean(0) for i, k in enumerate(n)])"),
        "multiplies the caller's states in place": POOL.format(
            body="last_hidden_state *= attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)\n"
                 "    return last_hidden_state.sum(1) / "
                 "attention_mask.sum(1, keepdim=True).to(last_hidden_state.dtype)"),
        "squeezes the result": POOL.format(
            body="m = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)\n"
                 "    return ((last_hidden_state * m).sum(1) / m.sum(1)).squeeze()"),
        "result filled row by row on the CPU": POOL.format(
            body="out = torch.zeros(last_hidden_state.shape[0], last_hidden_state.shape[2])\n"
                 "    for i in range(len(out)):\n"
                 "        out[i] = last_hidden_state[i][attention_mask[i].bool()].mean(0)\n    return out"),
    },
    "TicketClassifier": {
        "no attention mask to the encoder": clf(encoder_args="input_ids=input_ids"),
        "[CLS] pooling": clf(pooled="states[:, 0]"),
        "no dropout": clf(dropped="pooled"),
        "loss summed": clf(loss="F.cross_entropy(logits, labels, reduction='sum')"),
        "hidden size hard-coded to 384": clf().replace("nn.Linear(encoder.config.hidden_size, num_labels)",
                                                       "nn.Linear(384, num_labels)"),
        "dropout rate ignored": clf().replace("nn.Dropout(dropout)", "nn.Dropout(0.1)"),
        "encoder output detached": clf(
            encoder_args="input_ids=input_ids, attention_mask=attention_mask).last_hidden_state.detach(").replace(
            ".last_hidden_state.detach().last_hidden_state", ".last_hidden_state.detach()"),
        "dropout after the head": clf(dropped="pooled").replace("logits = self.head(pooled)",
                                                                 "logits = self.dropout(self.head(pooled))"),
        "squeezes the logits": clf(dropped="self.dropout(pooled).squeeze()"),
    },
    "compute_metrics": {
        "micro F1 (= accuracy)": metrics(average="(preds == labels).mean()"),
        "argmax over the batch": metrics(axis="0"),
        "F1 over the labels present only": metrics(classes="np.unique(labels)"),
        "weighted F1": metrics(average="np.average(f1s, weights=np.bincount(labels, minlength=len(f1s)))"),
        "F1 of the mean precision and the mean recall": """
def compute_metrics(eval_pred):
    logits, labels = eval_pred
    preds = np.asarray(logits).argmax(axis=-1)
    labels = np.asarray(labels)
    ps, rs = [], []
    for c in range(np.asarray(logits).shape[-1]):
        tp = np.sum((preds == c) & (labels == c))
        ps.append(tp / max(1, np.sum(preds == c)))
        rs.append(tp / max(1, np.sum(labels == c)))
    p, r = np.mean(ps), np.mean(rs)
    return {"accuracy": float((preds == labels).mean()), "macro_f1": float(2 * p * r / (p + r) if p + r else 0.0)}
""",
        "classes seen in labels or predictions only": metrics(classes="np.union1d(labels, preds)"),
        "undefined F1 skipped (nanmean)": metrics(f1="np.nan if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)",
                                                 average="np.nanmean(f1s)"),
        "classes up to the largest label": metrics(classes="range(int(labels.max()) + 1)"),
    },
    "embed": {
        "not normalised": embed(normalise="pooled"),
        "dropout left on": embed(mode="pass"),
        "[CLS] vectors": embed(pooled="states[:, 0]"),
        "batches in the wrong order": embed(order="chunks[::-1]"),
        "one text at a time": embed().replace("range(0, len(texts), batch_size)", "range(0, len(texts))").replace(
            "texts[start:start + batch_size]", "texts[start:start + 1]"),
        "everything in one batch": embed().replace("range(0, len(texts), batch_size)", "range(0, 1)").replace(
            "texts[start:start + batch_size]", "texts"),
        "max_length ignored": embed().replace("max_length=max_length, ", ""),
        "switches gradients off for good": embed(mode="encoder.eval(); torch.set_grad_enabled(False)"),
        "batch left on the CPU": embed().replace(', return_tensors="pt").to(device)', ', return_tensors="pt")'),
        "width hard-coded to 384": """
def embed(encoder, tokenizer, texts, batch_size=32, max_length=128):
    encoder.eval()
    out = torch.zeros(len(texts), 384)
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt").to(next(encoder.parameters()).device)
            states = encoder(**batch).last_hidden_state
            out[start:start + batch_size] = F.normalize(mean_pool(states, batch["attention_mask"]), dim=-1)
    return out
""",
    },
}


# Correct answers written differently from the solution: every test must pass them.
CORRECT = {
    "pad_and_mask": {
        "lists first, one torch.tensor at the end": """
def pad_and_mask(sequences, pad_id, max_length):
    cut = [list(s) if len(s) <= max_length else list(s[:max_length - 1]) + [s[-1]] for s in sequences]
    width = max(map(len, cut))
    ids = [s + [pad_id] * (width - len(s)) for s in cut]
    mask = [[1] * len(s) + [0] * (width - len(s)) for s in cut]
    return torch.tensor(ids, dtype=torch.long), torch.tensor(mask, dtype=torch.long)
""",
        "pad_sequence with padding_value": """
def pad_and_mask(sequences, pad_id, max_length):
    from torch.nn.utils.rnn import pad_sequence
    cut = [torch.tensor(s[:max_length - 1] + s[-1:] if len(s) > max_length else s) for s in sequences]
    ids = pad_sequence(cut, batch_first=True, padding_value=pad_id)
    mask = pad_sequence([torch.ones(len(t), dtype=torch.long) for t in cut], batch_first=True)
    return ids.long(), mask
""",
    },
    "mean_pool": {
        "einsum over the mask": POOL.format(
            body="m = attention_mask.to(last_hidden_state.dtype)\n"
                 "    return torch.einsum('blh,bl->bh', last_hidden_state, m) / m.sum(-1, keepdim=True)"),
        "masked_fill then sum": POOL.format(
            body="pad = attention_mask.unsqueeze(-1) == 0\n"
                 "    total = last_hidden_state.masked_fill(pad, 0).sum(dim=1)\n"
                 "    return total / (~pad).sum(dim=1).clamp(min=1).to(last_hidden_state.dtype)"),
    },
    "TicketClassifier": {
        "F.dropout in forward and outputs[0]": """
class TicketClassifier(nn.Module):
    def __init__(self, encoder, num_labels, dropout=0.1):
        super().__init__()
        self.encoder = encoder
        self.p = dropout
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids, attention_mask, labels=None):
        states = self.encoder(input_ids, attention_mask=attention_mask)[0]
        logits = self.head(F.dropout(mean_pool(states, attention_mask), self.p, self.training))
        if labels is None:
            return {"logits": logits}
        return {"loss": F.cross_entropy(logits, labels), "logits": logits}
""",
        "nn.CrossEntropyLoss and dict()": clf(loss="nn.CrossEntropyLoss()(logits, labels.long())").replace(
            'out = {"logits": logits}', "out = dict(logits=logits)"),
    },
    "compute_metrics": {
        "a confusion matrix with numpy": """
def compute_metrics(eval_pred):
    logits, labels = eval_pred
    logits, labels = np.asarray(logits), np.asarray(labels)
    k = logits.shape[1]
    preds = logits.argmax(1)
    cm = np.zeros((k, k))
    np.add.at(cm, (labels, preds), 1)
    tp = np.diag(cm)
    denom = cm.sum(0) + cm.sum(1)
    f1 = np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)
    return {"accuracy": float(tp.sum() / len(labels)), "macro_f1": float(f1.mean())}
""",
        "precision and recall with guards": """
def compute_metrics(eval_pred):
    logits, labels = eval_pred
    preds = np.argmax(logits, axis=-1)
    scores = []
    for c in range(np.shape(logits)[-1]):
        tp = float(np.sum((preds == c) & (labels == c)))
        p = tp / np.sum(preds == c) if np.sum(preds == c) else 0.0
        r = tp / np.sum(labels == c) if np.sum(labels == c) else 0.0
        scores.append(2 * p * r / (p + r) if p + r else 0.0)
    return {"accuracy": float(np.mean(preds == labels)), "macro_f1": float(sum(scores) / len(scores))}
""",
    },
    "embed": {
        "BatchEncoding.to and torch.inference_mode": """
def embed(encoder, tokenizer, texts, batch_size=32, max_length=128):
    encoder.eval()
    device = next(encoder.parameters()).device
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tokenizer(list(texts[i:i + batch_size]), padding="longest", truncation=True,
                            max_length=max_length, return_tensors="pt").to(device)
            pooled = mean_pool(encoder(**enc).last_hidden_state, enc["attention_mask"])
            out.append(pooled / pooled.norm(dim=-1, keepdim=True))
    return torch.vstack(out).cpu()
""",
        "padding to max_length, a list of batches first": """
def embed(encoder, tokenizer, texts, batch_size=32, max_length=128):
    encoder.eval()
    device = next(encoder.parameters()).device
    batches = [texts[i:i + batch_size] for i in range(0, len(texts), batch_size)]
    vectors = []
    for chunk in batches:
        with torch.no_grad():
            t = tokenizer(chunk, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")
            t = {k: v.to(device) for k, v in t.items()}
            states = encoder(input_ids=t["input_ids"], attention_mask=t["attention_mask"]).last_hidden_state
            vectors.append(F.normalize(mean_pool(states, t["attention_mask"]), p=2, dim=1).cpu())
    return torch.cat(vectors, dim=0)
""",
    },
}
