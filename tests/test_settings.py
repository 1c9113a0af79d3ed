"""``airoadmap.settings``: the profile, device and dtype decided once; sizes; start; loaders refuse a
profile name. The GPU is faked (monkeypatch): the policy is checked on a machine without one."""
from __future__ import annotations

import pytest
import torch

import airoadmap
from airoadmap import settings


def test_resolve_profile_explicit_env_and_auto(monkeypatch):
    monkeypatch.delenv("AIROADMAP_PROFILE", raising=False)
    assert settings.resolve_profile("cpu")[0] == "cpu"
    assert settings.resolve_profile("GPU")[0] == "gpu"
    monkeypatch.setattr(settings, "cuda_available", lambda: False)
    assert settings.resolve_profile("auto") == ("cpu", "auto: no CUDA GPU found")
    monkeypatch.setattr(settings, "cuda_available", lambda: True)
    assert settings.resolve_profile("auto")[0] == "gpu"
    monkeypatch.setenv("AIROADMAP_PROFILE", "cpu")
    assert settings.resolve_profile("auto") == ("cpu", "forced by AIROADMAP_PROFILE")
    assert settings.resolve_profile("gpu")[0] == "gpu", "an explicit profile beats the environment"


@pytest.mark.parametrize("bad", ["tpu", "", "cuda"])
def test_bad_profiles_say_what_is_allowed(bad, monkeypatch):
    if bad == "":
        monkeypatch.setenv("AIROADMAP_PROFILE", "tpu")
    with pytest.raises(settings.ProfileError, match="not one of"):
        settings.resolve_profile(bad or "auto")


def test_sizes_overrides_and_unknown_keys():
    cfg = settings.sizes("01-pytorch-fundamentals", "cpu", {"epochs": 3, "hidden": None})
    assert cfg.epochs == 3 and cfg.hidden == settings.SIZES["01-pytorch-fundamentals"]["cpu"]["hidden"]
    with pytest.raises(settings.ProfileError, match="no setting"):
        settings.sizes("01-pytorch-fundamentals", "cpu", {"epoch": 3})
    with pytest.raises(settings.ProfileError, match="no sizes"):
        settings.sizes("99-nope", "cpu")
    with pytest.raises(AttributeError, match="known"):
        _ = cfg.nonexistent


def fake_gpu(monkeypatch, capability):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)


@pytest.mark.parametrize("capability,dtype,bf16,fp16", [
    ((7, 5), torch.float16, False, True),    # T4: bfloat16 would be emulated
    ((8, 0), torch.bfloat16, True, False),   # A100
    ((8, 9), torch.bfloat16, True, False),   # L4
    ((9, 0), torch.bfloat16, True, False),   # H100
])
def test_dtype_on_a_gpu_is_bfloat16_only_where_native(monkeypatch, capability, dtype, bf16, fp16):
    fake_gpu(monkeypatch, capability)
    cfg = settings.for_notebook("07-sft-with-trl", "gpu")
    assert (cfg.device, cfg.dtype, cfg.bf16, cfg.fp16) == ("cuda", dtype, bf16, fp16)


def test_cpu_is_float32_and_a_sizes_dtype_overrides(monkeypatch):
    cfg = settings.for_notebook("07-sft-with-trl", "cpu")
    assert (cfg.device, cfg.dtype, cfg.bf16, cfg.fp16) == ("cpu", torch.float32, False, False)
    fake_gpu(monkeypatch, (9, 0))
    for slug in ("05-transformers-essentials", "06-lora-from-scratch"):
        cfg = settings.for_notebook(slug, "gpu")
        assert (cfg.device, cfg.dtype, cfg.bf16, cfg.fp16) == ("cuda", torch.float32, False, False), slug
    with pytest.raises(settings.ProfileError, match="dtype"):
        settings.dtype_for("cuda", "float8")


def test_gpu_profile_without_a_gpu_runs_on_the_cpu(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cfg = airoadmap.start("01-pytorch-fundamentals", "gpu", quiet=True)
    assert (cfg.profile, cfg.device, cfg.dtype) == ("gpu", "cpu", torch.float32)
    assert "no CUDA GPU is visible" in capsys.readouterr().out


def test_settings_hold_what_was_decided():
    cfg = settings.for_notebook("10-reward-modelling", "cpu", seed=4, max_steps=2)
    assert {"notebook", "profile", "device", "dtype", "bf16", "fp16", "seed", "threads"} <= set(cfg)
    assert cfg.notebook == "10-reward-modelling" and cfg.seed == 4 and cfg.max_steps == 2 and cfg.threads >= 1


def test_start_seeds_and_reports(capsys, monkeypatch):
    monkeypatch.delenv("AIROADMAP_PROFILE", raising=False)
    cfg = airoadmap.start("01-pytorch-fundamentals", "cpu", seed=3)
    a = torch.rand(3)
    airoadmap.start("01-pytorch-fundamentals", "cpu", seed=3, quiet=True)
    assert torch.equal(a, torch.rand(3))
    assert cfg.device == "cpu" and cfg.profile == "cpu" and cfg.seed == 3
    out = capsys.readouterr().out
    assert "profile 'cpu'" in out and "dtype float32" in out and "bf16" not in out.split("settings:")[1]


def test_for_notebook_neither_prints_nor_seeds(capsys):
    torch.manual_seed(5)
    a = torch.rand(2)
    torch.manual_seed(5)
    settings.for_notebook("01-pytorch-fundamentals", "cpu", seed=3)
    assert torch.equal(a, torch.rand(2)) and capsys.readouterr().out == ""


@pytest.mark.parametrize("call", [
    lambda m: m.load_causal_lm("smollm2-135m-instruct", "cpu"),
    lambda m: m.load_reward_model("smollm2-135m-instruct", "cpu"),
    lambda m: m.load_tokenizer("smollm2-135m-instruct", "cpu"),
    lambda m: m.load_encoder("minilm", "gpu", task="classification", num_labels=2),
])
def test_loaders_take_settings_not_a_profile_name(call):
    from airoadmap import models
    with pytest.raises(TypeError, match="settings from airoadmap.start"):
        call(models)


def test_other_loaders_take_settings_too():
    from airoadmap import adapters, cifar
    from airoadmap.data import load_sft  # noqa: F401  (data loaders need no settings)
    with pytest.raises(TypeError, match="settings from airoadmap.start"):
        cifar.load_cifar10(None, "cpu")
    with pytest.raises(TypeError, match="settings from airoadmap.start"):
        adapters.load_triage_sft("cpu")


def test_library_deprecations_are_quiet():
    """nbgrader fails a test cell that writes to stderr: a library's FutureWarning must not."""
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings.quiet_library_deprecations()
        warnings.warn("old argument", FutureWarning, stacklevel=1)
        warnings.warn("old module", DeprecationWarning, stacklevel=1)
        warnings.warn("a real problem", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["a real problem"]
