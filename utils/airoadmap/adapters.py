"""07's triage SFT adapter: one recipe, trained once, shared with 08, 11 (DPO) and 12 (GRPO).

07 fine-tunes SmolLM2 with LoRA on Fjordly's triage chats. Its recipe is a :class:`TriageSFTRecipe`
(built from ``SIZES["07-sft-with-trl"]`` and the defaults below), and both 07's training cell and
the fallback here build their ``SFTConfig``/``LoraConfig`` from it, so there is one recipe, not two::

    recipe = TriageSFTRecipe.from_settings(cfg)          # 07: its own sizes; 08, 11, 12: 07's sizes
    trainer = SFTTrainer(model=model, args=recipe.sft_config("build/07-sft"), peft_config=recipe.lora_config(), ...)
    save_triage_sft(trainer.model, recipe, train_seconds=...)   # 07
    model, tokenizer = load_triage_sft(cfg)                      # 08, 11, 12

The adapter is cached under ``adapters/triage-sft-<model>-<key>/`` where ``key`` is the sha256 of
every field of the recipe: change any of them (a step count, the scheduler, the seed, the dtype)
and it is trained anew rather than a stale one reused. A learner who has not run 07 gets it
trained here once (about 2 minutes on 2 CPU cores, seconds on a GPU).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .cache import atomic_folder, cache_dir, locked, missing, read_marker, readonly, say
from .settings import DTYPES, SIZES, require

NOTEBOOK = "07-sft-with-trl"


@dataclass(frozen=True, kw_only=True)
class TriageSFTRecipe:
    r"""Everything that determines 07's adapter. Build it with :meth:`from_settings`.

    > Parameters that control the model

    model (`str`):
        Registry name of the base model (``airoadmap.models.REGISTRY``), e.g. ``"smollm2-135m-instruct"``.
    dtype (`str`, *optional*, defaults to `"float32"`):
        The dtype the base model is loaded and trained in: ``"float32"``, ``"bfloat16"`` or ``"float16"``
        (``cfg.dtype``). On CUDA it also picks the trainer's ``bf16``/``fp16`` flag.
    device (`str`, *optional*, defaults to `"cpu"`):
        ``"cpu"`` or ``"cuda"`` (``cfg.device``).

    > Parameters of the LoRA adapter

    lora_r (`int`, *optional*, defaults to `16`):
        Rank of the update matrices.
    lora_alpha (`int`, *optional*, defaults to `32`):
        Scale of the update (``alpha / r``); :meth:`from_settings` sets ``2 * lora_r``.
    lora_dropout (`float`, *optional*, defaults to `0.05`):
        Dropout on the adapter's input during training.
    target_modules (`str`, *optional*, defaults to `"all-linear"`):
        Which layers get an adapter (PEFT's ``target_modules``): every linear layer but the output head.

    > Parameters of the training

    max_steps (`int`):
        Optimizer steps.
    batch_size (`int`):
        Examples per step (``per_device_train_batch_size``).
    lr (`float`):
        Peak learning rate.
    scheduler (`str`, *optional*, defaults to `"cosine"`):
        ``lr_scheduler_type``.
    warmup (`float`, *optional*, defaults to `0.1`):
        Warm-up, as a share of ``max_steps`` (TRL's ``warmup_steps`` below 1).
    max_length (`int`):
        Longest tokenized example; longer ones are truncated.
    seed (`int`, *optional*, defaults to `0`):
        The trainer's seed (data order, dropout, the adapter's initialisation).
    """

    model: str
    dtype: str = "float32"
    device: str = "cpu"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str = "all-linear"
    max_steps: int
    batch_size: int
    lr: float
    scheduler: str = "cosine"
    warmup: float = 0.1
    max_length: int
    seed: int = 0

    def __post_init__(self) -> None:
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device={self.device!r} must be 'cpu' or 'cuda'.")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype={self.dtype!r} must be one of {', '.join(DTYPES)}.")
        if self.device == "cpu" and self.dtype == "float16":
            raise ValueError("dtype='float16' with device='cpu': CPU training runs in float32 or bfloat16.")

    @classmethod
    def from_settings(cls, settings) -> TriageSFTRecipe:
        """07's recipe for these settings' profile, device and dtype.

        In 07 (``settings.notebook == "07-sft-with-trl"``) the sizes are 07's own, overrides and seed
        included; anywhere else they are ``SIZES["07-sft-with-trl"][profile]`` with seed 0.
        """
        settings = require(settings, "TriageSFTRecipe.from_settings")
        own = settings.get("notebook") == NOTEBOOK
        sizes = settings if own else SIZES[NOTEBOOK][settings.profile]
        names = {f.name for f in fields(cls)} - {"dtype", "device", "seed"}
        values = {k: sizes[k] for k in names if k in sizes}
        values.setdefault("lora_alpha", 2 * values["lora_r"])
        return cls(**values, dtype=str(settings.dtype).removeprefix("torch."), device=settings.device,
                   seed=settings.seed if own else 0)

    def __str__(self) -> str:
        groups = {"model": ("model", "dtype", "device"),
                  "LoRA": ("lora_r", "lora_alpha", "lora_dropout", "target_modules"),
                  "training": ("max_steps", "batch_size", "lr", "scheduler", "warmup", "max_length", "seed")}
        return "\n".join([f"TriageSFTRecipe (key {self.key()[:12]})"] + [
            f"  {group:<9}" + ", ".join(f"{k}={getattr(self, k)!r}" for k in keys) for group, keys in groups.items()])

    def key(self) -> str:
        """sha256 of every field: the cache folder's name and marker carry it."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()

    def marker(self) -> dict:
        return {"notebook": NOTEBOOK, "key": self.key(), "recipe": asdict(self)}

    def lora_config(self):
        """PEFT's ``LoraConfig`` of the recipe."""
        from peft import LoraConfig

        return LoraConfig(r=self.lora_r, lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout,
                          target_modules=self.target_modules, task_type="CAUSAL_LM")

    def sft_config(self, output_dir: str, **extra):
        """TRL's ``SFTConfig`` of the recipe; ``extra`` sets what does not change the result
        (``logging_steps``, ``output_dir``...), never a field of the recipe."""
        from trl import SFTConfig

        owned = {"max_steps", "per_device_train_batch_size", "learning_rate", "lr_scheduler_type", "warmup_steps",
                 "max_length", "seed", "use_cpu", "bf16", "fp16"}
        if clash := sorted(owned & set(extra)):
            raise ValueError(f"{', '.join(clash)} belong to the recipe: change the TriageSFTRecipe instead.")
        on_cuda = self.device == "cuda"
        options = dict(logging_steps=5, packing=False, save_strategy="no", report_to="none",
                       activation_checkpointing=False)
        return SFTConfig(output_dir=output_dir, max_steps=self.max_steps, per_device_train_batch_size=self.batch_size,
                         learning_rate=self.lr, lr_scheduler_type=self.scheduler, warmup_steps=self.warmup,
                         max_length=self.max_length, seed=self.seed, use_cpu=not on_cuda,
                         bf16=on_cuda and self.dtype == "bfloat16", fp16=on_cuda and self.dtype == "float16",
                         **{**options, **extra})


def adapter_dir(recipe: TriageSFTRecipe) -> Path:
    return cache_dir() / "adapters" / f"triage-sft-{recipe.model}-{recipe.key()[:12]}"


def save_triage_sft(peft_model, recipe: TriageSFTRecipe, train_seconds: float | None = None) -> Path | None:
    """Save 07's trained adapter for 08, 11 and 12 under ``recipe``'s key; return the folder.

    ``train_seconds`` (how long the training took) is kept beside it for 08's cost arithmetic.
    With a read-only cache nothing is saved and None is returned.
    """
    if not isinstance(recipe, TriageSFTRecipe):
        raise TypeError(f"save_triage_sft takes the TriageSFTRecipe the adapter was trained with, not "
                        f"{type(recipe).__name__}.")
    if readonly():
        say("Not saving the triage SFT adapter: the cache is read-only (AIROADMAP_CACHE_READONLY=1).")
        return None
    target = adapter_dir(recipe)
    with atomic_folder(target, marker=recipe.marker()) as tmp:
        peft_model.save_pretrained(tmp)
        if train_seconds is not None:
            (tmp / "training.json").write_text(json.dumps({"seconds": round(float(train_seconds), 1),
                                                           "device": recipe.device}) + "\n")
    say(f"Saved the triage SFT adapter for 08, 11 and 12 -> {target}")
    return target


def training_seconds(settings) -> float | None:
    """How long training the cached adapter took, if recorded (07 and :func:`triage_sft_adapter` record it)."""
    folder = adapter_dir(TriageSFTRecipe.from_settings(settings))
    try:
        return float(json.loads((folder / "training.json").read_text())["seconds"])
    except (OSError, ValueError, KeyError):
        return None


def _train(recipe: TriageSFTRecipe, settings):
    """07's training run, from the recipe: SFTTrainer + LoRA on the triage prompt-completion pairs."""
    from trl import SFTTrainer

    from .data import load_sft
    from .models import load_causal_lm

    model, tokenizer = load_causal_lm(recipe.model, settings)
    with tempfile.TemporaryDirectory() as out:
        trainer = SFTTrainer(model=model, args=recipe.sft_config(out),
                             train_dataset=load_sft(format="prompt_completion")["train"],
                             processing_class=tokenizer, peft_config=recipe.lora_config())
        started = time.perf_counter()
        trainer.train()
    return trainer.model, time.perf_counter() - started


def triage_sft_adapter(settings) -> Path:
    """The folder of 07's triage LoRA adapter for these settings: the one 07 saved, else trained now
    (once). With a read-only cache a missing adapter raises ``AssetError``."""
    recipe = TriageSFTRecipe.from_settings(settings)
    target = adapter_dir(recipe)
    if read_marker(target) == recipe.marker():
        say(f"Triage SFT adapter (from 07): {target}")
        return target
    if readonly():
        raise missing(f"07's triage SFT adapter (asset triage-sft) for {recipe.device}/{recipe.dtype}")
    with locked(target.parent / f".{target.name}.train.lock"):  # two notebooks at once train it once
        if read_marker(target) == recipe.marker():
            return target
        say(f"No triage SFT adapter from 07 for this recipe yet: training it with 07's recipe "
            f"({recipe.max_steps} steps; about 2 minutes on 2 CPU cores) ...")
        model, seconds = _train(recipe, settings)
        save_triage_sft(model, recipe, train_seconds=seconds)
    return target


def load_triage_sft(settings):
    """``(peft_model, tokenizer)``: 07's base model with its adapter loaded on top (frozen)."""
    from peft import PeftModel

    from .models import load_causal_lm

    folder = triage_sft_adapter(settings)
    model, tokenizer = load_causal_lm(TriageSFTRecipe.from_settings(settings).model, settings)
    return PeftModel.from_pretrained(model, folder), tokenizer
