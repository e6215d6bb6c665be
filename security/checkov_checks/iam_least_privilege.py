"""CKV_DOG_2: every policy document a resource carries follows policy_rules: identity (inline_policy of a role
included), resource (bucket, key, Lambda permission), trust (assume_role_policy) and VPC endpoint policies.

Sees policies that are literal JSON (or jsonencode()) in HCL and, in the JSON plan, every rendered
templatefile().
"""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from policy_rules import POLICY_DOCUMENTS, parse_policy, policy_violations, resource_documents

SUPPORTED = sorted({*POLICY_DOCUMENTS, "aws_lambda_permission"})


def _plain(value):
    """checkov wraps every attribute value (and every block) in a list; the rules read plain values."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class IamLeastPrivilege(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every IAM, resource, trust and endpoint policy names exact actions, bounds "
            "escalation actions and constrains any wildcard resource or principal",
            id="CKV_DOG_2",
            categories=[CheckCategories.IAM],
            supported_resources=SUPPORTED,
        )

    def scan_resource_conf(self, conf):
        values = {key: _plain(value) for key, value in conf.items()}
        if isinstance(values.get("inline_policy"), dict):
            values["inline_policy"] = [values["inline_policy"]]
        self.details, parsed = [], 0
        for attribute, kind, document in resource_documents(self.entity_type, values):
            policy = parse_policy(document)
            if policy is None:
                continue  # an unrendered template: the plan scan sees the rendered document
            parsed += 1
            self.details += [f"{attribute}: {violation}" for violation in policy_violations(policy, kind)]
        if not parsed:
            return CheckResult.UNKNOWN
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = IamLeastPrivilege()
