"""Confidence intervals for scores measured on a few held-out examples.

08, 10, 11 and 12 compare models on 8-60 held-out tickets or pairs: a difference of 0.02 on 8
tickets is noise. ``bootstrap_ci`` gives a score's mean with a percentile-bootstrap interval;
``paired_bootstrap_ci`` does the same for the difference of two models scored on the *same*
examples (resampling examples, not models, keeps the pairing)::

    mean, low, high = bootstrap_ci(rewards_after)
    diff, low, high = paired_bootstrap_ci(rewards_after, rewards_before)
    print("within noise" if low <= 0 <= high else "a real difference")

NumPy only, seeded, no progress bars. Checked against ``scipy.stats.bootstrap`` in the tests.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_CHUNK = 4_000_000  # resampled values held in memory at once


def bootstrap_ci(values: Sequence[float], confidence: float = 0.95, n_resamples: int = 10_000,
                 seed: int = 0) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean of ``values`` and its percentile-bootstrap ``confidence`` interval.

    Draws ``n_resamples`` samples of ``len(values)`` values with replacement (a NumPy generator seeded
    with ``seed``, so the interval is reproducible) and takes the ``(1 - confidence) / 2`` and
    ``(1 + confidence) / 2`` quantiles of their means. One value gives a zero-width interval.
    """
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one value.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence} must be between 0 and 1.")
    if n_resamples < 1:
        raise ValueError(f"n_resamples={n_resamples} must be at least 1.")
    rng = np.random.default_rng(seed)
    rows = max(1, _CHUNK // x.size)
    means = np.concatenate([x[rng.integers(0, x.size, size=(min(rows, n_resamples - start), x.size))].mean(axis=1)
                            for start in range(0, n_resamples, rows)])
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(x.mean()), float(low), float(high)


def paired_bootstrap_ci(a: Sequence[float], b: Sequence[float], confidence: float = 0.95, n_resamples: int = 10_000,
                        seed: int = 0) -> tuple[float, float, float]:
    """``(mean difference, low, high)`` of ``a - b`` for scores of two models on the same examples
    (``a[i]`` and ``b[i]`` score example ``i``). An interval that contains 0 means the data cannot
    tell the two apart."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired scores need one value per example in each: got {a.size} and {b.size}.")
    return bootstrap_ci(a - b, confidence=confidence, n_resamples=n_resamples, seed=seed)
