"""Experiment tracking for 15's pipeline with MLflow, on a local SQLite store (no server, no network).

    run_id = log_run(config, result, manifest)      # one MLflow run per pipeline run (called by pipeline.run)
    table = runs(config)                            # every run of the experiment: params, metrics, loss curves
    plot_runs(table)                                # two runs side by side: held-out scores and training loss

``[tracking] uri`` is a SQLAlchemy URL such as ``sqlite:///runs/mlflow.db`` (a relative path is relative to
the working folder); artefacts go beside it, under ``<workdir>/mlartifacts``. Browse them with
``mlflow ui --backend-store-uri sqlite:///runs/mlflow.db`` (needs the full ``mlflow`` package).
MLflow's telemetry is turned off before it is imported.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

PLOTTED = ("baseline_reward", "reward", "valid_json", "category_accuracy")


def _mlflow():
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    import mlflow

    for name in ("mlflow", "alembic"):  # "Creating initial MLflow database tables..." and each migration
        logging.getLogger(name).setLevel(logging.WARNING)
    return mlflow


def _client(config: dict):
    mlflow = _mlflow()
    from mlflow.tracking import MlflowClient

    tracking = config["tracking"]
    client = MlflowClient(tracking_uri=tracking["uri"])
    experiment = client.get_experiment_by_name(tracking.get("experiment", "pipeline"))
    if experiment is None:
        root = (Path(config["run"].get("workdir", "runs")) / "mlartifacts").resolve()
        experiment_id = client.create_experiment(tracking.get("experiment", "pipeline"),
                                                 artifact_location=root.as_uri())
    else:
        experiment_id = experiment.experiment_id
    return mlflow, client, experiment_id


def _flatten(config: dict) -> dict[str, str]:
    return {f"{table}.{key}": str(value)[:500] for table, values in config.items() for key, value in values.items()}


def log_run(config: dict, result: dict, manifest: dict) -> str:
    """Log one pipeline run: the config as parameters, its metrics (the training loss per step), the seconds of
    each step, tags (status, config hash, commit) and the manifest, card and data report as artefacts."""
    _, client, experiment_id = _client(config)
    run = client.create_run(experiment_id, run_name=config["run"]["name"],
                            tags={"status": result["status"], "config_hash": manifest["config_hash"],
                                  "git_commit": str(manifest["git"].get("commit")), "profile": manifest["profile"]})
    run_id = run.info.run_id
    try:
        for key, value in _flatten(config).items():
            client.log_param(run_id, key, value)
        for key, value in manifest["metrics"].items():
            client.log_metric(run_id, key, float(value))
        train = result["outputs"].get("train")
        if train:
            import json

            losses = json.loads((Path(train["folder"]) / "losses.json").read_text())
            for step, loss in enumerate(losses, 1):
                client.log_metric(run_id, "train_loss", float(loss), step=step)
        for step in result["steps"]:
            client.log_metric(run_id, f"seconds_{step['step']}", float(step["seconds"]))
            client.set_tag(run_id, f"step.{step['step']}", step["status"])
        client.log_artifact(run_id, result["manifest"])
        for path in (result.get("card"), Path(result["outputs"]["data"]["folder"]) / "report.json"
                     if "data" in result["outputs"] else None):
            if path:
                client.log_artifact(run_id, str(path))
        client.set_terminated(run_id, "FINISHED" if result["status"] in ("served", "stopped at the gate") else "FAILED")
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    return run_id


def runs(config: dict, names: list[str] | None = None) -> list[dict]:
    """The experiment's runs, oldest first (only the latest of each name in ``names``, if given): ``name``,
    ``run_id``, ``status``, ``params``, ``metrics`` and ``train_loss`` (the logged curve)."""
    _, client, experiment_id = _client(config)
    found = client.search_runs([experiment_id], order_by=["attributes.start_time ASC"])
    table = [{"name": r.info.run_name, "run_id": r.info.run_id, "status": r.data.tags.get("status"),
              "params": dict(r.data.params), "metrics": dict(r.data.metrics),
              "train_loss": [m.value for m in sorted(client.get_metric_history(r.info.run_id, "train_loss"),
                                                     key=lambda m: m.step)]} for r in found]
    if names is not None:
        latest = {row["name"]: row for row in table}
        table = [latest[n] for n in names if n in latest]
    return table


def plot_runs(table: list[dict], metrics: tuple[str, ...] = PLOTTED, show: bool = True):
    """Runs side by side: grouped bars of ``metrics`` (left) and each run's training loss per step (right)."""
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (bars, curves) = plt.subplots(1, 2, figsize=(10, 3.6))
    width = 0.8 / max(1, len(table))
    x = np.arange(len(metrics))
    for i, row in enumerate(table):
        values = [row["metrics"].get(m, np.nan) for m in metrics]
        bars.bar(x + i * width, values, width, label=f"{row['name']} ({row['status']})")
        if row["train_loss"]:
            curves.plot(range(1, len(row["train_loss"]) + 1), row["train_loss"], marker="o", label=row["name"])
        else:
            curves.plot([], [], label=f"{row['name']}: no training (reused)")
    bars.set_xticks(x + width * (len(table) - 1) / 2, metrics, rotation=15)
    bars.set_ylim(0, 1.05)
    bars.set_title("held-out scores (MLflow metrics)")
    bars.legend(fontsize=8)
    curves.set_xlabel("step")
    curves.set_ylabel("training loss")
    curves.set_title("training loss per step")
    curves.legend(fontsize=8)
    fig.tight_layout()
    if show:
        plt.show()
        return None
    return fig
