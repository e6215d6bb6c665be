"""Roles that can modify themselves, found by evaluating the rendered policies of a plan with
security/iam_eval.py.

A role modifies itself when its own policies (inline, role policies, attached customer-managed policies,
capped by its permissions boundary) allow it to add a policy to itself, rewrite its trust, replace or drop its
boundary, or write a new version of a managed policy it is attached to or bounded by. Each request carries the
context AWS would send about the role (its boundary, its tags, the role as aws:PrincipalArn) and, where the
caller chooses a value, the worst one (AdministratorAccess as the attached policy or the new boundary).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from security.checkov_checks.policy_rules import parse_policy
from security.iam_eval import Request, evaluate_with_boundary
from security.plan_policies import account_partition_region, planned_resources


@dataclass
class Role:
    arn: str
    name: str
    boundary_arn: str | None
    tags: Mapping[str, str]
    identity: list[dict] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)  # customer-managed policy ARNs
    unknown: list[str] = field(default_factory=list)  # addresses of policies not known at plan time


def managed_policies(plans: Iterable[dict]) -> dict[str, dict | None]:
    """ARN => document of every aws_iam_policy the plans create (ARNs built from name and path)."""
    registry = {}
    for plan in plans:
        account, partition, _ = account_partition_region(plan)
        for resource in planned_resources(plan):
            if resource["type"] == "aws_iam_policy":
                values = resource.get("values") or {}
                if values.get("name"):
                    arn = f"arn:{partition}:iam::{account}:policy{values.get('path') or '/'}{values['name']}"
                    registry[arn] = parse_policy(values.get("policy"))
    return registry


def plan_roles(plan: dict, registry: Mapping[str, dict | None]) -> list[Role]:
    account, partition, _ = account_partition_region(plan)
    resources = planned_resources(plan)
    roles = {}
    for resource in resources:
        values = resource.get("values") or {}
        if resource["type"] != "aws_iam_role" or not values.get("name"):
            continue
        name = values["name"]
        role = Role(
            arn=f"arn:{partition}:iam::{account}:role{values.get('path') or '/'}{name}",
            name=name,
            boundary_arn=values.get("permissions_boundary"),
            tags=values.get("tags_all") or values.get("tags") or {},
        )
        for block in values.get("inline_policy") or []:
            _add(role, parse_policy(block.get("policy")), f"{resource['address']}.inline_policy")
        roles[name] = role
    for resource in resources:
        values = resource.get("values") or {}
        role = roles.get(values.get("role"))
        if role is None:
            continue
        if resource["type"] == "aws_iam_role_policy":
            _add(role, parse_policy(values.get("policy")), resource["address"])
        elif resource["type"] == "aws_iam_role_policy_attachment" and values.get("policy_arn"):
            arn = values["policy_arn"]
            if arn in registry:
                role.attached.append(arn)
                _add(role, registry[arn], resource["address"])
    return list(roles.values())


def _add(role: Role, policy: dict | None, address: str) -> None:
    if policy is None:
        role.unknown.append(address)
    else:
        role.identity.append(policy)


def self_modification_requests(role: Role, partition: str) -> list[Request]:
    admin = f"arn:{partition}:iam::aws:policy/AdministratorAccess"
    base = {"aws:PrincipalArn": role.arn, **{f"aws:ResourceTag/{k}": v for k, v in role.tags.items()}}
    own = {**base, "iam:PermissionsBoundary": role.boundary_arn} if role.boundary_arn else base
    requests = [
        Request("iam:PutRolePolicy", role.arn, own),
        Request("iam:AttachRolePolicy", role.arn, {**own, "iam:PolicyARN": admin}),
        Request("iam:UpdateAssumeRolePolicy", role.arn, own),
        Request("iam:PutRolePermissionsBoundary", role.arn, {**base, "iam:PermissionsBoundary": admin}),
        Request("iam:DeleteRolePermissionsBoundary", role.arn, own),
    ]
    for policy_arn in [*role.attached, *([role.boundary_arn] if role.boundary_arn else [])]:
        for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"):
            requests.append(Request(action, policy_arn, base))
    return requests


def self_modifications(plans: Mapping[str, dict]) -> dict[str, list[str]]:
    """Per stack and role: the self-modifying requests its own policies allow (or why that is unknown)."""
    registry = managed_policies(plans.values())
    findings: dict[str, list[str]] = {}
    for stack, plan in plans.items():
        _, partition, _ = account_partition_region(plan)
        for role in plan_roles(plan, registry):
            issues = [f"policy not known at plan time, cannot be evaluated: {a}" for a in role.unknown]
            boundary = registry.get(role.boundary_arn) if role.boundary_arn else None
            for request in self_modification_requests(role, partition):
                if evaluate_with_boundary(role.identity, boundary, request).allowed:
                    issues.append(f"may {request.action} on {request.resource} (itself)")
            if issues:
                findings[f"{stack}: {role.name}"] = issues
    return findings
