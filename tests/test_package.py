"""Unit tests of the package's small modules: record, checks, plots; the solutions runner's environment."""
from __future__ import annotations

import json

import pytest
import torch

import airoadmap
from airoadmap import checks
from airoadmap import recording as record_mod


def test_record_writes_and_enforces_thresholds(tmp_path, monkeypatch):
    path = tmp_path / "m.jsonl"
    monkeypatch.setenv("AIROADMAP_RECORD", str(path))
    assert airoadmap.record("acc", 0.95, at_least=0.9) == 0.95
    with pytest.raises(airoadmap.QualityError, match="missed its threshold"):
        airoadmap.record("loss", 2.0, at_most=1.0)
    with pytest.raises(airoadmap.QualityError):
        airoadmap.record("nan", float("nan"))
    rows = record_mod.read_records(path)
    assert [r["name"] for r in rows] == ["acc", "loss", "nan"]
    assert [r["ok"] for r in rows] == [True, False, False]
    json.dumps(rows)


def test_checks_fail_with_useful_messages():
    checks.assert_shape(torch.zeros(2, 3), (2, 3))
    with pytest.raises(AssertionError, match=r"shape \(2, 3\), expected \(3, 2\)"):
        checks.assert_shape(torch.zeros(2, 3), (3, 2), "x")
    checks.assert_close(1.0, torch.tensor(1.0 + 1e-7))
    with pytest.raises(AssertionError, match="got 1.1, expected 1"):
        checks.assert_close(1.1, 1.0)
    with pytest.raises(AssertionError, match="NaN"):
        checks.assert_close(torch.tensor([float("nan")]), torch.tensor([0.0]))
    model = torch.nn.Linear(2, 2)
    before = checks.snapshot_params(model)
    with pytest.raises(AssertionError, match="did not change"):
        checks.assert_params_changed(model, before)
    with torch.no_grad():
        model.weight += 1
    with pytest.raises(AssertionError, match="did not change.*bias"):
        checks.assert_params_changed(model, before)
    with pytest.raises(AssertionError, match="changed"):
        checks.assert_params_unchanged(model, before)


def test_plots_return_figures(monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    from airoadmap import plots
    assert plots.plot_curves({"a": [3, 2, 1]}, show=False).axes
    assert plots.plot_confusion_matrix([[3, 1], [0, 4]], ["x", "y"], show=False).axes
    assert len(plots.show_images(torch.rand(5, 3, 8, 8), labels=list("abcde"), ncols=4, show=False).axes) == 8
    assert plots.plot_curves({"a": [1, 2]}) is None, "shown figures return None: Jupyter would display them twice"


def test_temporary_env_restores(monkeypatch):
    import os

    from airoadmap.tooling.solutions import temporary_env
    monkeypatch.setenv("AIROADMAP_A", "before")
    monkeypatch.delenv("AIROADMAP_B", raising=False)
    with temporary_env(AIROADMAP_A="x", AIROADMAP_B="y"):
        assert os.environ["AIROADMAP_A"] == "x" and os.environ["AIROADMAP_B"] == "y"
    assert os.environ["AIROADMAP_A"] == "before" and "AIROADMAP_B" not in os.environ
