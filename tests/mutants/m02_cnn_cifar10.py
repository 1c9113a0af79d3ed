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
ACC_OK = ("totals = matrix.sum(dim=1)\n"
          "    return torch.where(totals > 0, matrix.diag().float() / totals.clamp_min(1).float(), "
          "torch.zeros(len(totals)))")

MUTANTS = {
    "conv_output_size": {
        "padding counted once": CONV.format(expr="(size + padding - dilation * (kernel - 1) - 1) // stride + 1"),
        "no floor (true division)": CONV.format(expr="(size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1"),
        "off by one": CONV.format(expr="(size + 2 * padding - dilation * (kernel - 1)) // stride"),
        "dilation ignored": CONV.format(expr="(size + 2 * padding - kernel) // stride + 1"),
        "dilation times the whole kernel": CONV.format(expr="(size + 2 * padding - dilation * kernel) // stride + 1"),
        "rounds to nearest instead of down": CONV.format(
            expr="round((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1"),
        "rounds up (ceil division)": CONV.format(
            expr="-(-(size + 2 * padding - dilation * (kernel - 1) - 1) // stride) + 1"),
        "returns a float from math.floor of a float": CONV.format(
            expr="float(math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1)"),
    },
    "channel_stats": {
        "not scaled to [0, 1]": STATS.format(scale="", axes="(0, 1, 2)"),
        "statistics over the wrong axes": STATS.format(scale=" / 255.0", axes="(0, 1)"),
        "one number for all channels": STATS.format(scale=" / 255.0", axes="None").replace(
            "tuple(float(v) for v in x.mean(axis=None))", "(float(x.mean()),) * 3").replace(
            "tuple(float(v) for v in x.std(axis=None))", "(float(x.std()),) * 3"),
        "returns numpy arrays": STATS.format(scale=" / 255.0", axes="(0, 1, 2)").replace(
            "return tuple(float(v) for v in x.mean(axis=(0, 1, 2))), tuple(float(v) for v in x.std(axis=(0, 1, 2)))",
            "return x.mean(axis=(0, 1, 2)), x.std(axis=(0, 1, 2))"),
        "sample std (ddof=1)": STATS.format(scale=" / 255.0", axes="(0, 1, 2)").replace(
            "x.std(axis=(0, 1, 2))", "x.std(axis=(0, 1, 2), ddof=1)"),
        "channels-first axes": STATS.format(scale=" / 255.0", axes="(0, 2, 3)").replace(
            "x = images.astype(np.float64) / 255.0", "x = images.astype(np.float64)[..., None] / 255.0"),
        "float16 arithmetic": STATS.format(scale=" / 255.0", axes="(0, 1, 2)").replace("np.float64", "np.float16"),
    },
    "make_transforms": {
        "augmentation on the test set too": TF.format(train=AUG + "transforms.ToTensor(), norm",
                                                      test=AUG + "transforms.ToTensor(), norm"),
        "no augmentation": TF.format(train="transforms.ToTensor(), norm", test="transforms.ToTensor(), norm"),
        "no normalisation": TF.format(train=AUG + "transforms.ToTensor()", test="transforms.ToTensor()"),
        "flip only, no padded crop": TF.format(train="transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm",
                                                test="transforms.ToTensor(), norm"),
        "crop only, no flip": TF.format(train="transforms.RandomCrop(32, padding=4), transforms.ToTensor(), norm",
                                        test="transforms.ToTensor(), norm"),
        "vertical flip": TF.format(train="transforms.RandomCrop(32, padding=4), transforms.RandomVerticalFlip(), "
                                         "transforms.ToTensor(), norm", test="transforms.ToTensor(), norm"),
        "padding 2": TF.format(train=AUG.replace("padding=4", "padding=2") + "transforms.ToTensor(), norm",
                               test="transforms.ToTensor(), norm"),
        "reflect padding": TF.format(train=AUG.replace("padding=4", "padding=4, padding_mode='reflect'") +
                                     "transforms.ToTensor(), norm", test="transforms.ToTensor(), norm"),
        "train views not normalised": TF.format(train=AUG + "transforms.ToTensor()",
                                                test="transforms.ToTensor(), norm"),
        "random resized crop": TF.format(train="transforms.RandomResizedCrop(32, scale=(0.8, 1.0)), "
                                               "transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm",
                                         test="transforms.ToTensor(), norm"),
    },
    "SmallCNN": {
        "no padding": cnn(padding="0", flat="64 * 2 * 2"),
        "no pooling": cnn(pool="nn.Identity()", flat="64 * 32 * 32").replace("nn.Identity(), ", ""),
        "no dropout": cnn(dropout=""),
        "softmax output": cnn(forward="torch.softmax(self.classifier(self.features(x)), dim=1)"),
        "ignores num_classes": cnn(out="10"),
        "dropout 0.5": cnn(dropout="nn.Dropout(0.5),"),
        "dropout before the first Linear": cnn(dropout="").replace(
            "nn.Sequential(nn.Flatten(), nn.Linear", "nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear"),
        "average pooling": cnn(pool="nn.AvgPool2d(2)"),
        "GELU in the classifier": cnn().replace("nn.Linear(64 * 4 * 4, 128), nn.ReLU()",
                                                "nn.Linear(64 * 4 * 4, 128), nn.GELU()"),
        "squeezes the logits": cnn(forward="self.classifier(self.features(x)).squeeze()"),
    },
    "conv2d_cost": {
        "multiply-adds, not FLOPs": COST.format(params=P_OK, flops="c_in * kernel * kernel * c_out * h_out * w_out"),
        "bias always counted": COST.format(params="c_out * (c_in * kernel * kernel + 1)", flops=F_OK),
        "kernel not squared": COST.format(params="c_out * (c_in * kernel + (1 if bias else 0))",
                                          flops="2 * c_in * kernel * c_out * h_out * w_out"),
        "square output assumed (h_out twice)": COST.format(
            params=P_OK, flops="2 * c_in * kernel * kernel * c_out * h_out ** 2"),
        "bias additions counted": COST.format(params=P_OK, flops=F_OK + " + (c_out * h_out * w_out if bias else 0)"),
        "returns floats": COST.format(params=P_OK, flops="2.0 * c_in * kernel ** 2 * c_out * h_out * w_out"),
    },
    "warmup_cosine": {
        "warmup starts at 0": cos(warm="step / warmup_steps"),
        "decays over the whole run": cos(denominator="total_steps"),
        "linear decay": cos(decay="1.0 - progress"),
        "cosine without the half": cos(decay="math.cos(math.pi * progress)"),
        "no max(1, ...) guard": cos().replace("max(1, total_steps - warmup_steps)", "(total_steps - warmup_steps)"),
        "returns tensors": cos(decay="0.5 * (1.0 + torch.cos(torch.tensor(math.pi * progress)))"),
        "progress counted from step + 1": cos().replace("(step - warmup_steps)", "(step + 1 - warmup_steps)"),
        "decays to 0.1, not 0": cos(decay="0.1 + 0.45 * (1.0 + math.cos(math.pi * progress))"),
    },
    "confusion_matrix": {
        "transposed": CM.format(index="p, t", acc=ACC_OK),
        "accuracy over columns (precision)": CM.format(
            index="t, p", acc="totals = matrix.sum(dim=0)\n"
                              "    return matrix.diag().float() / totals.clamp_min(1).float()"),
        "NaN for empty classes": CM.format(index="t, p",
                                           acc="return matrix.diag().float() / matrix.sum(dim=1).float()"),
        "float counts": CM.format(index="t, p", acc=ACC_OK).replace(", dtype=torch.long)", ")"),
        "size from the data, not num_classes": CM.format(index="t, p", acc=ACC_OK).replace(
            "m = torch.zeros(num_classes, num_classes",
            "k = int(max(preds.max(), targets.max())) + 1\n    m = torch.zeros(k, k"),
        "per-class accuracy as a list": CM.format(
            index="t, p",
            acc="return [float(matrix[c, c]) / max(1, int(matrix[c].sum())) for c in range(len(matrix))]"),
        "empty classes count as fully right": CM.format(
            index="t, p", acc="totals = matrix.sum(dim=1)\n"
                              "    return torch.where(totals > 0, matrix.diag() / totals.clamp_min(1), "
                              "torch.ones(len(totals)))"),
    },
}


# Correct answers written differently from the solution: every test must pass them.
CORRECT = {
    "conv_output_size": {
        "math.floor of a true division": CONV.format(
            expr="math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1"),
        "effective kernel first": CONV.replace("    return {expr}",
                                               "    effective = dilation * (kernel - 1) + 1\n"
                                               "    return (size + 2 * padding - effective) // stride + 1"),
    },
    "channel_stats": {
        "torch with the population std": """
def channel_stats(images):
    x = torch.from_numpy(images).double().div(255).reshape(-1, 3)
    return tuple(x.mean(0).tolist()), tuple(x.std(0, correction=0).tolist())
""",
        "one channel at a time": """
def channel_stats(images):
    means, stds = [], []
    for c in range(images.shape[-1]):
        channel = images[..., c] / 255
        means.append(float(np.mean(channel)))
        stds.append(float(np.sqrt(np.mean((channel - channel.mean()) ** 2))))
    return tuple(means), tuple(stds)
""",
    },
    "make_transforms": {
        "crop and flip the tensor after ToTensor": TF.format(
            train="transforms.ToTensor(), transforms.RandomCrop(32, padding=4), "
                  "transforms.RandomHorizontalFlip(), norm",
            test="transforms.ToTensor(), norm"),
        "torchvision.transforms.v2": """
def make_transforms(mean, std):
    from torchvision.transforms import v2
    to_float = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]
    train = v2.Compose([v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip(), *to_float, v2.Normalize(mean, std)])
    test = v2.Compose([*to_float, v2.Normalize(mean, std)])
    return train, test
""",
    },
    "SmallCNN": {
        "max-pool before ReLU (they commute)": cnn().replace(
            "blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]",
            "blocks += [nn.Conv2d(c_in, c_out, kernel_size=3, padding='same'), nn.MaxPool2d(2, 2), nn.ReLU()]"),
        "every layer written out": """
class SmallCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(start_dim=1), nn.Linear(1024, 128), nn.ReLU(inplace=True),
                                        nn.Dropout(p=0.3), nn.Linear(128, num_classes))

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x)
""",
    },
    "conv2d_cost": {
        "math.prod and kernel ** 2": COST.format(params="c_out * c_in * kernel ** 2 + c_out * int(bias)",
                                                 flops="2 * math.prod((c_in, kernel, kernel, c_out, h_out, w_out))"),
        "multiply-adds doubled": """
def conv2d_cost(c_in, c_out, kernel, h_out, w_out, bias=True):
    weights = c_out * c_in * kernel * kernel
    macs = weights * h_out * w_out
    return weights + (c_out if bias else 0), 2 * macs
""",
    },
    "warmup_cosine": {
        "numpy cosine": cos(decay="float(0.5 * (1 + np.cos(np.pi * progress)))"),
        "min() for the warmup": """
def warmup_cosine(step, total_steps, warmup_steps):
    if warmup_steps and step < warmup_steps:
        return min(1.0, (step + 1) / warmup_steps)
    span = max(total_steps - warmup_steps, 1)
    return (1 + math.cos(math.pi * (step - warmup_steps) / span)) / 2
""",
    },
    "confusion_matrix": {
        "index_put_ with accumulate and nan_to_num": """
def confusion_matrix(preds, targets, num_classes):
    m = torch.zeros(num_classes, num_classes, dtype=torch.long)
    m.index_put_((targets.long(), preds.long()), torch.ones_like(targets, dtype=torch.long), accumulate=True)
    return m


def per_class_accuracy(matrix):
    return torch.nan_to_num(matrix.diagonal().double() / matrix.sum(1).double(), nan=0.0).float()
""",
        "one-hot outer products": """
def confusion_matrix(preds, targets, num_classes):
    t = F.one_hot(targets.long(), num_classes)
    p = F.one_hot(preds.long(), num_classes)
    return t.T @ p


def per_class_accuracy(matrix):
    totals = matrix.sum(dim=1, keepdim=True).float()
    out = torch.zeros(len(matrix))
    nonzero = totals[:, 0] > 0
    out[nonzero] = matrix.diag()[nonzero].float() / totals[nonzero, 0]
    return out
""",
    },
}
