"""Profiles: which sizes a notebook runs at, on which hardware.

Every notebook opens with a papermill ``parameters`` cell holding ``profile = "auto"``.
``resolve_profile`` turns that into ``"cpu"`` or ``"gpu"``:

* an explicit ``"cpu"``/``"gpu"`` wins;
* ``"auto"`` reads the ``AIROADMAP_PROFILE`` environment variable, then looks for CUDA.

``SIZES`` is the one table of per-notebook sizes (model, steps, batch, sequence length,
quality thresholds). ``cpu`` must finish on 2 cores in minutes; ``gpu`` is what a Colab T4
learner runs. Used by every notebook through :func:`airoadmap.start`.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

PROFILES = ("cpu", "gpu")
ENV_VAR = "AIROADMAP_PROFILE"

# notebook slug -> profile -> settings. Thresholds live here, beside the sizes they depend on.
SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "01-pytorch-fundamentals": {
        "cpu": dict(epochs=12, batch_size=64, lr=0.05, hidden=64, min_test_accuracy=0.90),
        "gpu": dict(epochs=30, batch_size=64, lr=0.05, hidden=128, min_test_accuracy=0.93),
    },
}


class ProfileError(ValueError):
    """A profile name or a profile's settings are not valid."""


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # the package is importable without torch (e.g. in the grading CLI)
        return False
    return bool(torch.cuda.is_available())


def resolve_profile(profile: str = "auto") -> tuple[str, str]:
    """Return ``(profile, reason)`` with profile in ``PROFILES``.

    >>> resolve_profile("cpu")
    ('cpu', 'set in the notebook')
    """
    profile = (profile or "auto").strip().lower()
    if profile in PROFILES:
        return profile, "set in the notebook"
    if profile != "auto":
        raise ProfileError(f"profile={profile!r} is not one of 'auto', {', '.join(map(repr, PROFILES))}.")
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    if forced and forced != "auto":
        if forced not in PROFILES:
            raise ProfileError(f"{ENV_VAR}={forced!r} is not one of {', '.join(map(repr, PROFILES))}.")
        return forced, f"forced by {ENV_VAR}"
    if cuda_available():
        return "gpu", "auto: a CUDA GPU is available"
    return "cpu", "auto: no CUDA GPU found"


class Settings(dict):
    """A dict whose keys are also attributes: ``cfg.epochs`` and ``cfg["epochs"]``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}; known: {', '.join(sorted(self))}") from None


def sizes(notebook: str, profile: str, overrides: Mapping[str, Any] | None = None) -> Settings:
    """The settings of ``notebook`` under ``profile``; ``overrides`` that are not None replace them."""
    if notebook not in SIZES:
        raise ProfileError(f"no sizes for notebook {notebook!r}; known: {', '.join(sorted(SIZES))}")
    if profile not in PROFILES:
        raise ProfileError(f"profile {profile!r} is not resolved; call resolve_profile first")
    table = Settings(SIZES[notebook][profile])
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in table:
            raise ProfileError(f"{notebook} has no setting {key!r}; known: {', '.join(sorted(table))}")
        table[key] = value
    return table
