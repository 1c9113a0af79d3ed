"""Unit tests of the package's core: profiles, start, record, checks, plots."""
from __future__ import annotations

import json

import pytest
import torch

import airoadmap
from airoadmap import checks, profiles, recording as record_mod


def test_resolve_profile_explicit_env_and_auto(monkeypatch):
    monkeypatch.delenv("AIROADMAP_PROFILE", raising=False)
    assert profiles.resolve_profile("cpu")[0] == "cpu"
    assert profiles.resolve_profile("GPU")[0] == "gpu"
    monkeypatch.setattr(profiles, "cuda_available", lambda: False)
    assert profiles.resolve_profile("auto") == ("cpu", "auto: no CUDA GPU found")
    monkeypatch.setattr(profiles, "cuda_available", lambda: True)
    assert profiles.resolve_profile("auto")[0] == "gpu"
    monkeypatch.setenv("AIROADMAP_PROFILE", "cpu")
    assert profiles.resolve_profile("auto") == ("cpu", "forced by AIROADMAP_PROFILE")
    assert profiles.resolve_profile("gpu")[0] == "gpu", "an explicit profile beats the environment"


@pytest.mark.parametrize("bad", ["tpu", "", "cuda"])
def test_bad_profiles_say_what_is_allowed(bad, monkeypatch):
    if bad == "":
        monkeypatch.setenv("AIROADMAP_PROFILE", "tpu")
    with pytest.raises(profiles.ProfileError, match="not one of"):
        profiles.resolve_profile(bad or "auto")


def test_sizes_overrides_and_unknown_keys():
    cfg = profiles.sizes("01-pytorch-fundamentals", "cpu", {"epochs": 3, "hidden": None})
    assert cfg.epochs == 3 and cfg.hidden == profiles.SIZES["01-pytorch-fundamentals"]["cpu"]["hidden"]
    with pytest.raises(profiles.ProfileError, match="no setting"):
        profiles.sizes("01-pytorch-fundamentals", "cpu", {"epoch": 3})
    with pytest.raises(profiles.ProfileError, match="no sizes"):
        profiles.sizes("99-nope", "cpu")
    with pytest.raises(AttributeError, match="known"):
        cfg.nonexistent


def test_start_seeds_and_reports(capsys, monkeypatch):
    monkeypatch.delenv("AIROADMAP_PROFILE", raising=False)
    cfg = airoadmap.start("01-pytorch-fundamentals", "cpu", seed=3)
    a = torch.rand(3)
    airoadmap.start("01-pytorch-fundamentals", "cpu", seed=3, quiet=True)
    assert torch.equal(a, torch.rand(3))
    assert cfg.device == "cpu" and cfg.profile == "cpu" and cfg.seed == 3
    assert "profile 'cpu'" in capsys.readouterr().out


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


def test_library_deprecations_are_quiet():
    """nbgrader fails a test cell that writes to stderr: a library's FutureWarning must not."""
    import warnings
    from airoadmap.run import quiet_library_deprecations
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_library_deprecations()
        warnings.warn("old argument", FutureWarning)
        warnings.warn("old module", DeprecationWarning)
        warnings.warn("a real problem", UserWarning)
    assert [str(w.message) for w in caught] == ["a real problem"]


def test_temporary_env_restores(monkeypatch):
    import os
    from airoadmap.execute import temporary_env
    monkeypatch.setenv("AIROADMAP_A", "before")
    monkeypatch.delenv("AIROADMAP_B", raising=False)
    with temporary_env(AIROADMAP_A="x", AIROADMAP_B="y"):
        assert os.environ["AIROADMAP_A"] == "x" and os.environ["AIROADMAP_B"] == "y"
    assert os.environ["AIROADMAP_A"] == "before" and "AIROADMAP_B" not in os.environ
