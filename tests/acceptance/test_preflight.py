"""Before anything is created: the estimate first, then the caller and the Lambda quota, then --spend.

`make aws-acceptance REGION=...` itself runs against moto standing in for the account (the real mode's code
path: only the endpoint differs) and must create nothing without SPEND=1.
"""

from __future__ import annotations

import json
import os
import subprocess

import boto3
import pytest
from botocore.exceptions import NoCredentialsError

from dev.offline_aws import offline_aws
from dev.offline_leftovers import remaining
from dev.offline_terraform import cli_config
from dogbreed.acceptance import preflight
from dogbreed.acceptance.config import RunConfig
from dogbreed.acceptance.context import Hooks, Refused, RunContext, StepFailed
from dogbreed.acceptance.report import Report
from dogbreed.bill.settings import facts_from_variables
from dogbreed.utils.repo import REPO_ROOT

REGION = "eu-west-1"
VARIABLES = {
    "name": "acc-test",
    "region": REGION,
    "endpoint": {
        "instance_type": "ml.c5.large",
        "min_capacity": 1,
        "max_capacity": 2,
        "enable_autoscaling": True,
    },
    "predict_api": {"provisioned_concurrency": 0},
    "autoscaling_invocations_per_instance": None,
    "notebook_instance_type": "ml.t3.medium",
    "budget": {"create": True, "monthly_limit_usd": 25, "alert_threshold_percent": 80},
    "interface_endpoint_services": ["sagemaker.api", "sts"],
    "availability_zones": 2,
    "notebook_volume_gb": 5,
    "lambda_memory_mb": 1024,
}


def context(tmp_path, spend: bool) -> RunContext:
    config = RunConfig(region=REGION, spend=spend, name="acc-test", work_root=tmp_path)
    return RunContext(config, Report(run=config.name, region=REGION, mode="aws"), Hooks())


@pytest.fixture
def no_terraform(monkeypatch):
    """The stack's facts without `terraform console` (read_settings has its own tests)."""
    monkeypatch.setattr(preflight, "_facts", lambda ctx: facts_from_variables(VARIABLES, "test"))


def test_the_estimate_is_printed_before_any_aws_call_and_missing_credentials_say_what_to_give(
    tmp_path, no_terraform, monkeypatch, capsys
):
    ctx = context(tmp_path, spend=True)

    def no_credentials(service):
        assert "estimated cost of this run" in capsys.readouterr().err  # printed before the first call
        raise NoCredentialsError()

    monkeypatch.setattr(ctx, "client", no_credentials)
    with pytest.raises(StepFailed, match="give credentials of a sandbox account"):
        preflight.preflight(ctx)
    assert ctx.report.estimated_cost["total_usd"] > 0


@pytest.mark.parametrize("unreserved, fits", [(1000, True), (101, True), (100, False), (10, False)])
def test_the_lambda_reservation_must_leave_aws_minimum_of_100_unreserved(unreserved, fits):
    if fits:
        preflight.check_lambda_concurrency(unreserved, reserved=1)
    else:
        with pytest.raises(StepFailed, match="minimum of 100"):
            preflight.check_lambda_concurrency(unreserved, reserved=1)


def test_without_spend_preflight_refuses_after_reading_the_account(tmp_path, no_terraform):
    with offline_aws() as endpoint:
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"
        )
        try:
            ctx = context(tmp_path, spend=False)
            with pytest.raises(Refused, match="pass --spend"):
                preflight.preflight(ctx)
        finally:
            for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                os.environ.pop(name, None)
    assert ctx.values["preflight"]["account"] == "123456789012"


def clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_VAR_"))}
    return {**env, **extra}


def test_make_aws_acceptance_needs_a_region():
    result = subprocess.run(
        ["make", "--no-print-directory", "aws-acceptance"], cwd=REPO_ROOT, env=clean_environment(),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "give REGION=" in result.stderr


@pytest.mark.slow
@pytest.mark.terraform
@pytest.mark.timeout(300)
def test_make_aws_acceptance_without_spend_prints_the_cost_and_creates_nothing(tmp_path):
    """The real mode (only the endpoint is moto's, and the provider comes from the local mirror)."""
    with offline_aws() as endpoint:
        env = clean_environment(
            AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
            AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
            TF_CLI_CONFIG_FILE=str(cli_config(tmp_path)),
        )  # fmt: skip
        result = subprocess.run(
            ["make", "--no-print-directory", "aws-acceptance", f"REGION={REGION}",
             f"REPORT_DIR={tmp_path / 'report'}", f"WORK_ROOT={tmp_path / 'work'}"],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        buckets = session.client("s3", endpoint_url=endpoint).list_buckets()["Buckets"]
        roles = session.client("iam", endpoint_url=endpoint).list_roles()["Roles"]
        left = remaining(endpoint, REGION, "acc-")
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["outcome"] == "refused", result.stderr[-3000:]
    assert "Error 3" in result.stderr  # make reports the tool's exit code 3 (and exits 2 itself)
    assert "estimated cost of this run" in result.stderr and "pass --spend" in report["notes"][0]
    assert [step["status"] for step in report["steps"]].count("not run") == len(report["steps"]) - 1
    assert buckets == [] and roles == [] and left == {}
    assert not list((tmp_path / "work").glob("*/stack"))
