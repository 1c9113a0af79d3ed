"""The course's cache folder: where prepared models and data live, and how they are written safely.

The leaf of the package: every module that reads or writes prepared assets imports it (``models``,
``cifar``, ``adapters``, the tooling's ``assets``), and it imports no other airoadmap module.

* :func:`cache_dir`: ``$AIROADMAP_CACHE``, else ``$XDG_CACHE_HOME/airoadmap``, else ``~/.cache/airoadmap``.
* :func:`atomic_folder` and :func:`read_marker`: an asset is built in a temporary folder and renamed
  into place, its completion marker ``airoadmap.json`` written last; readers never see half an asset.
* :func:`locked`: an exclusive lock (the ``filelock`` package), so that parallel processes (grading
  workers, two notebooks) build an asset once.
* :func:`readonly`: with ``AIROADMAP_CACHE_READONLY=1`` (the grader sets it in the sandboxed
  kernel) nothing writes to the cache; a missing asset raises :class:`AssetError` saying how to
  prepare it, and :func:`atomic_folder` refuses.
* :func:`online` (may the network be used, and does the host answer?) and :func:`say` (print once).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

MARKER = "airoadmap.json"  # a prepared folder's completion marker, written last
READONLY_VAR = "AIROADMAP_CACHE_READONLY"
OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_TRUE = ("1", "true", "yes", "on")
_said: set[str] = set()
_online: dict[str, tuple[bool, str]] = {}


class AssetError(RuntimeError):
    """A model or dataset is neither reachable nor prepared; the message says what to do."""


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


def readonly() -> bool:
    """True when ``AIROADMAP_CACHE_READONLY`` is set: nothing may be written to the cache."""
    return os.environ.get(READONLY_VAR, "").strip().lower() in _TRUE


def missing(asset: str) -> AssetError:
    """The error for an asset that is not prepared while the cache is read-only (one line)."""
    slug = os.environ.get("AIROADMAP_NOTEBOOK") or "SLUG"  # set by airoadmap.start
    return AssetError(f"{asset} is not in the read-only cache {cache_dir()} ({READONLY_VAR}=1): "
                      f"run `airoadmap assets` (or `airoadmap assets --for {slug}`) first.")


@contextmanager
def locked(path: Path):
    """Hold an exclusive lock on ``path`` (created if needed) for the block."""
    from filelock import FileLock

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path):
        yield


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
    temporary folder is removed. Raises :class:`AssetError` when the cache is read-only.
    """
    target = Path(target)
    if readonly():
        raise missing(target.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield tmp
        if marker is not None:
            (tmp / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
        share(tmp)  # mkdtemp and safetensors make files private; the cache may be shared (and graded from)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # only left if something failed


def share(folder: Path) -> int:
    """Make ``folder`` and everything in it readable by every user (folders also enterable); return
    how many modes changed. Links are not followed. The grader's kernels run as another user and read
    the cache: a private file there would be invisible to them."""
    changed = 0
    for root, dirs, files in os.walk(folder):
        for name, bits in [(root, 0o555)] + [(os.path.join(root, d), 0o555) for d in dirs] + \
                [(os.path.join(root, f), 0o444) for f in files]:
            try:
                info = os.lstat(name)
            except OSError:
                continue
            if stat.S_ISLNK(info.st_mode) or (info.st_mode & bits) == bits:
                continue
            os.chmod(name, stat.S_IMODE(info.st_mode) | bits)
            changed += 1
    return changed


def online(host: str = "huggingface.co", port: int = 443, timeout: float = 3.0) -> tuple[bool, str]:
    """``(True, reason)`` if downloads from ``host`` are allowed and it answers within ``timeout`` s.

    ``HF_HUB_OFFLINE=1`` (or ``TRANSFORMERS_OFFLINE=1``) means offline for every download the course
    makes, not only the Hub's. The answer is cached per host for the life of the process, so that an
    unreachable host costs its timeout once, never a hang per load.
    """
    for var in OFFLINE_VARS:
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return False, f"offline: {var}=1"
    if host not in _online:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            _online[host] = (True, f"{host} reachable")
        except OSError as e:
            _online[host] = (False, f"offline: {host} unreachable ({type(e).__name__})")
    return _online[host]


def folder_bytes(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
