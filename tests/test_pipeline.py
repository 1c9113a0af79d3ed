"""15's pipeline package (airoadmap.pipeline): config checks, the publish folder, publishing behind a flag.

The whole pipeline (data -> train -> evaluate -> gate -> export -> serve -> card -> manifest, twice, with the
second run skipping every step) runs in 15's solution notebook, which the grading contract test executes.
"""
import types

import huggingface_hub
import pytest

from airoadmap import pipeline


def fake_run(tmp_path):
    """A served run's folders as the steps leave them: the card, the adapter (with PEFT's own README.md), the GGUF."""
    folders = {step: tmp_path / "steps" / step for step in ("card", "train", "export")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    (folders["card"] / "README.md").write_text("---\nlicense: apache-2.0\n---\n# the card\n")
    (folders["train"] / "adapter").mkdir()
    (folders["train"] / "adapter" / "README.md").write_text("# Model Card for Model ID (PEFT's template)\n")
    (folders["train"] / "adapter" / "adapter_model.safetensors").write_bytes(b"weights")
    (folders["export"] / "model.gguf").write_bytes(b"GGUF")
    run_folder = tmp_path / "run"
    run_folder.mkdir()
    (run_folder / "manifest.json").write_text("{}\n")
    return types.SimpleNamespace(folder=run_folder, path=lambda step, name: folders[step] / name)


def test_the_publish_folder_holds_the_card_not_peft_s_readme(tmp_path):
    run = fake_run(tmp_path)
    folder = pipeline._publish_folder(run)
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "adapter_model.safetensors", "manifest.json",
                                                         "model.gguf"]
    assert "# the card" in (folder / "README.md").read_text(), "the published README.md must be the model card"
    assert "# the card" in run.path("card", "README.md").read_text(), "the card itself must be left unchanged"
    assert "PEFT" in (run.path("train", "adapter") / "README.md").read_text(), "the adapter must be left unchanged"


def served_result(tmp_path, **config):
    run = fake_run(tmp_path)
    return {"status": "served", "publish": str(pipeline._publish_folder(run)),
            "config": {"run": {"name": "r"}, "publish": {"repo_id": "someone/model", **config}}}


def no_hub(*args, **kwargs):
    raise AssertionError("publish must stop before any Hub call")


def test_publish_without_push_sends_nothing_and_says_what_would_go(tmp_path, monkeypatch):
    monkeypatch.setattr(huggingface_hub, "HfApi", no_hub)
    lines = []
    assert pipeline.publish(served_result(tmp_path), push=False, echo=lines.append) is None
    assert "4 files" in lines[0] and "someone/model" in lines[0] and "push=True" in lines[0], lines


@pytest.mark.parametrize("why, setup", [
    ("HF_HUB_OFFLINE", lambda mp: mp.setenv("HF_HUB_OFFLINE", "1")),
    ("token", lambda mp: (mp.delenv("HF_HUB_OFFLINE", raising=False), mp.delenv("HF_TOKEN", raising=False),
                          mp.setattr(huggingface_hub, "get_token", lambda: None))),
])
def test_publish_with_push_stops_before_any_network_call(tmp_path, monkeypatch, why, setup):
    monkeypatch.setattr(huggingface_hub, "HfApi", no_hub)
    setup(monkeypatch)
    with pytest.raises(pipeline.PublishError, match=why) as raised:
        pipeline.publish(served_result(tmp_path), push=True, echo=lambda line: None)
    assert "nothing was sent" in str(raised.value)


def test_a_run_stopped_at_the_gate_cannot_be_published(tmp_path):
    with pytest.raises(pipeline.PublishError, match="stopped at the gate"):
        pipeline.publish({"status": "stopped at the gate", "config": {}}, push=True)


def test_a_config_typo_is_named_with_the_known_keys(tmp_path):
    from airoadmap.settings import for_notebook

    config = pipeline.default_config(for_notebook("15-mlops-pipeline", "cpu"), name="t", workdir=tmp_path)
    pipeline.check_config(config)
    with pytest.raises(pipeline.PipelineError, match="min_gian") as raised:
        pipeline.check_config({**config, "gate": {**config["gate"], "min_gian": 0.1}})
    assert "min_gain" in str(raised.value), "the message should list the keys [gate] knows"
    with pytest.raises(pipeline.PipelineError, match=r"\[serving\]"):
        pipeline.check_config({**config, "serving": {}})
