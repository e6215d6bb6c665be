"""Run parliament on every identity and resource policy the plans render, with its privilege-escalation
auditor.

Left out, because parliament reads every document as an identity policy: trust policies (no Resource, so
"malformed"), KMS key policies (Resource "*" there always means "this key", and parliament's IAM database
lacks the CloudWatch Logs encryption-context condition) and VPC endpoint policies (perimeters with Principal
"*"). The plan gate (security/plan_gate.py) and CKV_DOG_2 check all three kinds.

Two refinements, each narrower than ignoring a finding:
- RESOURCE_MISMATCH is checked per document, not per statement. AWS authorizes every resource of a
  multi-resource request (ec2:RunInstances, ec2:CreateSubnet, ...) separately against all statements, and
  AWS's own examples give each resource type its own statement and condition (new resources by aws:RequestTag,
  existing ones by aws:ResourceTag:
  https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ExamplePolicies_EC2.html). A required resource type is
  missing only when no Allow statement of the document with that action names it.
- PRIVILEGE_ESCALATION (Rhino Security Labs' methods, by action names alone) counts as closed only where the
  document's own statements close it, checked here: iam:PassRole names exact roles, each statement bound to
  one service (iam:PassedToService); lambda:UpdateFunctionCode names exact functions. Every other method
  fails. RESOURCE_POLICY_PRIVILEGE_ESCALATION (may rewrite a bucket's policy, so may grant itself its objects)
  counts as closed only when the document names that one bucket exactly: the stack manages its own bucket's
  policy.
"""

from __future__ import annotations

import importlib.resources
import json
import sys
import types
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase

from security.checkov_checks.policy_rules import IDENTITY, RESOURCE, as_list
from security.plan_policies import rendered_documents

PARLIAMENT_KINDS = (IDENTITY, RESOURCE)
_PASSED_TO_SERVICE = "iam:passedtoservice"


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
    """(address.attribute, document) of every identity and resource policy of the plan (KMS keys left out)."""
    for document in rendered_documents(plan):
        if document.kind in PARLIAMENT_KINDS and document.resource_type != "aws_kms_key" and document.policy:
            yield document.address, json.dumps(document.policy)


def _allow_statements(policy: dict, action: str) -> list[dict]:
    return [
        s
        for s in as_list(policy.get("Statement"))
        if s.get("Effect") == "Allow"
        and any(fnmatchcase(action.lower(), str(a).lower()) for a in as_list(s.get("Action")))
    ]


def _resource_mismatches_left(policy: dict, detail: list[dict]) -> list[dict]:
    """The (action, required format) pairs that no Allow statement of the whole document covers."""
    from parliament import is_arn_strictly_valid

    def covered(item: dict) -> bool:
        required = item["required_format"]
        return any(
            required == "*"
            and resource == "*"
            or required != "*"
            and resource != "*"
            and is_arn_strictly_valid("", required, resource)
            for statement in _allow_statements(policy, item["action"])
            for resource in as_list(statement.get("Resource"))
        )

    return [item for item in detail if not covered(item)]


def _exact_resources(statements: list[dict], name_part: int) -> bool:
    """Every resource names one resource exactly: no wildcard up to and including its name (ARN field
    NAME_PART,
    counted from 0; a Lambda qualifier after the function name may be a wildcard)."""
    resources = [str(r) for s in statements for r in as_list(s.get("Resource"))]
    names = [":".join(r.split(":")[: name_part + 1]) for r in resources]
    return bool(resources) and not any("*" in n or "?" in n for n in names)


def _pass_role_is_closed(policy: dict) -> bool:
    statements = _allow_statements(policy, "iam:PassRole")
    if not _exact_resources(statements, name_part=5):
        return False
    for statement in statements:
        services = [
            values
            for keys in (statement.get("Condition") or {}).values()
            for key, values in keys.items()
            if key.lower() == _PASSED_TO_SERVICE
        ]
        if len(services) != 1 or len(as_list(services[0])) != 1:
            return False
    return True


CLOSED_WHEN = {
    "iam:passrole": _pass_role_is_closed,
    "lambda:updatefunctioncode": lambda policy: _exact_resources(
        _allow_statements(policy, "lambda:UpdateFunctionCode"), name_part=6
    ),
}


def _bucket_policy_is_the_stacks_own(policy: dict, detail: str) -> bool:
    """A policy that may rewrite a bucket's policy (or lifecycle) can grant itself that bucket's objects;
    accepted only where it names that one bucket exactly: the stack manages its own bucket's policy only."""
    arn = detail.split(" on ", 1)[-1].split(" due to ", 1)[0]
    statements = [
        s
        for action in ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration")
        for s in _allow_statements(policy, action)
    ]
    return "*" not in arn and _exact_resources(statements, name_part=5)


def _escalation_is_closed(policy: dict, actions: list[str]) -> bool:
    """A method is closed when one of its actions is bound by a closure rule above."""
    return any(action in CLOSED_WHEN and CLOSED_WHEN[action](policy) for action in actions)


def _issues(parliament, document: str) -> list[str]:
    from parliament.community_auditors import privilege_escalation

    policy_json = json.loads(document)
    policy = parliament.analyze_policy_string(document)
    privilege_escalation.audit(policy)
    issues = []
    for finding in policy.findings:
        detail = finding.detail
        if finding.issue == "RESOURCE_MISMATCH":
            detail = _resource_mismatches_left(policy_json, detail)
            if not detail:
                continue
        if finding.issue == "RESOURCE_POLICY_PRIVILEGE_ESCALATION" and _bucket_policy_is_the_stacks_own(
            policy_json, str(detail)
        ):
            continue
        if finding.issue == "PRIVILEGE_ESCALATION":
            method = finding.location
            if _escalation_is_closed(policy_json, method.get("actions", [])):
                continue
            detail = method
        issues.append(f"{finding.issue} {json.dumps(detail, default=str)}")
    return issues


def findings(plans: Mapping[str, dict] | dict) -> dict[str, list[str]]:
    """parliament findings per policy ("stack: address"); an empty dict means parliament reports nothing."""
    if "planned_values" in plans:
        plans = {"root": plans}
    parliament = _import_parliament()
    report = {}
    for stack, plan in plans.items():
        for address, document in rendered_policies(plan):
            issues = _issues(parliament, document)
            if issues:
                report[f"{stack}: {address}"] = issues
    return report


def count_policies(plans: Mapping[str, dict]) -> int:
    return sum(len(list(rendered_policies(plan))) for plan in plans.values())
