"""airoadmap: the shared package of the AI-engineer roadmap course.

Notebooks use a handful of names from here::

    import airoadmap
    cfg = airoadmap.start("01-pytorch-fundamentals", profile)   # sizes, profile, device, dtype, seed
    airoadmap.record("test_accuracy", acc, at_least=cfg.min_test_accuracy)
    airoadmap.plots.plot_curves({"train loss": losses})

The package's folders are its audiences:

* ``airoadmap/*.py``, the learner runtime (what notebooks import): ``settings`` (sizes per notebook
  and profile, ``start``), ``cache`` (the asset cache), ``models``, ``data``, ``cifar``, ``triage``
  (the triage schema and metric), ``adapters`` (07's adapter), ``evaluation`` (confidence
  intervals), ``recording``, ``checks`` (assertions for test cells), ``plots``.
* ``airoadmap/tooling/``, the course tooling for authors and CI: the ``airoadmap`` command, release,
  executing the solutions, the lab, preparing assets.
* ``airoadmap/grading/``, instructor grading on top of nbgrader (``airoadmap cohort``).

The learner runtime never imports the other two.
"""
from . import plots
from .recording import QualityError, record
from .settings import SIZES, Settings, for_notebook, in_colab, limit_threads, resolve_profile, set_seed, sizes, start

__version__ = "0.1.0"
_LAZY = {"adapters", "cache", "checks", "cifar", "data", "evaluation", "models", "triage"}


def __getattr__(name: str):
    """``airoadmap.data``, ``airoadmap.models``...: imported on first use, so ``import airoadmap`` stays fast."""
    if name in _LAZY:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'airoadmap' has no attribute {name!r}")


__all__ = ["SIZES", "QualityError", "Settings", "for_notebook", "in_colab", "limit_threads", "plots", "record",
           "resolve_profile", "set_seed", "sizes", "start"]
