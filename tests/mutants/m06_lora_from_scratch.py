"""Plausible wrong answers for 06-lora-from-scratch. Each must fail at least one test cell.

``MUTANTS[solution grade_id][description]`` is the whole replacement source of that cell;
``CORRECT[solution grade_id][description]`` holds right answers written differently from the
solution: they must pass every test cell.
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


LORA_ON_CPU = lora().replace(", device=w.device", "")

LORA_PLAIN_TENSORS = lora().replace(
    "self.lora_A = nn.Parameter(torch.empty(r, base.in_features, dtype=w.dtype, device=w.device))",
    "self.lora_A = torch.empty(r, base.in_features, dtype=w.dtype, device=w.device).requires_grad_()").replace(
    "self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, dtype=w.dtype, device=w.device))",
    "self.lora_B = torch.zeros(base.out_features, r, dtype=w.dtype, device=w.device).requires_grad_()").replace(
    "nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))",
    "with torch.no_grad():\n            nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))")
assert "requires_grad_()" in LORA_PLAIN_TENSORS

LORA_COPY = lora(freeze="self.base = copy.deepcopy(base)\n        " + FREEZE)

ADD_NO_TYPE_CHECK = add().replace(" and isinstance(child, nn.Linear)", "")

MERGE_NEW_ON_CPU = merge(make="merged = nn.Linear(base.in_features, base.out_features, bias=base.bias is not None)")

MERGE_CHILDREN_ONLY = merge().replace(
    "    for parent in list(model.modules()):\n        for child_name, child in list(parent.named_children()):",
    "    for parent in [model]:\n        for child_name, child in list(parent.named_children()):")
assert "for parent in [model]" in MERGE_CHILDREN_ONLY


MUTANTS = {
    "LoRALinear": {
        "B initialised randomly": lora(init=INIT + "\n        nn.init.normal_(self.lora_B)"),
        "scaling r / alpha": lora(scaling="r / alpha"),
        "base not frozen": lora(freeze="pass"),
        "no bias (x @ W.T only)": lora(
            forward="x @ self.base.weight.T + (self.dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scaling"),
        "dropout on the LoRA output": lora(
            forward="self.base(x) + self.dropout(x @ self.lora_A.T @ self.lora_B.T) * self.scaling"),
        "dropout on the base path too": lora(
            forward="self.base(self.dropout(x)) + (self.dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scaling"),
        "A from a standard normal": lora(init="nn.init.normal_(self.lora_A)"),
        "A and B in float32 whatever the base": lora(dtype="torch.float32"),
        "A and B on the CPU whatever the base's device": LORA_ON_CPU,
        "LoRA path through .data (no gradient reaches A and B)": lora(
            forward="self.base(x) + (self.dropout(x) @ self.lora_A.data.T @ self.lora_B.data.T) * self.scaling"),
        "A and B as plain tensors, not nn.Parameters": LORA_PLAIN_TENSORS,
        "wraps a copy of the base layer": LORA_COPY,
        "integer scaling alpha // r": lora(scaling="alpha // r"),
        "dropout also in eval mode": lora(
            forward="self.base(x) + (torch.nn.functional.dropout(x, self.dropout.p, training=True) "
                    "@ self.lora_A.T @ self.lora_B.T) * self.scaling"),
    },
    "add_lora": {
        "other weights left trainable": add(freeze_first="pass"),
        "every *_proj layer": add(match='child_name.endswith("proj")'),
        "only the first match": add(after="return replaced"),
        "freezes after wrapping (LoRA frozen too)": add(freeze_first="pass", freeze_last=FREEZE_ALL),
        "ignores r and alpha": add(args="dropout=dropout"),
        "ignores dropout": add(args="r=r, alpha=alpha"),
        "names sorted alphabetically": add().replace("    return replaced", "    return sorted(replaced)"),
        "matches names by suffix (kq_proj too)": add(match="any(child_name.endswith(t) for t in target_modules)"),
        "wraps any module with a target's name": ADD_NO_TYPE_CHECK,
        "a leading dot on top-level names": add().replace(
            'replaced.append(f"{parent_name}.{child_name}" if parent_name else child_name)',
            'replaced.append(f"{parent_name}.{child_name}")'),
    },
    "trainable_summary": {
        "fraction in percent": summary(fraction="100 * trainable / total"),
        "tied weights counted twice": summary(params="[p for _, p in model.named_parameters(remove_duplicate=False)]"),
        "total counts the frozen ones only": summary(total="sum(p.numel() for p in params if not p.requires_grad)"),
        "fraction rounded to 4 decimals": summary(fraction="round(trainable / total, 4)"),
        "buffers counted too": summary(
            total="sum(p.numel() for p in params) + sum(b.numel() for b in model.buffers())"),
        "state_dict counted (shared layers and buffers)": summary(
            total="sum(t.numel() for t in model.state_dict().values())"),
    },
    "merge_lora": {
        "forgets the scaling": merge(weight="base.weight + layer.lora_B @ layer.lora_A"),
        "A.T @ B.T (transposed)": merge(weight="base.weight + layer.scaling * (layer.lora_A.T @ layer.lora_B.T)"),
        "changes the LoRA layer's base in place": merge(
            make="merged = base", weight="base.weight + layer.scaling * (layer.lora_B @ layer.lora_A)", bias="pass"),
        "drops the bias": merge(bias="pass"),
        "merge_lora leaves the model as it was": merge(replace="merged_linear(child)"),
        "new layer on the CPU in float32, whatever the base": MERGE_NEW_ON_CPU,
        "adds the update to the base weight in place": merge(
            weight="base.weight.add_(layer.scaling * (layer.lora_B @ layer.lora_A))"),
        "merge_lora looks at the model's direct children only": MERGE_CHILDREN_ONLY,
    },
    "lora_config": {
        "lora_alpha = r": config('r=r, lora_alpha=r, lora_dropout=dropout, target_modules=["q_proj", "v_proj"], '
                                 'task_type="CAUSAL_LM"'),
        "query and key, not value": config('r=r, lora_alpha=alpha, lora_dropout=dropout, '
                                           'target_modules=["q_proj", "k_proj"], task_type="CAUSAL_LM"'),
        "all linear layers": config('r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules="all-linear", '
                                    'task_type="CAUSAL_LM"'),
        "rsLoRA scaling (alpha / sqrt(r))": config('r=r, lora_alpha=alpha, lora_dropout=dropout, use_rslora=True, '
                                                   'target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"'),
        "no dropout": config('r=r, lora_alpha=alpha, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"'),
        "no task type": config('r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["q_proj", "v_proj"]'),
        "lora_alpha = alpha / r (scaled twice)": config(
            'r=r, lora_alpha=alpha / r, lora_dropout=dropout, target_modules=["q_proj", "v_proj"], '
            'task_type="CAUSAL_LM"'),
        "biases trained too": config('r=r, lora_alpha=alpha, lora_dropout=dropout, '
                                     'target_modules=["q_proj", "v_proj"], bias="all", task_type="CAUSAL_LM"'),
        "B starts random (init_lora_weights=False)": config(
            'r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["q_proj", "v_proj"], '
            'init_lora_weights=False, task_type="CAUSAL_LM"'),
        "Gaussian A (init_lora_weights='gaussian')": config(
            'r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["q_proj", "v_proj"], '
            'init_lora_weights="gaussian", task_type="CAUSAL_LM"'),
        "DoRA": config('r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=["q_proj", "v_proj"], '
                       'use_dora=True, task_type="CAUSAL_LM"'),
    },
}


CORRECT = {
    "LoRALinear": {
        "B @ A folded per call, F.linear, factory kwargs": '''
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, r=8, alpha=16, dropout=0.0):
        super().__init__()
        self.base = base
        base.weight.requires_grad = False
        if base.bias is not None:
            base.bias.requires_grad = False
        kw = {"dtype": base.weight.dtype, "device": base.weight.device}
        self.lora_A = nn.Parameter(torch.zeros(r, base.in_features, **kw))
        nn.init.kaiming_uniform_(self.lora_A, a=5 ** 0.5)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, **kw))
        self.scaling = float(alpha) / r
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        return F.linear(x, self.base.weight, self.base.bias) + self.scaling * F.linear(
            F.linear(self.dropout(x), self.lora_A), self.lora_B)
''',
        "requires_grad_(False) on the module, new_empty and new_zeros": '''
class LoRALinear(nn.Module):
    def __init__(self, base, r=8, alpha=16, dropout=0.0):
        super().__init__()
        self.base = base.requires_grad_(False)
        out_features, in_features = base.weight.shape
        self.lora_A = nn.Parameter(base.weight.new_empty(r, in_features))
        self.lora_B = nn.Parameter(base.weight.new_zeros(out_features, r))
        torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / r
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        delta = self.dropout(x) @ self.lora_A.t()
        return self.base(x) + self.scaling * (delta @ self.lora_B.t())
''',
    },
    "add_lora": {
        "recursion over named_children with a prefix": '''
def add_lora(model, target_modules=("q_proj", "v_proj"), r=8, alpha=16, dropout=0.0):
    for p in model.parameters():
        p.requires_grad = False

    def visit(module, prefix):
        found = []
        for name, child in list(module.named_children()):
            full = f"{prefix}{name}"
            if isinstance(child, nn.Linear) and name in target_modules:
                setattr(module, name, LoRALinear(child, r=r, alpha=alpha, dropout=dropout))
                found.append(full)
            else:
                found += visit(child, full + ".")
        return found

    return visit(model, "")
''',
        "named_modules with rsplit and get_submodule": '''
def add_lora(model, target_modules=("q_proj", "v_proj"), r=8, alpha=16, dropout=0.0):
    model.requires_grad_(False)
    names = [name for name, module in model.named_modules()
             if isinstance(module, nn.Linear) and name.split(".")[-1] in target_modules]
    for name in names:
        parent_name, _, child_name = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child_name, LoRALinear(getattr(parent, child_name), r, alpha, dropout))
    return names
''',
    },
    "trainable_summary": {
        "map(numel) over filtered parameters": '''
def trainable_summary(model):
    params = list(model.parameters())
    trainable = sum(map(torch.numel, filter(lambda p: p.requires_grad, params)))
    total = sum(map(torch.numel, params))
    return {"trainable": int(trainable), "total": int(total), "fraction": float(trainable) / total}
''',
        "one pass, a dict comprehension at the end": '''
def trainable_summary(model):
    counts = {"trainable": 0, "total": 0}
    for p in model.parameters():
        counts["total"] += p.numel()
        if p.requires_grad:
            counts["trainable"] += p.numel()
    counts["fraction"] = counts["trainable"] / counts["total"]
    return counts
''',
    },
    "merge_lora": {
        "load_state_dict copy, in-place add on the copy, recursion": '''
def merged_linear(layer):
    out = nn.Linear(layer.base.in_features, layer.base.out_features, bias=layer.base.bias is not None,
                    device=layer.base.weight.device, dtype=layer.base.weight.dtype)
    out.load_state_dict(layer.base.state_dict())
    with torch.no_grad():
        out.weight += layer.scaling * layer.lora_B @ layer.lora_A
    return out


def merge_lora(model):
    merged = 0
    for name, child in list(model.named_children()):
        if isinstance(child, LoRALinear):
            setattr(model, name, merged_linear(child))
            merged += 1
        else:
            merged += merge_lora(child)
    return merged
''',
        "named_modules and get_submodule": '''
def merged_linear(layer):
    base = layer.base
    weight = base.weight.detach() + layer.scaling * (layer.lora_B.detach() @ layer.lora_A.detach())
    new = nn.Linear(base.in_features, base.out_features, bias=base.bias is not None).to(weight)
    new.weight = nn.Parameter(weight.clone())
    if base.bias is not None:
        new.bias = nn.Parameter(base.bias.detach().clone())
    return new


def merge_lora(model):
    names = [n for n, m in model.named_modules() if isinstance(m, LoRALinear)]
    for n in names:
        parent, _, child = n.rpartition(".")
        holder = model.get_submodule(parent)
        setattr(holder, child, merged_linear(getattr(holder, child)))
    return len(names)
''',
    },
    "lora_config": {
        "TaskType enum, a set of targets, bias spelled out": '''
from peft import TaskType


def lora_config(r, alpha, dropout):
    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules={"q_proj", "v_proj"},
                      bias="none", task_type=TaskType.CAUSAL_LM)
''',
        "keywords in another order, a tuple of targets": '''
def lora_config(r, alpha, dropout):
    return LoraConfig(task_type="CAUSAL_LM", target_modules=("q_proj", "v_proj"), lora_dropout=dropout,
                      lora_alpha=alpha, r=r)
''',
    },
}
