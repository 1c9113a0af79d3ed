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
        {zero}
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {ret}
'''


def train(train="model.train()", zero="optimizer.zero_grad()", ret="sum(losses) / len(losses)"):
    return TRAIN.format(train=train, zero=zero, ret=ret)


EVAL = '''
def evaluate(model, loader, loss_fn, device="cpu"):
    {mode}
    losses, accs, sizes = [], [], []
    with {context}:
        for xb, yb in loader:
            logits = model(xb)
            losses.append(loss_fn(logits, yb).item())
            accs.append((logits.argmax(1) == yb).float().mean().item())
            sizes.append(len(yb))
    {ret}
'''
SAMPLE_MEAN = ("n = sum(sizes)\n    return (sum(l * s for l, s in zip(losses, sizes)) / n, "
               "sum(a * s for a, s in zip(accs, sizes)) / n)")


def evaluate(mode="model.eval()", context="torch.no_grad()", ret=SAMPLE_MEAN):
    return EVAL.format(mode=mode, context=context, ret=ret)


MUTANTS = {
    "fit_line": {
        "gradients never reset": fit_line(reset="pass"),
        "summed instead of mean squared error": fit_line(loss="((w * x + b - y) ** 2).sum()"),
        "gradient ascent": fit_line(op="+="),
        "starts from random weights": fit_line(reset="w.grad = None; b.grad = None").replace(
            "w = torch.zeros((), requires_grad=True)", "w = torch.randn((), requires_grad=True)"),
        "returns tensors": fit_line(ret="w, b, losses"),
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
    },
    "MLP": {
        "no non-linearity": MLP.format(init="        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.Linear(hidden, out_features))",
                                       forward="        return self.net(x)"),
        "layers in a plain list": MLP.format(init="        self.layers = [nn.Linear(in_features, hidden), nn.Linear(hidden, out_features)]",
                                             forward="        return self.layers[1](torch.relu(self.layers[0](x)))"),
        "softmax on the output": MLP.format(init="        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_features))",
                                            forward="        return torch.softmax(self.net(x), dim=1)"),
        "no bias": MLP.format(init="        self.net = nn.Sequential(nn.Linear(in_features, hidden, bias=False), nn.ReLU(), nn.Linear(hidden, out_features, bias=False))",
                              forward="        return self.net(x)"),
    },
    "make_dataloaders": {
        "statistics from all the data (test leak)": loaders(stats="X.mean(dim=0), X.std(dim=0)"),
        "division by a zero std": loaders(denominator="std"),
        "shuffling not seeded": loaders(train_gen=""),
        "split not seeded": loaders(perm="torch.randperm(n)"),
        "test set shuffled": loaders(test_shuffle="True"),
        "training set not shuffled": loaders(train_shuffle="False", train_gen=""),
    },
    "train_one_epoch": {
        "no zero_grad": train(zero="pass"),
        "returns the last batch loss": train(ret="losses[-1]"),
        "returns the sum": train(ret="sum(losses)"),
        "no model.train()": train(train="pass"),
    },
    "evaluate": {
        "mean over batches": evaluate(ret="return sum(losses) / len(losses), sum(accs) / len(accs)"),
        "dropout left on": evaluate(mode="pass"),
        "builds a graph": evaluate(context="__import__('contextlib').nullcontext()"),
    },
}
