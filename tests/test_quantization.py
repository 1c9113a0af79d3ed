"""airoadmap.quantization: GGUF export of a Llama model, reading it back, and what llama.cpp makes of it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from airoadmap import quantization as q
from airoadmap.models import load_tokenizer, tiny_llama_config
from airoadmap.settings import for_notebook


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("smollm2-135m-instruct", for_notebook("13-quantization-for-inference", "cpu"))


@pytest.fixture(scope="module")
def tiny(tokenizer):
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    config = tiny_llama_config(vocab_size=len(tokenizer), hidden=64, layers=2, heads=4, num_key_value_heads=2)
    return LlamaForCausalLM(config).eval()


def test_permute_and_unpermute_are_inverse():
    w = np.random.default_rng(0).standard_normal((12 * 8, 40)).astype(np.float32)
    for heads in (1, 2, 12):
        assert np.array_equal(q._unpermute(q._permute(w, heads), heads), w)
    assert not np.array_equal(q._permute(w, 12), w), "llama.cpp's rotary layout differs from Hugging Face's"


def test_float32_export_round_trips_exactly(tiny, tokenizer, tmp_path):
    path = q.export_gguf(tiny, tokenizer, tmp_path / "t-f32.gguf", "F32")
    before = {k: v.clone() for k, v in tiny.state_dict().items()}
    copy = type(tiny)(tiny.config).eval()
    types = q.load_gguf_weights(copy, path)
    assert set(types.values()) == {"F32"}
    for name, value in copy.state_dict().items():
        assert torch.equal(value, before[name]), f"{name} changed on the way through the GGUF file"
    assert not list(tmp_path.glob(".*.part")), "the file is renamed into place"


@pytest.mark.parametrize("qtype", ["Q8_0", "Q5_0", "Q4_0", "F16"])
def test_tensor_types_and_sizes_follow_llama_cpp(tiny, tokenizer, tmp_path, qtype):
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    path = q.export_gguf(tiny, tokenizer, tmp_path / f"t-{qtype}.gguf", qtype)
    table = {t["name"]: t for t in q.tensor_table(path)}
    assert "output.weight" not in table, "tied embeddings: llama.cpp reads token_embd as the output layer"
    assert table["token_embd.weight"]["type"] == ("F16" if qtype == "F16" else "Q8_0"), "the output layer keeps Q8_0"
    assert table["blk.0.attn_norm.weight"]["type"] == "F32" and table["output_norm.weight"]["type"] == "F32"
    assert table["blk.1.ffn_down.weight"]["type"] == qtype and table["blk.0.attn_q.weight"]["shape"] == (64, 64)
    assert table["blk.0.attn_k.weight"]["shape"] == (32, 64), "shapes in PyTorch's (out, in) order"
    for t in table.values():
        block, size = GGML_QUANT_SIZES[GGMLQuantizationType[t["type"]]]
        assert t["bytes"] == t["values"] // block * size
    copy = type(tiny)(tiny.config).eval()
    q.load_gguf_weights(copy, path)
    error = (copy.model.layers[0].mlp.up_proj.weight - tiny.model.layers[0].mlp.up_proj.weight).abs().max()
    assert 0 <= error < {"F16": 1e-3, "Q8_0": 0.01, "Q5_0": 0.03, "Q4_0": 0.06}[qtype]


def test_kquant_rows_and_errors(tiny, tokenizer, tmp_path):
    path = q.export_gguf(tiny, tokenizer, tmp_path / "t.gguf", "Q8_0")
    rows = q.kquant_rows(path, "Q4_K")
    assert rows and all(r["fits"] == (r["row_width"] % 256 == 0) for r in rows)
    assert {r["gets"] for r in rows if not r["fits"]} == {"Q5_0"}, "llama.cpp's Q4_K fallback is Q5_0"
    with pytest.raises(ValueError, match="K-quant"):
        q.kquant_rows(path, "Q8_0")
    with pytest.raises(ValueError, match="quantize"):
        q.export_gguf(tiny, tokenizer, tmp_path / "k.gguf", "Q4_K")


def test_only_llama_models_are_written(tokenizer, tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    with pytest.raises(NotImplementedError, match="Llama"):
        q.export_gguf(GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2)), tokenizer, tmp_path / "g.gguf")


@pytest.mark.slow
def test_llama_cpp_answers_like_transformers_from_our_file(tmp_path, tokenizer):
    """The real SmolLM2 exported to F16 and served by llama.cpp gives transformers' greedy answer."""
    from airoadmap.engines import llama_cpp_server
    from airoadmap.models import load_causal_lm
    from airoadmap.serving import listening_ports

    settings = for_notebook("13-quantization-for-inference", "cpu")
    model, tok = load_causal_lm("smollm2-135m-instruct", settings)
    path = q.export_gguf(model, tok, tmp_path / "smollm2-f16.gguf", "F16")
    messages = [{"role": "user", "content": "Name three colours."}]
    ids = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=False)
    want = tok.decode(model.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False)[0, len(ids):],
                      skip_special_tokens=True)
    before = listening_ports()
    with llama_cpp_server(path, threads=1, slots=1) as url:
        from openai import OpenAI

        reply = OpenAI(base_url=url + "/v1", api_key="none").chat.completions.create(
            model="x", messages=messages, max_tokens=12, temperature=0)
    assert reply.choices[0].message.content == want
    assert listening_ports() - before == set(), "llama.cpp's server is stopped when the block ends"


def test_header_reader_agrees_with_gguf_reader(tiny, tokenizer, tmp_path):
    from gguf import GGUFReader

    path = q.export_gguf(tiny, tokenizer, tmp_path / "t.gguf", "Q5_0")
    ours = q.tensor_table(path)
    theirs = GGUFReader(path).tensors
    assert [(t["name"], t["type"], t["bytes"], t["shape"]) for t in ours] == \
        [(t.name, t.tensor_type.name, int(t.n_bytes), tuple(int(s) for s in reversed(t.shape.tolist())))
         for t in theirs]
    index, start = q._tensor_index(path)
    assert start == theirs[0].data_offset - index[0]["offset"]
    assert np.array_equal(q._read_tensor(path, index[3], start).reshape(-1),
                          __import__("gguf").quants.dequantize(theirs[3].data, theirs[3].tensor_type).reshape(-1))
