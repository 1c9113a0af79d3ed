"""One command from labelled data to an API-served fine-tuned model (15): the pipeline's runtime.

    config = load_config("pipeline.toml")              # a TOML file: every setting of the run
    result = run(config, hooks, cfg)                    # the steps below, each skipped when its inputs are unchanged
    publish(result, push=False)                         # the Hub upload, only behind an explicit flag

Steps, in order (``STEPS``); each one's inputs are hashed into a key and its outputs kept under
``<workdir>/steps/<step>-<key>/``, so a second run with the same config and data skips it:

* ``data``: read the labelled rows, check each against the triage schema, split them (the files' own
  ``train``/``test``, or one ``labelled`` file split by a hash of each ticket's text), then drop the
  duplicates and the test rows that leak from train (found by ``hooks.validate``); pick the eval rows.
* ``baseline``: the base model's greedy answers on the eval rows, scored by :func:`airoadmap.triage.score_triage_json`.
* ``train``: SFT + LoRA with 07's recipe (:class:`airoadmap.adapters.TriageSFTRecipe`, the config's ``[train]``
  table on top). When the recipe and the training data are exactly 07's, 07's cached adapter is reused.
* ``evaluate``: the fine-tune's answers on the same rows; the paired difference with a bootstrap interval.
* ``gate``: ``hooks.gate`` decides from the paired scores; a fine-tune that is not better stops the run here.
* ``export``: merge the adapter, write GGUF with :func:`airoadmap.quantization.export_gguf` (13).
* ``serve``: llama.cpp serves the GGUF (:func:`airoadmap.engines.llama_cpp_server`, 14) on 127.0.0.1;
  the ``openai`` client lists the model and triages a few held-out tickets (a smoke test).
* ``card``: a Hugging Face model card whose metadata is ``hooks.card_data(metrics, config["card"])``.
* ``manifest``: config hash, data hashes, package versions, seed, git commit, metrics, artefacts.

``hooks`` holds 15's exercises (hashing, data validation, the gate, the card's metadata): this module
calls them and never contains them. Tracking (MLflow) is :mod:`airoadmap.tracking`.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .pipeline_steps import (  # noqa: F401 - re-exported: the notebook uses them as pipeline.<name>
    SCORES,
    PipelineError,
    answers,
    baseline_step,
    card_step,
    data_step,
    evaluate_step,
    export_step,
    gate_step,
    load_finetuned,
    schema_problem,
    scores,
    serve_step,
    ticket_text,
    train_step,
    write_jsonl,
)

STEPS = ("data", "baseline", "train", "evaluate", "gate", "export", "serve", "card", "manifest")
PACKAGES = ("torch", "transformers", "peft", "trl", "accelerate", "huggingface_hub", "gguf", "xllamacpp", "openai",
            "mlflow-skinny", "numpy")
# what a config may hold: table -> {key: type}; [train] takes TriageSFTRecipe's fields (but dtype/device/seed)
SCHEMA = {
    "run": {"name": str, "seed": int, "workdir": str},
    "data": {"train": str, "test": str, "labelled": str, "test_percent": int, "eval_examples": int,
             "max_dropped_fraction": float},
    "train": {},
    "evaluate": {"max_new_tokens": int, "confidence": float, "n_resamples": int, "batch_size": int},
    "gate": {"metric": str, "min_gain": float},
    "export": {"qtype": str},
    "serve": {"slots": int, "threads": int, "smoke_tickets": int, "max_tokens": int},
    "card": {"model_name": str, "base_model": str, "license": str, "language": str, "dataset_id": str,
             "dataset_name": str},
    "publish": {"repo_id": str, "private": bool},
    "tracking": {"uri": str, "experiment": str},
}


@dataclass(frozen=True)
class Hooks:
    """15's exercises, which the pipeline calls (see the notebook for each one's spec)."""

    config_hash: Callable[[dict], str]        # a dict -> sha256 hex, independent of key order
    sha256_file: Callable[[str], str]         # a file's bytes -> sha256 hex
    folder_sha256: Callable[[str], str]       # a folder's files (names and bytes) -> sha256 hex
    validate: Callable[[list, list], dict]    # (train texts, test texts) -> train/test duplicates, leaks
    gate: Callable[..., dict]                 # (finetuned, baseline, min_gain, confidence, seed) -> decision
    card_data: Callable[[dict, dict], object]  # (metrics, config["card"]) -> huggingface_hub.ModelCardData


# -- the config -------------------------------------------------------------------------------------------

def load_config(path: str | os.PathLike) -> dict:
    """Read and check a pipeline TOML file: known tables and keys only, each of its type."""
    with open(path, "rb") as f:
        config = tomllib.load(f)
    check_config(config)
    return config


def check_config(config: dict) -> None:
    from .adapters import TriageSFTRecipe

    recipe_fields = {f.name for f in fields(TriageSFTRecipe)}
    for table, values in config.items():
        if table not in SCHEMA:
            raise PipelineError(f"unknown table [{table}] in the config; known: {', '.join(SCHEMA)}")
        known = SCHEMA[table] or {k: None for k in recipe_fields if k not in ("dtype", "device", "seed")}
        for key, value in values.items():
            if key not in known:
                raise PipelineError(f"[{table}] has no key {key!r}; known: {', '.join(known)}")
            want = known[key]
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                continue
            if want is not None and not isinstance(value, want):
                raise PipelineError(f"[{table}] {key} = {value!r}: expected a {want.__name__}")
    data = config.get("data", {})
    if ("labelled" in data) == ("train" in data or "test" in data):
        raise PipelineError("[data] takes either train and test (files already split) or labelled (one file)")
    for table in ("run", "data", "train", "gate", "card", "tracking"):
        if table not in config:
            raise PipelineError(f"the config has no [{table}] table")


def dump_toml(config: dict) -> str:
    """A config as TOML text (tables of strings, numbers, booleans and lists of them; comments are lost)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        raise TypeError(f"cannot write {type(v).__name__} to TOML")

    return "\n".join(f"[{table}]\n" + "".join(f"{k} = {value(v)}\n" for k, v in values.items())
                     for table, values in config.items())


def default_config(settings, name: str, workdir: str = "pipeline", **tables) -> dict:
    """A config for 15's pipeline: 07's recipe for the profile in ``[train]``, the sizes of ``settings`` (15's
    ``SIZES`` row) elsewhere, everything under ``workdir``; each keyword replaces or extends a table."""
    from .adapters import TriageSFTRecipe
    from .models import REGISTRY
    from .settings import for_notebook

    recipe = TriageSFTRecipe.from_settings(for_notebook("07-sft-with-trl", settings.profile))
    base_model = REGISTRY.get(recipe.model, {}).get("gpu") or recipe.model
    config = {
        "run": {"name": name, "seed": settings.seed, "workdir": f"{workdir}/runs"},
        "data": {"train": f"{workdir}/data/train.jsonl", "test": f"{workdir}/data/test.jsonl",
                 "eval_examples": settings.eval_examples, "max_dropped_fraction": 0.05},
        "train": {k: getattr(recipe, k) for k in ("model", "max_steps", "batch_size", "lr", "lora_r", "max_length")},
        "evaluate": {"max_new_tokens": settings.max_new_tokens, "confidence": 0.95, "n_resamples": 10_000},
        "gate": {"metric": "reward", "min_gain": settings.min_gain},
        "export": {"qtype": settings.qtype},
        "serve": {"slots": settings.slots, "threads": settings.threads, "smoke_tickets": settings.smoke_tickets},
        "card": {"model_name": f"fjordly-triage-{recipe.model}-lora", "base_model": base_model, "license": "apache-2.0",
                 "language": "en", "dataset_id": "fjordly/triage-sft", "dataset_name": "Fjordly ticket triage"},
        "publish": {"repo_id": f"your-name/fjordly-triage-{recipe.model}-lora", "private": True},
        "tracking": {"uri": f"sqlite:///{workdir}/runs/mlflow.db", "experiment": "fjordly-triage"},
    }
    for table, values in tables.items():
        config[table] = {**config.get(table, {}), **values}
    check_config(config)
    return config


def recipe_for(config: dict, settings):
    """The run's :class:`~airoadmap.adapters.TriageSFTRecipe`: 07's for this profile, the ``[train]`` table on
    top, dtype and device from ``settings``, seed from ``[run]``."""
    from .adapters import TriageSFTRecipe
    from .settings import for_notebook

    base = asdict(TriageSFTRecipe.from_settings(for_notebook("07-sft-with-trl", settings.profile)))
    base.update(config.get("train", {}), dtype=str(settings.dtype).removeprefix("torch."), device=settings.device,
                seed=config["run"].get("seed", 0))
    return TriageSFTRecipe(**base)


# -- steps and their keys ---------------------------------------------------------------------------------

class Run:
    """One pipeline run: its config, hooks and settings, the steps' records, and where it all goes."""

    def __init__(self, config: dict, hooks: Hooks, settings, force: tuple[str, ...] = (), echo=print):
        check_config(config)
        self.config, self.hooks, self.settings, self.force, self.echo = config, hooks, settings, set(force), echo
        self.workdir = Path(config["run"].get("workdir", "runs"))
        self.folder = self.workdir / config["run"]["name"]
        self.steps: list[dict] = []
        self.outputs: dict[str, dict] = {}
        self.status = "running"

    def step(self, name: str, inputs: dict, work: Callable[[Path], dict]) -> dict:
        """Run ``work(folder)`` unless a record with the same inputs exists; return its outputs."""
        key = self.hooks.config_hash({"step": name, "inputs": inputs})
        folder = self.workdir / "steps" / f"{name}-{key[:12]}"
        record = folder / "step.json"
        started = time.perf_counter()
        if name not in self.force and record.exists() and json.loads(record.read_text()).get("key") == key:
            outputs, status = json.loads(record.read_text())["outputs"], "skipped"
        else:
            tmp = folder.with_name(folder.name + ".part")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            outputs, status = work(tmp), "ran"
            (tmp / "step.json").write_text(json.dumps({"step": name, "key": key, "inputs": inputs,
                                                       "outputs": outputs}, indent=1) + "\n")
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
        seconds = time.perf_counter() - started
        self.steps.append({"step": name, "status": status, "seconds": round(seconds, 2), "key": key[:12],
                           "folder": str(folder)})
        self.outputs[name] = {**outputs, "folder": str(folder)}
        self.echo(f"[{len(self.steps)}/{len(STEPS)}] {name:<9} {status:<8} {seconds:6.1f} s   {_brief(outputs)}")
        return self.outputs[name]

    def path(self, step: str, name: str) -> Path:
        return Path(self.outputs[step]["folder"]) / name


def _brief(outputs: dict) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in outputs.items()
                     if isinstance(v, (int, float, str)) and not isinstance(v, bool) and k != "note")[:110]


def served(run_or_result):
    """A context manager: llama.cpp serving the run's GGUF on 127.0.0.1, yielding ``(OpenAI client, base url)``;
    stopped when the block ends."""
    import contextlib

    from .engines import llama_cpp_server

    outputs = run_or_result.outputs if isinstance(run_or_result, Run) else run_or_result["outputs"]
    config = run_or_result.config if isinstance(run_or_result, Run) else run_or_result["config"]
    serve = config.get("serve", {})

    @contextlib.contextmanager
    def manager():
        from openai import OpenAI

        gguf = Path(outputs["export"]["folder"]) / "model.gguf"
        with llama_cpp_server(gguf, threads=serve.get("threads", 1), slots=serve.get("slots", 2)) as url:
            yield OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=120), url

    return manager()


# -- the manifest -------------------------------------------------------------------------------------------

def package_versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in (*PACKAGES, "ai-engineer-roadmap"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def git_commit() -> dict:
    """The course repository's commit (and whether its work tree has changes), or why it is unknown."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return {"commit": None, "why": (head.stderr.strip() or "not a git checkout")[:200]}
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True,
                               text=True, timeout=10)
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError) as e:
        return {"commit": None, "why": f"{type(e).__name__}: {e}"[:200]}


def _artefact(hooks: Hooks, path: Path) -> dict:
    path = Path(path)
    digest = hooks.folder_sha256(path) if path.is_dir() else hooks.sha256_file(path)
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
    return {"path": str(path), "sha256": digest, "bytes": size}


def manifest(run: Run) -> dict:
    """What was run, on what, with what result: everything needed to repeat it or to trust its numbers."""
    config, outputs, hooks = run.config, run.outputs, run.hooks
    data = outputs.get("data", {})
    metrics = {k: v for step in ("baseline", "evaluate", "serve") for k, v in outputs.get(step, {}).items()
               if isinstance(v, float | int) and not isinstance(v, bool)}
    metrics |= {f"baseline_{k}": outputs["baseline"][k] for k in SCORES if k in outputs.get("baseline", {})}
    for k in SCORES:
        if "evaluate" in outputs:
            metrics[k] = outputs["evaluate"][k]
        elif k in metrics:
            del metrics[k]
    artefacts = {}
    for step, name, key in (("data", "train.jsonl", "train_data"), ("data", "eval.jsonl", "eval_data"),
                            ("train", "adapter", "adapter"), ("export", "model.gguf", "gguf"),
                            ("card", "README.md", "model_card")):
        if step in outputs:
            artefacts[key] = _artefact(hooks, run.path(step, name))
    return {
        "run": config["run"]["name"], "status": run.status, "seed": config["run"].get("seed", 0),
        "config_hash": hooks.config_hash(config), "config": config,
        "data": {"sources": {k: {"path": config["data"][k], "sha256": hooks.sha256_file(config["data"][k])}
                             for k in ("train", "test", "labelled") if k in config["data"]},
                 **{k: data[k] for k in ("train_sha256", "test_sha256", "eval_sha256", "train_rows", "test_rows",
                                         "eval_rows", "schema_errors", "duplicates", "leaks") if k in data}},
        "gate": {k: v for k, v in outputs.get("gate", {}).items() if k != "folder"},
        "metrics": metrics, "artefacts": artefacts, "packages": package_versions(), "git": git_commit(),
        "profile": run.settings.profile, "device": run.settings.device, "threads": run.settings.threads,
        "steps": run.steps,
    }


# -- the whole run -------------------------------------------------------------------------------------------

def run(config: dict, hooks: Hooks, settings, force: tuple[str, ...] = (), echo=print, track: bool = True) -> dict:
    """Every step in order (see the module docstring); the run's ``result``: ``status`` (``"served"``, ``"stopped
    at the gate"``, or ``"failed in <step>"``, re-raised), ``metrics``, ``outputs`` of each step, ``steps``
    (ran or skipped, seconds), and the paths of its ``manifest``, ``card`` and ``publish`` folder."""
    from .settings import require

    settings = require(settings, "airoadmap.pipeline.run")
    r = Run(config, hooks, settings, force=force, echo=echo)
    recipe = recipe_for(config, settings)
    r.folder.mkdir(parents=True, exist_ok=True)
    echo(f"pipeline {config['run']['name']!r}: config {hooks.config_hash(config)[:12]}, {recipe.model} "
         f"({recipe.max_steps} steps), {settings.device}, {settings.threads} thread(s)")
    steps = [("data", lambda: data_step(r)), ("baseline", lambda: baseline_step(r, recipe)),
             ("train", lambda: train_step(r, recipe)), ("evaluate", lambda: evaluate_step(r, recipe)),
             ("gate", lambda: gate_step(r)), ("export", lambda: export_step(r, recipe)),
             ("serve", lambda: serve_step(r)), ("card", lambda: card_step(r, recipe))]
    current = "data"
    try:
        for name, step in steps:
            current = name
            step()
            if name == "gate" and not r.outputs["gate"]["passed"]:
                g = r.outputs["gate"]
                r.status = "stopped at the gate"
                echo(f"STOPPED AT THE GATE: the fine-tune is not better than the baseline by more than "
                     f"{g['min_gain']} ({g['metric']} gain {g['gain']:+.3f}, interval {g['low']:+.3f} to "
                     f"{g['high']:+.3f}). Nothing was merged, exported, served or published.")
                break
        else:
            r.status = "served"
    except BaseException:
        r.status = f"failed in {current}"
        raise
    finally:
        record = manifest(r)
        (r.folder / "manifest.json").write_text(json.dumps(record, indent=1, default=str) + "\n")
        result = {"status": r.status, "config": config, "metrics": record["metrics"], "outputs": r.outputs,
                  "steps": r.steps, "folder": str(r.folder), "manifest": str(r.folder / "manifest.json"),
                  "card": str(r.path("card", "README.md")) if "card" in r.outputs else None}
        if r.status == "served":
            result["publish"] = str(_publish_folder(r))
        if track and "tracking" in config:
            from . import tracking

            result["tracking_run_id"] = tracking.log_run(config, result, record)
        echo(f"[{len(STEPS)}/{len(STEPS)}] manifest written   {r.folder / 'manifest.json'}   status: {r.status}")
    return result


def _publish_folder(r: Run) -> Path:
    """What would go to the Hub: the card (README.md), the manifest, the adapter and the GGUF (hard links)."""
    folder = r.folder / "publish"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    # PEFT writes a README.md of its own beside the adapter: the card is the README.md that is published
    adapter = sorted(p for p in r.path("train", "adapter").iterdir() if p.is_file() and p.name != "README.md")
    files = [r.path("card", "README.md"), r.folder / "manifest.json", r.path("export", "model.gguf"), *adapter]
    for path in files:
        target = folder / path.name
        if target.exists():  # never write through a link made a moment ago
            raise PipelineError(f"two files named {path.name} for the publish folder: {path} and {target}")
        try:
            os.link(path, target)
        except OSError:  # another file system, or one without hard links
            shutil.copyfile(path, target)
    return folder


# -- publishing ---------------------------------------------------------------------------------------------

class PublishError(RuntimeError):
    """Publishing was asked for and cannot happen here; nothing was sent."""


def publish(result: dict, push: bool = False, token: str | None = None, echo=print) -> str | None:
    """Upload the run's publish folder to the Hub repository ``[publish] repo_id`` with ``HfApi().upload_folder``,
    only when ``push`` is True; return the commit URL. Before any network call it stops with a
    :class:`PublishError` that says why when the run was not served, when ``HF_HUB_OFFLINE`` is set, when there is
    no token, or when the Hub does not answer."""
    from .cache import online

    repo_id = result["config"].get("publish", {}).get("repo_id")
    if result.get("status") != "served" or not result.get("publish"):
        raise PublishError(f"nothing to publish: the run's status is {result.get('status')!r}, not 'served'")
    folder = Path(result["publish"])
    size = sum(p.stat().st_size for p in folder.iterdir())
    if not push:
        echo(f"Not publishing (push=False): {len(list(folder.iterdir()))} files, {size / 1e6:.0f} MB in {folder} "
             f"would go to https://huggingface.co/{repo_id}. Call publish(result, push=True) to upload them.")
        return None
    if not repo_id:
        raise PublishError("no [publish] repo_id in the config (e.g. \"your-name/fjordly-triage\"): nothing was sent")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise PublishError("HF_HUB_OFFLINE is set: this machine is offline, so nothing was sent. Publish from a "
                           "machine with internet access and a Hugging Face token.")
    from huggingface_hub import HfApi, ModelCard, get_token

    token = token or get_token()
    if not token:
        raise PublishError("no Hugging Face token (set HF_TOKEN or run `hf auth login`): nothing was sent")
    reachable, why = online("huggingface.co")
    if not reachable:
        raise PublishError(f"{why}: nothing was sent")
    api = HfApi(token=token)
    ModelCard.load(folder / "README.md").validate()  # the Hub's own check of the metadata
    api.create_repo(repo_id, private=result["config"].get("publish", {}).get("private", True), exist_ok=True)
    info = api.upload_folder(folder_path=folder, repo_id=repo_id, repo_type="model",
                             commit_message=f"pipeline run {result['config']['run']['name']}")
    echo(f"Published {folder} -> {info}")
    return str(info)


# -- the command line ---------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """``python -m airoadmap.pipeline run CONFIG --hooks MODULE:NAME`` runs every step (``--push`` publishes a
    served run); ``python -m airoadmap.pipeline train CONFIG --train FILE --out DIR`` runs only the training
    step's SFTTrainer, which also works under ``accelerate launch`` and ``torchrun`` (one process per GPU)."""
    import argparse
    import importlib

    from .settings import start

    parser = argparse.ArgumentParser(prog="python -m airoadmap.pipeline", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="every step, from labelled data to a served model")
    run_cmd.add_argument("config", help="the pipeline's TOML file")
    run_cmd.add_argument("--hooks", required=True, help="MODULE:NAME of a Hooks object (15's exercises)")
    run_cmd.add_argument("--force", action="append", default=[], choices=STEPS, help="run this step even if unchanged")
    run_cmd.add_argument("--push", action="store_true", help="upload a served run to [publish] repo_id")
    train_cmd = commands.add_parser("train", help="the training step alone (SFT + LoRA with the config's recipe)")
    train_cmd.add_argument("config", help="the pipeline's TOML file")
    train_cmd.add_argument("--train", required=True, help="training rows (JSONL of chats), e.g. the data step's")
    train_cmd.add_argument("--out", required=True, help="folder for the adapter")
    for cmd in (run_cmd, train_cmd):
        cmd.add_argument("--profile", default="auto", help="auto, cpu or gpu")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    settings = start("15-mlops-pipeline", args.profile, seed=config["run"].get("seed", 0), quiet=True)
    if args.command == "train":
        from .pipeline_steps import _train

        losses, seconds = _train(recipe_for(config, settings), Path(args.train), Path(args.out), settings)
        if int(os.environ.get("RANK", "0")) == 0:
            print(json.dumps({"adapter": args.out, "seconds": round(seconds, 1), "losses": losses}))
        return 0
    module, _, name = args.hooks.partition(":")
    hooks = getattr(importlib.import_module(module), name or "HOOKS")
    result = run(config, hooks, settings, force=tuple(args.force))
    if result["status"] == "served":
        publish(result, push=args.push)
    return 0 if result["status"] == "served" else 2


if __name__ == "__main__":
    raise SystemExit(main())
