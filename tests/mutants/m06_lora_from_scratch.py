"""Plausible wrong answers for 06-lora-from-scratch. Each must fail at least one test cell.

``MUTANTS[solution grade_id][description]`` is the whole replacement source of that cell.
"""

LORA = '''
class LoRALinear(nn.Module):
    def __init__(self, base, r=8, alpha=16, dropout=0.0):
        super().__init__()
        self.base = base
        {freeze}
        w = base.weight
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, dtype={dtype}, device=w.device))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, dtype={dtype}, device=w.device))
        {init}
        self.scaling = {scaling}
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return {forward}
'''
FREEZE = "for p in self.base.parameters():\n            p.requires_grad_(False)"
INIT = "nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))"
FORWARD = "self.base(x) + (self.dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scaling"


def lora(freeze=FREEZE, dtype="w.dtype", init=INIT, scaling="alpha / r", forward=FORWARD):
    return LORA.format(freeze=freeze, dtype=dtype, init=init, scaling=scaling, forward=forward)


ADD = '''
def add_lora(model, target_modules=("q_proj", "v_proj"), r=8, alpha=16, dropout=0.0):
    {freeze_first}
    replaced = []
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            if {match} and isinstance(child, nn.Linear):
                setattr(parent, child_name, LoRALinear(child, {args}))
                replaced.append(f"{{parent_name}}.{{child_name}}" if parent_name else child_name)
                {after}
    {freeze_last}
    return replaced
'''
FREEZE_ALL = "for p in model.parameters():\n        p.requires_grad_(False)"


def add(freeze_first=FREEZE_ALL, match="child_name in target_modules", args="r=r, alpha=alpha, dropout=dropout",
        after="pass", freeze_last="pass"):
    return ADD.format(freeze_first=freeze_first, match=match, args=args, after=after, freeze_last=freeze_last)


SUMMARY = '''
def trainable_summary(model):
    params = {params}
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = {total}
    return {{"trainable": trainable, "total": total, "fraction": {fraction}}}
'''


def summary(params="list(model.parameters())", total="sum(p.numel() for p in params)", fraction="trainable / total"):
    return SUMMARY.format(params=params, total=total, fraction=fraction)


MERGE = '''
def merged_linear(layer):
    base = layer.base
    {make}
    with torch.no_grad():
        merged.weight.copy_({weight})
        {bias}
    return merged


def merge_lora(model):
    count = 0
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, LoRALinear):
                {replace}
                count += 1
    return count
'''
MAKE = ("merged = nn.Linear(base.in_features, base.out_features, bias=base.bias is not None,\n"
        "                       dtype=base.weight.dtype, device=base.weight.device)")
BIAS = "if base.bias is not None:\n            merged.bias.copy_(base.bias)"


def merge(make=MAKE, weight="base.weight + layer.scaling * (layer.lora_B @ layer.lora_A)", bias=BIAS,
          replace="setattr(parent, child_name, merged_linear(child))"):
    return MERGE.format(make=make, weight=weight, bias=bias, replace=replace)


CONFIG = '''
def lora_config(r, alpha, dropout):
    return LoraConfig({args})
'''


def config(args='r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["q_proj", "v_proj"], bias="none", '
                'task_type="CAUSAL_LM"'):
    return CONFIG.format(args=args)


MUTANTS = {
    "LoRALinear": {
        "B initialised randomly": lora(init=INIT + "\n        nn.init.normal_(self.lora_B)"),
        "scaling r / alpha": lora(scaling="r / alpha"),
        "base not frozen": lora(freeze="pass"),
        "no bias (x @ W.T only)": lora(forward="x @ self.base.weight.T + (self.dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scaling"),
        "dropout on the LoRA output": lora(forward="self.base(x) + self.dropout(x @ self.lora_A.T @ self.lora_B.T) * self.scaling"),
        "dropout on the base path too": lora(forward="self.base(self.dropout(x)) + (self.dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scaling"),
        "A from a standard normal": lora(init="nn.init.normal_(self.lora_A)"),
        "A and B in float32 whatever the base": lora(dtype="torch.float32"),
    },
    "add_lora": {
        "other weights left trainable": add(freeze_first="pass"),
        "every *_proj layer": add(match='child_name.endswith("proj")'),
        "only the first match": add(after="return replaced"),
        "freezes after wrapping (LoRA frozen too)": add(freeze_first="pass", freeze_last=FREEZE_ALL),
        "ignores r and alpha": add(args="dropout=dropout"),
        "ignores dropout": add(args="r=r, alpha=alpha"),
    },
    "trainable_summary": {
        "fraction in percent": summary(fraction="100 * trainable / total"),
        "tied weights counted twice": summary(params="[p for _, p in model.named_parameters(remove_duplicate=False)]"),
        "total counts the frozen ones only": summary(total="sum(p.numel() for p in params if not p.requires_grad)"),
    },
    "merge_lora": {
        "forgets the scaling": merge(weight="base.weight + layer.lora_B @ layer.lora_A"),
        "A.T @ B.T (transposed)": merge(weight="base.weight + layer.scaling * (layer.lora_A.T @ layer.lora_B.T)"),
        "changes the LoRA layer's base in place": merge(
            make="merged = base", weight="base.weight + layer.scaling * (layer.lora_B @ layer.lora_A)", bias="pass"),
        "drops the bias": merge(bias="pass"),
        "merge_lora leaves the model as it was": merge(replace="merged_linear(child)"),
    },
    "lora_config": {
        "lora_alpha = r": config('r=r, lora_alpha=r, lora_dropout=dropout, target_modules=["q_proj", "v_proj"], '
                                 'task_type="CAUSAL_LM"'),
        "query and key, not value": config('r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["q_proj", "k_proj"], '
                                           'task_type="CAUSAL_LM"'),
        "all linear layers": config('r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules="all-linear", '
                                    'task_type="CAUSAL_LM"'),
        "rsLoRA scaling (alpha / sqrt(r))": config('r=r, lora_alpha=alpha, lora_dropout=dropout, use_rslora=True, '
                                                   'target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"'),
        "no dropout": config('r=r, lora_alpha=alpha, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"'),
        "no task type": config('r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["q_proj", "v_proj"]'),
    },
}
