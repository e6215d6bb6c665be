"""CKV_DOG_1: no AWS-managed *FullAccess policy attached, by any attachment resource or managed_policy_arns."""

import re

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

FULL_ACCESS = re.compile(r"iam::aws:policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]*FullAccess\b")

ARN_ATTRIBUTES = {
    "aws_iam_role_policy_attachment": "policy_arn",
    "aws_iam_user_policy_attachment": "policy_arn",
    "aws_iam_group_policy_attachment": "policy_arn",
    "aws_iam_policy_attachment": "policy_arn",
    "aws_iam_role": "managed_policy_arns",
    "aws_iam_role_policy_attachments_exclusive": "policy_arns",
}


def _strings(value):
    if isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


class NoAwsManagedFullAccess(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure no AWS-managed *FullAccess policy is attached to any principal",
            id="CKV_DOG_1",
            categories=[CheckCategories.IAM],
            supported_resources=list(ARN_ATTRIBUTES),
        )

    def scan_resource_conf(self, conf):
        arns = list(_strings(conf.get(ARN_ATTRIBUTES[self.entity_type])))
        self.details = [arn for arn in arns if FULL_ACCESS.search(arn)]
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = NoAwsManagedFullAccess()
