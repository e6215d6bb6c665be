"""CloudWatch Logs may use the project key for the endpoint's log group (the group is created with that key).

AWS: CloudWatch Logs calls KMS with the encryption context kms:EncryptionContext:aws:logs:arn = the log
group's ARN (encrypt-log-data-kms.html); CreateLogGroup fails with AccessDeniedException when the key policy
does not allow it. The key's Logs statement names the stack's log groups only (policies/kms_key.json,
log_group_arns_json), so this reads the key policy as the root plan renders it and the group ARN the plan
outputs (endpoint_log_group_arn, the endpoint module's log_group_arn): the two must agree.
"""

from __future__ import annotations

import pytest

from security.checkov_checks.policy_rules import parse_policy
from security.iam_eval import ALLOW, Request, evaluate
from security.plan_policies import planned_resources

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

REGION = "eu-west-1"
LOGS = {"Service": f"logs.{REGION}.amazonaws.com"}


@pytest.fixture(scope="module")
def key_policy(offline_plans) -> dict:
    keys = [r for r in planned_resources(offline_plans["root"]) if r["type"] == "aws_kms_key"]
    return parse_policy(keys[0]["values"]["policy"])


@pytest.fixture(scope="module")
def log_group_arn(offline_plans) -> str:
    arn = offline_plans["root"]["planned_values"]["outputs"]["endpoint_log_group_arn"]["value"]
    assert arn.endswith(":log-group:/aws/sagemaker/Endpoints/dogbreed-endpoint")
    return arn


@pytest.mark.parametrize("action", ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"])
def test_cloudwatch_logs_may_use_the_key_for_the_endpoint_log_group(key_policy, log_group_arn, action):
    request = Request(action, "*", {"kms:EncryptionContext:aws:logs:arn": log_group_arn}, LOGS)
    assert evaluate([key_policy], request).effect == ALLOW


def test_the_key_refuses_another_endpoints_log_group(key_policy, log_group_arn):
    other = log_group_arn.replace("/dogbreed-endpoint", "/payments-endpoint")
    request = Request("kms:GenerateDataKey", "*", {"kms:EncryptionContext:aws:logs:arn": other}, LOGS)
    assert not evaluate([key_policy], request).allowed
