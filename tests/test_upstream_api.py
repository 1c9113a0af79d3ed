"""The library signatures the notebooks rely on.

transformers, TRL and PEFT rename arguments between releases (``max_seq_length`` -> ``max_length``,
``tokenizer`` -> ``processing_class``, ``evaluation_strategy`` -> ``eval_strategy``,
``gradient_checkpointing`` -> ``activation_checkpointing``). When an upgrade breaks one, this file
says which, in one line, instead of a notebook failing halfway through a training run.
"""
from __future__ import annotations

import inspect

import pytest


def params(obj) -> set[str]:
    return set(inspect.signature(obj).parameters)


# arguments every trainer config below is given
TRAINING = {"output_dir", "max_steps", "per_device_train_batch_size", "learning_rate", "logging_steps", "save_strategy",
            "report_to", "seed", "use_cpu", "bf16", "fp16", "activation_checkpointing"}
USED = {
    # notebook 04
    ("transformers", "TrainingArguments"): {
        "output_dir", "num_train_epochs", "learning_rate", "per_device_train_batch_size", "per_device_eval_batch_size",
        "warmup_steps", "weight_decay", "eval_strategy", "logging_strategy", "save_strategy", "report_to", "seed",
        "use_cpu", "dataloader_num_workers"},
    ("transformers", "Trainer"): {"model", "args", "train_dataset", "eval_dataset", "data_collator", "compute_metrics"},
    # notebook 07 (airoadmap.adapters.TriageSFTRecipe builds these)
    ("trl", "SFTConfig"): TRAINING | {"lr_scheduler_type", "warmup_steps", "max_length", "packing"},
    ("trl", "SFTTrainer"): {"model", "args", "train_dataset", "processing_class", "peft_config"},
    ("peft", "LoraConfig"): {"r", "lora_alpha", "lora_dropout", "target_modules", "task_type", "modules_to_save"},
    # notebooks 09, 11, 12: greedy replies to held-out tickets
    ("transformers", "pipeline"): {"task", "model", "tokenizer"},
    # notebook 09
    ("transformers", "BitsAndBytesConfig"): {"load_in_4bit", "bnb_4bit_quant_type", "bnb_4bit_use_double_quant",
                                             "bnb_4bit_compute_dtype"},
    ("peft", "prepare_model_for_kbit_training"): {"model", "use_gradient_checkpointing"},
    ("bitsandbytes.functional", "quantize_4bit"): {"A", "blocksize", "quant_type"},
    ("bitsandbytes.functional", "dequantize_4bit"): {"A", "quant_state"},
    # notebook 10
    ("trl", "RewardConfig"): TRAINING | {"lr_scheduler_type", "warmup_steps", "max_length"},
    ("trl", "RewardTrainer"): {"model", "args", "train_dataset", "processing_class", "peft_config"},
    # notebook 11
    ("trl", "DPOConfig"): TRAINING | {"beta", "max_length", "lr_scheduler_type", "warmup_steps"},
    ("trl", "DPOTrainer"): {"model", "ref_model", "args", "train_dataset", "processing_class", "peft_config"},
    # notebook 12
    ("trl", "GRPOConfig"): TRAINING | {"num_generations", "max_completion_length", "temperature", "beta"},
    ("trl", "GRPOTrainer"): {"model", "reward_funcs", "args", "train_dataset", "processing_class", "peft_config"},
}


@pytest.mark.parametrize("module,name", sorted(USED))
def test_signatures_the_notebooks_use(module, name):
    import importlib
    obj = getattr(importlib.import_module(module), name)
    missing = USED[(module, name)] - params(obj)
    assert not missing, f"{module}.{name} no longer accepts {sorted(missing)}: update the notebooks that pass them"


def test_warmup_steps_takes_a_fraction():
    from transformers import TrainingArguments
    args = TrainingArguments(output_dir="/tmp/airoadmap-api-check", warmup_steps=0.1, use_cpu=True, report_to="none")
    assert args.warmup_steps == 0.1, "warmup_steps < 1 is read as a fraction of the run in the notebooks"


def test_trl_cpu_defaults_are_overridden():
    from trl import SFTConfig
    cfg = SFTConfig(output_dir="/tmp/airoadmap-api-check", use_cpu=True, bf16=False, activation_checkpointing=False,
                    report_to="none")
    assert cfg.bf16 is False and not cfg.gradient_checkpointing and not cfg.activation_checkpointing


def test_methods_the_notebooks_call():
    from peft import PeftModel
    from peft.tuners.lora import LoraModel
    from transformers import PreTrainedTokenizerBase
    assert hasattr(LoraModel, "merge_and_unload") and hasattr(PeftModel, "print_trainable_parameters")
    assert {"add_generation_prompt", "tokenize", "return_dict"} <= params(PreTrainedTokenizerBase.apply_chat_template)
    import torch
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode  # noqa: F401  (notebook 02)
    q = torch.randn(1, 1, 3, 4)
    F.scaled_dot_product_attention(q, q, q, is_causal=True)  # notebook 03's reference


def test_trainer_internals_the_notebooks_read():
    """11 and 12 compare the learner's numbers with what TRL's trainers compute and keep."""
    import torch
    from trl import DPOTrainer, GRPOTrainer, RewardTrainer
    from trl.trainer.utils import nanstd
    assert "margin" in inspect.getsource(RewardTrainer.compute_loss), "10 checks the margin term against RewardTrainer"
    dpo_source = inspect.getsource(DPOTrainer)
    for key in ("logps/chosen", "logps/rejected", "rewards/chosen", "rewards/margins"):
        assert key in dpo_source, f"11's hidden tests read DPOTrainer._metrics[{key!r}]"
    grpo_source = inspect.getsource(GRPOTrainer)
    assert 'self._logs["advantages"]' in grpo_source and 'self._logs["rewards"]' in grpo_source, \
        "12 reads GRPOTrainer._logs['rewards'] and ['advantages']"
    assert "advantages / (std_rewards + 1e-4)" in grpo_source, "12's advantages follow GRPOTrainer's formula"
    torch.testing.assert_close(nanstd(torch.tensor([1.0, 2.0, 3.0, 4.0])), torch.tensor([1.0, 2.0, 3.0, 4.0]).std())


def test_the_text_generation_pipeline_batches_like_one_at_a_time():
    """09, 11 and 12 call transformers' own pipeline with left padding: batching must not change a
    greedy reply, and the reply comes back without the prompt or the end-of-turn token."""
    import torch
    from transformers import LlamaForCausalLM, pipeline

    from airoadmap.models import load_tokenizer, tiny_llama_config
    from airoadmap.settings import for_notebook

    tok = load_tokenizer("smollm2-135m-instruct", for_notebook("11-dpo"))
    torch.manual_seed(0)
    config = tiny_llama_config(vocab_size=len(tok), hidden=32, layers=2, heads=2, seq_len=256, initializer_range=0.5,
                               pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    model = LlamaForCausalLM(config).eval()
    chats = [[{"role": "user", "content": text}] for text in ("hi", "a much longer message than the first", "ok")]
    tok.padding_side = "left"
    generate = pipeline("text-generation", model=model, tokenizer=tok, batch_size=3)
    options = dict(max_new_tokens=6, do_sample=False, return_full_text=False)
    batched = [out[0]["generated_text"] for out in generate(chats, **options)]
    alone = [generate([chat], **options)[0][0]["generated_text"] for chat in chats]
    assert batched == alone and all(isinstance(t, str) for t in batched)
    assert len(set(batched)) > 1, "the tiny model should answer differently to different prompts"
