"""Every policy document a Terraform plan renders, read from `terraform show -json` output.

Identity (aws_iam_policy, aws_iam_role_policy, the inline_policy blocks of aws_iam_role, and `*_policy_json`
outputs for principals the stack does not create), resource (bucket and key policies, Lambda permissions),
trust (assume_role_policy) and VPC endpoint policies, with the rules each kind gets
(security/checkov_checks/policy_rules.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from security.checkov_checks.policy_rules import IDENTITY, parse_policy, resource_documents

OUTPUT_POLICY_SUFFIX = "_policy_json"
DEFAULT_ACCOUNT, DEFAULT_PARTITION, DEFAULT_REGION = "123456789012", "aws", "eu-west-1"


@dataclass(frozen=True)
class Document:
    address: str  # resource address and attribute, e.g. module.x.aws_iam_role.this.assume_role_policy
    resource_type: str
    kind: str  # identity | resource | trust | endpoint
    policy: dict | None  # None: not known at plan time


def planned_resources(plan: dict) -> list[dict]:
    """Every managed resource of the plan's planned values, child modules included."""

    def walk(module: dict) -> Iterator[dict]:
        for resource in module.get("resources", []):
            if resource.get("mode", "managed") == "managed":
                yield resource
        for child in module.get("child_modules", []):
            yield from walk(child)

    return list(walk(plan.get("planned_values", {}).get("root_module", {})))


def rendered_documents(plan: dict) -> Iterator[Document]:
    for resource in planned_resources(plan):
        values = resource.get("values") or {}
        for attribute, kind, document in resource_documents(resource["type"], values):
            yield Document(
                f"{resource['address']}.{attribute}", resource["type"], kind, parse_policy(document)
            )
    yield from output_documents(plan)


def output_documents(plan: dict) -> Iterator[Document]:
    """Identity policies a stack renders for principals it does not create, as outputs named `*_policy_json`
    (the root stack's operator_policy_json): someone attaches them, so they get the same rules."""
    for name, output in sorted((plan.get("planned_values", {}).get("outputs") or {}).items()):
        if name.endswith(OUTPUT_POLICY_SUFFIX):
            yield Document(f"output.{name}", "output", IDENTITY, parse_policy(output.get("value")))


def data_value(plan: dict, data_type: str, attribute: str) -> Any:
    """An attribute of the first data source of DATA_TYPE read at plan time (prior_state), or None."""

    def walk(module: dict) -> Iterator[dict]:
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)

    for resource in walk(plan.get("prior_state", {}).get("values", {}).get("root_module", {})):
        if resource.get("mode") == "data" and resource["type"] == data_type:
            value = (resource.get("values") or {}).get(attribute)
            if value:
                return value
    return None


def account_partition_region(plan: dict) -> tuple[str, str, str]:
    return (
        data_value(plan, "aws_caller_identity", "account_id") or DEFAULT_ACCOUNT,
        data_value(plan, "aws_partition", "partition") or DEFAULT_PARTITION,
        data_value(plan, "aws_region", "name") or DEFAULT_REGION,
    )
