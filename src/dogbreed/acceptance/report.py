"""The run's report: every step with its duration and result, the cost, and what only AWS can show.

Written as report.json and report.md in the run's directory (and, with --report-dir, there too), after
every step, so even a killed run leaves a report of how far it got.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PASSED, FAILED, NOT_RUN, INTERRUPTED, RUNNING = "passed", "failed", "not run", "interrupted", "running"

# What a run against stand-ins cannot show; on AWS each of these is exercised by the step named.
ONLY_AWS = {
    "preflight": "the real account's identity, Lambda concurrency quota and region",
    "apply-base": "AWS accepting every resource (moto accepts requests AWS rejects); the notebook instance "
    "booting in a private subnet without internet; VPC endpoints and flow logs delivering",
    "tune": "a training container running train.py on an instance (the stand-in records the job and writes a "
    "model artifact; no container runs); managed spot capacity",
    "train": "torchrun across two instances (NCCL/gloo between them), spot interruptions and S3 checkpoints",
    "apply-serving": "the PyTorch inference container loading model.tar.gz with network isolation and "
    "reaching InService; the post-deploy state of a blue/green update",
    "function-url": "AWS's own SigV4 check and IAM authorisation of the caller (lambda:InvokeFunctionUrl and "
    "lambda:InvokeFunction), the Lambda runtime, the Powertools layer, InvokeEndpoint through AWS",
    "autoscaling": "Application Auto Scaling scaling the variant and the target-tracking alarms it creates; "
    "AWS Budgets evaluating costs (needs the Project tag active for cost allocation, up to 24 h)",
    "teardown": "service-managed ENIs and log groups lingering; the key's deletion window; grants SageMaker "
    "retires asynchronously",
}


@dataclass
class StepResult:
    name: str
    title: str
    status: str = NOT_RUN
    started_at: str | None = None
    duration_s: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    stand_in: str | None = None


@dataclass
class Report:
    run: str
    region: str
    mode: str  # "aws" or "offline"
    started_at: str = field(default_factory=lambda: _now())
    finished_at: str | None = None
    outcome: str = "running"
    steps: list[StepResult] = field(default_factory=list)
    estimated_cost: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def step(self, name: str) -> StepResult:
        return next(step for step in self.steps if step.name == name)

    def write(self, *directories: Path) -> list[Path]:
        written = []
        for directory in directories:
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "report.json").write_text(json.dumps(asdict(self), indent=2, default=str) + "\n")
            (directory / "report.md").write_text(markdown(self))
            written += [directory / "report.json", directory / "report.md"]
        return written


def markdown(report: Report) -> str:
    lines = [
        f"# AWS acceptance run {report.run}",
        "",
        f"Region {report.region}, {report.mode} mode, started {report.started_at}, finished "
        f"{report.finished_at or '-'}: **{report.outcome}**.",
        "",
        "| step | result | duration (s) | detail |",
        "|---|---|---:|---|",
    ]
    for step in report.steps:
        duration = f"{step.duration_s:.1f}" if step.duration_s is not None else ""
        detail = step.error or "; ".join(f"{k}: {_short(v)}" for k, v in step.detail.items())
        lines.append(f"| {step.name} ({step.title}) | {step.status} | {duration} | {_cell(detail)} |")
    lines += ["", "## Estimated cost of the run", ""]
    cost = report.estimated_cost
    if cost:
        lines += [f"{cost['basis']}: **{cost['total_usd']:.2f} USD**.", ""]
        lines += ["| item | USD |", "|---|---:|"]
        lines += [f"| {_cell(item['what'])} | {item['usd']:.4f} |" for item in cost["items"]]
        lines += ["", cost["note"]]
    stood_in = [step for step in report.steps if step.stand_in]
    if stood_in:
        lines += ["", "## Stand-ins (offline mode)", ""]
        lines += [f"- **{step.name}**: {step.stand_in}" for step in stood_in]
    lines += ["", "## What only AWS can show", ""]
    lines += [f"- **{name}**: {text}" for name, text in ONLY_AWS.items()]
    if report.notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in report.notes]]
    return "\n".join(lines) + "\n"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def now() -> str:
    return _now()


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 160 else text[:157] + "..."


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
