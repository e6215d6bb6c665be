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


def run_cli(capsys, *argv: str) -> dict:
    """Run the launcher's CLI in-process; it must succeed and print one JSON object."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err[-2000:]
    return json.loads(captured.out)


def settings() -> AwsSettings:
    return AwsSettings(region=REGION, bucket=BUCKET, training_role_arn=TRAINING_ROLE)
