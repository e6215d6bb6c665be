"""A moto server on 127.0.0.1 standing in for AWS, with the SageMaker behaviours of fake_sagemaker.py."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest

from dev.offline_terraform import moto_server

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_sagemaker import simulated_sagemaker  # noqa: E402
from orchestration_support import (  # noqa: E402
    BUCKET,
    NOTEBOOK_ROLE,
    REGION,
    STAGED_WEIGHTS,
    TRAINING_ROLE,
)

SDK_CONFIG = "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"


@pytest.fixture(scope="session")
def moto_endpoint():
    with simulated_sagemaker(), moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(moto_endpoint, monkeypatch, tmp_path):
    """Environment every AWS client in this process (and in children such as a notebook kernel) picks up."""
    sdk_config = tmp_path / "sagemaker-config.yaml"
    sdk_config.write_text(SDK_CONFIG)  # no telemetry calls out of the sandbox
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "SAGEMAKER_VALIDATE_ROLE": "false",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(sdk_config),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    # What `dogbreed-stage-weights --arch resnet50` leaves (the launcher checks only that it is there).
    s3.put_object(Bucket=BUCKET, Key=STAGED_WEIGHTS, Body=b"resnet50 weights, staged by the test")
    return env


@pytest.fixture
def stack_network(aws_env) -> dict[str, list[str]]:
    """The root stack's private subnets and training security group, created in moto."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
        for zone, cidr in (("a", "10.42.0.0/20"), ("b", "10.42.16.0/20"))
    ]
    group = ec2.create_security_group(
        GroupName="dogbreed-training-jobs", Description="SageMaker training jobs", VpcId=vpc
    )["GroupId"]
    return {"training_subnet_ids": subnets, "training_security_group_ids": [group]}


@pytest.fixture
def terraform_outputs(aws_env, stack_network, tmp_path) -> Path:
    """A saved `terraform output -json` of the root stack, with the outputs interfaces.md names."""
    kms_key = boto3.client("kms", region_name=REGION).create_key(Description="dogbreed test key")[
        "KeyMetadata"
    ]
    outputs = {
        "region": REGION,
        "data_bucket_name": BUCKET,
        "kms_key_arn": kms_key["Arn"],
        "training_role_arn": TRAINING_ROLE,
        "notebook_role_arn": NOTEBOOK_ROLE,
        "endpoint_name": "dogbreed-endpoint",
        "function_name": "dogbreed-predict",
        "function_url": "https://example.lambda-url.us-east-1.on.aws/",
        "name": "dogbreed",
        **stack_network,
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({k: {"sensitive": False, "value": v} for k, v in outputs.items()}))
    return path


@pytest.fixture
def sagemaker(aws_env):
    return boto3.client("sagemaker", region_name=REGION)


@pytest.fixture
def s3(aws_env):
    return boto3.client("s3", region_name=REGION)
