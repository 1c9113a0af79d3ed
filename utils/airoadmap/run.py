"""Start a notebook: resolve its profile, seed everything, pick the device, say what was chosen.

Every notebook's third code cell (after ``parameters`` and the Colab setup cell) is::

    cfg = airoadmap.start("01-pytorch-fundamentals", profile, epochs=epochs)

The returned :class:`~airoadmap.profiles.Settings` holds the notebook's sizes plus ``profile``,
``device`` and ``seed``.
"""
from __future__ import annotations

import os
import platform
import random
import sys

from .profiles import Settings, resolve_profile, sizes


def in_colab() -> bool:
    return "google.colab" in sys.modules


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so that a run can be repeated."""
    random.seed(seed)
    try:
        import numpy as np
        np.random.seed(seed)
    except ImportError:
        pass
    import torch
    torch.manual_seed(seed)  # also seeds every CUDA device


def limit_threads(n: int | None = None) -> int:
    """Use at most ``n`` CPU threads in torch (default: ``AIROADMAP_THREADS`` or all cores).

    Several processes on one machine each with torch's default thread count slow each other
    down 3-20x; the grader and servers call this with cores / processes.
    """
    import torch
    n = n or int(os.environ.get("AIROADMAP_THREADS", "0")) or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


def quiet_library_deprecations() -> None:
    """Hide FutureWarning/DeprecationWarning raised inside libraries (transformers, peft, trl).

    The course pins its versions, so these say nothing a learner can act on; and nbgrader scores
    a test cell that writes anything to stderr as failed, so a library's deprecation notice
    printed during a test would cost the learner its points.
    """
    import warnings
    for category in (FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)


def start(notebook: str, profile: str = "auto", seed: int = 0, quiet: bool = False, **overrides) -> Settings:
    import torch

    resolved, reason = resolve_profile(profile)
    cfg = sizes(notebook, resolved, overrides)
    quiet_library_deprecations()
    set_seed(seed)
    threads = limit_threads()
    device = "cuda" if resolved == "gpu" and torch.cuda.is_available() else "cpu"
    if resolved == "gpu" and device == "cpu":
        print("Warning: profile 'gpu' was asked for but no CUDA GPU is visible: running the gpu sizes on the "
              "CPU will be slow. On Colab: Runtime > Change runtime type > GPU. Or set profile = 'cpu'.")
    cfg.update(profile=resolved, device=device, seed=seed)
    os.environ.setdefault("AIROADMAP_NOTEBOOK", notebook)
    if not quiet:
        where = "Colab" if in_colab() else platform.node() or "local"
        gpu = f" ({torch.cuda.get_device_name(0)})" if device == "cuda" else f" ({threads} threads)"
        print(f"{notebook}: profile {resolved!r} ({reason}); device {device}{gpu}; seed {seed}; "
              f"torch {torch.__version__}, python {platform.python_version()}, on {where}")
        shown = {k: v for k, v in cfg.items() if k not in ("profile", "device", "seed")}
        print("settings: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    return cfg
