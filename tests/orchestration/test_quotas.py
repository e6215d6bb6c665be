"""The quota check before a launch, against botocore's Stubber (it validates every request and response
against the service-quotas model; moto 5.2.5 has no SageMaker quotas)."""

from __future__ import annotations

import logging

import boto3
import pytest
from botocore.stub import Stubber
from orchestration_support import BUCKET

from dogbreed.orchestration import cli, jobs
from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.quotas import SERVICE_CODE, check_instance_quota, quota_name

REGION = "eu-west-1"


def quota(name: str, value: float, code: str = "L-00000001") -> dict:
    return {"ServiceCode": SERVICE_CODE, "QuotaName": name, "QuotaCode": code, "Value": value}


@pytest.fixture
def quotas():
    client = boto3.client(
        "service-quotas", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def applied(stubber, *pages: list[dict]) -> None:
    for index, page in enumerate(pages):
        response = {"Quotas": page, **({"NextToken": f"page{index + 1}"} if index + 1 < len(pages) else {})}
        params = {"ServiceCode": SERVICE_CODE, **({"NextToken": f"page{index}"} if index else {})}
        stubber.add_response("list_service_quotas", response, params)


def test_quota_names_are_sagemakers():
    assert quota_name("ml.g5.xlarge", spot=True) == "ml.g5.xlarge for spot training job usage"
    assert quota_name("ml.p3.2xlarge", spot=False) == "ml.p3.2xlarge for training job usage"


@pytest.mark.parametrize(("value", "needed"), [(0, 1), (1, 2)])
def test_too_low_a_quota_stops_the_launch_in_one_line(quotas, value, needed):
    client, stubber = quotas
    name = quota_name("ml.g5.xlarge", spot=True)
    applied(stubber, [quota("ml.m5.large for training job usage", 15)], [quota(name, value, "L-12345678")])

    with pytest.raises(LauncherError) as raised:
        check_instance_quota(client, "ml.g5.xlarge", needed, spot=True, region=REGION)
    message = str(raised.value)
    assert "\n" not in message
    assert f"'{name}' in {REGION} is {value}, this launch needs {needed}" in message
    assert "L-12345678" in message


def test_a_quota_only_aws_defaults_know_is_found_there(quotas):
    client, stubber = quotas
    name = quota_name("ml.g4dn.xlarge", spot=False)
    applied(stubber, [])
    stubber.add_response(
        "list_aws_default_service_quotas", {"Quotas": [quota(name, 0)]}, {"ServiceCode": SERVICE_CODE}
    )
    with pytest.raises(LauncherError, match="is 0, this launch needs 1"):
        check_instance_quota(client, "ml.g4dn.xlarge", 1, spot=False, region=REGION)


def test_enough_quota_lets_the_launch_go_on(quotas):
    client, stubber = quotas
    applied(stubber, [quota(quota_name("ml.g5.xlarge", spot=True), 4)])
    check_instance_quota(client, "ml.g5.xlarge", 4, spot=True, region=REGION)


def test_a_failed_lookup_is_reported_and_the_launch_goes_on(quotas, caplog):
    client, stubber = quotas
    stubber.add_client_error("list_service_quotas", "AccessDeniedException", http_status_code=400)
    with caplog.at_level(logging.WARNING, logger="launch"):
        check_instance_quota(client, "ml.g5.xlarge", 2, spot=True, region=REGION)
    assert [r.getMessage() for r in caplog.records] == [
        "could not read the quota 'ml.g5.xlarge for spot training job usage' "
        "(AccessDeniedException (HTTP 400)); launching anyway"
    ]


def test_the_cli_says_so_before_anything_is_sent(
    quotas, monkeypatch, capsys, terraform_outputs, sagemaker, s3
):
    """`train` on 2 spot ml.g5.xlarge with a quota of 1: one line, exit 2, no job, nothing uploaded first."""
    client, stubber = quotas
    applied(stubber, [quota(quota_name("ml.g5.xlarge", spot=True), 1)])
    monkeypatch.setattr(jobs, "quota_client", lambda *_: client)

    code = cli.main(["train", "--terraform-outputs", str(terraform_outputs), "--instance-count", "2"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert lines[-1].startswith("dogbreed-launch train: error: the account's quota 'ml.g5.xlarge for spot")
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="code/")["KeyCount"] == 0
