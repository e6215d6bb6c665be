"""Run parliament on every permission policy a Terraform plan renders: role, managed and bucket policies.

Left out, because parliament reads every document as an identity policy: trust policies (no Resource, so
"malformed") and KMS key policies (Resource "*" there always means "this key", and parliament's IAM database
lacks the CloudWatch Logs encryption-context condition). CKV_DOG_2 still checks both kinds.
"""

from __future__ import annotations

import importlib.resources
import json
import sys
import types
from collections.abc import Iterator

POLICY_ATTRIBUTES = {
    "aws_iam_policy": ("policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
}


def _import_parliament():
    """parliament 1.6 calls pkg_resources.resource_filename, which current setuptools no longer ships."""
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        shim = types.ModuleType("pkg_resources")
        shim.resource_filename = lambda package, name: str(importlib.resources.files(package) / name)
        sys.modules["pkg_resources"] = shim
    import parliament

    return parliament


def rendered_policies(plan: dict) -> Iterator[tuple[str, str]]:
    """(address.attribute, document) for every policy in the plan's planned values."""
    def walk(module: dict) -> Iterator[tuple[str, str]]:
        for resource in module.get("resources", []):
            for attribute in POLICY_ATTRIBUTES.get(resource["type"], ()):
                document = (resource.get("values") or {}).get(attribute)
                if document:
                    yield f"{resource['address']}.{attribute}", document
        for child in module.get("child_modules", []):
            yield from walk(child)

    yield from walk(plan.get("planned_values", {}).get("root_module", {}))


def findings(plan: dict) -> dict[str, list[str]]:
    """parliament findings per policy; an empty dict means parliament reports nothing."""
    parliament = _import_parliament()
    report = {}
    for address, document in rendered_policies(plan):
        policy = parliament.analyze_policy_string(document)
        issues = [f"{f.issue} {json.dumps(f.detail, default=str)}" for f in policy.findings]
        if issues:
            report[address] = issues
    return report
