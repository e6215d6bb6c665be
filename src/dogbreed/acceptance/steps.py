"""The run's steps up to the serving checks; each returns what it saw, or raises StepFailed."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dogbreed.acceptance import cost
from dogbreed.acceptance.config import MODEL_ARCH, TRAINING_HYPERPARAMETERS
from dogbreed.acceptance.context import Refused, RunContext, StepFailed
from dogbreed.acceptance.function_url import call_every_form
from dogbreed.acceptance.inputs import upload_inputs
from dogbreed.acceptance.terraform import MODEL_TFVARS
from dogbreed.bill.prices import PriceTable
from dogbreed.bill.settings import read_settings

# AWS: "You can reserve up to the Unreserved account concurrency value minus 100" (Lambda developer guide,
# configuration-concurrency.html); new accounts often start with a limit of 10, where no reservation fits.
LAMBDA_UNRESERVED_MINIMUM = 100


def check_lambda_concurrency(unreserved: int, reserved: int) -> None:
    if unreserved - reserved < LAMBDA_UNRESERVED_MINIMUM:
        raise StepFailed(
            f"the account's unreserved Lambda concurrency is {unreserved}: reserving {reserved} would leave "
            f"less than AWS's minimum of {LAMBDA_UNRESERVED_MINIMUM}; ask for a higher 'Concurrent "
            "executions' quota (Service Quotas, AWS Lambda) first",
            {"unreserved_concurrency": unreserved, "reserved_by_the_stack": reserved},
        )


def preflight(ctx: RunContext) -> dict[str, Any]:
    identity = ctx.client("sts").get_caller_identity()
    limits = ctx.client("lambda").get_account_settings()["AccountLimit"]
    reserved = ctx.config.tfvars()["predict_api"]["reserved_concurrency"]
    check_lambda_concurrency(int(limits["UnreservedConcurrentExecutions"]), reserved)
    with tempfile.TemporaryDirectory() as scratch:
        tfvars = Path(scratch) / "acceptance.tfvars.json"
        tfvars.write_text(json.dumps(ctx.config.tfvars()))
        facts = read_settings([tfvars])
    ctx.values["facts"] = facts
    estimate = cost.estimate(facts, PriceTable.load(), ctx.config.train_instance_type, cost.PLANNED)
    ctx.report.estimated_cost = estimate
    print(
        f"estimated cost of this run: {estimate['total_usd']:.2f} USD ({estimate['basis']})", file=sys.stderr
    )
    for item in estimate["items"]:
        print(f"  {item['usd']:9.4f}  {item['what']}", file=sys.stderr)
    detail = {
        "account": identity["Account"],
        "caller": identity["Arn"],
        "estimated_usd": estimate["total_usd"],
        "train_instance_type": ctx.config.train_instance_type,
        "endpoint_instance_type": ctx.config.endpoint_instance_type,
    }
    ctx.values["preflight"] = detail
    if not ctx.config.spend:
        raise Refused("nothing was created: pass --spend to run (it creates billed resources)")
    return detail


def stage(ctx: RunContext) -> dict[str, Any]:
    ctx.stack.stage(ctx.config.tfvars())
    ctx.stack.terraform("init", "-input=false", log="init", timeout_s=900)
    return {"stack": str(ctx.stack.dir), "tfvars": ctx.config.tfvars()}


def apply_base(ctx: RunContext) -> dict[str, Any]:
    ctx.stack.terraform("apply", "-auto-approve", "-input=false", log="apply-base")
    outputs = ctx.save_outputs()
    return {k: outputs.get(k) for k in ("data_bucket_name", "training_role_arn", "budget_name")}


def upload(ctx: RunContext) -> dict[str, Any]:
    inputs = upload_inputs(ctx.launcher_session(), ctx.launcher_settings(), ctx.config.workdir, MODEL_ARCH)
    ctx.values["test_images"] = inputs.pop("test_images")
    return inputs


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
        max_run_seconds=3600,
        hyperparameters=dict(TRAINING_HYPERPARAMETERS),
    )
    session, settings = ctx.launcher_session(), ctx.launcher_settings()
    name = start_tuning(spec, settings, session)
    ctx.values["tuning_job"] = name
    status = _wait(
        ctx,
        session.sagemaker_client.describe_hyper_parameter_tuning_job,
        {"HyperParameterTuningJobName": name},
        "HyperParameterTuningJobStatus",
    )
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
        max_run_seconds=3600,
        hyperparameters=dict(TRAINING_HYPERPARAMETERS),
    )
    session, settings = ctx.launcher_session(), ctx.launcher_settings()
    name = start_training(spec, settings, session)
    ctx.values["training_job"] = name
    status = _wait(
        ctx, session.sagemaker_client.describe_training_job, {"TrainingJobName": name}, "TrainingJobStatus"
    )
    job = session.sagemaker_client.describe_training_job(TrainingJobName=name)
    return {
        "training_job": name,
        "status": status,
        "instances": job["ResourceConfig"]["InstanceCount"],
        "instance_type": job["ResourceConfig"]["InstanceType"],
        "billable_seconds": job.get("BillableTimeInSeconds"),
    }


def publish(ctx: RunContext) -> dict[str, Any]:
    from dogbreed.orchestration.publish import model_artifact
    from dogbreed.orchestration.publish import publish as publish_model

    session = ctx.launcher_session()
    url = model_artifact(session, training_job=ctx.values["training_job"])
    published = publish_model(session, url, tfvars_path=ctx.stack.dir / MODEL_TFVARS)
    ctx.values["model_data_url"] = published["model_data_url"]
    return published


def apply_serving(ctx: RunContext) -> dict[str, Any]:
    ctx.stack.terraform("apply", "-auto-approve", "-input=false", log="apply-serving")
    outputs = ctx.save_outputs()
    if not outputs.get("function_url"):
        raise StepFailed("the serving apply produced no function_url", outputs)
    return {k: outputs.get(k) for k in ("endpoint_name", "function_name", "function_url")}


def function_url(ctx: RunContext) -> dict[str, Any]:
    credentials = ctx.session.get_credentials().get_frozen_credentials()
    image = Path(ctx.values["test_images"][0])
    results = call_every_form(
        ctx.values["outputs"]["function_url"],
        image,
        credentials=credentials,
        region=ctx.config.region,
        transport=ctx.hooks.transport,
    )
    if not all(result["ok"] for result in results.values()):
        raise StepFailed("a request form did not get the expected answer", results)
    return results


def _wait(ctx: RunContext, describe, request: dict, status_key: str) -> str:
    """Poll until the job ends; StepFailed unless it Completed."""
    deadline = time.monotonic() + ctx.config.job_timeout_s
    while True:
        described = describe(**request)
        status = described[status_key]
        if status == "Completed":
            return status
        if status in ("Failed", "Stopped"):
            raise StepFailed(
                f"{next(iter(request.values()))} ended {status}",
                {
                    "reason": described.get("FailureReason"),
                    "status": status,
                },
            )
        if time.monotonic() > deadline:
            raise StepFailed(
                f"{next(iter(request.values()))} still {status} after {ctx.config.job_timeout_s} s"
            )
        time.sleep(ctx.config.poll_s)
