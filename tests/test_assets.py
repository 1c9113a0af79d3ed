"""``airoadmap assets``: where the cache is, idempotence (a second run only checks markers), --force."""
from __future__ import annotations

import time

import pytest

from airoadmap import assets, data, models


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("AIROADMAP_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert assets.cache_dir() == tmp_path / "xdg" / "airoadmap"
    monkeypatch.setenv("AIROADMAP_CACHE", str(tmp_path / "mine"))
    assert assets.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("AIROADMAP_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert assets.cache_dir().parts[-2:] == (".cache", "airoadmap")


def test_online_respects_offline_variables(monkeypatch):
    monkeypatch.setattr(assets, "_online", {})
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    assert assets.online() == (False, "offline: TRANSFORMERS_OFFLINE=1")


def test_prepare_is_idempotent_and_offline(tmp_path, monkeypatch, no_network, capsys):
    """Everything but the LLM conversion (replaced by a stub here; the real one is tested slow)."""
    monkeypatch.setenv("AIROADMAP_CACHE", str(tmp_path))
    fake = tmp_path / "models" / "smollm2-135m-instruct"
    fake.mkdir(parents=True)
    (fake / "airoadmap.json").write_text("{}")
    monkeypatch.setattr(models, "converted_smollm2", lambda force=False: fake)

    first = assets.prepare()
    out = capsys.readouterr().out
    assert "[4/4]" in out and "All assets ready" in out
    batch = tmp_path / "cifar10" / "generated" / "cifar-10-batches-py" / "data_batch_1"
    made = batch.stat().st_mtime_ns

    start = time.perf_counter()
    assert assets.prepare() == first
    assert time.perf_counter() - start < 10
    assert batch.stat().st_mtime_ns == made, "a second run regenerated the images"

    assets.prepare(force=True)
    assert batch.stat().st_mtime_ns != made
    assert len(data.load_cifar10(tmp_path / "cifar10", train=False)) == 1000


def test_cli_calls_prepare(monkeypatch):
    from click.testing import CliRunner

    from airoadmap.cli import main

    calls = []
    monkeypatch.setattr(assets, "prepare", lambda force=False: calls.append(force))
    assert CliRunner().invoke(main, ["assets", "--force"]).exit_code == 0
    assert CliRunner().invoke(main, ["assets"]).exit_code == 0
    assert calls == [True, False]


@pytest.mark.slow
def test_real_prepare_second_run_takes_seconds(no_network):
    """With the real cache: the first run converts what is missing, the second only checks."""
    assets.prepare()
    start = time.perf_counter()
    done = assets.prepare()
    assert time.perf_counter() - start < 15
    smollm2 = next(path for title, path in done.items() if title.startswith("SmolLM2"))
    assert (smollm2 / "model.safetensors").stat().st_size > 500e6  # fp32, ~538 MB


@pytest.mark.slow  # two fresh interpreters importing torch: ~5 s on a quiet machine
def test_parallel_processes_build_an_asset_once(tmp_path):
    """Two processes (say, two grading workers) asking for the look-alike at once: one generates it,
    the other waits for the lock and then uses it."""
    import subprocess
    import sys

    code = "import sys; from airoadmap.cifar import generated_root; generated_root(sys.argv[1])"
    env = {**__import__("os").environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sum(out.count("Generating the CIFAR-10 look-alike") for out in outputs) == 1, outputs
    assert len(data.load_cifar10(tmp_path, train=False)) == 1000


def test_atomic_folder_replaces_only_on_success(tmp_path):
    target = tmp_path / "asset"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with assets.atomic_folder(target, marker={"v": 2}) as tmp:
            (tmp / "new.txt").write_text("half")
            raise RuntimeError("interrupted")
    assert [p.name for p in tmp_path.iterdir()] == ["asset"] and (target / "old.txt").exists(), \
        "a failed build leaves the old folder and no temporary one"
    assert assets.read_marker(target) is None
    with assets.atomic_folder(target, marker={"v": 2}) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["airoadmap.json", "new.txt"]
    assert assets.read_marker(target) == {"v": 2}
