"""Greedy replies from a chat model to many conversations at once.

Used by the notebooks that score a model on held-out Fjordly tickets before and after training
(09 QLoRA, 11 DPO, 12 GRPO). 05 explains why batches are padded on the left; 07 writes this loop
out in full.
"""
from __future__ import annotations


def generate_replies(model, tokenizer, conversations: list[list[dict]], max_new_tokens: int,
                     batch_size: int = 8, desc: str = "generating") -> list[str]:
    """The greedy reply to each conversation (a message list ending with the user's turn).

    Prompts are rendered with the tokenizer's chat template and the generation prompt, batched with
    **left** padding (so every prompt ends where generation starts), and decoded without special
    tokens. The model is put in eval mode; the tokenizer's padding side is restored afterwards.
    """
    import torch
    from tqdm.auto import tqdm

    model.eval()
    replies: list[str] = []
    previous_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        starts = range(0, len(conversations), batch_size)
        for start in tqdm(starts, desc=desc, leave=False, disable=len(starts) < 2):
            prompts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
                       for c in conversations[start:start + batch_size]]
            batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            with torch.no_grad():
                out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            replies += tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = previous_side
    return replies
