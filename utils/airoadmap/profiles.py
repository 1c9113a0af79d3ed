"""Profiles: which sizes a notebook runs at, on which hardware.

Every notebook opens with a papermill ``parameters`` cell holding ``profile = "auto"``.
``resolve_profile`` turns that into ``"cpu"`` or ``"gpu"``:

* an explicit ``"cpu"``/``"gpu"`` wins;
* ``"auto"`` reads the ``AIROADMAP_PROFILE`` environment variable, then looks for CUDA.

``SIZES`` is the one table of per-notebook sizes (model, steps, batch, sequence length,
quality thresholds). ``cpu`` must finish on 2 cores in minutes; ``gpu`` is what a Colab T4
learner runs. Used by every notebook through :func:`airoadmap.start`.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

PROFILES = ("cpu", "gpu")
ENV_VAR = "AIROADMAP_PROFILE"

# notebook slug -> profile -> settings. Thresholds live here, beside the sizes they depend on.
SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "01-pytorch-fundamentals": {
        "cpu": dict(epochs=12, batch_size=64, lr=0.05, hidden=64, min_test_accuracy=0.90),
        "gpu": dict(epochs=30, batch_size=64, lr=0.05, hidden=128, min_test_accuracy=0.93),
    },
    "02-cnn-cifar10": {
        # cpu: the generated look-alike reaches ~0.65 in 10 epochs with augmentation (~20 s)
        "cpu": dict(epochs=10, batch_size=64, lr=3e-3, workers=0, min_test_accuracy=0.5),
        # gpu: the real CIFAR-10; this small CNN reaches ~0.75 in 30 epochs
        "gpu": dict(epochs=30, batch_size=128, lr=3e-3, workers=2, min_test_accuracy=0.7),
    },
    # cpu: ~5 s/step on 2 cores (fp32, ~210 tokens/example); loss ~1.7 -> ~0.8 in 20 steps and, on 12 held-out
    # tickets, valid JSON 0 -> 0.92, reward 0 -> 0.67 (measured); ~135 s in all
    "07-sft-with-trl": {
        "cpu": dict(model="smollm2-135m-instruct", max_steps=20, batch_size=4, lr=5e-4, lora_r=16, max_length=384,
                    eval_examples=12, max_new_tokens=32, min_valid_json=0.8, min_reward_gain=0.1),
        "gpu": dict(model="smollm2-360m-instruct", max_steps=150, batch_size=8, lr=2e-4, lora_r=16, max_length=512,
                    eval_examples=60, max_new_tokens=48, min_valid_json=0.9, min_reward_gain=0.1),
    },
    # the fine-tune compared here is 07's adapter (airoadmap.adapters), not a second training run
    "08-when-to-fine-tune": {
        "cpu": dict(model="smollm2-135m-instruct", eval_examples=8, shots=3, max_new_tokens=40, min_reward_gain=0.05),
        "gpu": dict(model="smollm2-360m-instruct", eval_examples=40, shots=5, max_new_tokens=48, min_reward_gain=0.05),
    },
    "04-finetune-encoder": {
        "cpu": dict(encoder="minilm", epochs=3, batch_size=16, lr=1.5e-4, max_length=96,
                    min_baseline_f1=0.75, min_finetuned_f1=0.8),
        "gpu": dict(encoder="bert-base-uncased", epochs=4, batch_size=32, lr=3e-5, max_length=128,
                    min_baseline_f1=0.5, min_finetuned_f1=0.7),
    },
    # character-level GPT on stdlib source; ln(vocab) ~ 5.1 nats at the start, ~1.7 after the cpu run
    "03-transformer-from-scratch": {
        "cpu": dict(steps=600, batch_size=32, block_size=64, d_model=96, n_layers=3, n_heads=4, lr=3e-3,
                    eval_interval=100, eval_batches=10, max_val_loss=2.1),
        "gpu": dict(steps=2000, batch_size=64, block_size=256, d_model=256, n_layers=6, n_heads=8, lr=1e-3,
                    eval_interval=250, eval_batches=20, max_val_loss=1.5),
    },
    # QLoRA vs LoRA, same steps, short system prompt; cpu: bitsandbytes NF4 runs on the CPU
    "09-qlora-nf4": {
        "cpu": dict(model="smollm2-135m-instruct", max_steps=12, batch_size=4, lr=1e-3, lora_r=16, max_length=160,
                    eval_examples=8, max_new_tokens=40, max_nf4_ratio=0.6, min_valid_json=0.5),
        "gpu": dict(model="smollm2-360m-instruct", max_steps=80, batch_size=8, lr=5e-4, lora_r=16, max_length=256,
                    eval_examples=40, max_new_tokens=48, max_nf4_ratio=0.6, min_valid_json=0.8),
    },
    # reward model: SmolLM2 + a score head, LoRA; ~3 s/step on 2 cores (pairs of ~120 tokens, no system prompt);
    # cpu: held-out accuracy ~0.45 -> ~0.88 in 20 steps (measured)
    "10-reward-modelling": {
        "cpu": dict(model="smollm2-135m-instruct", max_steps=20, batch_size=4, lr=5e-4, lora_r=16, max_length=256,
                    eval_pairs=40, min_accuracy=0.7),
        "gpu": dict(model="smollm2-360m-instruct", max_steps=150, batch_size=8, lr=2e-4, lora_r=16, max_length=384,
                    eval_pairs=60, min_accuracy=0.8),
    },
    # DPO with a new LoRA on top of 07's merged SFT model (reference = adapter off), hard pairs only;
    # cpu: ~5.5 s/step (2 pairs of ~230 tokens: policy forward/backward + reference forward)
    "11-dpo": {
        "cpu": dict(model="smollm2-135m-instruct", max_steps=12, batch_size=2, lr=3e-4, beta=0.1, lora_r=16,
                    max_length=320, eval_pairs=22, eval_examples=8, max_new_tokens=32, min_reward_accuracy=0.5,
                    min_margin=0.05, min_valid_json=0.75),
        "gpu": dict(model="smollm2-360m-instruct", max_steps=100, batch_size=8, lr=5e-5, beta=0.1, lora_r=16,
                    max_length=384, eval_pairs=22, eval_examples=40, max_new_tokens=48, min_reward_accuracy=0.6,
                    min_margin=0.05, min_valid_json=0.8),
    },
    # GRPO with a new LoRA on top of 07's merged SFT model; reward = format + correctness + length (<= 4 words);
    # cpu: ~16 s/step (2 prompts x 4 completions of <= 40 tokens); 8 steps: greedy length reward 0.59 -> 0.75,
    # correctness 0.38 -> 0.50 on 8 held-out tickets, format stays 1.0 (measured)
    "12-grpo": {
        "cpu": dict(model="smollm2-135m-instruct", max_steps=8, batch_size=8, num_generations=4, max_completion_length=40,
                    lr=2e-4, lora_r=16, prompts=64, eval_examples=8, min_length_gain=0.05, min_format=0.75),
        "gpu": dict(model="smollm2-360m-instruct", max_steps=60, batch_size=16, num_generations=8, max_completion_length=48,
                    lr=5e-5, lora_r=16, prompts=300, eval_examples=40, min_length_gain=0.1, min_format=0.8),
    },
    # fp32 everywhere: the learner's decoding loops are compared with `generate` token for token
    "05-transformers-essentials": {
        "cpu": dict(model="smollm2-135m-instruct", max_new_tokens=24, batch_size=4, min_agreement=1.0),
        "gpu": dict(model="smollm2-360m-instruct", max_new_tokens=32, batch_size=8, min_agreement=1.0),
    },
    # LoRA on q_proj/v_proj, completion-only loss on Fjordly triage chats (short system prompt);
    # cpu: loss ~2.2 -> ~0.7 in 24 steps (~40 s), valid JSON 0 -> 1.0 on 8 test tickets
    "06-lora-from-scratch": {
        "cpu": dict(model="smollm2-135m-instruct", r=8, alpha=16, dropout=0.05, steps=24, batch_size=4, lr=2e-3,
                    max_length=160, eval_examples=8, max_new_tokens=40, min_loss_drop=0.5, min_valid_json=0.5,
                    max_trainable_fraction=0.01),
        "gpu": dict(model="smollm2-360m-instruct", r=16, alpha=32, dropout=0.05, steps=100, batch_size=8, lr=1e-3,
                    max_length=256, eval_examples=60, max_new_tokens=48, min_loss_drop=0.5, min_valid_json=0.8,
                    max_trainable_fraction=0.01),
    },
}


class ProfileError(ValueError):
    """A profile name or a profile's settings are not valid."""


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # the package is importable without torch (e.g. in the grading CLI)
        return False
    return bool(torch.cuda.is_available())


def resolve_profile(profile: str = "auto") -> tuple[str, str]:
    """Return ``(profile, reason)`` with profile in ``PROFILES``.

    >>> resolve_profile("cpu")
    ('cpu', 'set in the notebook')
    """
    profile = (profile or "auto").strip().lower()
    if profile in PROFILES:
        return profile, "set in the notebook"
    if profile != "auto":
        raise ProfileError(f"profile={profile!r} is not one of 'auto', {', '.join(map(repr, PROFILES))}.")
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    if forced and forced != "auto":
        if forced not in PROFILES:
            raise ProfileError(f"{ENV_VAR}={forced!r} is not one of {', '.join(map(repr, PROFILES))}.")
        return forced, f"forced by {ENV_VAR}"
    if cuda_available():
        return "gpu", "auto: a CUDA GPU is available"
    return "cpu", "auto: no CUDA GPU found"


class Settings(dict):
    """A dict whose keys are also attributes: ``cfg.epochs`` and ``cfg["epochs"]``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}; known: {', '.join(sorted(self))}") from None


def sizes(notebook: str, profile: str, overrides: Mapping[str, Any] | None = None) -> Settings:
    """The settings of ``notebook`` under ``profile``; ``overrides`` that are not None replace them."""
    if notebook not in SIZES:
        raise ProfileError(f"no sizes for notebook {notebook!r}; known: {', '.join(sorted(SIZES))}")
    if profile not in PROFILES:
        raise ProfileError(f"profile {profile!r} is not resolved; call resolve_profile first")
    table = Settings(SIZES[notebook][profile])
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in table:
            raise ProfileError(f"{notebook} has no setting {key!r}; known: {', '.join(sorted(table))}")
        table[key] = value
    return table
