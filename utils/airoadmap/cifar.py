"""CIFAR-10 through torchvision's own loader, real when possible, a generated look-alike offline.

``load_cifar10`` always returns a ``torchvision.datasets.CIFAR10`` (the same code path, transforms
and ``DataLoader`` as with the real data), choosing in this order:

1. the real CIFAR-10, if ``<root>/cifar-10-batches-py`` holds it (torchvision checks its MD5s), e.g.
   after you extract the real ``cifar-10-python.tar.gz`` into ``root``;
2. on profile ``gpu``, the real CIFAR-10 downloaded by torchvision, if the internet can be used;
3. otherwise a generated look-alike in ``<root>/generated``: 10 classes of procedurally drawn
   shapes and textures (random colours, sizes, positions, rotations, clutter and noise), 32x32 RGB,
   5,000 train / 1,000 test, written in CIFAR-10's own pickle format. A small CNN learns it well
   above chance but not perfectly (square vs diamond and ring vs circle overlap on purpose).

torchvision checks each file's MD5 against the real dataset's, so the look-alike is read by
``GeneratedCIFAR10``, a subclass that lists the generated files' MD5s instead (from the manifest
written next to them). Used by 02 (a CNN on CIFAR-10). With ``AIROADMAP_CACHE_READONLY=1`` a missing
look-alike raises :class:`~airoadmap.cache.AssetError` instead of being generated.
"""
from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
from torchvision.datasets import CIFAR10

from .cache import MARKER, atomic_folder, cache_dir, locked, missing, online, readonly, say
from .settings import require

CLASSES = ["circle", "ring", "square", "diamond", "triangle", "cross",
           "horizontal_stripes", "vertical_stripes", "checkerboard", "dots"]
MANIFEST = MARKER
BATCHES = 5  # data_batch_1 .. data_batch_5, as in CIFAR-10


def draw(rng: np.random.Generator, label: int) -> np.ndarray:
    """One 32x32x3 uint8 image of class ``label``: a shape or texture with random colours and noise."""
    yy, xx = np.mgrid[0:32, 0:32] + 0.5
    cy, cx = 16 + rng.uniform(-5, 5, size=2)
    r = rng.uniform(7, 12)
    name = CLASSES[label]
    angle = {"square": rng.uniform(-25, 25), "diamond": 45 + rng.uniform(-25, 25), "cross": rng.uniform(-20, 20),
             "triangle": rng.uniform(0, 360), "horizontal_stripes": rng.uniform(-20, 20),
             "vertical_stripes": 90 + rng.uniform(-20, 20)}.get(name, rng.uniform(0, 90))
    a = np.deg2rad(angle)
    u = (xx - cx) * np.cos(a) + (yy - cy) * np.sin(a)  # coordinates in the shape's own frame
    v = -(xx - cx) * np.sin(a) + (yy - cy) * np.cos(a)
    dist = np.hypot(u, v)
    period = rng.uniform(4, 8)
    box = (np.abs(xx - cx) <= rng.uniform(8, 16)) & (np.abs(yy - cy) <= rng.uniform(8, 16))  # texture patch
    if name == "circle":
        mask = dist <= r
    elif name == "ring":
        mask = (dist <= r) & (dist >= r * rng.uniform(0.45, 0.7))
    elif name in ("square", "diamond"):
        mask = np.maximum(np.abs(u), np.abs(v)) <= r * 0.8
    elif name == "triangle":
        mask = np.ones_like(u, dtype=bool)
        for t in np.deg2rad([90, 210, 330]):
            mask &= u * np.cos(t) + v * np.sin(t) <= r * 0.6
    elif name == "cross":
        arm = r / 3.5
        mask = ((np.abs(u) <= arm) & (np.abs(v) <= r)) | ((np.abs(v) <= arm) & (np.abs(u) <= r))
    elif name in ("horizontal_stripes", "vertical_stripes"):
        mask = box & ((v / period) % 1 < 0.5)
    elif name == "checkerboard":
        mask = box & ((np.floor(u / period) + np.floor(v / period)) % 2 == 0)
    else:  # dots
        mask = box & (np.hypot(u % period - period / 2, v % period - period / 2) <= period * 0.3)
    background = rng.uniform(0, 1, size=3)
    direction = rng.normal(size=3)
    foreground = np.clip(background + direction / np.linalg.norm(direction) * rng.uniform(0.3, 0.9), 0, 1)
    img = np.where(mask[..., None], foreground, background)
    if rng.random() < 0.5:  # clutter: a small blob of a third colour somewhere
        by, bx = rng.uniform(0, 32, size=2)
        img[np.hypot(xx - bx, yy - by) <= rng.uniform(2, 4)] = rng.uniform(0, 1, size=3)
    img = img + rng.normal(0, rng.uniform(0.03, 0.12), size=img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_cifar10_like(root, n_train: int = 5000, n_test: int = 1000, seed: int = 0) -> Path:
    """Write a seeded, class-balanced look-alike into ``root/cifar-10-batches-py``; return that folder.

    The files are CIFAR-10's: ``data_batch_1``..``data_batch_5``, ``test_batch`` and ``batches.meta``,
    Python pickles with ``data`` (uint8, N x 3072, channel-major), ``labels`` and ``label_names``;
    plus ``airoadmap.json``, the manifest with their MD5s. Written to a temporary folder and renamed.
    """
    if n_train % BATCHES:
        raise ValueError(f"n_train={n_train} must be a multiple of {BATCHES} (one part per data_batch file).")
    rng = np.random.default_rng(seed)
    target = Path(root) / CIFAR10.base_folder
    with atomic_folder(target) as tmp:  # the manifest (with the MD5s) is the completion marker, written last
        def batch(filename: str, n: int, label: str) -> list[str]:
            labels = rng.permutation(np.arange(n) % len(CLASSES)).tolist()
            images = np.stack([draw(rng, y) for y in labels])
            entry = {"batch_label": label, "labels": labels,
                     "data": images.transpose(0, 3, 1, 2).reshape(n, 3072),
                     "filenames": [f"{CLASSES[y]}_{i:05d}.png" for i, y in enumerate(labels)]}
            with open(tmp / filename, "wb") as f:
                pickle.dump(entry, f, protocol=4)
            return [filename, _md5(tmp / filename)]

        train_list = [batch(f"data_batch_{i}", n_train // BATCHES, f"training batch {i} of {BATCHES}")
                      for i in range(1, BATCHES + 1)]
        test_list = [batch("test_batch", n_test, "testing batch 1 of 1")]
        with open(tmp / "batches.meta", "wb") as f:
            pickle.dump({"num_cases_per_batch": n_train // BATCHES, "label_names": CLASSES, "num_vis": 3072},
                        f, protocol=4)
        meta = {"filename": "batches.meta", "key": "label_names", "md5": _md5(tmp / "batches.meta")}
        manifest = dict(train_list=train_list, test_list=test_list, meta=meta, n_train=n_train, n_test=n_test,
                        seed=seed, classes=CLASSES)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return target


class GeneratedCIFAR10(CIFAR10):
    """torchvision's ``CIFAR10`` reading the look-alike: only the expected MD5s differ (from the
    manifest). Everything else, including the integrity check, is torchvision's own code."""

    url = None

    def __init__(self, root, train: bool = True, transform=None, target_transform=None) -> None:
        manifest = json.loads((Path(root) / self.base_folder / MANIFEST).read_text())
        self.train_list, self.test_list, self.meta = manifest["train_list"], manifest["test_list"], manifest["meta"]
        super().__init__(root, train=train, transform=transform, target_transform=target_transform, download=False)

    def download(self) -> None:
        raise RuntimeError("GeneratedCIFAR10 is generated, not downloaded: use write_cifar10_like(root).")


def generated_root(root=None, force: bool = False) -> Path:
    """The folder holding the look-alike (``<root>/generated``), generating it if missing or broken."""
    gen = (Path(root) if root else cache_dir() / "cifar10") / "generated"

    def ready() -> bool:
        try:
            return not force and bool(GeneratedCIFAR10(gen, train=False))
        except (OSError, ValueError, KeyError, RuntimeError):
            return False

    if ready():
        return gen
    if readonly():
        raise missing(f"The CIFAR-10 look-alike (asset cifar10) in {gen}")
    with locked(gen.parent / ".generated.lock"):  # a parallel process may be generating right now
        if not ready():
            say(f"Generating the CIFAR-10 look-alike in {gen} (once, a few seconds) ...")
            write_cifar10_like(gen)
    return gen


def load_cifar10(root, settings, train: bool = True, transform=None, target_transform=None):
    """A ``torchvision.datasets.CIFAR10`` of the real data if possible, else of the look-alike.

    ``root`` is the data folder (None: ``<cache>/cifar10``); ``settings`` come from ``airoadmap.start``
    (the ``gpu`` profile may download the real data).
    """
    profile = require(settings, "load_cifar10").profile
    root = Path(root) if root else cache_dir() / "cifar10"
    split = "train" if train else "test"
    try:
        ds = CIFAR10(root, train=train, transform=transform, target_transform=target_transform, download=False)
        say(f"CIFAR-10: the real dataset found in {root} ({len(ds):,} {split} images).")
        return ds
    except RuntimeError:
        pass
    if profile == "gpu":
        ok, why = (False, "read-only cache") if readonly() else online("www.cs.toronto.edu")
        if ok:
            try:
                ds = CIFAR10(root, train=train, transform=transform, target_transform=target_transform, download=True)
                say(f"CIFAR-10: the real dataset, downloaded to {root} ({len(ds):,} {split} images).")
                return ds
            except Exception as e:  # noqa: BLE001 (any download failure falls back to the look-alike)
                why = f"download failed: {type(e).__name__}: {e}"
        reason = f"profile gpu, {why}"
    else:
        reason = "profile cpu"
    ds = GeneratedCIFAR10(generated_root(root), train=train, transform=transform, target_transform=target_transform)
    say(f"CIFAR-10: generated look-alike ({reason}): 10 shape/texture classes, {len(ds):,} {split} images "
        f"in {root / 'generated'}. To use the real data, extract cifar-10-python.tar.gz into {root}.")
    return ds
