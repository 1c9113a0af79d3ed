"""Unit tests of ``airoadmap.plots.plot_bars`` (memory per dtype, probabilities, rewards)."""
from __future__ import annotations

import pytest


def test_plot_bars_order_labels_and_highlight():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.colors import to_hex

    from airoadmap import plots
    fig = plots.plot_bars({"float32": 4.0, "bfloat16": 2.0, "int 4": 0.5}, xlabel="GB", highlight=["bfloat16"],
                          show=False)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["float32", "bfloat16", "int 4"]
    widths = [p.get_width() for p in ax.patches]
    assert widths == [4.0, 2.0, 0.5]
    colours = [to_hex(p.get_facecolor()) for p in ax.patches]
    assert colours[1] != colours[0] == colours[2], "highlighted names get their own colour"
    assert [t.get_text().strip() for t in ax.texts] == ["4", "2", "0.5"]
    tokens = plots.plot_bars({" the": 0.6, "\n": 0.3}, tokens=True, show=False)
    assert [t.get_text() for t in tokens.axes[0].get_yticklabels()] == ["␣the", "↵"], "tokens show their whitespace"
    assert plots.plot_bars({"a": 1}) is None, "shown figures return None"


def test_plot_bars_rejects_nothing_to_plot():
    from airoadmap import plots
    with pytest.raises(ValueError, match="at least one"):
        plots.plot_bars({}, show=False)


def test_plot_bars_shows_negative_values_left_of_zero():
    import matplotlib
    matplotlib.use("Agg")

    from airoadmap import plots
    fig = plots.plot_bars({"right": 2.7, "chatty": -2.5, "not JSON": -6.5}, show=False)
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    assert low < -6.5 and high > 2.7, "every bar must be inside the axes"
    labels = {t.get_text().strip(): t.get_position()[0] for t in ax.texts}
    assert labels["-6.5"] == -6.5 and labels["2.7"] == 2.7, "each label sits at its bar's end"
