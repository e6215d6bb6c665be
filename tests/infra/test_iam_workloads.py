"""The roles the root stack creates, evaluated on the rendered plan: each carries the workload boundary, the
boundary allows what each role's own policies allow and little else, service trusts name their source, the
key's Logs statement names the stack's log groups, code/ is written only by the apply role, and the VPC
endpoints admit only the project's bucket, the AWS-owned buckets the agents need and this account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from security.checkov_checks.policy_rules import as_list, parse_policy
from security.escalation import managed_policies, plan_roles
from security.iam_eval import DENY, Request, evaluate, evaluate_with_boundary
from security.plan_policies import planned_resources
from tests.infra.iam_needs import resource_types_of, sar_arn_sample

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

ACCOUNT, REGION = "123456789012", "eu-west-1"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/dogbreed-workload-boundary"
BUCKET = f"arn:aws:s3:::dogbreed-{ACCOUNT}-{REGION}"
APPLY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/dogbreed-github-apply"
SSM_CORE = json.loads((Path(__file__).parent / "fixtures" / "AmazonSSMManagedInstanceCore.json").read_text())


def values_of(plan: dict, resource_type: str) -> list[dict]:
    return [r["values"] for r in planned_resources(plan) if r["type"] == resource_type]


@pytest.fixture(scope="module")
def roles(offline_plans):
    found = {
        role.name: role
        for role in plan_roles(offline_plans["root"], managed_policies(offline_plans.values()))
    }
    found["dogbreed-ec2-trainer"].identity.append(SSM_CORE)  # attached, AWS-managed: not rendered in the plan
    return found


@pytest.fixture(scope="module")
def boundary(offline_plans) -> dict:
    return managed_policies([offline_plans["bootstrap"]])[BOUNDARY]


def test_every_role_of_the_root_stack_carries_the_bootstrap_boundary(roles, boundary):
    assert boundary is not None, "the bootstrap stack must create the workload boundary"
    assert sorted(roles) == [
        "dogbreed-ec2-trainer",
        "dogbreed-endpoint-endpoint",
        "dogbreed-notebook-notebook",
        "dogbreed-predict",
        "dogbreed-sagemaker-training",
        "dogbreed-vpc-flow-logs",
    ]
    assert {name: role.boundary_arn for name, role in roles.items()} == dict.fromkeys(roles, BOUNDARY)


def _sample(pattern: str) -> str:
    return pattern.replace("*", "x").replace("?", "x")


def _satisfying_context(statement: dict) -> dict:
    """A context under which the statement's own conditions hold: the first value of each key (every value for
    a ForAllValues key), then each Null condition (a key that must be absent is dropped, one that must be
    present keeps its value)."""
    context = {}
    conditions = statement.get("Condition") or {}
    for operator, keys in conditions.items():
        if operator == "Null":
            continue
        for key, values in keys.items():
            samples = [_sample(v) if "Like" in operator else v for v in as_list(values)]
            context[key] = samples if operator.startswith("ForAllValues:") else samples[0]
    for key, must_be_absent in conditions.get("Null", {}).items():
        if str(must_be_absent).lower() == "true":
            context.pop(key, None)
        else:
            context.setdefault(key, "present")
    return context


def sampled_requests(document: dict) -> list[Request]:
    """One request per action and resource of every Allow statement, inside what the statement allows."""
    found = []
    for statement in as_list(document["Statement"]):
        if statement["Effect"] != "Allow":
            continue
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                target = sar_arn_sample(action) if resource == "*" else _sample(resource)
                context = {"aws:RequestedRegion": REGION, **_satisfying_context(statement)}
                found.append(Request(action, target, context))
    return found


def test_the_boundary_allows_everything_each_role_is_given(roles, boundary):
    outside = []
    for name, role in roles.items():
        for document in role.identity:
            for request in sampled_requests(document):
                assert evaluate(role.identity, request).allowed, (name, request)  # the sample is inside
                if not evaluate_with_boundary(role.identity, boundary, request).allowed:
                    outside.append(f"{name}: {request.action} on {request.resource}")
    assert outside == []


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/dogbreed-x", {}),
        ("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/dogbreed-predict", {}),
        ("iam:AttachRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/dogbreed-ec2-trainer", {}),
        (
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/dogbreed-ec2-trainer",
            {"iam:PassedToService": "ec2.amazonaws.com"},
        ),
        (
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/dogbreed-sagemaker-training",
            {"iam:PassedToService": "ec2.amazonaws.com"},
        ),
        ("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/dogbreed-github-apply", {}),
        ("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/key", {}),
        ("s3:PutObject", "arn:aws:s3:::attacker-bucket/exfil", {}),
        ("s3:PutBucketPolicy", BUCKET, {}),
        ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/x", {"aws:ResourceTag/Project": "payments"}),
        ("ec2:RunInstances", f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/x", {}),
        ("sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/payments-1", {}),
        ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:dogbreed-predict", {}),
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:x", {}),
    ],
)
def test_the_boundary_refuses_what_no_workload_needs(boundary, action, resource, context):
    decision = evaluate([boundary], Request(action, resource, {"aws:RequestedRegion": REGION, **context}))
    assert not decision.allowed, decision


def trust_of(offline_plans, role_name: str) -> dict:
    role = next(v for v in values_of(offline_plans["root"], "aws_iam_role") if v["name"] == role_name)
    return parse_policy(role["assume_role_policy"])


def assume(trust: dict, service: str, **context) -> bool:
    request = Request("sts:AssumeRole", "*", context, principal={"Service": service})
    return evaluate([trust], request).allowed


@pytest.mark.parametrize(
    ("role", "service", "source_arn", "foreign_arn"),
    [
        (
            "dogbreed-sagemaker-training",
            "sagemaker.amazonaws.com",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/dogbreed-tune-001-abc",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/payments-1",
        ),
        (
            "dogbreed-endpoint-endpoint",
            "sagemaker.amazonaws.com",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/dogbreed-endpoint",
            f"arn:aws:sagemaker:{REGION}:999999999999:endpoint/x",
        ),
        (
            "dogbreed-vpc-flow-logs",
            "vpc-flow-logs.amazonaws.com",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/fl-0abc",
            f"arn:aws:ec2:{REGION}:999999999999:vpc-flow-log/fl-0abc",
        ),
    ],
)
def test_service_trusts_admit_only_this_accounts_source(
    offline_plans, role, service, source_arn, foreign_arn
):
    trust = trust_of(offline_plans, role)
    assert assume(trust, service, **{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": source_arn})
    assert not assume(trust, service, **{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": foreign_arn})
    assert not assume(trust, service, **{"aws:SourceAccount": "999999999999", "aws:SourceArn": source_arn})
    assert not assume(
        trust, "lambda.amazonaws.com", **{"aws:SourceAccount": ACCOUNT, "aws:SourceArn": source_arn}
    )


def test_the_keys_logs_statement_admits_only_the_stacks_log_groups(offline_plans):
    policy = parse_policy(values_of(offline_plans["root"], "aws_kms_key")[0]["policy"])
    log_group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group"
    service = {"Service": f"logs.{REGION}.amazonaws.com"}

    def encrypts(name: str) -> bool:
        context = {"kms:EncryptionContext:aws:logs:arn": f"{log_group}:{name}"}
        return evaluate([policy], Request("kms:GenerateDataKey", "*", context, principal=service)).allowed

    for name in ("/aws/lambda/dogbreed-predict", "/vpc/dogbreed/flow-logs", "/aws/sagemaker/TrainingJobs"):
        assert encrypts(name), name
    assert encrypts("/aws/sagemaker/Endpoints/dogbreed-endpoint")
    for name in ("/aws/lambda/payments", "/aws/lambda/dogbreed-predict-2", "/vpc/other/flow-logs"):
        assert not encrypts(name), name


def test_only_the_apply_role_writes_the_code_the_trainer_runs(offline_plans, roles, rendered_role_policies):
    bucket_policy = parse_policy(values_of(offline_plans["root"], "aws_s3_bucket_policy")[0]["policy"])
    code = f"{BUCKET}/code/training/train.py"

    def writes(identity: list[dict], principal: str) -> bool:
        context = {"aws:PrincipalArn": principal, "aws:SecureTransport": True}
        request = Request("s3:PutObject", code, context, principal={"AWS": principal})
        return evaluate([*identity, bucket_policy], request).allowed

    assert writes(rendered_role_policies["dogbreed-github-apply"], APPLY_ROLE)
    for name, role in roles.items():
        assert not writes(role.identity, role.arn), name
    administrator = [{"Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}]
    request = Request(
        "s3:PutObject",
        code,
        {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Admin", "aws:SecureTransport": True},
    )
    assert evaluate([*administrator, bucket_policy], request).effect == DENY  # even an administrator
    notebook = roles["dogbreed-notebook-notebook"]
    assert writes(notebook.identity, notebook.arn) is False
    staging = Request("s3:PutObject", f"{BUCKET}/staging/dogbreed/source/ab/sourcedir.tar.gz", {})
    assert evaluate(notebook.identity, staging).allowed  # where the launcher stages instead


def endpoint_policy(offline_plans, service_suffix: str) -> dict:
    endpoint = next(
        v
        for v in values_of(offline_plans["root"], "aws_vpc_endpoint")
        if v["service_name"].endswith(service_suffix)
    )
    return parse_policy(endpoint["policy"])


def through(policy: dict, action: str, resource: str, account: str | None = ACCOUNT) -> bool:
    context = {"aws:PrincipalAccount": account, "aws:ResourceAccount": ACCOUNT} if account else {}
    principal = {"AWS": f"arn:aws:iam::{account}:role/x"} if account else {"AWS": "*"}
    return evaluate([policy], Request(action, resource, context, principal=principal)).allowed


def test_the_s3_endpoint_admits_only_the_project_bucket_and_aws_owned_reads(offline_plans):
    policy = endpoint_policy(offline_plans, ".s3")
    assert through(policy, "s3:PutObject", f"{BUCKET}/data/x.jpg")
    assert through(policy, "s3:GetObject", f"{BUCKET}/models/m.tar.gz")
    assert not through(policy, "s3:PutObject", "arn:aws:s3:::attacker-bucket/exfil")
    assert not through(policy, "s3:GetObject", "arn:aws:s3:::someone-elses-bucket/x")
    assert not through(policy, "s3:PutObject", f"{BUCKET}/data/x.jpg", account="999999999999")
    ssm_agent = f"arn:aws:s3:::amazon-ssm-{REGION}/latest/linux_amd64/amazon-ssm-agent.rpm"
    assert through(policy, "s3:GetObject", ssm_agent, account=None)  # the agent fetches without credentials
    assert through(
        policy, "s3:GetObject", f"arn:aws:s3:::amazonlinux-2-repos-{REGION}/2/core/x.rpm", account=None
    )
    assert not through(policy, "s3:PutObject", ssm_agent, account=None)
    assert not through(policy, "s3:GetObject", "arn:aws:s3:::attacker-bucket/x", account=None)


def test_every_interface_endpoint_admits_only_this_accounts_principals(offline_plans):
    interface = [
        v
        for v in values_of(offline_plans["root"], "aws_vpc_endpoint")
        if v["vpc_endpoint_type"] == "Interface"
    ]
    assert len(interface) == 8
    for endpoint in interface:
        policy = parse_policy(endpoint["policy"])
        assert through(policy, "logs:PutLogEvents", "*")
        assert not through(policy, "logs:PutLogEvents", "*", account="999999999999")


def test_the_sar_sample_helper_builds_arns_of_the_actions_type():
    assert resource_types_of("ssm:GetDocument")[0][0] == "document"
    assert sar_arn_sample("ssm:GetDocument").startswith(f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/")
    assert sar_arn_sample("ssmmessages:OpenDataChannel") == "*"
