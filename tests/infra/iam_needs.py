"""The requests AWS authorizes when Terraform creates, reads, updates and deletes a planned stack.

For each planned resource, each step and each action of security/iam_actions/actions.json, one Request per
resource the action touches: the resource types come from the Service Authorization Reference (parliament's
copy), the ARNs from the planned attributes (account 123456789012, region eu-west-1 in the offline plans), and
the request context from what the provider sends: tags on create (aws:RequestTag), tags of existing resources
(aws:ResourceTag), the role's boundary (iam:PermissionsBoundary), the service a role is passed to, ...

What the plan cannot say is supplied as documented in ASSUMPTIONS; the tests fail on any other absent key.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dev.offline_terraform import REPO_ROOT
from security.iam_eval import Request
from tests.infra.iam_resolvers import Unresolved, new_resource_context, own, resolve

TABLE = REPO_ROOT / "security" / "iam_actions" / "actions.json"
STEPS = ("create", "read", "update", "delete")
NO_PERMISSION = {
    "sts:GetCallerIdentity"
}  # "No permissions are required" (botocore sts GetCallerIdentity docs)
GLOBAL_SERVICES = {"budgets", "iam", "route53"}  # aws:RequestedRegion is us-east-1 for them

# Condition keys the evaluator may find absent, and why that is AWS's behaviour (not a gap of the test).
ASSUMPTIONS = {
    "iam:PassedToService": "AddRoleToInstanceProfile and CreateFlowLogs: AWS documents no service for these "
    "PassRole checks, so the request carries none and the policy uses StringEqualsIfExists",
    "lambda:Layer": "a function request without layers carries no lambda:Layer (ForAllValues holds)",
    "aws:RequestTag/Project": "an update that retags only other keys carries no Project request tag",
    "aws:RequestTag/Name": "requests that do not tag carry no request tags",
    "aws:ResourceTag/Name": "resources without a Name tag",
    "aws:ResourceTag/Project": "a resource that does not exist yet (tag-on-create) or that AWS does not tag "
    "(network interfaces, spot requests) carries no resource tag",
    "aws:TagKeys": "requests that do not tag",
    "iam:PermissionsBoundary": "requests on roles of other stacks (the deploy roles) carry no workload "
    "boundary",
    "ec2:CreateAction": "tag updates after creation are not tag-on-create",
    "ec2:Owner": "only AMIs have an owner",
    "kms:GrantIsForAWSResource": "only CreateGrant carries it",
    "s3:prefix": "only ListBucket requests carry a prefix",
    "route53:VPCs": "only AssociateVPCWithHostedZone names VPCs",
    "application-autoscaling:service-namespace": "tagging a scalable target names no namespace",
    "application-autoscaling:scalable-dimension": "tagging a scalable target names no dimension",
    "iam:PolicyARN": "only Attach/DetachRolePolicy name a policy",
    "iam:AWSServiceName": "only CreateServiceLinkedRole names a service",
}
# Context supplied where the plan cannot show it, with the source or reason.
SUPPLIED = {
    "ec2:Owner=amazon": "the Deep Learning AMI (or ami_id) is an Amazon-owned public AMI (ec2:Owner filters "
    "by the owner alias: amazon | aws-marketplace | account id)",
    "kms:GrantIsForAWSResource=true": "EBS, SageMaker and Lambda create the key grants their resources need",
    "default security group untagged at adoption": "the provider tags it first, then revokes its rules "
    "(resourceDefaultSecurityGroupCreate: updateTags before forceRevokeSecurityGroupRules)",
    "referenced resources by type": "an id unknown at plan time (created in the same apply) is matched to "
    "the planned resource of that type in the same module, else in the plan; its planned tags are its tags",
}


# What a provisioner's command asks of AWS with the applier's credentials, by resource name and step: the
# endpoint module's post-deploy check (terraform/modules/endpoint/checks.tf) runs dogbreed-check-endpoint
# (src/dogbreed/endpoint_check/checks.py): DescribeEndpoint, HeadObject with ChecksumMode (s3:GetObject, per
# the S3 page "Required permissions for Amazon S3 API operations") and one InvokeEndpoint smoke request.
LOCAL_EXEC = {
    "post_deploy_check": {
        "create": ["sagemaker:DescribeEndpoint", "s3:GetObject", "sagemaker:InvokeEndpoint"],
    },
}


@dataclass(frozen=True)
class Need:
    address: str
    resource_type: str
    step: str
    action: str
    request: Request


@functools.cache
def table() -> dict:
    return json.loads(TABLE.read_text())


@functools.cache
def _definition() -> list[dict]:
    """parliament's copy of the Service Authorization Reference (not imported: it needs pkg_resources)."""
    package = Path(importlib.util.find_spec("parliament").origin).parent
    return json.loads((package / "iam_definition.json").read_text())


@functools.cache
def _sar() -> dict[str, list[tuple[str, bool]]]:
    """action (lower case) => [(resource type, required)]."""
    definition = _definition()
    return {
        f"{service['prefix']}:{p['privilege']}".lower(): [
            (r["resource_type"].rstrip("*"), r["resource_type"].endswith("*"))
            for r in p["resource_types"]
            if r["resource_type"]
        ]
        for service in definition
        for p in service["privileges"]
    }


def resource_types_of(action: str) -> list[tuple[str, bool]]:
    return _sar()[action.lower()]


def sar_arn_sample(action: str, account: str = "123456789012", region: str = "eu-west-1") -> str:
    """An ARN of the action's first required resource type, for a statement on Resource "*" ("*" if none)."""
    types = resource_types_of(action)
    if not types:
        return "*"
    wanted = next((name for name, required in types if required), types[0][0])
    service = next(s for s in _definition() if s["prefix"] == action.split(":")[0].lower())
    arn = next(r["arn"] for r in service["resources"] if r["resource"] == wanted)
    arn = arn.replace("${Partition}", "aws").replace("${Region}", region).replace("${Account}", account)
    return re.sub(r"\$\{[^}]+\}", "sample", arn)


class Plan:
    """The planned resources of one `terraform show -json` plan, indexed for the resolvers."""

    def __init__(self, plan: dict, account: str = "123456789012", region: str = "eu-west-1") -> None:
        self.account, self.region, self.partition = account, region, "aws"
        self.resources = [
            {"address": c["address"], "type": c["type"], "module": c.get("module_address", ""), **_values(c)}
            for c in plan["resource_changes"]
            if c.get("mode", "managed") == "managed"
        ]
        self.data = [
            {"address": r["address"], "type": f"data.{r['type']}", "module": "", **(r.get("values") or {})}
            for r in _walk(plan.get("prior_state", {}).get("values", {}).get("root_module", {}))
            if r.get("mode") == "data"
        ]

    def of_type(self, resource_type: str, module: str | None = None) -> list[dict]:
        found = [r for r in self.resources if r["type"] == resource_type]
        local = [r for r in found if module is not None and r["module"] == module]
        return local or found

    def one(self, resource_type: str, module: str) -> dict:
        found = self.of_type(resource_type, module)
        if len(found) != 1:
            raise Unresolved(f"{len(found)} planned {resource_type} in {module or 'the root module'}")
        return found[0]

    def tags_of(self, resource_type: str, identifier: str | None = None, key: str = "id") -> dict:
        """Tags of the planned resource with that id, else the tags every planned one of the type shares."""
        found = self.of_type(resource_type)
        match = [r for r in found if identifier and r.get(key) == identifier]
        tag_sets = [dict(r.get("tags_all") or {}) for r in (match or found)]
        return (
            {k: v for k, v in tag_sets[0].items() if all(t.get(k) == v for t in tag_sets)} if tag_sets else {}
        )

    def arn(self, service: str, rest: str, region: bool = True, account: bool = True) -> str:
        region_part, account_part = self.region if region else "", self.account if account else ""
        return f"arn:{self.partition}:{service}:{region_part}:{account_part}:{rest}"


def _values(change: dict) -> dict:
    after = dict(change["change"].get("after") or change["change"].get("before") or {})
    unknown = change["change"].get("after_unknown") or {}
    return {k: v for k, v in after.items() if unknown.get(k) is not True}


def _walk(module: dict) -> Iterator[dict]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _walk(child)


def needs(plan: Plan, steps: tuple[str, ...] = STEPS, principal: str = "") -> list[Need]:
    """Every (resource, step, action, request) of the plan; Unresolved when an ARN cannot be built."""
    found = []
    for resource in [*plan.resources, *plan.data]:
        entry = table()[resource["type"]]
        for step in steps:
            for action in [*entry.get(step, []), *_local_exec(resource, step)]:
                if action in NO_PERMISSION:
                    continue
                for request in requests(plan, resource, step, action, principal):
                    found.append(Need(resource["address"], resource["type"], step, action, request))
    return found


def _local_exec(resource: dict, step: str) -> list[str]:
    if resource["type"] != "terraform_data":
        return []
    name = resource["address"].rsplit(".", 1)[-1].split("[")[0]
    return LOCAL_EXEC.get(name, {}).get(step, [])


def requests(plan: Plan, resource: dict, step: str, action: str, principal: str = "") -> list[Request]:
    service = action.split(":")[0]
    region = "us-east-1" if service in GLOBAL_SERVICES else plan.region
    base = {"aws:RequestedRegion": region, **({"aws:PrincipalArn": principal} if principal else {})}
    types = resource_types_of(action)
    if not types:
        return [Request(action, "*", {**base, **new_resource_context(resource, step, action)})]
    built = []
    for resource_type, required in types:
        targets = resolve(plan, resource, step, action, service, resource_type)
        if required and not targets:
            raise Unresolved(f"{resource['address']} {step} {action}: no ARN for required {resource_type}")
        built += [Request(action, arn, {**base, **context}) for arn, context in targets]
    if not built and all(not required for _, required in types):
        built = [
            Request(action, arn, {**base, **context}) for arn, context in own(plan, resource, step, action)
        ]
    if not built:
        raise Unresolved(f"{resource['address']} {step} {action}: none of {[t for t, _ in types]} resolved")
    return built
