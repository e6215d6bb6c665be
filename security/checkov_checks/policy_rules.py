"""Least-privilege rules for IAM policy documents, shared by the checkov checks, the template linter and the
plan gate.

Kept free of checkov imports: the project environment imports it too (checkov lives in its own environment).

Documents come in four kinds, each with its own rules:
  identity  role, user, group and managed policies (inline_policy of aws_iam_role included)
  resource  bucket, key and Lambda policies: who else may act on one resource
  trust     assume_role_policy: who may assume a role
  endpoint  VPC endpoint policies: a perimeter on what passes the endpoint, granting nothing by itself
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

IDENTITY, RESOURCE, TRUST, ENDPOINT = "identity", "resource", "trust", "endpoint"

# Actions through which a principal gains permissions it was not given: Rhino Security Labs' IAM privilege
# escalation methods (the list parliament's privilege_escalation auditor encodes), plus the boundary actions.
ESCALATION_ACTIONS = (
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreatePolicyVersion",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:PassRole",
    "iam:PutGroupPolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:PutUserPolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateLoginProfile",
    "glue:UpdateDevEndpoint",
    "lambda:UpdateFunctionCode",
    "sts:AssumeRole",
)
# An IAM resource pattern that names every role, user, group or policy of an account (or of every account).
_EVERY_IAM_PRINCIPAL = re.compile(r"^arn:[^:]*:iam::[^:]*:(role|user|group|policy)/\*$")
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# repo:<owner>/<repo>:<anything>: owner and repository literal, so the subject stays inside one repository.
_REPOSITORY_BOUNDED_SUB = re.compile(r"^repo:[^/*?:]+/[^/*?:]+:.+$")
_WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
_ACCOUNT_PERIMETER_KEYS = {"aws:principalaccount", "aws:principalorgid", "aws:sourcevpc", "aws:sourcevpce"}


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_policy(document: Any) -> dict | None:
    """The policy as a dict, or None when it is not (yet) JSON, e.g. an unrendered templatefile()."""
    if isinstance(document, dict):
        return document
    if isinstance(document, str):
        try:
            parsed = json.loads(document)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _is_action_wildcard(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _grants_any_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(value == "*" or "*" in as_list(value) for value in principal.values())
    return False


def escalation_actions_reached(pattern: str) -> list[str]:
    """The escalation actions an action pattern matches (IAM actions are case-insensitive)."""
    return [action for action in ESCALATION_ACTIONS if fnmatchcase(action.lower(), pattern.lower())]


def _condition_keys(statement: dict) -> set[str]:
    return {key.lower() for keys in (statement.get("Condition") or {}).values() for key in keys}


def statement_violations(statement: dict, kind: str = IDENTITY) -> Iterator[str]:
    """Why an Allow statement is over-permissive. Deny statements only ever restrict, so they pass."""
    if statement.get("Effect") != "Allow":
        return
    if kind == TRUST:
        yield from trust_statement_violations(statement)
        return
    sid = statement.get("Sid", "<no Sid>")
    has_condition = bool(statement.get("Condition"))
    resources = [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]
    if "NotAction" in statement:
        yield f"{sid}: Allow with NotAction grants every other action"
    if "NotResource" in statement:
        yield f"{sid}: Allow with NotResource grants every other resource"
    if kind == ENDPOINT:
        yield from _endpoint_statement_violations(statement, sid, resources)
        return
    for action in as_list(statement.get("Action")):
        if not isinstance(action, str):
            continue
        if _is_action_wildcard(action):
            yield f"{sid}: action wildcard {action!r}"
        elif _has_wildcard(action) and (reached := escalation_actions_reached(action)):
            yield f"{sid}: partial wildcard {action!r} reaches escalation actions {', '.join(reached)}"
        if not _is_action_wildcard(action) and (reached := escalation_actions_reached(action)):
            every = [r for r in resources if r == "*" or _EVERY_IAM_PRINCIPAL.match(r)]
            if every:
                yield f"{sid}: escalation action {action!r} on every principal ({', '.join(every)})"
    if "*" in resources and not has_condition:
        yield f'{sid}: Resource "*" without a Condition'
    if _grants_any_principal(statement.get("Principal")) and not has_condition:
        yield f"{sid}: allows any principal without a Condition (public access)"


def _endpoint_statement_violations(statement: dict, sid: str, resources: list[str]) -> Iterator[str]:
    """An endpoint policy is a perimeter: what it allows is bound to this account or to named resources."""
    perimeter = bool(_ACCOUNT_PERIMETER_KEYS & _condition_keys(statement))
    wildcard_resource = any(r == "*" for r in resources)
    wildcard_action = any(isinstance(a, str) and _has_wildcard(a) for a in as_list(statement.get("Action")))
    if (wildcard_resource or wildcard_action) and not perimeter:
        yield (
            f"{sid}: endpoint statement with a wildcard action or resource must be bound to this account "
            "(aws:PrincipalAccount, aws:PrincipalOrgID)"
        )


def trust_statement_violations(statement: dict) -> Iterator[str]:
    """Who may assume the role: no one without a condition; OIDC only with an exact audience and subject."""
    sid = statement.get("Sid", "<no Sid>")
    principal = statement.get("Principal")
    actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
    if _grants_any_principal(principal) and not statement.get("Condition"):
        yield f"{sid}: any principal may assume the role without a Condition"
    federated = as_list(principal.get("Federated")) if isinstance(principal, dict) else []
    if federated or any(fnmatchcase(_WEB_IDENTITY.lower(), a.lower()) for a in actions):
        yield from _web_identity_violations(statement, sid, federated)


def _web_identity_violations(statement: dict, sid: str, federated: list) -> Iterator[str]:
    aud = _condition_values(statement, ":aud")
    if not aud:
        yield f"{sid}: web identity trust without an audience (…:aud) condition"
    for operator, values in aud:
        if not operator.startswith("StringEquals") or any(_has_wildcard(str(v)) for v in values):
            yield f"{sid}: the audience must be exact (StringEquals, no wildcard), got {operator} {values}"
    hosts = {str(f).split("oidc-provider/", 1)[-1] for f in federated}
    keys = {key for keys in (statement.get("Condition") or {}).values() for key in keys}
    if GITHUB_OIDC_HOST in hosts or any(key.startswith(GITHUB_OIDC_HOST) for key in keys):
        yield from _github_subject_violations(statement, sid)


def _github_subject_violations(statement: dict, sid: str) -> Iterator[str]:
    subjects = _condition_values(statement, ":sub")
    if not subjects:
        yield f"{sid}: GitHub OIDC trust without a subject (…:sub) condition: any repository may assume it"
    for operator, values in subjects:
        exact = operator.startswith("StringEquals")
        for value in map(str, values):
            if exact and _has_wildcard(value):
                yield f"{sid}: subject {value!r} under {operator} is not exact"
            if not exact and not _REPOSITORY_BOUNDED_SUB.match(value):
                yield f"{sid}: subject {value!r} is not bounded to one repository (repo:<owner>/<repo>:...)"
            if not (operator.startswith("StringEquals") or operator.startswith("StringLike")):
                yield f"{sid}: subject condition {operator} is neither StringEquals nor StringLike"


def _condition_values(statement: dict, key_suffix: str) -> list[tuple[str, list]]:
    """(operator, values) of every condition on a key ending in KEY_SUFFIX (set prefixes stripped)."""
    found = []
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, values in keys.items():
            if key.lower().endswith(key_suffix):
                found.append((operator.split(":")[-1], as_list(values)))
    return found


def policy_violations(policy: dict, kind: str = IDENTITY) -> list[str]:
    return [
        violation
        for statement in as_list(policy.get("Statement"))
        if isinstance(statement, dict)
        for violation in statement_violations(statement, kind)
    ]


def lambda_permission_statement(values: dict) -> dict:
    """aws_lambda_permission as the resource-policy statement Lambda adds (AddPermission's parameters)."""
    condition: dict[str, dict[str, str]] = {}
    for attribute, operator, key in (
        ("source_arn", "ArnLike", "AWS:SourceArn"),
        ("source_account", "StringEquals", "AWS:SourceAccount"),
        ("principal_org_id", "StringEquals", "aws:PrincipalOrgID"),
    ):
        if values.get(attribute):
            condition.setdefault(operator, {})[key] = values[attribute]
    principal = values.get("principal") or ""
    kind = "Service" if principal.endswith(".amazonaws.com") else "AWS"
    statement = {
        "Sid": values.get("statement_id") or "<lambda permission>",
        "Effect": "Allow",
        "Principal": {kind: principal},
        "Action": values.get("action"),
        "Resource": values.get("function_name"),
    }
    return {**statement, "Condition": condition} if condition else statement


POLICY_DOCUMENTS = {
    # resource type: ((attribute, kind), ...); aws_iam_role's inline_policy blocks are read separately
    "aws_iam_policy": (("policy", IDENTITY),),
    "aws_iam_role_policy": (("policy", IDENTITY),),
    "aws_iam_user_policy": (("policy", IDENTITY),),
    "aws_iam_group_policy": (("policy", IDENTITY),),
    "aws_iam_role": (("assume_role_policy", TRUST),),
    "aws_s3_bucket_policy": (("policy", RESOURCE),),
    "aws_s3_bucket": (("policy", RESOURCE),),
    "aws_kms_key": (("policy", RESOURCE),),
    "aws_vpc_endpoint": (("policy", ENDPOINT),),
    "aws_vpc_endpoint_policy": (("policy", ENDPOINT),),
}


def resource_documents(resource_type: str, values: dict) -> Iterator[tuple[str, str, Any]]:
    """(attribute, kind, document) of every policy a resource's values carry (plain values, as in a plan)."""
    for attribute, kind in POLICY_DOCUMENTS.get(resource_type, ()):
        if values.get(attribute):
            yield attribute, kind, values[attribute]
    if resource_type == "aws_iam_role":
        for index, block in enumerate(as_list(values.get("inline_policy"))):
            if isinstance(block, dict) and block.get("policy"):
                yield f"inline_policy[{index}]", IDENTITY, block["policy"]
    if resource_type == "aws_lambda_permission" and values.get("principal"):
        yield "permission", RESOURCE, {"Statement": [lambda_permission_statement(values)]}
