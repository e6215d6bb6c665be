"""What the deploy roles cannot do, evaluated with security/iam_eval.py on the policies the bootstrap plan
renders for them (not on the templates): the apply role has no escalation path, the plan role reads only the
stack."""

from __future__ import annotations

import pytest

from security.escalation import self_modifications
from security.iam_eval import ALLOW, DENY, Request, evaluate

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

ACCOUNT, REGION = "123456789012", "eu-west-1"
IAM = f"arn:aws:iam::{ACCOUNT}"
EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
APPLY_ROLE, PLAN_ROLE = f"{IAM}:role/dogbreed-github-apply", f"{IAM}:role/dogbreed-github-plan"
BOUNDARY = f"{IAM}:policy/dogbreed-workload-boundary"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
PROJECT_TAGS = {"aws:ResourceTag/Project": "dogbreed"}
STATE = f"arn:aws:s3:::dogbreed-tfstate-{ACCOUNT}-{REGION}/dogbreed/terraform.tfstate"
PROJECT_BUCKET = f"arn:aws:s3:::dogbreed-{ACCOUNT}-{REGION}"


@pytest.fixture(scope="module")
def apply_role(rendered_role_policies):
    return lambda request: evaluate(rendered_role_policies["dogbreed-github-apply"], request)


@pytest.fixture(scope="module")
def plan_role(rendered_role_policies):
    return lambda request: evaluate(rendered_role_policies["dogbreed-github-plan"], request)


def request(action: str, resource: str, **context) -> Request:
    return Request(
        action, resource, {"aws:RequestedRegion": REGION, "aws:PrincipalArn": APPLY_ROLE, **context}
    )


SELF_CHANGES = [
    ("iam:PutRolePolicy", {}),
    ("iam:AttachRolePolicy", {"iam:PolicyARN": ADMIN}),
    ("iam:UpdateAssumeRolePolicy", {}),
    ("iam:PutRolePermissionsBoundary", {"iam:PermissionsBoundary": BOUNDARY}),
    ("iam:DeleteRolePermissionsBoundary", {}),
    ("iam:DeleteRolePolicy", {}),
    ("iam:TagRole", {"aws:RequestTag/Project": "dogbreed"}),
    ("iam:DeleteRole", {}),
]


@pytest.mark.parametrize("role", [APPLY_ROLE, PLAN_ROLE])
@pytest.mark.parametrize(("action", "context"), SELF_CHANGES)
def test_the_apply_role_cannot_change_itself_or_the_plan_role(apply_role, role, action, context):
    # even claiming the workload boundary does not help: the deploy roles are denied outright
    decision = apply_role(request(action, role, **{"iam:PermissionsBoundary": BOUNDARY, **context}))
    assert decision.effect == DENY, decision


def test_no_deploy_role_can_modify_itself_by_its_own_policies(offline_plans):
    findings = self_modifications({"bootstrap": offline_plans["bootstrap"]})
    assert findings == {}


@pytest.mark.parametrize(
    "context",
    [{}, {"iam:PermissionsBoundary": ADMIN}, {"iam:PermissionsBoundary": f"{IAM}:policy/other-boundary"}],
    ids=["no boundary", "AdministratorAccess as boundary", "another boundary"],
)
def test_the_apply_role_cannot_create_a_role_without_the_workload_boundary(apply_role, context):
    decision = apply_role(request("iam:CreateRole", f"{IAM}:role/dogbreed-predict", **context))
    assert decision.effect == DENY


def test_the_apply_role_creates_only_the_stacks_roles_and_only_with_the_boundary(apply_role):
    bounded = {"iam:PermissionsBoundary": BOUNDARY}
    assert apply_role(request("iam:CreateRole", f"{IAM}:role/dogbreed-predict", **bounded)).allowed
    assert not apply_role(request("iam:CreateRole", f"{IAM}:role/dogbreed-admin", **bounded)).allowed
    assert not apply_role(request("iam:CreateRole", f"{IAM}:role/someone-else", **bounded)).allowed


@pytest.mark.parametrize("action", ["iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRolePolicy"])
def test_the_apply_role_cannot_change_the_policies_of_a_role_without_the_boundary(apply_role, action):
    # e.g. a workload role created before the boundary existed: it must get the boundary first
    decision = apply_role(request(action, f"{IAM}:role/dogbreed-predict", **{"iam:PolicyARN": ADMIN}))
    assert decision.effect == DENY


def test_the_apply_role_attaches_only_session_manager_core(apply_role):
    core = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    context = {"iam:PermissionsBoundary": BOUNDARY, "iam:PolicyARN": core}
    assert apply_role(request("iam:AttachRolePolicy", f"{IAM}:role/dogbreed-ec2-trainer", **context)).allowed
    context["iam:PolicyARN"] = ADMIN
    assert not apply_role(
        request("iam:AttachRolePolicy", f"{IAM}:role/dogbreed-ec2-trainer", **context)
    ).allowed


@pytest.mark.parametrize(
    ("role", "service", "allowed"),
    [
        ("dogbreed-predict", "lambda.amazonaws.com", True),
        ("dogbreed-predict", "ec2.amazonaws.com", False),
        ("dogbreed-predict", "sagemaker.amazonaws.com", False),
        ("dogbreed-endpoint-endpoint", "sagemaker.amazonaws.com", True),
        ("dogbreed-endpoint-endpoint", "lambda.amazonaws.com", False),
        ("dogbreed-notebook-notebook", "ec2.amazonaws.com", False),
        ("dogbreed-ec2-trainer", "ec2.amazonaws.com", True),
        ("dogbreed-ec2-trainer", "lambda.amazonaws.com", False),
        ("dogbreed-vpc-flow-logs", "lambda.amazonaws.com", False),
        ("dogbreed-sagemaker-training", "sagemaker.amazonaws.com", False),  # the notebook passes it, never CI
        ("dogbreed-github-apply", "ec2.amazonaws.com", False),
        ("OrganizationAccountAccessRole", "ec2.amazonaws.com", False),
    ],
)
def test_the_apply_role_passes_each_role_only_to_its_service(apply_role, role, service, allowed):
    decision = apply_role(request("iam:PassRole", f"{IAM}:role/{role}", **{"iam:PassedToService": service}))
    assert decision.allowed is allowed, decision


def test_the_apply_role_cannot_change_the_workload_boundary(apply_role):
    for action in (
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicy",
        "iam:TagPolicy",
    ):
        assert apply_role(request(action, BOUNDARY)).effect == DENY


def test_the_apply_role_cannot_assume_any_role(apply_role):
    for role in (f"{IAM}:role/dogbreed-predict", f"{IAM}:role/OrganizationAccountAccessRole"):
        assert apply_role(request("sts:AssumeRole", role)).effect == DENY


UNTAGGED, OTHER_PROJECT = {}, {"aws:ResourceTag/Project": "payments"}


@pytest.mark.parametrize("tags", [UNTAGGED, OTHER_PROJECT], ids=["untagged", "other project"])
@pytest.mark.parametrize(
    "action",
    [
        "ec2:TerminateInstances",
        "ec2:StopInstances",
        "ec2:ModifyInstanceAttribute",
        "ec2:ModifyInstanceMetadataOptions",
        "ec2:AssociateIamInstanceProfile",
        "ec2:CreateTags",
        "ec2:DeleteTags",
    ],
)
def test_the_apply_role_cannot_touch_an_instance_that_is_not_the_projects(apply_role, tags, action):
    decision = apply_role(request(action, f"{EC2}:instance/i-0abc", **tags))
    assert not decision.allowed, decision


@pytest.mark.parametrize("tags", [UNTAGGED, OTHER_PROJECT], ids=["untagged", "other project"])
@pytest.mark.parametrize(
    "action",
    [
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:ModifySecurityGroupRules",
        "ec2:DeleteSecurityGroup",
        "ec2:DeleteTags",
    ],
)
def test_the_apply_role_cannot_touch_a_security_group_that_is_not_the_projects(apply_role, tags, action):
    assert not apply_role(request(action, f"{EC2}:security-group/sg-0abc", **tags)).allowed


def test_the_apply_role_cannot_claim_a_security_group_under_another_name(apply_role):
    claim = {"aws:RequestTag/Project": "dogbreed", "aws:RequestTag/Name": "dogbreed-notebook"}
    assert not apply_role(request("ec2:CreateTags", f"{EC2}:security-group/sg-0abc", **claim)).allowed
    other = {
        **OTHER_PROJECT,
        "aws:RequestTag/Project": "dogbreed",
        "aws:RequestTag/Name": "dogbreed-default-unused",
    }
    assert apply_role(request("ec2:CreateTags", f"{EC2}:security-group/sg-0abc", **other)).effect == DENY


def test_the_adopted_default_security_group_can_only_be_emptied(apply_role):
    """The only untagged group the apply role may tag is the VPC's default group, as its placeholder; from
    then on it may revoke that group's rules but never open, delete or rename it."""
    adopted = f"{EC2}:security-group/sg-default"
    claim = {"aws:RequestTag/Project": "dogbreed", "aws:RequestTag/Name": "dogbreed-default-unused"}
    assert apply_role(request("ec2:CreateTags", adopted, **claim)).allowed
    tags = {**PROJECT_TAGS, "aws:ResourceTag/Name": "dogbreed-default-unused"}
    assert apply_role(request("ec2:RevokeSecurityGroupIngress", adopted, **tags)).allowed
    for action in (
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:DeleteSecurityGroup",
    ):
        assert apply_role(request(action, adopted, **tags)).effect == DENY
    rename = {**tags, "aws:RequestTag/Name": "x", "aws:TagKeys": ["Name"]}
    assert apply_role(request("ec2:CreateTags", adopted, **rename)).effect == DENY


def test_the_apply_role_launches_no_instance_and_manages_only_project_launch_templates(apply_role):
    """Terraform owns the trainer's launch template, never an instance: a run starts only with ec2-run, under
    the operator's policy (test_iam_operator.py)."""
    new = {"aws:RequestTag/Project": "dogbreed"}
    for resource in ("instance/i-new", "volume/vol-new", "network-interface/eni-new", "subnet/subnet-0abc"):
        assert not apply_role(request("ec2:RunInstances", f"{EC2}:{resource}", **new, **PROJECT_TAGS)).allowed
    template = f"{EC2}:launch-template/lt-0abc"
    assert apply_role(request("ec2:CreateLaunchTemplate", template, **new)).allowed
    assert not apply_role(request("ec2:CreateLaunchTemplate", template)).allowed
    assert not apply_role(
        request("ec2:CreateLaunchTemplate", template, **{"aws:RequestTag/Project": "payments"})
    ).allowed
    for action in ("ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate"):
        assert apply_role(request(action, template, **PROJECT_TAGS)).allowed
        assert not apply_role(request(action, template, **OTHER_PROJECT)).allowed
        assert not apply_role(request(action, template)).allowed


@pytest.mark.parametrize(
    "action",
    ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:DeleteBucket"],
)
def test_bucket_policy_and_public_access_block_writes_only_on_the_project_bucket(apply_role, action):
    assert apply_role(request(action, PROJECT_BUCKET)).allowed
    for other in (
        f"arn:aws:s3:::dogbreed-{ACCOUNT}-us-east-1",
        "arn:aws:s3:::dogbreed-tfstate-x",
        "arn:aws:s3:::b",
    ):
        assert not apply_role(request(action, other)).allowed


def test_the_apply_role_changes_only_the_stacks_function(apply_role):
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
    assert apply_role(request("lambda:UpdateFunctionCode", f"{function}:dogbreed-predict")).allowed
    assert not apply_role(request("lambda:UpdateFunctionCode", f"{function}:dogbreed-other")).allowed


@pytest.mark.parametrize("action", ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"])
def test_the_plan_role_cannot_write_the_state(plan_role, action):
    assert not plan_role(Request(action, STATE, {"aws:RequestedRegion": REGION})).allowed


def test_the_plan_role_writes_only_the_lock_file(plan_role):
    assert plan_role(Request("s3:PutObject", f"{STATE}.tflock", {"aws:RequestedRegion": REGION})).allowed
    assert plan_role(Request("s3:GetObject", STATE, {"aws:RequestedRegion": REGION})).allowed


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("s3:GetObject", f"{PROJECT_BUCKET}/data/dogImages/train/001.jpg", {}),
        ("s3:GetObject", f"{PROJECT_BUCKET}/models/run-7/model.tar.gz", {}),
        ("s3:GetObject", "arn:aws:s3:::payroll-exports/2024.csv", {}),
        (
            "s3:GetObject",
            f"arn:aws:s3:::dogbreed-tfstate-{ACCOUNT}-{REGION}/other-stack/terraform.tfstate",
            {},
        ),
        ("s3:ListBucket", "arn:aws:s3:::payroll-exports", {}),
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db", {}),
        ("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/db-password", {}),
        ("iam:GetRole", f"{IAM}:role/OrganizationAccountAccessRole", {}),
        ("lambda:GetFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payments", {}),
        ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/other", {"aws:ResourceTag/Project": "payments"}),
        (
            "sagemaker:DescribeTrainingJob",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/payments-1",
            {},
        ),
        ("dynamodb:Scan", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/customers", {}),
    ],
)
def test_the_plan_role_cannot_read_outside_the_stack(plan_role, action, resource, context):
    decision = plan_role(Request(action, resource, {"aws:RequestedRegion": REGION, **context}))
    assert decision.effect != ALLOW, decision
