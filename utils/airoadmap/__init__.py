"""airoadmap: the shared package of the AI-engineer roadmap course.

Notebooks use a handful of names from here::

    import airoadmap
    cfg = airoadmap.start("01-pytorch-fundamentals", profile)   # profile, seed, device, sizes
    airoadmap.record("test_accuracy", acc, at_least=cfg.min_test_accuracy)
    airoadmap.plots.plot_curves({"train loss": losses})

Modules: ``profiles`` (sizes per notebook and profile), ``run`` (start, seeding, threads),
``recording`` (metrics with thresholds), ``checks`` (assertions for test cells), ``plots``,
``course`` (repository paths, for the tools), ``grading`` (nbgrader tooling), ``cli``,
``models`` and ``data`` (offline-first models and the course's datasets), ``assets``.
"""
from . import plots
from .profiles import SIZES, Settings, resolve_profile, sizes
from .recording import QualityError, record
from .run import in_colab, limit_threads, set_seed, start

__version__ = "0.1.0"
_LAZY = {"adapters", "assets", "chat", "checks", "cifar", "course", "data", "models"}


def __getattr__(name: str):
    """``airoadmap.data``, ``airoadmap.models``...: imported on first use, so ``import airoadmap`` stays fast."""
    if name in _LAZY:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'airoadmap' has no attribute {name!r}")
__all__ = ["SIZES", "QualityError", "Settings", "in_colab", "limit_threads", "plots", "record",
           "resolve_profile", "set_seed", "sizes", "start"]
