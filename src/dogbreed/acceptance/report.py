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

# What a run against stand-ins cannot show, by step; on AWS each of these is exercised by the step named.
ONLY_AWS = {
    "preflight": "the real account's identity, Lambda concurrency quota and region",
    "apply-base": "AWS accepting every resource (moto accepts requests AWS rejects); the notebook instance "
    "booting in a private subnet without internet; VPC endpoints and flow logs delivering",
    "upload": "S3 encrypting with the stack's KMS key under its key policy (moto evaluates no key policy)",
    "tune": "a training container running train.py on an instance (the stand-in records the job and writes a "
    "model artifact; no container runs); managed spot capacity; the job reaching S3 through the endpoint",
    "train": "torchrun across two instances (NCCL/gloo between them, inter-container traffic encryption), "
    "spot interruptions and S3 checkpoints",
    "publish": "S3's conditional write (If-None-Match) and its SHA-256 checksum check on a real bucket",
    "apply-serving": "the PyTorch inference container loading model.tar.gz with network isolation and "
    "reaching InService; the post-deploy check against that container",
    "function-url": "AWS's own SigV4 check and IAM authorisation of the caller (lambda:InvokeFunctionUrl and "
    "lambda:InvokeFunction), the Lambda runtime, the Powertools layer, InvokeEndpoint through AWS",
    "autoscaling": "Application Auto Scaling scaling the variant and the target-tracking alarms it creates; "
    "AWS Budgets evaluating costs (needs the Project tag active for cost allocation, up to 24 h)",
    "teardown-destroy": "service-managed network interfaces and grants SageMaker releases asynchronously; "
    "the key's deletion window",
    "teardown-verify": "the Resource Groups Tagging API listing every tagged resource (moto's covers few "
    "services)",
}


def only_aws_markdown() -> list[str]:
    """The list of what only AWS can show, as the report and docs/acceptance.md print it."""
    return [f"- **{name}**: {text}" for name, text in ONLY_AWS.items()]


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
    only_aws: dict[str, str] = field(default_factory=lambda: dict(ONLY_AWS))

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
        detail = (
            _short(step.error, 400)
            if step.error
            else "; ".join(f"{k}: {_short(v)}" for k, v in step.detail.items())
        )
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
    lines += only_aws_markdown()
    if report.notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in report.notes]]
    return "\n".join(lines) + "\n"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def now() -> str:
    return _now()


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
