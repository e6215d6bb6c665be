"""Hyperparameters as train.py reads them, checked by train.py's own parser; the tuner's objective.

SageMaker hands every hyperparameter to the entry point as ``--<name> <value>``. The objective and metric
regexes are imported from ``dogbreed.training.metrics``, the training code's single definition.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.source import ENTRY_POINT
from dogbreed.training import metrics as training_metrics

# train.py's flags for what the tuner varies.
LEARNING_RATE = "learning-rate"
BATCH_SIZE = "batch-size"
FREEZE_BACKBONE = "freeze-backbone"


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["epochs=5", "batch_size=64"]`` -> ``{"epochs": "5", "batch-size": "64"}`` (train.py spelling)."""
    result = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise LauncherError(f"hyperparameter {pair!r} is not NAME=VALUE")
        result[name.strip().lstrip("-").replace("_", "-")] = value.strip()
    return result


def to_cli_args(hyperparameters: Mapping[str, str]) -> list[str]:
    """The argv SageMaker builds for the entry point: ``--name value`` for each hyperparameter."""
    args: list[str] = []
    for name, value in hyperparameters.items():
        args += [f"--{name}", str(value)]
    return args


def check_accepted_by_train_script(hyperparameters: Mapping[str, str]) -> argparse.Namespace:
    """Parse and validate the hyperparameters as train.py will; whatever it rejects is a LauncherError."""
    from dogbreed.training import options as train_script  # train.py's parser; imports no torch

    stderr = io.StringIO()
    try:
        parser = train_script.get_args_parser()
        parser.prog = ENTRY_POINT
        with contextlib.redirect_stderr(stderr):
            args = parser.parse_args(to_cli_args(hyperparameters))
        train_script.validate_args(args)
    except SystemExit as e:
        reason = stderr.getvalue().strip().splitlines()[-1:] or ["rejected"]
        raise LauncherError(f"train.py does not accept {dict(hyperparameters)}: {reason[0]}") from e
    except train_script.ConfigError as e:
        raise LauncherError(f"train.py does not accept {dict(hyperparameters)}: {e}") from e
    return args


@dataclass(frozen=True)
class WeightsSource:
    """The staged weights a job reads: `s3://<bucket>/weights/<arch>/[<file>]` as its `weights` channel."""

    arch: str
    file_name: str | None  # None: torchvision's DEFAULT file for the arch, whatever is staged there


def weights_source(hyperparameters: Mapping[str, str]) -> WeightsSource | None:
    """What the job's train.py will load with these hyperparameters; None when it trains from scratch."""
    args = check_accepted_by_train_script(hyperparameters)
    return WeightsSource(args.arch, args.weights_file) if args.pretrained else None


@dataclass(frozen=True)
class Objective:
    name: str
    type: str  # Maximize or Minimize
    metric_definitions: list[dict[str, str]]


def objective() -> Objective:
    """The tuner objective and metric regexes, from the training code (the only place they are written)."""
    return Objective(
        training_metrics.OBJECTIVE_METRIC,
        training_metrics.OBJECTIVE_TYPE,
        [dict(d) for d in training_metrics.METRIC_DEFINITIONS],
    )
