"""``airoadmap.adapters``: 07 saves its SFT adapter, 11 and 12 reuse it or train it once."""
from __future__ import annotations

import json

import pytest
import torch

from airoadmap import adapters, assets


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AIROADMAP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(assets, "_said", set())


def tiny_peft():
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM

    from airoadmap.models import tiny_llama_config
    torch.manual_seed(0)
    base = LlamaForCausalLM(tiny_llama_config(vocab_size=32, hidden=16, layers=1, heads=2))
    return get_peft_model(base, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"]))


def test_recipe_is_07s_cpu_settings():
    from airoadmap.profiles import SIZES
    recipe = adapters.recipe("cpu")
    assert recipe["notebook"] == "07-sft-with-trl" and recipe["profile"] == "cpu"
    assert all(recipe[k] == SIZES["07-sft-with-trl"]["cpu"][k] for k in adapters.RECIPE_KEYS)


def test_07s_adapter_is_saved_and_reused_without_training(monkeypatch):
    settings = dict(adapters.recipe("cpu"))
    folder = adapters.save_triage_sft(tiny_peft(), "cpu", settings, train_seconds=99.94)
    assert (folder / "adapter_config.json").exists() and adapters.training_seconds("cpu") == 99.9
    assert json.loads((folder / "airoadmap.json").read_text()) == adapters.recipe("cpu")
    monkeypatch.setattr(adapters, "_train", lambda profile: pytest.fail("must not train: 07's adapter is there"))
    assert adapters.triage_sft_adapter("cpu") == folder


def test_a_run_with_other_settings_is_not_saved(capsys):
    settings = {**adapters.recipe("cpu"), "max_steps": 3}
    assert adapters.save_triage_sft(tiny_peft(), "cpu", settings) is None
    assert not adapters.adapter_dir("cpu").exists()
    assert "not saved" in capsys.readouterr().out


def test_a_missing_or_stale_adapter_is_trained_once(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(adapters, "_train", lambda profile: (calls.append(profile) or tiny_peft(), 12.5))
    folder = adapters.triage_sft_adapter("cpu")
    assert calls == ["cpu"] and (folder / "adapter_config.json").exists()
    assert adapters.training_seconds("cpu") == 12.5, "the training time is kept for 08's cost arithmetic"
    assert "training it with 07's recipe" in capsys.readouterr().out
    adapters.triage_sft_adapter("cpu")
    assert calls == ["cpu"], "the second call reuses the adapter"
    marker = folder / "airoadmap.json"
    marker.write_text(json.dumps({**adapters.recipe("cpu"), "lr": 1.0}))  # 07's recipe changed since
    adapters.triage_sft_adapter("cpu")
    assert calls == ["cpu", "cpu"]
