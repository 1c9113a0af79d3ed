"""Pictures the notebooks share: loss curves, confusion matrices, image grids, attention maps.

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


def _visible(token: str) -> str:
    """A tick label for a token: whitespace made visible (a space as ␣, a newline as ↵, a tab as →)."""
    return str(token).replace(" ", "␣").replace("\n", "↵").replace("\t", "→") or "∅"


def plot_attention(weights, tokens: Sequence[str], *, title: str = "attention", head_names: Sequence[str] | None = None,
                   show: bool = True):
    """Heatmap of attention weights: rows are queries (the attending position), columns keys.

    ``weights`` is ``(T, T)`` for one head or ``(H, T, T)`` for one panel per head (a tensor or an
    array); ``tokens`` labels the T positions. Used by 03 (a transformer from scratch).
    """
    import numpy as np
    plt = _plt()
    w = np.asarray(weights.detach().float().cpu() if hasattr(weights, "detach") else weights, dtype=float)
    if w.ndim == 2:
        w = w[None]
    if w.ndim != 3 or w.shape[1] != w.shape[2]:
        raise ValueError(f"weights should be (T, T) or (H, T, T), got shape {tuple(w.shape)}")
    if len(tokens) != w.shape[-1]:
        raise ValueError(f"{len(tokens)} tokens for {w.shape[-1]} positions")
    labels = [_visible(t) for t in tokens]
    n, size = w.shape[0], 1.5 + 0.22 * len(labels)
    fig, axes = plt.subplots(1, n, figsize=(size * n, size), squeeze=False)
    for h, ax in enumerate(axes[0]):
        image = ax.imshow(w[h], cmap="viridis", vmin=0.0, vmax=max(float(w[h].max()), 1e-8))
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set(xlabel="key (attended to)", ylabel="query (attending)" if h == 0 else "",
               title=head_names[h] if head_names else (f"head {h}" if n > 1 else title))
    fig.colorbar(image, ax=axes[0][-1], shrink=0.8)
    if n > 1 or head_names:
        fig.suptitle(title)
    return _finish(fig, show)


def plot_bars(values: Mapping[str, float], *, title: str = "", xlabel: str = "", fmt: str = "{:.3g}",
              highlight: Sequence[str] = (), tokens: bool = False, show: bool = True):
    """Horizontal bars, one per named value, top to bottom in the mapping's order, each annotated
    with ``fmt.format(value)``. Names in ``highlight`` get a second colour; ``tokens=True`` shows the
    names' whitespace (a space as ␣, a newline as ↵), for token strings. Negative values extend left
    of a zero line. Used by 05 (memory per dtype, next-token probabilities), 09 and 10 (rewards)."""
    plt = _plt()
    names, heights = [str(k) for k in values], [float(v) for v in values.values()]
    if not names:
        raise ValueError("plot_bars needs at least one value")
    fig, ax = plt.subplots(figsize=(6, 0.8 + 0.32 * len(names)))
    marked = {str(h) for h in highlight}
    colors = ["tab:orange" if n in marked else "tab:blue" for n in names]
    bars = ax.barh(range(len(names)), heights, color=colors)
    ax.set_yticks(range(len(names)), [_visible(n) for n in names] if tokens else names)
    ax.invert_yaxis()
    # the label sits at the bar's end, outside it (left of a negative bar)
    for bar, h in zip(bars, heights, strict=True):
        ax.text(h, bar.get_y() + bar.get_height() / 2, f" {fmt.format(h)} " if h >= 0 else f"{fmt.format(h)} ",
                va="center", ha="left" if h >= 0 else "right", fontsize=8)
    low, high = min(min(heights), 0.0), max(max(heights), 0.0)
    span = max(high - low, 1e-12)
    ax.set_xlim(low - 0.2 * span * (low < 0), high + 0.2 * span * (high > 0 or low == 0))
    if low < 0:
        ax.axvline(0, color="black", linewidth=0.8)
    ax.set(title=title, xlabel=xlabel)
    ax.grid(axis="x", alpha=0.3)
    return _finish(fig, show)

