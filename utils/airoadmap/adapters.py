"""The triage SFT adapter of 07, shared with the notebooks that use it (08, 11 DPO, 12 GRPO).

07 fine-tunes SmolLM2 with LoRA on Fjordly's triage chats and saves the adapter here with
:func:`save_triage_sft`. 08, 11 and 12 call :func:`triage_sft_adapter`, which returns that folder,
or, for a learner who has not run 07 with the same settings, trains the same adapter once with
07's recipe (``SIZES["07-sft-with-trl"]``; about 2 minutes on 2 CPU cores, seconds on a GPU).

The adapter is keyed by the recipe: change 07's sizes and the cached adapter is trained again.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from .assets import atomic_folder, cache_dir, locked, read_marker, say
from .profiles import SIZES, resolve_profile

NOTEBOOK = "07-sft-with-trl"
RECIPE_KEYS = ("model", "max_steps", "batch_size", "lr", "lora_r", "max_length")


def recipe(profile: str) -> dict:
    """The settings of 07 that determine its adapter."""
    profile, _ = resolve_profile(profile)
    return {"notebook": NOTEBOOK, "profile": profile, **{k: SIZES[NOTEBOOK][profile][k] for k in RECIPE_KEYS}}


def adapter_dir(profile: str) -> Path:
    r = recipe(profile)
    return cache_dir() / "adapters" / f"triage-sft-{r['model']}-{r['profile']}"


def save_triage_sft(peft_model, profile: str, settings: dict | None = None,
                    train_seconds: float | None = None) -> Path | None:
    """Save 07's trained adapter for 08, 11 and 12, if it was trained with 07's recipe for ``profile``
    (a run with other settings, e.g. ``max_steps`` changed by hand, is not saved). ``train_seconds``
    (how long the training took, and on what) is kept beside it for 08's cost arithmetic.
    Returns the folder."""
    wanted = recipe(profile)
    if settings is not None and any(settings.get(k) != wanted[k] for k in RECIPE_KEYS):
        say("This adapter was trained with other settings than 07's profile: not saved for 08, 11 and 12.")
        return None
    target = adapter_dir(profile)
    with atomic_folder(target, marker=wanted) as tmp:
        peft_model.save_pretrained(tmp)
        if train_seconds is not None:
            import torch

            device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
            (tmp / "training.json").write_text(json.dumps({"seconds": round(float(train_seconds), 1),
                                                           "device": device}) + "\n")
    say(f"Saved the triage SFT adapter for 08, 11 and 12 -> {target}")
    return target


def training_seconds(profile: str) -> float | None:
    """How long training the cached adapter took, if recorded (07 and :func:`triage_sft_adapter` record it)."""
    try:
        return float(json.loads((adapter_dir(profile) / "training.json").read_text())["seconds"])
    except (OSError, ValueError, KeyError):
        return None


def _train(profile: str):
    """07's training run: SFTTrainer + LoRA (all linear layers) on the triage prompt-completion pairs."""
    import torch
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from .data import load_sft
    from .models import load_causal_lm

    r = recipe(profile)
    model, tokenizer = load_causal_lm(r["model"], profile)
    on_cpu = not (r["profile"] == "gpu" and torch.cuda.is_available())
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(output_dir=out, max_steps=r["max_steps"], per_device_train_batch_size=r["batch_size"],
                         learning_rate=r["lr"], lr_scheduler_type="cosine", warmup_steps=0.1, logging_steps=5,
                         max_length=r["max_length"], packing=False, save_strategy="no", report_to="none", seed=0,
                         use_cpu=on_cpu, bf16=not on_cpu and torch.cuda.is_bf16_supported(),
                         activation_checkpointing=False)
        lora = LoraConfig(r=r["lora_r"], lora_alpha=2 * r["lora_r"], lora_dropout=0.05,
                          target_modules="all-linear", task_type="CAUSAL_LM")
        trainer = SFTTrainer(model=model, args=args, train_dataset=load_sft(format="prompt_completion")["train"],
                             processing_class=tokenizer, peft_config=lora)
        started = time.perf_counter()
        trainer.train()
    return trainer.model, time.perf_counter() - started


def triage_sft_adapter(profile: str = "cpu") -> Path:
    """The folder of 07's triage LoRA adapter for ``profile``: the one 07 saved, else trained now (once).
    To train it again, delete the folder."""
    target = adapter_dir(profile)
    if read_marker(target) == recipe(profile):
        say(f"Triage SFT adapter (from 07): {target}")
        return target
    with locked(target.parent / f".{target.name}.train.lock"):  # two notebooks at once train it once
        if read_marker(target) == recipe(profile):
            return target
        say(f"No triage SFT adapter from 07 for this profile yet: training it with 07's recipe "
            f"({recipe(profile)['max_steps']} steps; about 2 minutes on 2 CPU cores) ...")
        model, seconds = _train(profile)
        save_triage_sft(model, profile, train_seconds=seconds)
    return target


def load_triage_sft(profile: str = "cpu"):
    """``(peft_model, tokenizer)``: the profile's base model with 07's adapter loaded on top (frozen)."""
    from peft import PeftModel

    from .models import load_causal_lm

    folder = triage_sft_adapter(profile)
    model, tokenizer = load_causal_lm(recipe(profile)["model"], profile)
    return PeftModel.from_pretrained(model, folder), tokenizer
