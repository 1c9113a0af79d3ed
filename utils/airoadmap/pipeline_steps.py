"""The steps of 15's pipeline (:mod:`airoadmap.pipeline` runs them in order): data, baseline, train, evaluate,
gate, export, serve and card, each a function of the run that returns its outputs (numbers, hashes) and
leaves its files in the step's folder. The learner's functions arrive as ``run.hooks``; none is written here.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .pipeline import Run

SCORES = {"reward": "reward", "valid_json": "valid_json", "category_accuracy": "category_correct",
          "exact_match": "exact"}  # metric name -> score_triage_json key


class PipelineError(RuntimeError):
    """A step could not do its job (bad config, bad data, a failed smoke test); the message says which."""


# -- data -------------------------------------------------------------------------------------------------

def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(rows: list[dict], path: str | os.PathLike) -> Path:
    """Rows as JSON lines, one canonical form (sorted keys, UTF-8), so equal rows give equal bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    return path


def ticket_text(row: dict) -> str:
    """The customer's ticket of a chat row (its user message)."""
    return next(m["content"] for m in row["messages"] if m["role"] == "user")


def schema_problem(row) -> str | None:
    """Why a row is not a triage chat (system, user, assistant; the answer a triage object with a known
    category and priority and a summary), or None."""
    from .triage import CATEGORIES, FIELDS, PRIORITIES

    try:
        roles = [m["role"] for m in row["messages"]]
        if roles != ["system", "user", "assistant"] or not all(isinstance(m["content"], str) for m in row["messages"]):
            return f"roles {roles}, expected system, user, assistant with text"
        answer = json.loads(row["messages"][-1]["content"])
    except (KeyError, TypeError, ValueError) as e:
        return f"not a chat with a JSON answer ({type(e).__name__}: {e})"
    if not isinstance(answer, dict) or set(answer) != set(FIELDS):
        return f"the answer's keys are not {', '.join(FIELDS)}"
    if answer["category"] not in CATEGORIES:
        return f"unknown category {answer['category']!r}"
    if answer["priority"] not in PRIORITIES:
        return f"unknown priority {answer['priority']!r}"
    if not isinstance(answer["summary"], str) or not answer["summary"].strip():
        return "an empty summary"
    return None


def _split_by_hash(rows: list[dict], test_percent: int, hash_config) -> tuple[list, list]:
    """A row goes to test when a hash of its normalised ticket text falls in the first test_percent of 100:
    equal tickets always land in the same split, and the split does not depend on the rows' order."""
    train, test = [], []
    for row in rows:
        bucket = int(hash_config({"ticket": " ".join(ticket_text(row).casefold().split())})[:8], 16) % 100
        (test if bucket < test_percent else train).append(row)
    return train, test


def data_step(run: Run) -> dict:
    config, hooks = run.config["data"], run.hooks
    sources = {k: config[k] for k in ("train", "test", "labelled") if k in config}
    inputs = {"config": config, "files": {k: hooks.sha256_file(v) for k, v in sources.items()}}

    def work(folder: Path) -> dict:
        raw = {k: _read_jsonl(Path(v)) for k, v in sources.items()}
        bad = {k: [(i, p) for i, r in enumerate(rows) if (p := schema_problem(r))] for k, rows in raw.items()}
        good = {k: [r for i, r in enumerate(rows) if i not in {j for j, _ in bad[k]}] for k, rows in raw.items()}
        if "labelled" in good:
            train, test = _split_by_hash(good["labelled"], config.get("test_percent", 20), hooks.config_hash)
        else:
            train, test = good["train"], good["test"]
        found = hooks.validate([ticket_text(r) for r in train], [ticket_text(r) for r in test])
        drop_train = set(found["train_duplicates"])
        drop_test = set(found["test_duplicates"]) | set(found["leaks"])
        clean_train = [r for i, r in enumerate(train) if i not in drop_train]
        clean_test = [r for i, r in enumerate(test) if i not in drop_test]
        total = sum(len(rows) for rows in raw.values())
        dropped = total - len(clean_train) - len(clean_test)
        report = {"rows": total, "schema_errors": {k: [f"row {i}: {p}" for i, p in v] for k, v in bad.items() if v},
                  "train_duplicates": sorted(drop_train), "test_duplicates": sorted(found["test_duplicates"]),
                  "leaks": sorted(found["leaks"]), "dropped": dropped}
        (folder / "report.json").write_text(json.dumps(report, indent=1) + "\n")
        if dropped > config.get("max_dropped_fraction", 0.05) * total:
            limit = config.get("max_dropped_fraction", 0.05)
            raise PipelineError(f"data: {dropped} of {total} rows dropped, over max_dropped_fraction {limit}: "
                                f"fix the export (see {folder}/report.json)")
        n_eval = config.get("eval_examples", len(clean_test))
        if not 0 < n_eval <= len(clean_test):
            raise PipelineError(f"data: eval_examples = {n_eval}, but the clean test split has {len(clean_test)} rows")
        for name, rows in (("train", clean_train), ("test", clean_test), ("eval", clean_test[:n_eval])):
            write_jsonl(rows, folder / f"{name}.jsonl")
        return {"train_rows": len(clean_train), "test_rows": len(clean_test), "eval_rows": n_eval,
                "schema_errors": sum(len(v) for v in bad.values()), "duplicates": len(drop_train) +
                len(found["test_duplicates"]), "leaks": len(found["leaks"]),
                **{f"{n}_sha256": hooks.sha256_file(folder / f"{n}.jsonl") for n in ("train", "test", "eval")}}

    return run.step("data", inputs, work)


# -- models: answers, training, merging ---------------------------------------------------------------------

def answers(model, tokenizer, rows: list[dict], max_new_tokens: int, batch_size: int = 8) -> list[str]:
    """Greedy answers to each row's prompt (its messages but the last), batched with left padding."""
    import torch

    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    model.eval()
    out = []
    try:
        for start in range(0, len(rows), batch_size):
            prompts = [tokenizer.apply_chat_template(r["messages"][:-1], tokenize=False, add_generation_prompt=True)
                       for r in rows[start:start + batch_size]]
            batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            with torch.no_grad():
                ids = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            out += tokenizer.batch_decode(ids[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side
    return out


def scores(texts: list[str], rows: list[dict]) -> dict[str, list[float]]:
    """Per-example scores (``SCORES``) of answers against each row's expected answer."""
    from .triage import score_triage_json

    graded = [score_triage_json(t, r["messages"][-1]["content"]) for t, r in zip(texts, rows, strict=True)]
    return {name: [float(g[key]) for g in graded] for name, key in SCORES.items()}


def _eval_inputs(run: Run, recipe) -> dict:
    return {"eval_sha256": run.outputs["data"]["eval_sha256"], "model": recipe.model, "dtype": recipe.dtype,
            "device": recipe.device, "evaluate": run.config.get("evaluate", {}), "threads": run.settings.threads}


def baseline_step(run: Run, recipe) -> dict:
    from .models import load_causal_lm
    from .settings import set_seed

    def work(folder: Path) -> dict:
        set_seed(run.config["run"].get("seed", 0))
        rows = _read_jsonl(run.path("data", "eval.jsonl"))
        model, tokenizer = load_causal_lm(recipe.model, run.settings)
        texts = answers(model, tokenizer, rows, **_generation(run.config))
        per_example = scores(texts, rows)
        (folder / "scores.json").write_text(json.dumps({"answers": texts, "scores": per_example}, indent=1) + "\n")
        return {name: sum(v) / len(v) for name, v in per_example.items()}

    return run.step("baseline", _eval_inputs(run, recipe), work)


def _generation(config: dict) -> dict:
    evaluate = config.get("evaluate", {})
    return {"max_new_tokens": evaluate.get("max_new_tokens", 32), "batch_size": evaluate.get("batch_size", 8)}


def _reusable_07_adapter(run: Run, recipe) -> Path | None:
    """07's cached adapter when this run trains exactly 07's recipe on exactly 07's training data."""
    import tempfile

    from .adapters import adapter_dir
    from .cache import read_marker
    from .data import DATA_DIR

    folder = adapter_dir(recipe)
    if read_marker(folder) != recipe.marker():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        ours = write_jsonl(_read_jsonl(DATA_DIR / "sft" / "train.jsonl"), Path(tmp) / "07-train.jsonl")
        same_data = run.hooks.sha256_file(ours) == run.outputs["data"]["train_sha256"]
    return folder if same_data else None


def train_step(run: Run, recipe) -> dict:
    inputs = {"recipe": asdict(recipe), "train_sha256": run.outputs["data"]["train_sha256"]}

    def work(folder: Path) -> dict:
        adapter = folder / "adapter"
        cached = _reusable_07_adapter(run, recipe)
        if cached is not None:
            shutil.copytree(cached, adapter)
            (adapter / "airoadmap.json").unlink(missing_ok=True)
            note, losses, seconds = f"reused 07's adapter (same recipe key {recipe.key()[:12]}, same data)", [], 0.0
        else:
            losses, seconds = _train(recipe, run.path("data", "train.jsonl"), adapter, run.settings)
            note = f"trained {recipe.max_steps} steps"
        (folder / "losses.json").write_text(json.dumps(losses) + "\n")
        return {"note": note, "train_seconds": round(seconds, 1), "steps": recipe.max_steps,
                "adapter_sha256": run.hooks.folder_sha256(adapter),
                "adapter_bytes": sum(p.stat().st_size for p in adapter.rglob("*") if p.is_file())}

    return run.step("train", inputs, work)


def _train(recipe, train_file: Path, adapter: Path, settings) -> tuple[list[float], float]:
    """SFTTrainer + LoRA from the recipe on the prompt-completion form of ``train_file``; save the adapter."""
    import tempfile

    import datasets
    from trl import SFTTrainer

    from .models import load_causal_lm

    rows = [{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in _read_jsonl(train_file)]
    model, tokenizer = load_causal_lm(recipe.model, settings)
    datasets.disable_progress_bars()
    try:
        with tempfile.TemporaryDirectory() as out:
            trainer = SFTTrainer(model=model, args=recipe.sft_config(out, logging_steps=1, disable_tqdm=True),
                                 train_dataset=datasets.Dataset.from_list(rows), processing_class=tokenizer,
                                 peft_config=recipe.lora_config())
            started = time.perf_counter()
            trainer.train()
            seconds = time.perf_counter() - started
    finally:
        datasets.enable_progress_bars()
    trainer.save_model(str(adapter))  # the adapter only; under several processes, the main one writes
    return [e["loss"] for e in trainer.state.log_history if "loss" in e], seconds


def load_finetuned(recipe, adapter: Path, settings):
    """``(peft_model, tokenizer)``: the base model of ``recipe`` with the adapter at ``adapter`` on top."""
    from peft import PeftModel

    from .models import load_causal_lm

    model, tokenizer = load_causal_lm(recipe.model, settings)
    return PeftModel.from_pretrained(model, adapter), tokenizer


def evaluate_step(run: Run, recipe) -> dict:
    from .evaluation import bootstrap_ci, paired_bootstrap_ci
    from .settings import set_seed

    inputs = {**_eval_inputs(run, recipe), "adapter_sha256": run.outputs["train"]["adapter_sha256"]}
    evaluate = run.config.get("evaluate", {})
    ci = {"confidence": evaluate.get("confidence", 0.95), "n_resamples": evaluate.get("n_resamples", 10_000),
          "seed": run.config["run"].get("seed", 0)}

    def work(folder: Path) -> dict:
        set_seed(run.config["run"].get("seed", 0))
        rows = _read_jsonl(run.path("data", "eval.jsonl"))
        model, tokenizer = load_finetuned(recipe, run.path("train", "adapter"), run.settings)
        texts = answers(model, tokenizer, rows, **_generation(run.config))
        mine = scores(texts, rows)
        base = json.loads(run.path("baseline", "scores.json").read_text())["scores"]
        (folder / "scores.json").write_text(json.dumps({"answers": texts, "scores": mine}, indent=1) + "\n")
        metrics = {name: sum(v) / len(v) for name, v in mine.items()}
        mean, low, high = bootstrap_ci(mine["reward"], **ci)
        gain, gain_low, gain_high = paired_bootstrap_ci(mine["reward"], base["reward"], **ci)
        return {**metrics, "reward_ci_low": low, "reward_ci_high": high, "reward_gain": gain,
                "reward_gain_ci_low": gain_low, "reward_gain_ci_high": gain_high, "eval_examples": len(rows)}

    return run.step("evaluate", inputs, work)


def gate_step(run: Run) -> dict:
    gate = run.config["gate"]
    metric = gate.get("metric", "reward")
    evaluate = run.config.get("evaluate", {})
    inputs = {"gate": gate, "finetuned": run.outputs["evaluate"]["folder"],
              "baseline": run.outputs["baseline"]["folder"], "confidence": evaluate.get("confidence", 0.95)}

    def work(folder: Path) -> dict:
        mine = json.loads(run.path("evaluate", "scores.json").read_text())["scores"][metric]
        base = json.loads(run.path("baseline", "scores.json").read_text())["scores"][metric]
        decision = run.hooks.gate(mine, base, min_gain=gate["min_gain"], confidence=evaluate.get("confidence", 0.95),
                                  seed=run.config["run"].get("seed", 0))
        return {"metric": metric, "min_gain": gate["min_gain"], **{k: decision[k] for k in ("passed", "gain", "low",
                                                                                                 "high")}}

    return run.step("gate", inputs, work)


def export_step(run: Run, recipe) -> dict:
    from .quantization import export_gguf

    qtype = run.config.get("export", {}).get("qtype", "Q8_0")
    inputs = {"adapter_sha256": run.outputs["train"]["adapter_sha256"], "model": recipe.model, "qtype": qtype}

    def work(folder: Path) -> dict:
        import torch

        model, tokenizer = load_finetuned(recipe, run.path("train", "adapter"), run.settings)
        merged = model.merge_and_unload().to(torch.float32)
        path = export_gguf(merged, tokenizer, folder / "model.gguf", qtype, name=run.config["card"].get("model_name",
                                                                                                       "triage"))
        return {"qtype": qtype, "gguf_bytes": path.stat().st_size, "gguf_sha256": run.hooks.sha256_file(path)}

    return run.step("export", inputs, work)


def serve_step(run: Run) -> dict:
    serve = run.config.get("serve", {})
    inputs = {"gguf_sha256": run.outputs["export"]["gguf_sha256"], "serve": serve,
              "eval_sha256": run.outputs["data"]["eval_sha256"]}

    def work(folder: Path) -> dict:
        from .triage import score_triage_json

        rows = _read_jsonl(run.path("data", "eval.jsonl"))[:serve.get("smoke_tickets", 2)]
        from .pipeline import served

        with served(run) as (client, url):
            listed = [m.id for m in client.models.list().data]
            replies, started = [], time.perf_counter()
            for row in rows:
                reply = client.chat.completions.create(model=listed[0], messages=row["messages"][:-1], temperature=0,
                                                       max_tokens=serve.get("max_tokens", 48))
                replies.append(reply.choices[0].message.content or "")
            seconds = (time.perf_counter() - started) / len(rows)
        if not listed or not all(replies):
            raise PipelineError(f"serve: the smoke test failed (models {listed}, replies {replies})")
        valid = [score_triage_json(t, r["messages"][-1]["content"])["valid_json"]
                 for t, r in zip(replies, rows, strict=True)]
        smoke = {"url": url, "models": listed, "replies": replies}
        (folder / "smoke.json").write_text(json.dumps(smoke, indent=1) + "\n")
        return {"smoke_requests": len(rows), "smoke_valid_json": sum(valid) / len(valid),
                "seconds_per_request": round(seconds, 2), "served_model": listed[0]}

    return run.step("serve", inputs, work)


def card_metrics(outputs: dict) -> dict[str, float]:
    """The fine-tune's held-out scores that go into the card's ``eval_results`` (one per ``SCORES`` name)."""
    return {name: outputs["evaluate"][name] for name in SCORES}


def card_step(run: Run, recipe) -> dict:
    from .cards import check_card, render_card

    metrics = card_metrics(run.outputs)
    data, evaluate, gate = run.outputs["data"], run.outputs["evaluate"], run.outputs["gate"]
    inputs = {"metrics": metrics, "card": run.config["card"], "recipe": asdict(recipe), "data": data["train_sha256"],
              "gguf": run.outputs["export"]["gguf_sha256"], "baseline": run.outputs["baseline"]["folder"]}

    def work(folder: Path) -> dict:
        card_data = run.hooks.card_data(metrics, run.config["card"])
        base = run.outputs["baseline"]
        table = [(name, f"{base[name]:.2f}", f"{metrics[name]:.2f}") for name in SCORES]
        confidence = run.config.get("evaluate", {}).get("confidence", 0.95)
        hyper = {k: v for k, v in asdict(recipe).items() if k not in ("device",)}
        card = render_card(card_data, {
            "hyperparameters": hyper, "train_rows": data["train_rows"], "train_sha256": data["train_sha256"],
            "eval_sha256": data["eval_sha256"], "eval_examples": data["eval_rows"], "params": "135M-parameter"
            if "135m" in recipe.model else "small", "dropped": data["schema_errors"] + data["duplicates"] +
            data["leaks"], "table": table, "confidence": f"{confidence:.0%}", "gain": f"{evaluate['reward_gain']:+.2f}",
            "gain_low": f"{evaluate['reward_gain_ci_low']:+.2f}",
            "gain_high": f"{evaluate['reward_gain_ci_high']:+.2f}",
            "gate": f"passed (lower bound {gate['low']:+.2f} > {gate['min_gain']})", "gguf_name": "model.gguf",
            "qtype": run.outputs["export"]["qtype"]})
        check_card(card, metrics)
        card.save(folder / "README.md")
        return {"card_bytes": (folder / "README.md").stat().st_size, "eval_results": len(metrics)}

    return run.step("card", inputs, work)
