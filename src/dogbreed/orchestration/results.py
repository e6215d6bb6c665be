"""Reading a tuning job back: its best trial, every trial as a row, the rows as a table and as a plot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.hyperparameters import BATCH_SIZE, LEARNING_RATE


@dataclass(frozen=True)
class BestJob:
    tuning_job: str
    training_job: str
    objective: float | None
    hyperparameters: dict[str, str]


def best_training_job(session, tuning_job: str) -> BestJob:
    """The tuning job's best trial and the hyperparameters it ran with (SageMaker's own entries removed)."""
    client = session.sagemaker_client
    tuning = describe(client.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName=tuning_job)
    best = tuning.get("BestTrainingJob")
    if not best or not best.get("TrainingJobName"):
        status = tuning.get("HyperParameterTuningJobStatus", "unknown")
        raise LauncherError(f"tuning job {tuning_job} has no best training job yet (status {status})")
    job = describe(client.describe_training_job, TrainingJobName=best["TrainingJobName"])
    hyperparameters = {k: _plain(v) for k, v in job.get("HyperParameters", {}).items() if not _service_key(k)}
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    return BestJob(tuning_job, best["TrainingJobName"], metric.get("Value"), hyperparameters)


def _service_key(name: str) -> bool:
    """SageMaker's own entries: sagemaker_program & co. and the tuner's _tuning_objective_metric."""
    return name.startswith(("sagemaker_", "_"))


def _plain(value: str) -> str:
    """Undo the JSON quoting SageMaker applies to some string hyperparameters ('"0.01"' -> '0.01')."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def describe(call, **kwargs) -> dict[str, Any]:
    """A SageMaker Describe* call; an unknown job becomes a one-line LauncherError naming it."""
    from botocore.exceptions import ClientError

    try:
        return call(**kwargs)
    except ClientError as e:
        raise LauncherError(f"{next(iter(kwargs.values()))}: {e.response['Error'].get('Message', e)}") from e


def tuning_results(session, tuning_job: str) -> list[dict[str, Any]]:
    """One row per trial: name, status, objective value, tuned hyperparameters, billed seconds."""
    client = session.sagemaker_client
    describe(client.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName=tuning_job)
    paginator = client.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
    rows = []
    for page in paginator.paginate(HyperParameterTuningJobName=tuning_job):
        for summary in page["TrainingJobSummaries"]:
            rows.append(_result_row(summary))
    return sorted(rows, key=lambda r: (r["objective"] is None, -(r["objective"] or 0)))


def _result_row(summary: Mapping[str, Any]) -> dict[str, Any]:
    metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    start, end = summary.get("TrainingStartTime"), summary.get("TrainingEndTime")
    return {
        "training_job": summary["TrainingJobName"],
        "status": summary["TrainingJobStatus"],
        "objective": metric.get("Value"),
        **{k: _plain(v) for k, v in summary.get("TunedHyperParameters", {}).items()},
        "seconds": (end - start).total_seconds() if start and end else None,
    }


def plot_tuning_results(
    rows: Sequence[Mapping[str, Any]], path: Path, objective_name: str = "objective"
) -> Path:
    """Objective against learning rate (log axis), one colour per batch size; saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [r for r in rows if r.get("objective") is not None and r.get(LEARNING_RATE) is not None]
    if not scored:
        raise LauncherError("no finished trials with an objective value to plot yet")
    fig, ax = plt.subplots(figsize=(6, 4))
    for batch in sorted({r.get(BATCH_SIZE) for r in scored}, key=lambda b: int(b) if b else 0):
        points = [r for r in scored if r.get(BATCH_SIZE) == batch]
        ax.scatter(
            [float(r[LEARNING_RATE]) for r in points],
            [r["objective"] for r in points],
            label=f"batch {batch}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(objective_name)
    ax.set_title("Hyperparameter tuning trials")
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "(no training jobs yet)"
    columns = list(dict.fromkeys(k for r in rows for k in r))
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)
