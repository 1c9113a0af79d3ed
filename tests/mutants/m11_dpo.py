"""Plausible wrong answers for 11-dpo. Each must fail at least one test cell."""

LOGPS = '''
def completion_logprobs(logits, input_ids, completion_mask):
    log_probs = {log_probs}
    targets = {targets}
    token_logps = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return {reduce}
'''
L_OK = dict(log_probs="logits[:, :-1].float().log_softmax(dim=-1)", targets="input_ids[:, 1:]",
            reduce="(token_logps * completion_mask[:, 1:]).sum(dim=-1)")

DPO = '''
def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    chosen_rewards = {chosen}
    rejected_rewards = {rejected}
    loss = {loss}
    return loss, chosen_rewards, rejected_rewards
'''
D_OK = dict(chosen="beta * (policy_chosen - ref_chosen)", rejected="beta * (policy_rejected - ref_rejected)",
            loss="-F.logsigmoid(chosen_rewards - rejected_rewards).mean()")

MUTANTS = {
    "completion_logprobs": {
        "no shift": LOGPS.format(**{**L_OK, "log_probs": "logits.float().log_softmax(dim=-1)", "targets": "input_ids",
                                    "reduce": "(token_logps * completion_mask).sum(dim=-1)"}),
        "prompt not masked": LOGPS.format(**{**L_OK, "reduce": "token_logps.sum(dim=-1)"}),
        "mean instead of sum": LOGPS.format(**{**L_OK, "reduce": "(token_logps * completion_mask[:, 1:]).sum(-1) / completion_mask[:, 1:].sum(-1)"}),
        "mask not shifted": LOGPS.format(**{**L_OK, "reduce": "(token_logps * completion_mask[:, :-1]).sum(dim=-1)"}),
        "probabilities, not log-probabilities": LOGPS.format(**{**L_OK, "log_probs": "logits[:, :-1].float().softmax(dim=-1)"}),
        "log-softmax over the time axis": LOGPS.format(**{**L_OK, "log_probs": "logits[:, :-1].float().log_softmax(dim=1)"}),
    },
    "dpo_loss": {
        "wrong sign of beta": DPO.format(**{**D_OK, "chosen": "-beta * (policy_chosen - ref_chosen)",
                                            "rejected": "-beta * (policy_rejected - ref_rejected)"}),
        "reference subtracted the wrong way": DPO.format(**{**D_OK, "chosen": "beta * (ref_chosen - policy_chosen)",
                                                            "rejected": "beta * (ref_rejected - policy_rejected)"}),
        "no reference model": DPO.format(**{**D_OK, "chosen": "beta * policy_chosen", "rejected": "beta * policy_rejected"}),
        "beta forgotten": DPO.format(**{**D_OK, "chosen": "policy_chosen - ref_chosen", "rejected": "policy_rejected - ref_rejected"}),
        "summed instead of averaged": DPO.format(**{**D_OK, "loss": "-F.logsigmoid(chosen_rewards - rejected_rewards).sum()"}),
        "chosen and rejected swapped": DPO.format(**{**D_OK, "loss": "-F.logsigmoid(rejected_rewards - chosen_rewards).mean()"}),
        "beta applied twice": DPO.format(**{**D_OK, "loss": "-F.logsigmoid(beta * (chosen_rewards - rejected_rewards)).mean()"}),
        "sigmoid without the log": DPO.format(**{**D_OK, "loss": "(1 - torch.sigmoid(chosen_rewards - rejected_rewards)).mean()"}),
    },
}
