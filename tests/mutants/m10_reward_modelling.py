"""Plausible wrong answers for 10-reward-modelling. Each must fail at least one test cell.

``CORRECT`` holds answers written differently from the solution: each must pass its exercise's tests.
"""

LAST = '''
def last_token_values(values, attention_mask):
    {body}
'''

BT = '''
def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    difference = {difference}
    if margin is not None:
        difference = {with_margin}
    return {loss}
'''
OK_DIFF, OK_MARGIN = "chosen_rewards - rejected_rewards", "difference - margin"
OK_LOSS = "-F.logsigmoid(difference).mean()"

ACC = '''
def accuracy_by_kind(chosen_rewards, rejected_rewards, kinds):
    right = [{compare} for c, r in zip(chosen_rewards, rejected_rewards)]
    by_kind = defaultdict(list)
    for kind, ok in zip({kinds}, right):
        by_kind[kind].append(ok)
    result = {{"all": {overall}}}
    result.update({{kind: {per_kind} for kind, oks in by_kind.items()}})
    return result
'''
A_OK = dict(compare="float(c) > float(r)", kinds="kinds", overall="sum(right) / len(right)",
            per_kind="sum(oks) / len(oks)")

MUTANTS = {
    "last_token_values": {
        "always the last column": LAST.format(body="return values[:, -1]"),
        "mask length minus one (wrong with left padding)": LAST.format(
            body="return values[torch.arange(values.size(0)), attention_mask.sum(1) - 1]"),
        "mask length (off by one)": LAST.format(
            body="return values[torch.arange(values.size(0)), (attention_mask.sum(1)).clamp(max=values.size(1) - 1)]"),
        "first real token": LAST.format(
            body="return values[torch.arange(values.size(0)), attention_mask.long().argmax(1)]"),
        "mean over real tokens": LAST.format(body="return (values * attention_mask).sum(1) / attention_mask.sum(1)"),
        # batches whose rows differ, a batch of one, the graph, the device
        "padding side guessed from the first row": LAST.format(
            body="rows = torch.arange(values.size(0), device=values.device)\n"
                 "    if attention_mask[0, -1] == 1:  # left padding\n"
                 "        return values[:, -1]\n"
                 "    return values[rows, attention_mask.sum(1) - 1]"),
        "gather then squeeze (a batch of one loses its dimension)": LAST.format(
            body="last = (torch.arange(values.size(1), device=values.device) * attention_mask).argmax(1)\n"
                 "    return values.gather(1, last.unsqueeze(1)).squeeze()"),
        "loop with .item() (no gradient, CPU only)": LAST.format(
            body="out = []\n"
                 "    for row, mask in zip(values, attention_mask):\n"
                 "        out.append(row[int(mask.nonzero().max())].item())\n"
                 "    return torch.tensor(out)"),
        "positions built on the CPU (device ignored)": LAST.format(
            body="last = (torch.arange(values.size(1)) * attention_mask.long()).argmax(dim=1)\n"
                 "    return values[torch.arange(values.size(0)), last]"),
        "detached result": LAST.format(
            body="last = (torch.arange(values.size(1), device=values.device) * attention_mask).argmax(1)\n"
                 "    return values.detach()[torch.arange(values.size(0), device=values.device), last]"),
    },
    "bradley_terry_loss": {
        "sign flipped": BT.format(difference="rejected_rewards - chosen_rewards", with_margin=OK_MARGIN, loss=OK_LOSS),
        "summed instead of averaged": BT.format(difference=OK_DIFF, with_margin=OK_MARGIN,
                                                loss="-F.logsigmoid(difference).sum()"),
        "log of sigmoid (underflows)": BT.format(difference=OK_DIFF, with_margin=OK_MARGIN,
                                                 loss="-torch.log(torch.sigmoid(difference)).mean()"),
        "margin added instead of subtracted": BT.format(difference=OK_DIFF, with_margin="difference + margin",
                                                        loss=OK_LOSS),
        "margin ignored": BT.format(difference=OK_DIFF, with_margin="difference", loss=OK_LOSS),
        "sigmoid without the log": BT.format(difference=OK_DIFF, with_margin=OK_MARGIN,
                                             loss="(1 - torch.sigmoid(difference)).mean()"),
        "hinge instead of logistic": BT.format(difference=OK_DIFF, with_margin=OK_MARGIN,
                                               loss="torch.relu(1 - difference).mean()"),
        # the loss must backpropagate; rows must stay rows
        "a Python float (.item())": BT.format(difference=OK_DIFF, with_margin=OK_MARGIN,
                                              loss="-F.logsigmoid(difference).mean().item()"),
        "computed under torch.no_grad": '''
def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    with torch.no_grad():
        difference = chosen_rewards - rejected_rewards
        if margin is not None:
            difference = difference - margin
        return -F.logsigmoid(difference).mean()
''',
        "rewards detached": BT.format(difference="chosen_rewards.detach() - rejected_rewards.detach()",
                                      with_margin=OK_MARGIN, loss=OK_LOSS),
        "margin averaged over the batch": BT.format(difference=OK_DIFF, with_margin="difference - margin.mean()",
                                                    loss=OK_LOSS),
        "mean difference inside the log-sigmoid": BT.format(difference=OK_DIFF, with_margin=OK_MARGIN,
                                                            loss="-F.logsigmoid(difference.mean())"),
    },
    "accuracy_by_kind": {
        "a tie counts as right": ACC.format(**{**A_OK, "compare": "float(c) >= float(r)"}),
        "rejected above chosen": ACC.format(**{**A_OK, "compare": "float(c) < float(r)"}),
        "per kind divided by all pairs": ACC.format(**{**A_OK, "per_kind": "sum(oks) / len(right)"}),
        "no 'all' entry": ACC.format(**A_OK).replace('result = {"all": sum(right) / len(right)}', "result = {}"),
        "counts, not shares": ACC.format(**{**A_OK, "overall": "float(sum(right))", "per_kind": "float(sum(oks))"}),
        # a documented ordering the inputs do not already have, side effects, types
        "kinds sorted apart from their pairs": ACC.format(**{**A_OK, "kinds": "sorted(kinds)"}),
        "in-place subtraction on the caller's tensor": '''
def accuracy_by_kind(chosen_rewards, rejected_rewards, kinds):
    margin = torch.as_tensor(chosen_rewards, dtype=torch.float32)
    margin -= torch.as_tensor(rejected_rewards, dtype=torch.float32)
    right = (margin > 0).tolist()
    result = {"all": sum(right) / len(right)}
    for kind in set(kinds):
        oks = [ok for ok, k in zip(right, kinds) if k == kind]
        result[kind] = sum(oks) / len(oks)
    return result
''',
        "shares as tensors when the rewards are tensors": ACC.format(**{**A_OK, "compare": "c > r"}),
        "ties dropped before pairing with kinds": ACC.format(**A_OK).replace(
            "for c, r in zip(chosen_rewards, rejected_rewards)]",
            "for c, r in zip(chosen_rewards, rejected_rewards) if float(c) != float(r)]"),
    },
}

CORRECT = {
    "last_token_values": {
        "flip the mask, find the first 1 from the end": '''
def last_token_values(values, attention_mask):
    T = attention_mask.shape[1]
    from_end = attention_mask.flip(dims=[1]).long().argmax(dim=1)
    return values.gather(1, (T - 1 - from_end).unsqueeze(1)).squeeze(1)
''',
        "cumsum: the last position where the running count reaches its total": '''
def last_token_values(values, attention_mask):
    counts = attention_mask.long().cumsum(dim=1)
    last = (counts == counts[:, -1:]).long().argmax(dim=1)
    picked = torch.take_along_dim(values, last[:, None], dim=1)
    return picked[:, 0]
''',
    },
    "bradley_terry_loss": {
        "softplus of the negative margin": '''
def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    m = torch.zeros_like(chosen_rewards) if margin is None else margin
    return F.softplus(rejected_rewards - chosen_rewards + m).mean()
''',
        "binary cross-entropy with logits, target 1": '''
def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    logits = chosen_rewards - rejected_rewards - (0 if margin is None else margin)
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
''',
    },
    "accuracy_by_kind": {
        "tensors and boolean masks": '''
def accuracy_by_kind(chosen_rewards, rejected_rewards, kinds):
    c = torch.as_tensor(chosen_rewards, dtype=torch.float64)
    r = torch.as_tensor(rejected_rewards, dtype=torch.float64)
    right = c > r
    out = {"all": right.double().mean().item()}
    for kind in dict.fromkeys(kinds):
        mask = torch.tensor([k == kind for k in kinds])
        out[kind] = right[mask].double().mean().item()
    return out
''',
        "Counter of totals and hits": '''
from collections import Counter


def accuracy_by_kind(chosen_rewards, rejected_rewards, kinds):
    totals, hits = Counter(kinds), Counter()
    for c, r, k in zip(chosen_rewards, rejected_rewards, kinds):
        hits[k] += float(c) > float(r)
    acc = {k: hits[k] / totals[k] for k in totals}
    acc["all"] = sum(hits.values()) / len(kinds)
    return acc
''',
    },
}
