"""CloudWatch Logs may use the project key for the endpoint's log group (the group is created with that key).

AWS: CloudWatch Logs calls KMS with the encryption context kms:EncryptionContext:aws:logs:arn = the log
group's ARN (encrypt-log-data-kms.html); CreateLogGroup fails with AccessDeniedException when the key policy
does not allow it. The group ARN is the endpoint module's log_group_arn (root output endpoint_log_group_arn).
"""

from __future__ import annotations

import json
import re

import pytest

from dev.offline_terraform import REPO_ROOT
from security.iam_eval import ALLOW, Request, evaluate

ACCOUNT, REGION = "123456789012", "eu-west-1"
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/dogbreed-endpoint"
LOGS = {"Service": f"logs.{REGION}.amazonaws.com"}


def key_policy() -> dict:
    text = (REPO_ROOT / "policies" / "kms_key.json").read_text()
    for name, value in {"partition": "aws", "region": REGION, "account_id": ACCOUNT}.items():
        text = text.replace("${" + name + "}", value)
    leftover = re.findall(r"\$\{[^}]+\}", text)
    assert not leftover, (
        f"kms_key.json takes new inputs {leftover}: give it the endpoint's log group ARN (module.endpoint[0]"
        ".log_group_arn, root output endpoint_log_group_arn) and render them here"
    )
    return json.loads(text)


@pytest.mark.parametrize("action", ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"])
def test_cloudwatch_logs_may_use_the_key_for_the_endpoint_log_group(action):
    request = Request(action, "*", {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP_ARN}, LOGS)
    assert evaluate([key_policy()], request).effect == ALLOW
