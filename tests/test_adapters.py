"""``airoadmap.adapters``: one recipe for 07's adapter, keyed by every field; saved by 07, reused or
trained once by 08, 11 and 12; nothing written with a read-only cache."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from airoadmap import adapters, cache
from airoadmap.settings import SIZES, for_notebook


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AIROADMAP_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(cache.READONLY_VAR, raising=False)
    monkeypatch.setattr(cache, "_said", set())


@pytest.fixture
def cfg():
    return for_notebook("11-dpo", "cpu")


def tiny_peft():
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM

    from airoadmap.models import tiny_llama_config
    torch.manual_seed(0)
    base = LlamaForCausalLM(tiny_llama_config(vocab_size=32, hidden=16, layers=1, heads=2))
    return get_peft_model(base, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"]))


def test_recipe_is_07s_sizes_plus_defaults(cfg):
    recipe = adapters.TriageSFTRecipe.from_settings(cfg)
    row = SIZES["07-sft-with-trl"]["cpu"]
    assert (recipe.model, recipe.max_steps, recipe.batch_size, recipe.lr, recipe.lora_r, recipe.max_length) == \
        (row["model"], row["max_steps"], row["batch_size"], row["lr"], row["lora_r"], row["max_length"])
    assert recipe.lora_alpha == 2 * row["lora_r"] and recipe.scheduler == "cosine" and recipe.seed == 0
    assert (recipe.dtype, recipe.device) == ("float32", "cpu")
    assert recipe == adapters.TriageSFTRecipe.from_settings(for_notebook("07-sft-with-trl", "cpu")), \
        "07 and the notebooks that reuse its adapter must agree on the recipe"
    assert "lora_alpha=32" in str(recipe) and recipe.key()[:12] in str(recipe), "07 prints the recipe"


def test_07s_own_overrides_and_seed_change_its_recipe():
    own = adapters.TriageSFTRecipe.from_settings(for_notebook("07-sft-with-trl", "cpu", seed=3, max_steps=2))
    assert own.max_steps == 2 and own.seed == 3
    elsewhere = adapters.TriageSFTRecipe.from_settings(for_notebook("12-grpo", "cpu", seed=3, max_steps=2))
    assert elsewhere.max_steps == SIZES["07-sft-with-trl"]["cpu"]["max_steps"] and elsewhere.seed == 0, \
        "another notebook's sizes and seed are not 07's"


def test_every_field_changes_the_key(cfg):
    recipe = adapters.TriageSFTRecipe.from_settings(cfg)
    changed = {"model": "other", "dtype": "bfloat16", "device": "cuda", "lora_r": 8, "lora_alpha": 8,
               "lora_dropout": 0.0, "target_modules": "q_proj", "max_steps": 1, "batch_size": 1, "lr": 1.0,
               "scheduler": "linear", "warmup": 0.0, "max_length": 64, "seed": 1}
    assert set(changed) == {f.name for f in dataclasses.fields(recipe)}, "test every field"
    keys = {dataclasses.replace(recipe, **{name: value}).key() for name, value in changed.items()}
    assert len(keys) == len(changed) and recipe.key() not in keys
    assert adapters.adapter_dir(recipe) != adapters.adapter_dir(dataclasses.replace(recipe, seed=1))
    with pytest.raises(ValueError, match="device"):
        dataclasses.replace(recipe, device="tpu")


def test_configs_come_from_the_recipe(cfg):
    recipe = adapters.TriageSFTRecipe.from_settings(cfg)
    lora = recipe.lora_config()
    assert (lora.r, lora.lora_alpha, lora.lora_dropout) == (16, 32, 0.05) and lora.target_modules == "all-linear"
    args = recipe.sft_config("/tmp/unused-07", logging_steps=2)
    assert (args.max_steps, args.per_device_train_batch_size, args.learning_rate, args.max_length, args.seed) == \
        (recipe.max_steps, recipe.batch_size, recipe.lr, recipe.max_length, recipe.seed)
    assert args.lr_scheduler_type.value == "cosine" and args.logging_steps == 2
    assert args.use_cpu and not args.bf16 and not args.fp16
    with pytest.raises(ValueError, match="belong to the recipe"):
        recipe.sft_config("/tmp/unused-07", max_steps=3)



def test_trainer_flags_follow_device_and_dtype(cfg, monkeypatch):
    import trl
    monkeypatch.setattr(trl, "SFTConfig", lambda **kwargs: kwargs)  # a GPU config cannot be built on a CPU
    recipe = adapters.TriageSFTRecipe.from_settings(cfg)
    flags = {(d, t): {k: recipe_args[k] for k in ("use_cpu", "bf16", "fp16")}
             for d, t in (("cpu", "float32"), ("cuda", "bfloat16"), ("cuda", "float16"))
             for recipe_args in [dataclasses.replace(recipe, device=d, dtype=t).sft_config("x")]}
    assert flags[("cpu", "float32")] == {"use_cpu": True, "bf16": False, "fp16": False}
    assert flags[("cuda", "bfloat16")] == {"use_cpu": False, "bf16": True, "fp16": False}
    assert flags[("cuda", "float16")] == {"use_cpu": False, "bf16": False, "fp16": True}


def test_07s_adapter_is_saved_and_reused_without_training(cfg, monkeypatch):
    recipe = adapters.TriageSFTRecipe.from_settings(cfg)
    folder = adapters.save_triage_sft(tiny_peft(), recipe, train_seconds=99.94)
    assert folder == adapters.adapter_dir(recipe) and recipe.key()[:12] in folder.name
    assert (folder / "adapter_config.json").exists() and adapters.training_seconds(cfg) == 99.9
    marker = json.loads((folder / "airoadmap.json").read_text())
    assert marker["key"] == recipe.key() and marker["recipe"]["lr"] == recipe.lr
    monkeypatch.setattr(adapters, "_train", lambda recipe, settings: pytest.fail("must not train: 07's is there"))
    assert adapters.triage_sft_adapter(cfg) == folder


def test_save_wants_the_recipe_not_settings(cfg):
    with pytest.raises(TypeError, match="TriageSFTRecipe"):
        adapters.save_triage_sft(tiny_peft(), cfg)


def test_a_missing_or_stale_adapter_is_trained_once(cfg, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(adapters, "_train", lambda recipe, settings: (calls.append(recipe) or tiny_peft(), 12.5))
    folder = adapters.triage_sft_adapter(cfg)
    assert len(calls) == 1 and (folder / "adapter_config.json").exists()
    assert adapters.training_seconds(cfg) == 12.5, "the training time is kept for 08's cost arithmetic"
    assert "training it with 07's recipe" in capsys.readouterr().out
    adapters.triage_sft_adapter(cfg)
    assert len(calls) == 1, "the second call reuses the adapter"
    marker = folder / "airoadmap.json"
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "key": "stale"}))
    adapters.triage_sft_adapter(cfg)
    assert len(calls) == 2, "a marker that does not match the recipe is trained again"


def test_a_read_only_cache_writes_nothing(cfg, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(cache.READONLY_VAR, "1")
    monkeypatch.setattr(adapters, "_train", lambda recipe, settings: pytest.fail("must not train read-only"))
    recipe = adapters.TriageSFTRecipe.from_settings(cfg)
    assert adapters.save_triage_sft(tiny_peft(), recipe) is None
    assert "read-only" in capsys.readouterr().out
    with pytest.raises(cache.AssetError, match=r"airoadmap assets --for") as err:
        adapters.triage_sft_adapter(cfg)
    assert "triage-sft" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "cache").exists(), "nothing was written to the cache"
