"""Unit tests of ``airoadmap.plots.plot_attention`` (the attention heatmap of notebook 03)."""
from __future__ import annotations

import pytest
import torch


def test_plot_attention_one_head_and_many(monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    from airoadmap import plots
    weights = torch.tril(torch.rand(5, 5))
    weights = weights / weights.sum(-1, keepdim=True)
    fig = plots.plot_attention(weights, list("ab c\n"), title="one head", show=False)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "␣", "c", "↵"]
    assert ax.get_images()[0].get_array().shape == (5, 5)
    fig = plots.plot_attention(torch.stack([weights, weights.T]), list("abcde"), show=False)
    assert len(fig.axes) == 3, "one panel per head plus the colour bar"
    assert plots.plot_attention(weights.numpy(), list("abcde")) is None, "shown figures return None"


def test_plot_attention_rejects_mismatched_inputs():
    from airoadmap import plots
    with pytest.raises(ValueError, match="tokens"):
        plots.plot_attention(torch.rand(4, 4), list("abc"), show=False)
    with pytest.raises(ValueError, match="shape"):
        plots.plot_attention(torch.rand(4, 3), list("abcd"), show=False)
