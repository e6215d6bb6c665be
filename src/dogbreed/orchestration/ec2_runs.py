"""Start, or resume, a training run on the EC2 trainer: the only way such a run starts.

Terraform owns the trainer's launch template (terraform/modules/ec2_trainer) and never an instance, so no
`terraform apply` starts, restarts or replaces a run. ``dogbreed-launch ec2-run --run-id <id>`` calls
RunInstances with that template and tags the instance ``RunId=<id>``; ec2/bootstrap.sh reads the tag
through IMDS and continues from ``s3://<bucket>/ec2-runs/<id>/checkpoints/`` when a checkpoint is there. So
the same id resumes an interrupted run (a spot interruption terminates the one-time spot instance) and a new
id starts afresh. A run that finished (its model.tar.gz is in S3) or that has a live instance is refused.
"""

from __future__ import annotations

import re
from typing import Any

from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.settings import AwsSettings

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # ec2/bootstrap.sh accepts the same
RUN_PREFIX = "ec2-runs"
LIVE_STATES = ["pending", "running", "stopping", "stopped"]
RUN_TAG = "RunId"


def run_uri(settings: AwsSettings, run_id: str) -> str:
    return f"s3://{settings.bucket}/{RUN_PREFIX}/{run_id}/"


def _exists(s3, bucket: str, key: str) -> bool:
    return bool(s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("KeyCount"))


def live_instances(ec2, run_id: str) -> list[str]:
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[
            {"Name": f"tag:{RUN_TAG}", "Values": [run_id]},
            {"Name": "instance-state-name", "Values": LIVE_STATES},
        ]
    )
    return [i["InstanceId"] for page in pages for r in page["Reservations"] for i in r["Instances"]]


def start_run(session, settings: AwsSettings, launch_template_id: str, run_id: str) -> dict[str, Any]:
    """Launch one instance from the trainer's template for `run_id`; returns what was started."""
    if not RUN_ID.fullmatch(run_id):
        raise LauncherError(f"run id {run_id!r}: 1-64 letters, digits, '.', '_' or '-', starting alnum")
    if not launch_template_id:
        raise LauncherError(
            "no launch template: pass --launch-template or apply the root stack with ec2_trainer.create "
            "(output ec2_trainer_launch_template_id)"
        )
    s3 = session.boto_session.client("s3", region_name=settings.region)
    ec2 = session.boto_session.client("ec2", region_name=settings.region)
    prefix = f"{RUN_PREFIX}/{run_id}/"
    if _exists(s3, settings.bucket, f"{prefix}model.tar.gz"):
        raise LauncherError(
            f"run {run_id} has finished ({run_uri(settings, run_id)}model.tar.gz): pick a new run id"
        )
    if live := live_instances(ec2, run_id):
        raise LauncherError(f"run {run_id} is already on {', '.join(live)}")
    resumes = _exists(s3, settings.bucket, f"{prefix}checkpoints/checkpoint.pt")
    tags = [
        {"Key": RUN_TAG, "Value": run_id},
        {"Key": "Name", "Value": f"{settings.job_prefix}-ec2-{run_id}"},
    ]
    response = ec2.run_instances(
        MinCount=1,
        MaxCount=1,
        LaunchTemplate={"LaunchTemplateId": launch_template_id, "Version": "$Default"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )
    return {
        "run_id": run_id,
        "instance_id": response["Instances"][0]["InstanceId"],
        "resumes_from_checkpoint": resumes,
        "results": run_uri(settings, run_id),
    }
