"""``airoadmap.cifar``: the CIFAR-10 look-alike in CIFAR-10's own format, read through torchvision's own
CIFAR10 code; the real data when present."""
from __future__ import annotations

import json
import pickle
from collections import Counter

import numpy as np
import pytest

from airoadmap import cifar
from airoadmap.settings import for_notebook

CPU, GPU = for_notebook("02-cnn-cifar10", "cpu"), for_notebook("02-cnn-cifar10", "gpu")


def test_cifar_writer_uses_cifar10s_own_format(tmp_path):
    from torchvision.datasets import CIFAR10

    folder = cifar.write_cifar10_like(tmp_path, n_train=100, n_test=20, seed=1)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["airoadmap.json", "batches.meta", "test_batch"] + [f"data_batch_{i}" for i in range(1, 6)])
    with open(folder / "data_batch_1", "rb") as f:
        entry = pickle.load(f, encoding="latin1")
    assert entry["data"].dtype == np.uint8 and entry["data"].shape == (20, 3072) and len(entry["labels"]) == 20
    with pytest.raises(RuntimeError):  # torchvision checks the real dataset's MD5s ...
        CIFAR10(tmp_path, download=False)
    # ... the subclass lists ours
    train, test = cifar.GeneratedCIFAR10(tmp_path), cifar.GeneratedCIFAR10(tmp_path, train=False)
    assert isinstance(train, CIFAR10) and (len(train), len(test)) == (100, 20)
    assert train.classes == cifar.CLASSES and train.data.shape == (100, 32, 32, 3)
    assert Counter(train.targets) == {c: 10 for c in range(10)}
    image, label = train[0]
    assert image.size == (32, 32) and label in range(10)
    again = cifar.write_cifar10_like(tmp_path / "again", n_train=100, n_test=20, seed=1)
    assert np.array_equal(cifar.GeneratedCIFAR10(again.parent).data, train.data)  # seeded


def test_load_cifar10_prefers_real_data(tmp_path, monkeypatch):
    """Files that pass torchvision's real MD5 check are used as they are (here: faked by patching the
    expected MD5s of the real dataset to those of a generated copy)."""
    from torchvision.datasets import CIFAR10

    folder = cifar.write_cifar10_like(tmp_path, n_train=50, n_test=10)
    manifest = json.loads((folder / "airoadmap.json").read_text())
    monkeypatch.setattr(CIFAR10, "train_list", manifest["train_list"])
    monkeypatch.setattr(CIFAR10, "test_list", manifest["test_list"])
    monkeypatch.setattr(CIFAR10, "meta", manifest["meta"])
    ds = cifar.load_cifar10(tmp_path, CPU, train=False)
    assert type(ds) is CIFAR10 and len(ds) == 10


def test_load_cifar10_offline_falls_back_to_the_look_alike(tmp_path, no_network, capsys):
    ds = cifar.load_cifar10(tmp_path, GPU, train=True)
    assert isinstance(ds, cifar.GeneratedCIFAR10) and len(ds) == 5000
    assert "look-alike" in capsys.readouterr().out
    assert len(cifar.load_cifar10(tmp_path, CPU, train=False)) == 1000
