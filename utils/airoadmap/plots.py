"""Pictures the notebooks share: loss curves, confusion matrices, image grids.

Each function draws on a new matplotlib figure and shows it (returning nothing, so Jupyter does
not display it twice); pass ``show=False`` to get the figure back instead, e.g. in tests.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence


def _finish(fig, show: bool):
    import matplotlib.pyplot as plt
    fig.tight_layout()
    if not show:
        return fig
    plt.show()
    return None


def _plt():
    import matplotlib.pyplot as plt
    return plt


def plot_curves(curves: Mapping[str, Sequence[float]], *, title: str = "", xlabel: str = "step",
                ylabel: str = "loss", logy: bool = False, show: bool = True):
    """One line per named series, e.g. ``{"train loss": [...], "val loss": [...]}``."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, values in curves.items():
        values = list(values)
        ax.plot(range(1, len(values) + 1), values, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(fig, show)


def plot_confusion_matrix(matrix, class_names: Sequence[str], *, title: str = "confusion matrix", show: bool = True):
    """Rows are true classes, columns predicted; each cell is annotated with its count."""
    import numpy as np
    plt = _plt()
    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(1 + 0.5 * len(class_names), 1 + 0.45 * len(class_names)))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, int(m[i, j]), ha="center", va="center",
                    color="white" if m[i, j] > m.max() / 2 else "black", fontsize=8)
    ax.set(title=title, xlabel="predicted", ylabel="true")
    return _finish(fig, show)


def show_images(images, labels: Sequence[str] | None = None, *, ncols: int = 8, cmap: str | None = None,
                title: str = "", show: bool = True):
    """A grid of images: tensors or arrays shaped (H, W), (1, H, W) or (3, H, W)."""
    import numpy as np
    plt = _plt()
    n = len(images)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.3 * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        img = np.asarray(images[k].detach().cpu() if hasattr(images[k], "detach") else images[k], dtype=float)
        if img.ndim == 3 and img.shape[0] in (1, 3):
            img = img.transpose(1, 2, 0)
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[..., 0]
        lo, hi = img.min(), img.max()
        img = (img - lo) / (hi - lo + 1e-8)
        ax.imshow(img, cmap=cmap or ("gray" if img.ndim == 2 else None))
        if labels is not None:
            ax.set_title(str(labels[k]), fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig, show)
