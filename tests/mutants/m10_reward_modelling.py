"""Plausible wrong answers for 10-reward-modelling. Each must fail at least one test cell."""

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
OK_DIFF, OK_MARGIN, OK_LOSS = "chosen_rewards - rejected_rewards", "difference - margin", "-F.logsigmoid(difference).mean()"

ACC = '''
def accuracy_by_kind(chosen_rewards, rejected_rewards, kinds):
    right = [{compare} for c, r in zip(chosen_rewards, rejected_rewards)]
    by_kind = defaultdict(list)
    for kind, ok in zip(kinds, right):
        by_kind[kind].append(ok)
    result = {{"all": {overall}}}
    result.update({{kind: {per_kind} for kind, oks in by_kind.items()}})
    return result
'''
OK_CMP, OK_ALL, OK_KIND = "float(c) > float(r)", "sum(right) / len(right)", "sum(oks) / len(oks)"

MUTANTS = {
    "last_token_values": {
        "always the last column": LAST.format(body="return values[:, -1]"),
        "mask length minus one (wrong with left padding)": LAST.format(
            body="return values[torch.arange(values.size(0)), attention_mask.sum(1) - 1]"),
        "mask length (off by one)": LAST.format(
            body="return values[torch.arange(values.size(0)), (attention_mask.sum(1)).clamp(max=values.size(1) - 1)]"),
        "first real token": LAST.format(body="return values[torch.arange(values.size(0)), attention_mask.long().argmax(1)]"),
        "mean over real tokens": LAST.format(body="return (values * attention_mask).sum(1) / attention_mask.sum(1)"),
    },
    "bradley_terry_loss": {
        "sign flipped": BT.format(difference="rejected_rewards - chosen_rewards", with_margin=OK_MARGIN, loss=OK_LOSS),
        "summed instead of averaged": BT.format(difference=OK_DIFF, with_margin=OK_MARGIN, loss="-F.logsigmoid(difference).sum()"),
        "log of sigmoid (underflows)": BT.format(difference=OK_DIFF, with_margin=OK_MARGIN,
                                                 loss="-torch.log(torch.sigmoid(difference)).mean()"),
        "margin added instead of subtracted": BT.format(difference=OK_DIFF, with_margin="difference + margin", loss=OK_LOSS),
        "margin ignored": BT.format(difference=OK_DIFF, with_margin="difference", loss=OK_LOSS),
        "sigmoid without the log": BT.format(difference=OK_DIFF, with_margin=OK_MARGIN, loss="(1 - torch.sigmoid(difference)).mean()"),
        "hinge instead of logistic": BT.format(difference=OK_DIFF, with_margin=OK_MARGIN, loss="torch.relu(1 - difference).mean()"),
    },
    "accuracy_by_kind": {
        "a tie counts as right": ACC.format(compare="float(c) >= float(r)", overall=OK_ALL, per_kind=OK_KIND),
        "rejected above chosen": ACC.format(compare="float(c) < float(r)", overall=OK_ALL, per_kind=OK_KIND),
        "per kind divided by all pairs": ACC.format(compare=OK_CMP, overall=OK_ALL, per_kind="sum(oks) / len(right)"),
        "no 'all' entry": ACC.format(compare=OK_CMP, overall=OK_ALL, per_kind=OK_KIND).replace(
            'result = {"all": sum(right) / len(right)}', "result = {}"),
        "counts, not shares": ACC.format(compare=OK_CMP, overall="float(sum(right))", per_kind="float(sum(oks))"),
    },
}
