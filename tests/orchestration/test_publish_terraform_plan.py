"""`publish` writes what the root stack consumes: a terraform plan of the stack deploys the published model.

The stack is staged and planned offline with the infrastructure area's helper (dev/offline_terraform.py:
provider mirror, its own moto server, a local backend); the launcher runs against this suite's moto server.
"""

from __future__ import annotations

import json
import shutil

import boto3
import pytest
from orchestration_support import (
    REPO_ROOT,
    SECURITY_GROUP,
    STAGED_WEIGHTS,
    SUBNETS,
    TRAINING_ROLE,
    run_cli,
)

from dev import offline_terraform as terraform
from dogbreed.orchestration.publish import DEFAULT_TFVARS_PATH

pytestmark = [
    pytest.mark.slow,
    pytest.mark.terraform,
    pytest.mark.timeout(600),
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH"),
]

STACK_REGION = "eu-west-1"  # the root stack's default region; the helper plans there
STACK_BUCKET = f"dogbreed-123456789012-{STACK_REGION}"  # <name>-<account>-<region>, moto's default account


def test_plan_of_the_root_stack_deploys_the_published_model(tmp_path, capsys, aws_env):
    s3 = boto3.client("s3", region_name=STACK_REGION)
    s3.create_bucket(Bucket=STACK_BUCKET, CreateBucketConfiguration={"LocationConstraint": STACK_REGION})
    s3.put_object(Bucket=STACK_BUCKET, Key=STAGED_WEIGHTS, Body=b"staged")
    stack_flags = ["--region", STACK_REGION, "--bucket", STACK_BUCKET, "--role", TRAINING_ROLE]
    network_flags = ["--subnet", SUBNETS[0], "--security-group", SECURITY_GROUP]
    job = run_cli(capsys, "train", *stack_flags, *network_flags, "--hp", "epochs=1")["training_job"]

    workdir = tmp_path / "stack"
    terraform.stage_stack(REPO_ROOT, workdir)
    tfvars = workdir / "terraform" / DEFAULT_TFVARS_PATH.name
    published = run_cli(capsys, "publish", *stack_flags, "--training-job", job, "--tfvars", str(tfvars))
    no_other_vars = tmp_path / "none.tfvars.json"
    no_other_vars.write_text("{}")

    plan = terraform.plan_json(workdir, no_other_vars)

    sha256 = published["model_sha256"]
    assert published["source"] == f"s3://{STACK_BUCKET}/models/{job}/output/model.tar.gz"
    assert published["model_data_url"] == f"s3://{STACK_BUCKET}/models/published/{sha256}/model.tar.gz"
    models = terraform.planned(plan, "aws_sagemaker_model")
    assert [m["primary_container"][0]["model_data_url"] for m in models] == [published["model_data_url"]]
    assert [m["name"] for m in models] == [f"dogbreed-endpoint-{sha256[:16]}"]  # the name carries the hash
    assert len(terraform.planned(plan, "aws_sagemaker_endpoint")) == 1
    assert json.loads(tfvars.read_text()) == {
        "model_data_url": published["model_data_url"],
        "model_sha256": sha256,
    }
