"""Remove everything the run created, whatever state it stopped in: running jobs, the stack, leftovers.

Order (docs/infra.md, "Teardown"): stop jobs (they hold instances and, in a VPC, network interfaces), plan the
destroy and apply that plan (the run applied with allow_destroy_data = true, so the bucket is emptied of every
object version and the key is scheduled for deletion after 7 days), delete what SageMaker created outside
Terraform (the endpoint's log group, the jobs' log streams), then look for anything still tagged with the
run's Project tag.
"""

from __future__ import annotations

import json
import time
from typing import Any

from dogbreed.acceptance.context import RunContext, StepFailed
from dogbreed.acceptance.terraform import TerraformFailed

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
RETRY_AFTER_S = 60


def stop_jobs(ctx: RunContext) -> dict[str, Any]:
    sagemaker = ctx.client("sagemaker")
    name = ctx.config.name
    tuning = sagemaker.list_hyper_parameter_tuning_jobs(NameContains=name, StatusEquals="InProgress")
    training = sagemaker.list_training_jobs(NameContains=name, StatusEquals="InProgress")
    stopped = []
    for job in tuning["HyperParameterTuningJobSummaries"]:
        sagemaker.stop_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=job["HyperParameterTuningJobName"]
        )
        stopped.append(job["HyperParameterTuningJobName"])
    for job in training["TrainingJobSummaries"]:
        sagemaker.stop_training_job(TrainingJobName=job["TrainingJobName"])
        stopped.append(job["TrainingJobName"])
    deadline = time.monotonic() + 1800
    while stopped and _still_stopping(sagemaker, name) and time.monotonic() < deadline:
        time.sleep(ctx.config.poll_s)
    return {"stopped": stopped}


def _still_stopping(sagemaker, name: str) -> bool:
    for status in ("InProgress", "Stopping"):
        if sagemaker.list_training_jobs(NameContains=name, StatusEquals=status)["TrainingJobSummaries"]:
            return True
    return False


def destroy(ctx: RunContext) -> dict[str, Any]:
    """`terraform plan -destroy`, recorded, then that plan applied; one retry with a plain destroy."""
    stack = ctx.stack
    if not stack.exists or not stack.has_state:
        return {"skipped": "no resource was created"}
    stack.terraform("plan", "-destroy", "-input=false", "-out=destroy.tfplan", log="teardown-plan")
    summary = destroy_plan_summary(stack.show_json("destroy.tfplan"))
    (ctx.config.workdir / "destroy-plan.json").write_text(json.dumps(summary, indent=2) + "\n")
    try:
        stack.terraform("apply", "-input=false", "destroy.tfplan", log="teardown-destroy")
        attempts = 1
    except TerraformFailed:
        time.sleep(RETRY_AFTER_S if ctx.hooks.mode == "aws" else 0)  # ENIs and grants go asynchronously
        stack.terraform("destroy", "-auto-approve", "-input=false", log="teardown-destroy")
        attempts = 2
    if stack.has_state:
        raise StepFailed("resources remain in the run's state after destroy", {"state": str(stack.dir)})
    return {"attempts": attempts, **{k: summary[k] for k in ("deleted", "kept", "bucket_force_destroy")}}


def destroy_plan_summary(plan: dict) -> dict[str, Any]:
    """What a destroy plan deletes and keeps, and whether the bucket is emptied (force_destroy in state)."""
    changes = [c for c in plan.get("resource_changes", []) if c.get("mode") == "managed"]
    deleted = sorted(c["address"] for c in changes if c["change"]["actions"] == ["delete"])
    kept = sorted(c["address"] for c in changes if c["change"]["actions"] != ["delete"])
    buckets = [c["change"]["before"] for c in changes if c["type"] == "aws_s3_bucket"]
    return {
        "deleted": deleted,
        "kept": kept,
        "bucket_force_destroy": [bucket.get("force_destroy") for bucket in buckets],
    }


def leftovers(ctx: RunContext) -> dict[str, Any]:
    """What SageMaker creates outside Terraform: the endpoint's log group, the jobs' log streams."""
    logs = ctx.client("logs")
    removed = []
    endpoint_group = f"/aws/sagemaker/Endpoints/{ctx.config.endpoint_name}"
    for group in logs.describe_log_groups(logGroupNamePrefix=endpoint_group).get("logGroups", []):
        logs.delete_log_group(logGroupName=group["logGroupName"])
        removed.append(group["logGroupName"])
    if logs.describe_log_groups(logGroupNamePrefix=TRAINING_LOG_GROUP).get("logGroups"):
        paginator = logs.get_paginator("describe_log_streams")
        for page in paginator.paginate(logGroupName=TRAINING_LOG_GROUP, logStreamNamePrefix=ctx.config.name):
            for stream in page.get("logStreams", []):
                logs.delete_log_stream(logGroupName=TRAINING_LOG_GROUP, logStreamName=stream["logStreamName"])
                removed.append(f"{TRAINING_LOG_GROUP}:{stream['logStreamName']}")
    return {"removed": removed}


def verify(ctx: RunContext) -> dict[str, Any]:
    """Nothing tagged Project=<run> may remain but the key, which waits out its deletion window."""
    deadline = time.monotonic() + (600 if ctx.hooks.mode == "aws" else 0)
    while True:
        remaining = _tagged(ctx)
        if not remaining or time.monotonic() >= deadline:
            break
        time.sleep(ctx.config.poll_s)  # the tagging API lists deleted resources for a while
    if remaining:
        raise StepFailed(
            f"{len(remaining)} resources tagged Project={ctx.config.name} remain", {"remaining": remaining}
        )
    return {"remaining": []}


def _tagged(ctx: RunContext) -> list[str]:
    tagging, kms = ctx.client("resourcegroupstaggingapi"), ctx.client("kms")
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": "Project", "Values": [ctx.config.name]}]
    )
    remaining = []
    for page in pages:
        for resource in page.get("ResourceTagMappingList", []):
            arn = resource["ResourceARN"]
            key = ":kms:" in arn and ":key/" in arn
            if key and kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion":
                continue
            remaining.append(arn)
    return remaining
