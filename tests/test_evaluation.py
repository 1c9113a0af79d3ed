"""``airoadmap.evaluation``: percentile-bootstrap intervals, checked against scipy.stats.bootstrap
(where scipy is installed) and against fixed-seed reference values (always)."""
from __future__ import annotations

import numpy as np
import pytest

from airoadmap.evaluation import bootstrap_ci, paired_bootstrap_ci

REWARDS = [0.2, 0.6, 0.6, 1.0, 0.7, 0.3, 0.9, 0.6]  # 8 held-out tickets, as in 08


def test_fixed_seed_reference_values():
    assert bootstrap_ci(REWARDS) == pytest.approx((0.6125, 0.4375, 0.7875), abs=1e-12)
    assert paired_bootstrap_ci([1, 0, 1, 1, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0, 1, 1]) == \
        pytest.approx((0.25, 0.0, 0.5), abs=1e-12)
    assert bootstrap_ci(REWARDS, seed=0) == bootstrap_ci(REWARDS, seed=0), "seeded: the same interval every run"


@pytest.mark.parametrize("n,confidence", [(8, 0.95), (60, 0.95), (40, 0.9)])
def test_agrees_with_scipy(n, confidence):
    stats = pytest.importorskip("scipy.stats")
    values = np.random.default_rng(n).normal(0.5, 0.3, size=n)
    mean, low, high = bootstrap_ci(values, confidence=confidence, n_resamples=20_000)
    ref = stats.bootstrap((values,), np.mean, n_resamples=20_000, confidence_level=confidence, method="percentile",
                          random_state=np.random.default_rng(1)).confidence_interval
    width = ref.high - ref.low
    assert mean == pytest.approx(values.mean())
    assert low == pytest.approx(ref.low, abs=0.03 * width) and high == pytest.approx(ref.high, abs=0.03 * width), \
        "the two bootstraps draw different resamples: they agree within Monte Carlo error"


def test_paired_is_the_bootstrap_of_the_differences_and_keeps_the_pairing():
    rng = np.random.default_rng(0)
    base = rng.uniform(size=30)
    a, b = base + 0.05, base  # a is better on every example by 0.05, with large spread between examples
    diff, low, high = paired_bootstrap_ci(a, b)
    assert diff == pytest.approx(0.05) and low == pytest.approx(0.05) and high == pytest.approx(0.05)
    _, low_a, high_a = bootstrap_ci(a)
    assert high_a - low_a > 0.1, "unpaired, the same data cannot tell the two apart"
    assert paired_bootstrap_ci(a, b, seed=3) == bootstrap_ci(np.asarray(a) - np.asarray(b), seed=3)


def test_edge_cases():
    assert bootstrap_ci([0.7]) == (0.7, 0.7, 0.7)
    with pytest.raises(ValueError, match="at least one"):
        bootstrap_ci([])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(REWARDS, confidence=95)
    with pytest.raises(ValueError, match="one value per example"):
        paired_bootstrap_ci([1, 2], [1])
    mean, low, high = bootstrap_ci(list(range(100)), n_resamples=3)
    assert low <= high and mean == 49.5


def test_large_inputs_are_resampled_in_chunks(monkeypatch):
    from airoadmap import evaluation

    values = np.random.default_rng(2).uniform(size=500)
    whole = bootstrap_ci(values)
    monkeypatch.setattr(evaluation, "_CHUNK", 500 * 7)  # 7 resamples at a time
    chunked = bootstrap_ci(values)
    assert chunked == pytest.approx(whole, abs=0.01)
