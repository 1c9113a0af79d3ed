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


def pad(trim="seq if len(seq) <= max_length else seq[:max_length - 1] + seq[-1:]",
        length="max(len(seq) for seq in trimmed)", mask_init="zeros", fill=RIGHT.format(mask_value="1")):
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


def metrics(axis="-1", classes="range(np.asarray(logits).shape[-1])", f1="0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)",
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
    },
    "mean_pool": {
        "plain mean over padding too": POOL.format(body="return last_hidden_state.mean(dim=1)"),
        "sum, not mean": POOL.format(body="return (last_hidden_state * attention_mask.unsqueeze(-1)).sum(1)"),
        "the [CLS] vector": POOL.format(body="return last_hidden_state[:, 0]"),
        "divides by the padded length": POOL.format(
            body="return (last_hidden_state * attention_mask.unsqueeze(-1)).sum(1) / attention_mask.shape[1]"),
    },
    "TicketClassifier": {
        "no attention mask to the encoder": clf(encoder_args="input_ids=input_ids"),
        "[CLS] pooling": clf(pooled="states[:, 0]"),
        "no dropout": clf(dropped="pooled"),
        "loss summed": clf(loss="F.cross_entropy(logits, labels, reduction='sum')"),
    },
    "compute_metrics": {
        "micro F1 (= accuracy)": metrics(average="(preds == labels).mean()"),
        "argmax over the batch": metrics(axis="0"),
        "F1 over the labels present only": metrics(classes="np.unique(labels)"),
        "weighted F1": metrics(average="np.average(f1s, weights=np.bincount(labels, minlength=len(f1s)))"),
    },
    "embed": {
        "not normalised": embed(normalise="pooled"),
        "dropout left on": embed(mode="pass"),
        "[CLS] vectors": embed(pooled="states[:, 0]"),
        "batches in the wrong order": embed(order="chunks[::-1]"),
    },
}
