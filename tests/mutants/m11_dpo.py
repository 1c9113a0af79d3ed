"""Plausible wrong answers for 11-dpo. Each must fail at least one test cell.

``CORRECT`` holds answers written differently from the solution: each must pass its exercise's tests.
"""

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
    return loss, {returned}
'''
D_OK = dict(chosen="beta * (policy_chosen - ref_chosen)", rejected="beta * (policy_rejected - ref_rejected)",
            loss="-F.logsigmoid(chosen_rewards - rejected_rewards).mean()", returned="chosen_rewards, rejected_rewards")

SETUP = '''
def make_dpo_trainer(model, tokenizer, train_dataset, cfg, output_dir):
    on_cpu = cfg.device == "cpu"
    args = DPOConfig(output_dir=output_dir, {dpo}, max_steps=cfg.max_steps,
                     per_device_train_batch_size={batch}, learning_rate=cfg.lr, lr_scheduler_type="cosine",
                     warmup_steps=0.1, seed={seed}, logging_steps=1, save_strategy="no", report_to="none",
                     {device}, {checkpointing})
    lora = LoraConfig(r=cfg.lora_r, lora_alpha={alpha}, lora_dropout=0.0, target_modules={targets},
                      task_type="CAUSAL_LM")
    {build}
'''
S_OK = dict(dpo="beta=cfg.beta, max_length=cfg.max_length", batch="cfg.batch_size", seed="cfg.seed",
            device="use_cpu=on_cpu, bf16=cfg.bf16, fp16=cfg.fp16", checkpointing="activation_checkpointing=False",
            alpha="2 * cfg.lora_r", targets='"all-linear"',
            build="return DPOTrainer(model=model, args=args, train_dataset=train_dataset, processing_class=tokenizer,\n"
                  "                      peft_config=lora)")

MUTANTS = {
    "completion_logprobs": {
        "no shift": LOGPS.format(**{**L_OK, "log_probs": "logits.float().log_softmax(dim=-1)", "targets": "input_ids",
                                    "reduce": "(token_logps * completion_mask).sum(dim=-1)"}),
        "prompt not masked": LOGPS.format(**{**L_OK, "reduce": "token_logps.sum(dim=-1)"}),
        "mean instead of sum": LOGPS.format(
            **{**L_OK, "reduce": "(token_logps * completion_mask[:, 1:]).sum(-1) / completion_mask[:, 1:].sum(-1)"}),
        "mask not shifted": LOGPS.format(**{**L_OK, "reduce": "(token_logps * completion_mask[:, :-1]).sum(dim=-1)"}),
        "probabilities, not log-probabilities": LOGPS.format(
            **{**L_OK, "log_probs": "logits[:, :-1].float().softmax(dim=-1)"}),
        "log-softmax over the time axis": LOGPS.format(
            **{**L_OK, "log_probs": "logits[:, :-1].float().log_softmax(dim=1)"}),
        # dtype, the graph, rows
        "log-softmax in the logits' dtype (bfloat16 kept)": LOGPS.format(
            **{**L_OK, "log_probs": "logits[:, :-1].log_softmax(dim=-1)"}),
        "log-softmax in bfloat16, converted afterwards": LOGPS.format(
            **{**L_OK, "log_probs": "logits[:, :-1].log_softmax(dim=-1).float()"}),
        "detached (no gradient for DPO)": LOGPS.format(
            **{**L_OK, "log_probs": "logits[:, :-1].detach().float().log_softmax(dim=-1)"}),
        "all rows summed together": LOGPS.format(
            **{**L_OK, "reduce": "(token_logps * completion_mask[:, 1:]).sum().reshape(1).expand(logits.size(0))"}),
        "computed under torch.no_grad": '''
def completion_logprobs(logits, input_ids, completion_mask):
    with torch.no_grad():
        log_probs = logits[:, :-1].float().log_softmax(dim=-1)
        token_logps = log_probs.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        return (token_logps * completion_mask[:, 1:]).sum(dim=-1)
''',
    },
    "dpo_loss": {
        "wrong sign of beta": DPO.format(**{**D_OK, "chosen": "-beta * (policy_chosen - ref_chosen)",
                                            "rejected": "-beta * (policy_rejected - ref_rejected)"}),
        "reference subtracted the wrong way": DPO.format(**{**D_OK, "chosen": "beta * (ref_chosen - policy_chosen)",
                                                            "rejected": "beta * (ref_rejected - policy_rejected)"}),
        "no reference model": DPO.format(**{**D_OK, "chosen": "beta * policy_chosen",
                                            "rejected": "beta * policy_rejected"}),
        "beta forgotten": DPO.format(**{**D_OK, "chosen": "policy_chosen - ref_chosen",
                                        "rejected": "policy_rejected - ref_rejected"}),
        "summed instead of averaged": DPO.format(
            **{**D_OK, "loss": "-F.logsigmoid(chosen_rewards - rejected_rewards).sum()"}),
        "chosen and rejected swapped": DPO.format(
            **{**D_OK, "loss": "-F.logsigmoid(rejected_rewards - chosen_rewards).mean()"}),
        "beta applied twice": DPO.format(
            **{**D_OK, "loss": "-F.logsigmoid(beta * (chosen_rewards - rejected_rewards)).mean()"}),
        "sigmoid without the log": DPO.format(
            **{**D_OK, "loss": "(1 - torch.sigmoid(chosen_rewards - rejected_rewards)).mean()"}),
        # the graph, rows, types
        "rewards detached before the loss": DPO.format(
            **{**D_OK, "chosen": "(beta * (policy_chosen - ref_chosen)).detach()",
               "rejected": "(beta * (policy_rejected - ref_rejected)).detach()"}),
        "mean margin inside the log-sigmoid": DPO.format(
            **{**D_OK, "loss": "-F.logsigmoid((chosen_rewards - rejected_rewards).mean())"}),
        "rewards returned as lists": DPO.format(
            **{**D_OK, "returned": "chosen_rewards.tolist(), rejected_rewards.tolist()"}),
        "loss as a Python float": DPO.format(
            **{**D_OK, "loss": "-F.logsigmoid(chosen_rewards - rejected_rewards).mean().item()"}),
    },
    "make_dpo_trainer": {
        "reference: a second copy of the model": SETUP.format(**{**S_OK, "build": (
            "import copy\n    return DPOTrainer(model=model, ref_model=copy.deepcopy(model), args=args,\n"
            "                      train_dataset=train_dataset, processing_class=tokenizer, peft_config=lora)")}),
        "adapter added by hand, no peft_config (TRL adds a 'ref' copy)": SETUP.format(**{**S_OK, "build": (
            "from peft import get_peft_model\n"
            "    return DPOTrainer(model=get_peft_model(model, lora), args=args, train_dataset=train_dataset,\n"
            "                      processing_class=tokenizer)")}),
        "beta and max_length left at TRL's defaults": SETUP.format(**{**S_OK, "dpo": "max_prompt_length=None"}).replace(
            "max_prompt_length=None, ", ""),
        "beta hard-coded 0.1": SETUP.format(**{**S_OK, "dpo": "beta=0.1, max_length=cfg.max_length"}),
        "use_cpu always on": SETUP.format(**{**S_OK, "device": "use_cpu=True, bf16=cfg.bf16, fp16=cfg.fp16"}),
        "precision left at TRL's default (bf16)": SETUP.format(**{**S_OK, "device": "use_cpu=on_cpu"}),
        "activation checkpointing left on (TRL's default)": SETUP.format(
            **{**S_OK, "checkpointing": "logging_first_step=False"}),
        "LoRA on q_proj and v_proj only": SETUP.format(**{**S_OK, "targets": '["q_proj", "v_proj"]'}),
        "lora_alpha = r": SETUP.format(**{**S_OK, "alpha": "cfg.lora_r"}),
        "batch of prompts times two (chosen and rejected)": SETUP.format(**{**S_OK, "batch": "2 * cfg.batch_size"}),
        "the notebook's global seed instead of cfg.seed": SETUP.format(**{**S_OK, "seed": "seed"}),
        "fp16 taken for bf16": SETUP.format(
            **{**S_OK, "device": "use_cpu=on_cpu, bf16=cfg.bf16 or cfg.fp16, fp16=False"}),
    },
}

CORRECT = {
    "completion_logprobs": {
        "cross-entropy per token, masked": '''
def completion_logprobs(logits, input_ids, completion_mask):
    B, T, V = logits.shape
    nll = F.cross_entropy(logits[:, :-1].float().reshape(-1, V), input_ids[:, 1:].reshape(-1), reduction="none")
    return -(nll.view(B, T - 1) * completion_mask[:, 1:].float()).sum(dim=1)
''',
        "logits minus logsumexp, then torch.where": '''
def completion_logprobs(logits, input_ids, completion_mask):
    x = logits.to(torch.float32)[:, :-1, :]
    picked = torch.take_along_dim(x, input_ids[:, 1:, None], dim=2)[..., 0] - torch.logsumexp(x, dim=-1)
    keep = completion_mask[:, 1:].bool()
    return torch.where(keep, picked, torch.zeros_like(picked)).sum(-1)
''',
    },
    "dpo_loss": {
        "margin first, softplus": '''
def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    chosen, rejected = beta * (policy_chosen - ref_chosen), beta * (policy_rejected - ref_rejected)
    logits = (policy_chosen - policy_rejected) - (ref_chosen - ref_rejected)
    return F.softplus(-beta * logits).mean(), chosen, rejected
''',
        "rewards detached for logging, loss from the log-ratios": '''
def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    chosen_logratio = policy_chosen - ref_chosen
    rejected_logratio = policy_rejected - ref_rejected
    loss = -torch.nn.functional.logsigmoid(beta * (chosen_logratio - rejected_logratio)).mean()
    return loss, (beta * chosen_logratio).detach(), (beta * rejected_logratio).detach()
''',
    },
    "make_dpo_trainer": {
        "deprecated gradient_checkpointing name, explicit target modules, keyword dict": '''
def make_dpo_trainer(model, tokenizer, train_dataset, cfg, output_dir):
    precision = {"bf16": cfg.bf16, "fp16": cfg.fp16, "use_cpu": cfg.device == "cpu"}
    args = DPOConfig(output_dir, beta=cfg.beta, max_length=cfg.max_length, max_steps=cfg.max_steps,
                     per_device_train_batch_size=cfg.batch_size, learning_rate=cfg.lr, lr_scheduler_type="cosine",
                     warmup_steps=0.1, seed=cfg.seed, logging_steps=1, save_strategy="no", report_to=[],
                     gradient_checkpointing=cfg.device != "cpu", **precision)
    linear = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    peft_config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_r * 2, lora_dropout=0.05, task_type="CAUSAL_LM",
                             target_modules=linear)
    trainer = DPOTrainer(model, args=args, processing_class=tokenizer, train_dataset=train_dataset,
                         peft_config=peft_config, ref_model=None)
    return trainer
''',
        "precision from cfg.dtype, warm-up as a step count": '''
def make_dpo_trainer(model, tokenizer, train_dataset, cfg, output_dir):
    gpu = cfg.device == "cuda"
    config = DPOConfig(output_dir=output_dir, beta=cfg["beta"], max_length=cfg["max_length"],
                       max_steps=cfg["max_steps"], per_device_train_batch_size=cfg["batch_size"],
                       learning_rate=cfg["lr"], lr_scheduler_type="cosine",
                       warmup_steps=max(1, round(0.1 * cfg["max_steps"])), seed=cfg["seed"], logging_steps=1,
                       save_strategy="no", report_to="none", use_cpu=not gpu,
                       bf16=gpu and cfg.dtype == torch.bfloat16, fp16=gpu and cfg.dtype == torch.float16,
                       activation_checkpointing=False)
    lora = LoraConfig(task_type="CAUSAL_LM", r=cfg.lora_r, lora_alpha=2 * cfg.lora_r, target_modules="all-linear")
    return DPOTrainer(model=model, args=config, train_dataset=train_dataset, processing_class=tokenizer,
                      peft_config=lora)
''',
    },
}
