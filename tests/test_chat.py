"""``airoadmap.chat.generate_replies``: batched greedy replies equal one-at-a-time replies."""
from __future__ import annotations

import pytest
import torch

from airoadmap import chat, models


@pytest.fixture(scope="module")
def tiny_chat_model():
    from transformers import LlamaForCausalLM
    tok = models.load_tokenizer("smollm2-135m-instruct", "cpu")
    torch.manual_seed(0)
    config = models.tiny_llama_config(vocab_size=tok.vocab_size, hidden=32, layers=2, heads=2, seq_len=256,
                                      pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    return LlamaForCausalLM(config).eval(), tok


def test_batched_replies_equal_replies_one_at_a_time(tiny_chat_model):
    model, tok = tiny_chat_model
    chats = [[{"role": "user", "content": text}] for text in ("hi", "a much longer message than the first one", "ok")]
    tok.padding_side = "right"
    batched = chat.generate_replies(model, tok, chats, max_new_tokens=6, batch_size=3)
    alone = [chat.generate_replies(model, tok, [c], max_new_tokens=6)[0] for c in chats]
    assert batched == alone, "left padding must not change a greedy reply"
    assert tok.padding_side == "right", "the tokenizer's padding side is restored"
    assert len(chat.generate_replies(model, tok, chats, max_new_tokens=2, batch_size=2)) == 3
