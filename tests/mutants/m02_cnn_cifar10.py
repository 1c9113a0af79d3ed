"""Plausible wrong answers for 02-cnn-cifar10. Each must fail at least one test cell."""

CONV = '''
def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    return {expr}
'''

STATS = '''
def channel_stats(images):
    x = images.astype(np.float64){scale}
    return tuple(float(v) for v in x.mean(axis={axes})), tuple(float(v) for v in x.std(axis={axes}))
'''

TF = '''
def make_transforms(mean, std):
    norm = transforms.Normalize(mean, std)
    train = transforms.Compose([{train}])
    test = transforms.Compose([{test}])
    return train, test
'''
AUG = "transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), "

CNN = '''
class SmallCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        blocks = []
        for c_in, c_out in [(3, 16), (16, 32), (32, 64)]:
            blocks += [nn.Conv2d(c_in, c_out, 3, padding={padding}), nn.ReLU(), {pool}]
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear({flat}, 128), nn.ReLU(), {dropout}
                                        nn.Linear(128, {out}))

    def forward(self, x):
        return {forward}
'''


def cnn(padding="1", pool="nn.MaxPool2d(2)", flat="64 * 4 * 4", dropout="nn.Dropout(0.3),", out="num_classes",
        forward="self.classifier(self.features(x))"):
    return CNN.format(padding=padding, pool=pool, flat=flat, dropout=dropout, out=out, forward=forward)


COST = '''
def conv2d_cost(c_in, c_out, kernel, h_out, w_out, bias=True):
    return {params}, {flops}
'''
P_OK = "c_out * (c_in * kernel * kernel + (1 if bias else 0))"
F_OK = "2 * c_in * kernel * kernel * c_out * h_out * w_out"

COS = '''
def warmup_cosine(step, total_steps, warmup_steps):
    if step < warmup_steps:
        return {warm}
    progress = (step - warmup_steps) / max(1, {denominator})
    return {decay}
'''


def cos(warm="(step + 1) / warmup_steps", denominator="total_steps - warmup_steps",
        decay="0.5 * (1.0 + math.cos(math.pi * progress))"):
    return COS.format(warm=warm, denominator=denominator, decay=decay)


CM = '''
def confusion_matrix(preds, targets, num_classes):
    m = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for t, p in zip(targets.tolist(), preds.tolist()):
        m[{index}] += 1
    return m


def per_class_accuracy(matrix):
    {acc}
'''
ACC_OK = ("totals = matrix.sum(dim=1)\n    return torch.where(totals > 0, matrix.diag().float() / totals.clamp_min(1).float(), "
          "torch.zeros(len(totals)))")

MUTANTS = {
    "conv_output_size": {
        "padding counted once": CONV.format(expr="(size + padding - dilation * (kernel - 1) - 1) // stride + 1"),
        "no floor (true division)": CONV.format(expr="(size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1"),
        "off by one": CONV.format(expr="(size + 2 * padding - dilation * (kernel - 1)) // stride"),
        "dilation ignored": CONV.format(expr="(size + 2 * padding - kernel) // stride + 1"),
    },
    "channel_stats": {
        "not scaled to [0, 1]": STATS.format(scale="", axes="(0, 1, 2)"),
        "statistics over the wrong axes": STATS.format(scale=" / 255.0", axes="(0, 1)"),
        "one number for all channels": STATS.format(scale=" / 255.0", axes="None").replace(
            "tuple(float(v) for v in x.mean(axis=None))", "(float(x.mean()),) * 3").replace(
            "tuple(float(v) for v in x.std(axis=None))", "(float(x.std()),) * 3"),
    },
    "make_transforms": {
        "augmentation on the test set too": TF.format(train=AUG + "transforms.ToTensor(), norm", test=AUG + "transforms.ToTensor(), norm"),
        "no augmentation": TF.format(train="transforms.ToTensor(), norm", test="transforms.ToTensor(), norm"),
        "no normalisation": TF.format(train=AUG + "transforms.ToTensor()", test="transforms.ToTensor()"),
        "flip only, no padded crop": TF.format(train="transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm",
                                                test="transforms.ToTensor(), norm"),
    },
    "SmallCNN": {
        "no padding": cnn(padding="0", flat="64 * 2 * 2"),
        "no pooling": cnn(pool="nn.Identity()", flat="64 * 32 * 32").replace("nn.Identity(), ", ""),
        "no dropout": cnn(dropout=""),
        "softmax output": cnn(forward="torch.softmax(self.classifier(self.features(x)), dim=1)"),
        "ignores num_classes": cnn(out="10"),
    },
    "conv2d_cost": {
        "multiply-adds, not FLOPs": COST.format(params=P_OK, flops="c_in * kernel * kernel * c_out * h_out * w_out"),
        "bias always counted": COST.format(params="c_out * (c_in * kernel * kernel + 1)", flops=F_OK),
        "kernel not squared": COST.format(params="c_out * (c_in * kernel + (1 if bias else 0))",
                                          flops="2 * c_in * kernel * c_out * h_out * w_out"),
    },
    "warmup_cosine": {
        "warmup starts at 0": cos(warm="step / warmup_steps"),
        "decays over the whole run": cos(denominator="total_steps"),
        "linear decay": cos(decay="1.0 - progress"),
        "cosine without the half": cos(decay="math.cos(math.pi * progress)"),
    },
    "confusion_matrix": {
        "transposed": CM.format(index="p, t", acc=ACC_OK),
        "accuracy over columns (precision)": CM.format(
            index="t, p", acc="totals = matrix.sum(dim=0)\n    return matrix.diag().float() / totals.clamp_min(1).float()"),
        "NaN for empty classes": CM.format(index="t, p", acc="return matrix.diag().float() / matrix.sum(dim=1).float()"),
    },
}
