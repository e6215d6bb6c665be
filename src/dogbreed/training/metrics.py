"""The metric lines training prints, the regexes that parse them, and the metrics file.

Every line is `name=value` pairs separated by spaces, values with 4 decimals:

    epoch=3 train_loss=0.9123 valid_loss=0.8123 valid_accuracy=0.7712 best_valid_accuracy=0.7712
                                                                           (after every epoch)
    best_epoch=3 best_valid_loss=0.8123 best_valid_accuracy=0.7712         (after training)
    test_loss=0.8000 test_accuracy=0.7700                                  (at the very end)

`METRIC_DEFINITIONS` is the only place the regexes live (SageMaker's `{"Name", "Regex"}` shape); the
launcher passes it to estimators and tuners, and the docs quote it. `\\b` keeps `valid_loss` from matching
inside `best_valid_loss`. The tuner objective is the best epoch's validation accuracy, so an early-stopped
job is scored by the weights it actually ships. It is printed every epoch (the best so far) as well as at the
end: SageMaker's tuning early stopping compares a trial's intermediate objective values with earlier trials',
and the last value printed is the one the trial is scored by.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
METRIC_NAMES = (
    "epoch",
    "train_loss",
    "valid_loss",
    "valid_accuracy",
    "best_epoch",
    "best_valid_loss",
    "best_valid_accuracy",
    "test_loss",
    "test_accuracy",
)
METRIC_DEFINITIONS = [{"Name": name, "Regex": rf"\b{name}={_NUMBER}"} for name in METRIC_NAMES]
OBJECTIVE_METRIC = "best_valid_accuracy"
OBJECTIVE_TYPE = "Maximize"


def format_line(**values: float | int) -> str:
    """`epoch=3 train_loss=0.9123 ...`: integers as they are, floats with 4 decimals."""
    return " ".join(
        f"{name}={value}" if isinstance(value, int) else f"{name}={value:.4f}"
        for name, value in values.items()
    )


def parse_metrics(text: str) -> dict[str, list[float]]:
    """Every value of every defined metric found in `text`, in order (what SageMaker would scrape)."""
    return {
        definition["Name"]: [float(match) for match in re.findall(definition["Regex"], text)]
        for definition in METRIC_DEFINITIONS
    }


def write_metrics_json(path: Path, summary: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
