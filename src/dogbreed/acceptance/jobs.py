"""The training steps: a one-trial tuning job, then the two-instance distributed job from its best trial.

Both go through the launcher (dogbreed.orchestration) exactly as `dogbreed-launch tune|train` would, with the
stack's outputs as its settings: its network, keys, quota and staged-weights checks all run.
"""

from __future__ import annotations

import time
from typing import Any

from dogbreed.acceptance.config import TRAINING_HYPERPARAMETERS
from dogbreed.acceptance.context import RunContext, StepFailed

MAX_RUN_S = 3600
ENDED = ("Failed", "Stopped")


def hyperparameters(ctx: RunContext) -> dict[str, str]:
    return {**TRAINING_HYPERPARAMETERS, "weights-file": ctx.values["weights_file"]}


def tune(ctx: RunContext) -> dict[str, Any]:
    from dogbreed.orchestration.jobs import tune as start_tuning
    from dogbreed.orchestration.results import best_training_job
    from dogbreed.orchestration.specs import TuneSpec

    spec = TuneSpec(
        instance_type=ctx.config.train_instance_type,
        max_jobs=1,
        max_parallel_jobs=1,
        early_stopping=False,
        strategy="Random",
        batch_sizes=[8],
        max_run_seconds=MAX_RUN_S,
        hyperparameters=hyperparameters(ctx),
    )
    session, settings = ctx.launcher_session(), ctx.launcher_settings()
    name = ctx.values["tuning_job"] = start_tuning(spec, settings, session)
    describe = session.sagemaker_client.describe_hyper_parameter_tuning_job
    status = wait(ctx, lambda: describe(HyperParameterTuningJobName=name), "HyperParameterTuningJobStatus")
    best = best_training_job(session, name)
    return {
        "tuning_job": name,
        "status": status,
        "best_trial": best.training_job,
        "objective": best.objective,
    }


def train(ctx: RunContext) -> dict[str, Any]:
    from dogbreed.orchestration.jobs import train as start_training
    from dogbreed.orchestration.specs import TrainSpec

    spec = TrainSpec(
        instance_type=ctx.config.train_instance_type,
        instance_count=2,
        processes_per_node=1,
        from_tuning_job=ctx.values["tuning_job"],
        max_run_seconds=MAX_RUN_S,
        hyperparameters=hyperparameters(ctx),
    )
    session, settings = ctx.launcher_session(), ctx.launcher_settings()
    name = ctx.values["training_job"] = start_training(spec, settings, session)
    describe = session.sagemaker_client.describe_training_job
    status = wait(ctx, lambda: describe(TrainingJobName=name), "TrainingJobStatus")
    job = describe(TrainingJobName=name)
    return {
        "training_job": name,
        "status": status,
        "instances": job["ResourceConfig"]["InstanceCount"],
        "instance_type": job["ResourceConfig"]["InstanceType"],
        "billable_seconds": job.get("BillableTimeInSeconds"),
    }


def wait(ctx: RunContext, describe, status_key: str) -> str:
    """Poll DESCRIBE until the job ends; StepFailed unless it Completed within the run's job timeout."""
    deadline = time.monotonic() + ctx.config.job_timeout_s
    while True:
        described = describe()
        status = described[status_key]
        if status == "Completed":
            return status
        if status in ENDED:
            raise StepFailed(f"the job ended {status}", {"reason": described.get("FailureReason")})
        if time.monotonic() > deadline:
            raise StepFailed(f"the job is still {status} after {ctx.config.job_timeout_s} s")
        time.sleep(ctx.config.poll_s)
