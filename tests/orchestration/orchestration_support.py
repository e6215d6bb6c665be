"""Constants and helpers of the orchestration tests (a unique module name: every area has a conftest)."""

from __future__ import annotations

import json
from pathlib import Path

from dogbreed.orchestration import cli
from dogbreed.orchestration.settings import AwsSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
BUCKET = "dogbreed-data-test"
TRAINING_ROLE = "arn:aws:iam::123456789012:role/dogbreed-sagemaker-training"
NOTEBOOK_ROLE = "arn:aws:iam::123456789012:role/dogbreed-notebook"
STAGED_WEIGHTS = "weights/resnet50/resnet50-11ad3fa6.pth"  # train.py's default arch, torchvision's file name
SUBNETS = ("subnet-0aaa1111", "subnet-0bbb2222")
SECURITY_GROUP = "sg-0ccc3333"


def run_cli(capsys, *argv: str) -> dict:
    """Run the launcher's CLI in-process; it must succeed and print one JSON object."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    return json.loads(captured.out)


def settings(**overrides) -> AwsSettings:
    """Launcher settings of a stack without a KMS key (the fixture `terraform_outputs` has one)."""
    fields = dict(
        region=REGION,
        bucket=BUCKET,
        training_role_arn=TRAINING_ROLE,
        subnet_ids=SUBNETS,
        security_group_ids=(SECURITY_GROUP,),
    )
    return AwsSettings(**{**fields, **overrides})
