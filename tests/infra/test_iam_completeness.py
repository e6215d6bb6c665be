"""Permissions completeness: the rendered apply and plan policies allow every request the stacks make.

For every resource of the full offline plan (root stack: endpoint and its post-deploy check, Lambda, notebook,
the EC2 trainer's launch template) and every
step, the actions of security/iam_actions/actions.json become requests with the ARNs the plan will create
(tests/infra/iam_needs.py), evaluated with security/iam_eval.py against the policies the bootstrap plan
renders for the deploy roles. moto does not enforce IAM: without this, a missing permission shows only on a
real apply.
"""

from __future__ import annotations

import copy
import json

import pytest

from dev import offline_terraform as terraform
from dev.offline_terraform import REPO_ROOT
from security.gates import stacks_of
from security.iam_eval import Request, evaluate
from tests.infra.iam_needs import ASSUMPTIONS, STEPS, Need, Plan, needs, table

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

ACCOUNT, REGION = "123456789012", "eu-west-1"
APPLY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/dogbreed-github-apply"
PLAN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/dogbreed-github-plan"
STATE_BUCKET = f"arn:aws:s3:::dogbreed-tfstate-{ACCOUNT}-{REGION}"
STATE_KEY = f"{STATE_BUCKET}/dogbreed/terraform.tfstate"
STATE_KEY_TAGS = {"aws:ResourceTag/Project": "dogbreed-tfstate"}
STATE_KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/planned-state-key"
PLAN_VARS = REPO_ROOT / "security" / "fixtures" / "plan.tfvars.json"
PUBLISHED_MODEL = json.loads(PLAN_VARS.read_text())["model_data_url"]


def plan_types(plan: dict) -> set[str]:
    indexed = Plan(plan)
    return {r["type"] for r in [*indexed.resources, *indexed.data]}


def missing_types(plan: dict, actions_table: dict) -> set[str]:
    return plan_types(plan) - set(actions_table)


def not_allowed(documents: list[dict], wanted: list[Need]) -> list[str]:
    return sorted(
        {
            f"{n.resource_type} {n.step} {n.action} on {n.request.resource}"
            for n in wanted
            if not evaluate(documents, n.request).allowed
        }
    )


def backend_requests(principal: str, write_state: bool) -> list[Request]:
    """What the S3 backend with use_lockfile sends (the state, its lock file, the state key's KMS key)."""
    base = {"aws:RequestedRegion": REGION, "aws:PrincipalArn": principal}
    found = [
        Request("s3:ListBucket", STATE_BUCKET, {**base, "s3:prefix": "dogbreed/terraform.tfstate"}),
        Request("s3:GetObject", STATE_KEY, base),
        Request("s3:PutObject", f"{STATE_KEY}.tflock", base),
        Request("s3:DeleteObject", f"{STATE_KEY}.tflock", base),
        Request("kms:Decrypt", STATE_KMS_KEY, {**base, **STATE_KEY_TAGS}),
        Request("kms:GenerateDataKey", STATE_KMS_KEY, {**base, **STATE_KEY_TAGS}),
    ]
    return found + ([Request("s3:PutObject", STATE_KEY, base)] if write_state else [])


@pytest.fixture(scope="module")
def root_needs(offline_plans) -> list[Need]:
    return needs(Plan(offline_plans["root"]), STEPS, principal=APPLY_ROLE)


@pytest.fixture(scope="module")
def apply_policies(rendered_role_policies) -> list[dict]:
    assert (
        len(rendered_role_policies["dogbreed-github-apply"]) == 3
    )  # deploy, read-the-stack, terraform-state
    return rendered_role_policies["dogbreed-github-apply"]


@pytest.fixture(scope="module")
def plan_policies(rendered_role_policies) -> list[dict]:
    assert len(rendered_role_policies["dogbreed-github-plan"]) == 2  # read-the-stack, terraform-state
    return rendered_role_policies["dogbreed-github-plan"]


@pytest.mark.parametrize("stack", sorted(stacks_of(REPO_ROOT)))
def test_the_table_names_every_resource_type_of_every_stack(offline_plans, stack):
    assert missing_types(offline_plans[stack], table()) == set()


def test_a_type_missing_from_the_table_is_reported(offline_plans):
    without_the_endpoint = {k: v for k, v in table().items() if k != "aws_sagemaker_endpoint"}
    assert missing_types(offline_plans["root"], without_the_endpoint) == {"aws_sagemaker_endpoint"}


def test_the_plan_covers_the_whole_stack(offline_plans, root_needs):
    types = plan_types(offline_plans["root"])
    for expected in (
        "aws_launch_template",
        "terraform_data",
        "aws_sagemaker_endpoint",
        "aws_lambda_function",
        "aws_appautoscaling_policy",
    ):
        assert expected in types
    assert len(root_needs) > 1000


def test_the_apply_role_may_make_every_request_the_root_stack_needs(apply_policies, root_needs):
    assert not_allowed(apply_policies, root_needs) == []
    denied = [
        r for r in backend_requests(APPLY_ROLE, write_state=True) if not evaluate(apply_policies, r).allowed
    ]
    assert denied == []


def test_the_implicit_needs_are_among_the_requests(root_needs):
    """implicit.json: what AWS authorizes without a call of its own, on the ARNs AWS uses."""
    requested = {(n.action, n.request.resource) for n in root_needs}
    for action, resource in [
        (
            "iam:CreateServiceLinkedRole",
            f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
        ),
        (
            "sagemaker:UpdateEndpointWeightsAndCapacities",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/dogbreed-endpoint",
        ),
        (
            "sagemaker:StartNotebookInstance",
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/dogbreed-notebook",
        ),
        (
            "cloudwatch:PutMetricAlarm",
            f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:TargetTracking-endpoint/dogbreed-endpoint/variant/"
            "AllTraffic-AlarmHigh-planned",
        ),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/dogbreed-ec2-trainer"),
        ("ec2:CreateLaunchTemplate", f"arn:aws:ec2:{REGION}:{ACCOUNT}:launch-template/lt-planned"),
        # the post-deploy check (terraform_data local-exec) with the applier's credentials
        ("sagemaker:InvokeEndpoint", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/dogbreed-endpoint"),
        ("s3:GetObject", f"arn:aws:s3:::{PUBLISHED_MODEL.removeprefix('s3://')}"),
    ]:
        assert (action, resource) in requested, (action, resource)


def test_every_absent_condition_key_is_a_documented_assumption(apply_policies, plan_policies, root_needs):
    absent = set()
    for need in root_needs:
        absent |= evaluate(apply_policies, need.request).absent_keys
        absent |= evaluate(plan_policies, need.request).absent_keys
    assert absent - set(ASSUMPTIONS) == set(), (
        "supply the key's context in iam_needs or document why it is absent"
    )


@pytest.mark.parametrize(
    "action",
    [
        "sagemaker:UpdateEndpointWeightsAndCapacities",
        "cloudwatch:PutMetricAlarm",
        "iam:CreateServiceLinkedRole",
        "sagemaker:StartNotebookInstance",
        "ec2:CreateLaunchTemplate",
        "ec2:ModifyLaunchTemplate",
        "sagemaker:InvokeEndpoint",
        "logs:CreateLogGroup",
        "lambda:GetLayerVersion",
        "iam:PassRole",
        "budgets:ModifyBudget",
    ],
)
def test_removing_a_required_action_from_the_apply_policy_fails_the_check(apply_policies, root_needs, action):
    trimmed = copy.deepcopy(apply_policies)
    for document in trimmed:
        for statement in document["Statement"]:
            if statement["Effect"] == "Allow":
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                statement["Action"] = [a for a in actions if a.lower() != action.lower()] or ["none:None"]
    missing = not_allowed(trimmed, root_needs)
    assert missing and all(f" {action} on " in line for line in missing), missing[:5]


@pytest.fixture(scope="module")
def serverless_plan(tf_env, tmp_path_factory) -> dict:
    """The root stack with a Serverless Inference endpoint: the model without network isolation, no scalable
    target, the at-max-concurrency alarm instead of at-max-capacity."""
    workdir = tmp_path_factory.mktemp("serverless-plan")
    terraform.stage_stack(REPO_ROOT, workdir)
    variables = json.loads(PLAN_VARS.read_text()) | {
        "endpoint": {
            "serverless": {
                "memory_size_in_mb": 3072,
                "max_concurrency": 10,
                "acknowledge_no_network_isolation": True,
            },
            "data_capture_sampling_percentage": 0,
        }
    }
    var_file = workdir / "serverless.tfvars.json"
    var_file.write_text(json.dumps(variables))
    return terraform.plan_json(workdir, var_file, tf_env)


@pytest.mark.timeout(600)
def test_the_apply_role_may_make_every_request_of_the_serverless_endpoint(apply_policies, serverless_plan):
    planned = {r["address"] for r in Plan(serverless_plan).resources}
    assert "module.endpoint[0].aws_sagemaker_model.serverless[0]" in planned
    assert "module.endpoint[0].aws_cloudwatch_metric_alarm.at_max_concurrency[0]" in planned
    assert not any("aws_appautoscaling" in address for address in planned)
    assert not_allowed(apply_policies, needs(Plan(serverless_plan), STEPS, principal=APPLY_ROLE)) == []


def test_the_plan_role_may_make_every_read_a_plan_needs(plan_policies, offline_plans):
    reads = needs(Plan(offline_plans["root"]), ("read",), principal=PLAN_ROLE)
    assert len(reads) > 200
    assert not_allowed(plan_policies, reads) == []
    denied = [
        r for r in backend_requests(PLAN_ROLE, write_state=False) if not evaluate(plan_policies, r).allowed
    ]
    assert denied == []


def test_the_bootstrap_stack_is_out_of_the_apply_roles_reach(apply_policies, offline_plans):
    """An administrator applies terraform/bootstrap once: the apply role may change nothing it creates (the
    deploy
    roles and their policies, the workload boundary, the OIDC provider, the state bucket and its key)."""
    writes = [
        n
        for n in needs(Plan(offline_plans["bootstrap"]), ("create", "update", "delete"), principal=APPLY_ROLE)
        if not n.action.split(":")[1].startswith(("Get", "List", "Describe", "Head"))
    ]
    assert len(writes) > 50
    allowed = sorted(
        {f"{n.address} {n.action}" for n in writes if evaluate(apply_policies, n.request).allowed}
    )
    assert allowed == []
