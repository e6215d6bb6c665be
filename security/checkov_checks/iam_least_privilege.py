"""CKV_DOG_2: no action wildcard, no unconditioned Resource "*", no unconditioned public principal.

Sees policies that are literal JSON in HCL and, in the JSON plan, every templatefile()/jsonencode() policy.
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from policy_rules import parse_policy, policy_violations

POLICY_ATTRIBUTE = {
    "aws_iam_policy": "policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_kms_key": "policy",
}


class IamLeastPrivilege(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure IAM policies name exact actions and constrain any wildcard resource or principal",
            id="CKV_DOG_2",
            categories=[CheckCategories.IAM],
            supported_resources=list(POLICY_ATTRIBUTE),
        )

    def scan_resource_conf(self, conf):
        values = conf.get(POLICY_ATTRIBUTE[self.entity_type])
        policy = parse_policy(values[0] if isinstance(values, list) and values else values)
        if policy is None:
            return CheckResult.UNKNOWN  # an unrendered template: the plan scan sees the rendered document
        self.details = policy_violations(policy)
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = IamLeastPrivilege()
