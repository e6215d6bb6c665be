"""From the load steps to the autoscaling target: the best step within the SLO (MAX_RPS) and AWS's
recommended target for ``SageMakerVariantInvocationsPerInstance`` target tracking, MAX_RPS x 60 x 0.5,
written where the root stack auto-loads it."""

from __future__ import annotations

from pathlib import Path

from benchmarks.capacity_load import StepResult
from dogbreed.utils.tfvars import write_tfvars

SAFETY_FACTOR = 0.5  # AWS's recommendation for SageMakerVariantInvocationsPerInstance target tracking
TFVARS_VARIABLE = "autoscaling_invocations_per_instance"


def max_sustainable(steps: list[StepResult]) -> StepResult | None:
    """The step with the highest throughput among those that met the SLO."""
    passing = [step for step in steps if step.meets_slo]
    return max(passing, key=lambda step: step.throughput_rps) if passing else None


def invocations_target(max_rps: float, safety_factor: float = SAFETY_FACTOR) -> int:
    """SageMakerVariantInvocationsPerInstance target: MAX_RPS x 60 x safety factor, at least 1 per minute."""
    return max(1, round(max_rps * 60 * safety_factor))


def write_autoscaling_target(path: Path, target: int) -> Path:
    """`{"autoscaling_invocations_per_instance": target}`, the root stack's variable, as a tfvars JSON."""
    return write_tfvars(path, {TFVARS_VARIABLE: target})
