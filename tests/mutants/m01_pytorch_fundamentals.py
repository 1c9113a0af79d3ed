"""Plausible wrong answers for 01-pytorch-fundamentals. Each must fail at least one test cell.

``MUTANTS[solution grade_id][description]`` is the whole replacement source of that cell.
"""

FIT_LINE = '''
def fit_line(x, y, lr=0.1, steps=200):
    torch.manual_seed(1)
    w = torch.zeros((), requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = {loss}
        {record_before}
        loss.backward()
        with torch.no_grad():
            w {op} lr * w.grad
            b {op} lr * b.grad
        {record_after}
        {reset}
    return {ret}
'''


def fit_line(loss="((w * x + b - y) ** 2).mean()", op="-=", reset="w.grad = None; b.grad = None",
             record_before="losses.append(loss.item())", record_after="pass", ret="w.item(), b.item(), losses"):
    return FIT_LINE.format(loss=loss, op=op, reset=reset, record_before=record_before,
                           record_after=record_after, ret=ret)


CE = '''
def stable_cross_entropy(logits, targets):
{body}
'''

def net(*layers):
    return "        self.net = nn.Sequential(" + ", ".join(layers) + ")"


RELU_NET = net("nn.Linear(in_features, hidden)", "nn.ReLU()", "nn.Linear(hidden, out_features)")

MLP = '''
class MLP(nn.Module):
    def __init__(self, in_features, hidden, out_features):
        super().__init__()
{init}

    def forward(self, x):
{forward}
'''

LOADERS = '''
def make_dataloaders(X, y, batch_size, test_fraction=0.2, seed=0):
    n = len(X)
    order = {perm}
    n_test = round(n * test_fraction)
    test_idx, train_idx = order[:n_test], order[n_test:]
    mean, std = {stats}
    X_norm = (X - mean) / {denominator}
    train = TensorDataset(X_norm[train_idx], y[train_idx])
    test = TensorDataset(X_norm[test_idx], y[test_idx])
    train_loader = DataLoader(train, batch_size=batch_size, shuffle={train_shuffle}{train_gen})
    test_loader = DataLoader(test, batch_size=batch_size, shuffle={test_shuffle})
    return train_loader, test_loader
'''


def loaders(perm="torch.randperm(n, generator=torch.Generator().manual_seed(seed))",
            stats="X[train_idx].mean(dim=0), X[train_idx].std(dim=0)", denominator="(std + 1e-6)",
            train_shuffle="True", train_gen=", generator=torch.Generator().manual_seed(seed)", test_shuffle="False"):
    return LOADERS.format(perm=perm, stats=stats, denominator=denominator, train_shuffle=train_shuffle,
                          train_gen=train_gen, test_shuffle=test_shuffle)


TRAIN = '''
def train_one_epoch(model, loader, optimizer, loss_fn, device="cpu"):
    {train}
    losses = []
    for xb, yb in loader:
        {move}
        {zero}
        loss = {loss}
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {ret}
'''


def train(train="model.train()", zero="optimizer.zero_grad()", ret="sum(losses) / len(losses)",
          move="xb, yb = xb.to(device), yb.to(device)", loss="loss_fn(model(xb), yb)"):
    return TRAIN.format(train=train, zero=zero, ret=ret, move=move, loss=loss)


EVAL = '''
def evaluate(model, loader, loss_fn, device="cpu"):
    {mode}
    losses, accs, sizes = [], [], []
    with {context}:
        for xb, yb in loader:
            {move}
            logits = {logits}
            losses.append({loss}.item())
            accs.append((logits.argmax(1) == yb).float().mean().item())
            sizes.append(len(yb))
    {ret}
'''
SAMPLE_MEAN = ("n = sum(sizes)\n    return (sum(l * s for l, s in zip(losses, sizes)) / n, "
               "sum(a * s for a, s in zip(accs, sizes)) / n)")


def evaluate(mode="model.eval()", context="torch.no_grad()", ret=SAMPLE_MEAN,
             move="xb, yb = xb.to(device), yb.to(device)", logits="model(xb)", loss="loss_fn(logits, yb)"):
    return EVAL.format(mode=mode, context=context, ret=ret, move=move, logits=logits, loss=loss)


FIT_OPTIM = """
def fit_line(x, y, lr=0.1, steps=200):
    w = torch.zeros((), requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((w * x + b - y) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return w.item(), b.item(), losses
"""
FIT_BY_HAND = """
def fit_line(x, y, lr=0.1, steps=200):
    w, b = torch.zeros(()), torch.zeros(())
    losses = []
    for _ in range(steps):
        err = w * x + b - y
        losses.append((err ** 2).mean().item())
        w = w - lr * (2 * err * x).mean()
        b = b - lr * (2 * err).mean()
    return w.item(), b.item(), losses
"""
FIT_GRAD_LEFT_OFF = """
def fit_line(x, y, lr=0.1, steps=200):
    w = torch.zeros((), requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    losses = []
    for _ in range(steps):
        torch.set_grad_enabled(True)
        loss = ((w * x + b - y) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        torch.set_grad_enabled(False)
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad = None
        b.grad = None
    return w.item(), b.item(), losses
"""


MUTANTS = {
    "fit_line": {
        "gradients never reset": fit_line(reset="pass"),
        "summed instead of mean squared error": fit_line(loss="((w * x + b - y) ** 2).sum()"),
        "gradient ascent": fit_line(op="+="),
        "starts from random weights": fit_line(reset="w.grad = None; b.grad = None").replace(
            "w = torch.zeros((), requires_grad=True)", "w = torch.randn((), requires_grad=True)"),
        "returns tensors": fit_line(ret="w, b, losses"),
        "torch.optim.SGD does the update": FIT_OPTIM,
        "derivatives by hand, no autograd": FIT_BY_HAND,
        "losses kept as tensors": fit_line(record_before="losses.append(loss.detach())"),
        "grad mode left off after the loop": FIT_GRAD_LEFT_OFF,
    },
    "stable_cross_entropy": {
        "naive softmax overflows": CE.format(body="    p = torch.exp(logits) / torch.exp(logits).sum(1, keepdim=True)\n"
                                                  "    return -torch.log(p.gather(1, targets[:, None])).mean()"),
        "sum instead of mean": CE.format(body="    m = logits.max(1, keepdim=True).values\n"
                                              "    lse = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(1))\n"
                                              "    return (lse - logits.gather(1, targets[:, None]).squeeze(1)).sum()"),
        "normalised over the batch dimension": CE.format(
            body="    m = logits.max(0, keepdim=True).values\n"
                 "    lse = m + torch.log(torch.exp(logits - m).sum(0, keepdim=True))\n"
                 "    return (lse - logits).gather(1, targets[:, None]).mean()"),
        "calls the library": CE.format(body="    return F.cross_entropy(logits, targets)"),
        "the tensor method logits.logsumexp": CE.format(
            body="    return (logits.logsumexp(1) - logits.gather(1, targets[:, None]).squeeze(1)).mean()"),
        "one maximum for the whole batch": CE.format(
            body="    m = logits.max()\n"
                 "    lse = m + torch.log(torch.exp(logits - m).sum(1))\n"
                 "    return (lse - logits.gather(1, targets[:, None]).squeeze(1)).mean()"),
        "computes in float32 whatever the input": CE.format(
            body="    logits = logits.float()\n"
                 "    m = logits.max(1, keepdim=True).values\n"
                 "    lse = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(1))\n"
                 "    return (lse - logits.gather(1, targets[:, None]).squeeze(1)).mean()"),
        "one-hot mask built on the CPU": CE.format(
            body="    m = logits.max(1, keepdim=True).values\n"
                 "    lse = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(1))\n"
                 "    mask = torch.zeros(logits.shape).scatter_(1, targets[:, None], 1.0)\n"
                 "    return (lse - (logits * mask.to(logits.dtype)).sum(1)).mean()"),
        "subtracts the maximum from the caller's logits": CE.format(
            body="    logits -= logits.max(1, keepdim=True).values.detach()\n"
                 "    lse = torch.log(torch.exp(logits).sum(1))\n"
                 "    return (lse - logits.gather(1, targets[:, None]).squeeze(1)).mean()"),
    },
    "MLP": {
        "no non-linearity": MLP.format(init=net("nn.Linear(in_features, hidden)", "nn.Linear(hidden, out_features)"),
                                       forward="        return self.net(x)"),
        "layers in a plain list": MLP.format(init="        self.layers = [nn.Linear(in_features, hidden),\n"
                                                  "                       nn.Linear(hidden, out_features)]",
                                             forward="        return self.layers[1](torch.relu(self.layers[0](x)))"),
        "softmax on the output": MLP.format(init=RELU_NET,
                                            forward="        return torch.softmax(self.net(x), dim=1)"),
        "no bias": MLP.format(init=net("nn.Linear(in_features, hidden, bias=False)", "nn.ReLU()",
                                    "nn.Linear(hidden, out_features, bias=False)"),
                              forward="        return self.net(x)"),
        "log-softmax on the output": MLP.format(
            init=RELU_NET,
            forward="        return F.log_softmax(self.net(x), dim=1)"),
        "tanh instead of ReLU": MLP.format(
            init=net("nn.Linear(in_features, hidden)", "nn.Tanh()", "nn.Linear(hidden, out_features)"),
            forward="        return self.net(x)"),
        "squeezes the output": MLP.format(
            init=RELU_NET,
            forward="        return self.net(x).squeeze()"),
        "casts the input to float32": MLP.format(
            init=RELU_NET,
            forward="        return self.net(x.float())"),
        "hidden layer made on the CPU in forward": MLP.format(
            init="        self.fc1 = nn.Linear(in_features, hidden)\n"
                 "        self.fc2 = nn.Linear(hidden, out_features)",
            forward="        h = self.fc1(x)\n        return self.fc2(torch.maximum(h, torch.zeros(h.shape)))"),
    },
    "make_dataloaders": {
        "statistics from all the data (test leak)": loaders(stats="X.mean(dim=0), X.std(dim=0)"),
        "division by a zero std": loaders(denominator="std"),
        "shuffling not seeded": loaders(train_gen=""),
        "split not seeded": loaders(perm="torch.randperm(n)"),
        "test set shuffled": loaders(test_shuffle="True"),
        "training set not shuffled": loaders(train_shuffle="False", train_gen=""),
        "int() instead of round()": loaders().replace("n_test = round(n * test_fraction)",
                                                      "n_test = int(n * test_fraction)"),
        "math.ceil instead of round()": loaders().replace("n_test = round(n * test_fraction)",
                                                          "n_test = math.ceil(n * test_fraction)"),
        "training rows first, test rows last": loaders().replace(
            "test_idx, train_idx = order[:n_test], order[n_test:]",
            "train_idx, test_idx = order[:n - n_test], order[n - n_test:]"),
        "seeds the global generator": loaders(perm="(torch.manual_seed(seed), torch.randperm(n))[1]"),
        "standardises the caller's X in place": loaders(
            stats="X[train_idx].mean(dim=0), X[train_idx].std(dim=0)\n    X -= mean\n    X /= std + 1e-6\n"
                  "    mean, std = 0.0, 1.0"),
        "test rows standardised with their own statistics": loaders().replace(
            "    test = TensorDataset(X_norm[test_idx], y[test_idx])",
            "    X_te = X[test_idx]\n"
            "    test = TensorDataset((X_te - X_te.mean(0)) / (X_te.std(0) + 1e-6), y[test_idx])"),
    },
    "train_one_epoch": {
        "no zero_grad": train(zero="pass"),
        "returns the last batch loss": train(ret="losses[-1]"),
        "returns the sum": train(ret="sum(losses)"),
        "no model.train()": train(train="pass"),
        "ignores device": train(move="pass"),
        "moves the inputs only": train(move="xb = xb.to(device)"),
        "always F.cross_entropy": train(loss="F.cross_entropy(model(xb), yb)"),
        "averages over samples instead of batches": train(ret="sum(losses) / len(loader.dataset)").replace(
            "losses.append(loss.item())", "losses.append(loss.item() * len(yb))"),
        "zero_grad between backward and step": train(zero="pass").replace(
            "        loss.backward()\n        optimizer.step()",
            "        loss.backward()\n        optimizer.zero_grad()\n        optimizer.step()"),
    },
    "evaluate": {
        "mean over batches": evaluate(ret="return sum(losses) / len(losses), sum(accs) / len(accs)"),
        "dropout left on": evaluate(mode="pass"),
        "builds a graph": evaluate(context="__import__('contextlib').nullcontext()"),
        "ignores device": evaluate(move="pass"),
        "moves the inputs only": evaluate(move="xb = xb.to(device)"),
        "always F.cross_entropy": evaluate(loss="F.cross_entropy(logits, yb)"),
        "switches gradients off for good": evaluate(mode="model.eval(); torch.set_grad_enabled(False)",
                                                    context="__import__('contextlib').nullcontext()"),
        "squeezes the logits": evaluate(logits="model(xb).squeeze()"),
    },
}


# Correct answers written differently from the solution: every test must pass them.
CORRECT = {
    "fit_line": {
        "autograd.grad and fresh leaves each step": """
def fit_line(x, y, lr=0.1, steps=200):
    w = torch.tensor(0.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    losses = []
    for _ in range(steps):
        loss = (w * x + b - y).pow(2).mean()
        losses.append(float(loss))
        gw, gb = torch.autograd.grad(loss, (w, b))
        w = (w - lr * gw).detach().requires_grad_()
        b = (b - lr * gb).detach().requires_grad_()
    return float(w), float(b), losses
""",
        ".data updates and grad.zero_()": """
def fit_line(x, y, lr=0.1, steps=200):
    w = torch.zeros((), requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    losses = []
    for step in range(steps):
        loss = torch.mean((x * w + b - y) ** 2)
        losses.append(loss.item())
        loss.backward()
        w.data -= lr * w.grad
        b.data -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.item(), b.item(), losses
""",
    },
    "stable_cross_entropy": {
        "log-softmax by hand and a one-hot mask": """
def stable_cross_entropy(logits, targets):
    shifted = logits - logits.max(dim=-1, keepdim=True).values
    log_probs = shifted - shifted.exp().sum(dim=-1, keepdim=True).log()
    one_hot = F.one_hot(targets, logits.shape[-1]).to(logits.dtype)
    return -(log_probs * one_hot).sum(dim=-1).mean()
""",
        "advanced indexing with torch.arange": """
def stable_cross_entropy(logits, targets):
    m, _ = torch.max(logits, 1, keepdim=True)
    lse = (m + torch.log(torch.sum(torch.exp(logits - m), 1, keepdim=True))).squeeze(1)
    return (lse - logits[torch.arange(len(targets)), targets]).mean()
""",
        "F.nll_loss on a hand-made log-softmax": """
def stable_cross_entropy(logits, targets):
    z = logits - logits.amax(dim=1, keepdim=True)
    return F.nll_loss(z - z.exp().sum(dim=1, keepdim=True).log(), targets)
""",
    },
    "MLP": {
        "named layers and F.relu": """
class MLP(nn.Module):
    def __init__(self, in_features, hidden, out_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, out_features)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
""",
        "hand-made parameters in (in, out) layout": """
class MLP(nn.Module):
    def __init__(self, in_features, hidden, out_features):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(in_features, hidden) / in_features ** 0.5)
        self.b1 = nn.Parameter(torch.zeros(hidden))
        self.w2 = nn.Parameter(torch.randn(hidden, out_features) / hidden ** 0.5)
        self.b2 = nn.Parameter(torch.randn(out_features) * 0.1)

    def forward(self, x):
        return (x @ self.w1 + self.b1).clamp_min(0) @ self.w2 + self.b2
""",
    },
    "make_dataloaders": {
        "boolean masks (sorted rows) and the population std": """
def make_dataloaders(X, y, batch_size, test_fraction=0.2, seed=0):
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
    is_test = torch.zeros(len(X), dtype=torch.bool)
    is_test[perm[:round(len(X) * test_fraction)]] = True
    X_train, X_test = X[~is_test], X[is_test]
    mean, std = X_train.mean(0), X_train.std(0, unbiased=False)
    norm = lambda t: (t - mean) / (std + 1e-6)
    g = torch.Generator()
    g.manual_seed(seed)
    return (DataLoader(TensorDataset(norm(X_train), y[~is_test]), batch_size, shuffle=True, generator=g),
            DataLoader(TensorDataset(norm(X_test), y[is_test]), batch_size))
""",
        "index_select and clamp_min": """
def make_dataloaders(X, y, batch_size, test_fraction=0.2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(X.shape[0], generator=gen)
    cut = round(X.shape[0] * test_fraction)
    tr, te = idx[cut:], idx[:cut]
    X_tr = X.index_select(0, tr)
    mu, sd = X_tr.mean(dim=0, keepdim=True), X_tr.std(dim=0, keepdim=True)
    scale = lambda t: (t - mu) / (sd + 1e-6)
    train_ds = TensorDataset(scale(X_tr), y.index_select(0, tr))
    test_ds = TensorDataset(scale(X.index_select(0, te)), y.index_select(0, te))
    return (DataLoader(train_ds, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed)),
            DataLoader(test_ds, batch_size=batch_size))
""",
    },
    "train_one_epoch": {
        "model.zero_grad(set_to_none=True) and len(loader)": """
def train_one_epoch(model, loader, optimizer, loss_fn, device="cpu"):
    model.train()
    total = 0.0
    for inputs, targets in loader:
        inputs = inputs.to(device)
        targets = targets.to(device)
        model.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += float(loss)
    return total / len(loader)
""",
        "detached losses stacked at the end": """
def train_one_epoch(model, loader, optimizer, loss_fn, device="cpu"):
    model.train(True)
    losses = []
    for batch in loader:
        xb, yb = (t.to(device, non_blocking=True) for t in batch)
        optimizer.zero_grad(set_to_none=False)
        out = model(xb)
        loss = loss_fn(out, yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return torch.stack(losses).mean().item()
""",
    },
    "evaluate": {
        "inference_mode, one loss on the concatenated logits": """
def evaluate(model, loader, loss_fn, device="cpu"):
    model.eval()
    outs, ys = [], []
    with torch.inference_mode():
        for xb, yb in loader:
            outs.append(model(xb.to(device)))
            ys.append(yb.to(device))
        logits, targets = torch.cat(outs), torch.cat(ys)
        loss = loss_fn(logits, targets).item()
        acc = (logits.argmax(dim=-1) == targets).float().mean().item()
    return loss, acc
""",
        "a @torch.no_grad() helper and sample weights": """
@torch.no_grad()
def _scores(model, loader, loss_fn, device):
    loss_sum, hits, n = 0.0, 0, 0
    for xb, yb in loader:
        xb, yb = xb.to(device=device), yb.to(device=device)
        out = model(xb)
        loss_sum += loss_fn(out, yb).item() * yb.numel()
        hits += int((out.argmax(-1) == yb).sum())
        n += yb.numel()
    return loss_sum / n, hits / n

def evaluate(model, loader, loss_fn, device="cpu"):
    model.eval()
    return _scores(model, loader, loss_fn, device)
""",
    },
}
