"""The operators' policy (policies/operator.json, the root stack's output operator_policy_json), evaluated as
the plan renders it with security/iam_eval.py: it allows exactly what `dogbreed-launch ec2-run`,
`dogbreed-build-notebook-bundle` and `dogbreed-stage-weights` send, and refuses the neighbours of each
request.

The ec2-run requests are the ones the launcher's own start_run sends (recorded against moto), turned into what
EC2 authorizes for a RunInstances from a launch template: each resource it creates or uses, tag-on-create, the
instance profile's role passed to EC2, and the key of the encrypted root volume (through EC2). The launch
template, profile, role, subnet, groups and key are the planned ones of the root stack.
"""

from __future__ import annotations

import dataclasses
import types

import boto3
import pytest
from moto import mock_aws

from dogbreed.orchestration.ec2_runs import start_run
from dogbreed.orchestration.settings import AwsSettings
from dogbreed.packing import notebook_bundle
from security.checkov_checks.policy_rules import parse_policy
from security.iam_eval import DENY, Request, evaluate
from tests.infra.iam_needs import Plan

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

ACCOUNT, REGION = "123456789012", "eu-west-1"
BUCKET = f"dogbreed-{ACCOUNT}-{REGION}"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
IAM = f"arn:aws:iam::{ACCOUNT}"
OPERATOR = f"{IAM}:role/dogbreed-operator"  # security/fixtures/plan.tfvars.json: code_writer_role_arns
TEMPLATE = f"{EC2}:launch-template/lt-planned"
RUN_ID = "resnet50-e10"


@pytest.fixture(scope="module")
def plan(offline_plans) -> Plan:
    return Plan(offline_plans["root"])


@pytest.fixture(scope="module")
def operator(offline_plans) -> dict:
    return parse_policy(offline_plans["root"]["planned_values"]["outputs"]["operator_policy_json"]["value"])


@pytest.fixture(scope="module")
def bucket_policy(plan) -> dict:
    return parse_policy(plan.one("aws_s3_bucket_policy", "module.data_bucket")["policy"])


def recorded_ec2_run() -> list[tuple[str, dict]]:
    """(operation, parameters) of every call start_run makes, against moto with a launch template."""
    calls: list[tuple[str, dict]] = []
    with mock_aws():
        boto = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        boto.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        ec2 = boto.client("ec2")
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        template = ec2.create_launch_template(
            LaunchTemplateName="dogbreed-ec2-trainer",
            LaunchTemplateData={"ImageId": image, "InstanceType": "g4dn.xlarge"},
        )["LaunchTemplate"]["LaunchTemplateId"]
        boto.events.register(
            "before-parameter-build.*.*", lambda params, model, **_: calls.append((model.name, dict(params)))
        )
        settings = AwsSettings(
            REGION, BUCKET, f"{IAM}:role/dogbreed-sagemaker-training", job_prefix="dogbreed"
        )
        start_run(types.SimpleNamespace(boto_session=boto), settings, template, RUN_ID)
    return calls


def _tags(tags: dict) -> dict:
    return {**{f"aws:RequestTag/{k}": v for k, v in tags.items()}, "aws:TagKeys": sorted(tags)}


def _resource_tags(tags: dict) -> dict:
    return {f"aws:ResourceTag/{k}": v for k, v in tags.items()}


def run_instances_requests(plan: Plan, parameters: dict) -> list[Request]:
    """What EC2 authorizes for RunInstances from the planned launch template (tags from the request and the
    template's tag specifications)."""
    template = plan.one("aws_launch_template", "module.ec2_trainer[0]")
    profile = plan.one("aws_iam_instance_profile", "module.ec2_trainer[0]")
    role = next(r for r in plan.of_type("aws_iam_role") if r["name"] == profile["role"])
    key = plan.one("aws_kms_key", "module.data_bucket")
    interface = template["network_interfaces"][0]
    request_tags = {t["Key"]: t["Value"] for spec in parameters["TagSpecifications"] for t in spec["Tags"]}
    template_tags = {spec["resource_type"]: spec["tags"] for spec in template["tag_specifications"]}
    launch = {"aws:RequestedRegion": REGION, "ec2:LaunchTemplate": TEMPLATE}
    made = ["instance", "volume", "network-interface"]
    made += ["spot-instances-request"] if template.get("instance_market_options") else []

    def created(kind: str) -> dict:
        extra = (
            {"ec2:InstanceProfile": f"{IAM}:instance-profile/{profile['name']}"} if kind == "instance" else {}
        )
        tags = {**template_tags.get(kind, {}), **(request_tags if kind == "instance" else {})}
        return {**launch, **_tags(tags), **extra}

    groups = [g for g in plan.of_type("aws_security_group") if g["name"] == "dogbreed-ec2-trainer"]
    assert len(groups) == 1, "the trainer's security group of the network module"
    via_ec2 = {"aws:RequestedRegion": REGION, "kms:ViaService": f"ec2.{REGION}.amazonaws.com"}
    key_arn, key_tags = key["arn"], _resource_tags(key["tags_all"])
    return [
        Request("ec2:RunInstances", TEMPLATE, {**launch, **_resource_tags(template["tags_all"])}),
        *[Request("ec2:RunInstances", f"{EC2}:{kind}/new", created(kind)) for kind in made],
        *[
            Request(
                "ec2:CreateTags", f"{EC2}:{kind}/new", {**created(kind), "ec2:CreateAction": "RunInstances"}
            )
            for kind in made
        ],
        Request(
            "ec2:RunInstances",
            f"{EC2}:subnet/{interface['subnet_id']}",
            {**launch, **_resource_tags(plan.tags_of("aws_subnet", interface["subnet_id"]))},
        ),
        *[
            Request(
                "ec2:RunInstances",
                f"{EC2}:security-group/sg-planned",
                {**launch, **_resource_tags(g["tags_all"])},
            )
            for g in groups
        ],
        Request(
            "ec2:RunInstances",
            f"arn:aws:ec2:{REGION}::image/{template['image_id']}",
            {**launch, "ec2:Owner": "amazon"},
        ),
        Request(
            "iam:PassRole",
            f"{IAM}:role/{role['name']}",
            {"aws:RequestedRegion": "us-east-1", "iam:PassedToService": "ec2.amazonaws.com"},
        ),
        Request("kms:CreateGrant", key_arn, {**via_ec2, **key_tags, "kms:GrantIsForAWSResource": "true"}),
        *[
            Request(action, key_arn, {**via_ec2, **key_tags})
            for action in ("kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt", "kms:DescribeKey")
        ],
    ]


def ec2_run_requests(plan: Plan) -> list[Request]:
    found = []
    for operation, parameters in recorded_ec2_run():
        if operation == "ListObjectsV2":
            found.append(Request("s3:ListBucket", BUCKET_ARN, {"s3:prefix": parameters["Prefix"]}))
        elif operation == "DescribeInstances":
            found.append(Request("ec2:DescribeInstances", "*", {"aws:RequestedRegion": REGION}))
        elif operation == "RunInstances":
            found += run_instances_requests(plan, parameters)
        else:
            raise AssertionError(f"ec2-run sends {operation}: map it to the IAM requests it needs")
    return found


@pytest.fixture(scope="module")
def ec2_run(plan) -> list[Request]:
    return ec2_run_requests(plan)


def allowed(documents: list[dict], request: Request) -> bool:
    return evaluate(documents, request).allowed


def test_the_operator_may_make_every_request_ec2_run_sends(operator, ec2_run):
    actions = {r.action for r in ec2_run}
    assert {"s3:ListBucket", "ec2:DescribeInstances", "ec2:RunInstances", "iam:PassRole"} <= actions
    assert [f"{r.action} on {r.resource}" for r in ec2_run if not allowed([operator], r)] == []


def _change(requests: list[Request], action: str, resource_part: str, **context) -> Request:
    original = next(r for r in requests if r.action == action and resource_part in r.resource)
    drop = {k for k, v in context.items() if v is None}
    kept = {k: v for k, v in original.context.items() if k not in drop}
    return dataclasses.replace(
        original, context={**kept, **{k: v for k, v in context.items() if v is not None}}
    )


@pytest.mark.parametrize(
    ("action", "resource_part", "context"),
    [
        ("ec2:RunInstances", "launch-template/", {"aws:ResourceTag/Project": "payments"}),
        ("ec2:RunInstances", "launch-template/", {"aws:ResourceTag/Project": None}),
        ("ec2:RunInstances", ":instance/", {"ec2:LaunchTemplate": None}),  # parameters given, no template
        ("ec2:RunInstances", ":instance/", {"ec2:InstanceProfile": f"{IAM}:instance-profile/admin"}),
        ("ec2:RunInstances", ":volume/", {"ec2:LaunchTemplate": None}),
        ("ec2:RunInstances", ":subnet/", {"aws:ResourceTag/Project": "payments"}),
        ("ec2:RunInstances", ":security-group/", {"aws:ResourceTag/Project": None}),
        ("ec2:RunInstances", ":image/", {"ec2:Owner": "aws-marketplace"}),
        ("ec2:CreateTags", ":instance/", {"ec2:CreateAction": None}),  # retagging a running instance
        ("iam:PassRole", ":role/", {"iam:PassedToService": "sagemaker.amazonaws.com"}),
        ("kms:CreateGrant", ":key/", {"kms:GrantIsForAWSResource": "false"}),
        ("kms:CreateGrant", ":key/", {"kms:ViaService": f"lambda.{REGION}.amazonaws.com"}),
        ("kms:Decrypt", ":key/", {"aws:ResourceTag/Project": "payments"}),
        ("ec2:DescribeInstances", "*", {"aws:RequestedRegion": "us-east-1"}),
    ],
)
def test_the_operator_is_refused_each_neighbour_of_an_ec2_run_request(
    operator, ec2_run, action, resource_part, context
):
    assert not allowed([operator], _change(ec2_run, action, resource_part, **context))


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("iam:PassRole", f"{IAM}:role/dogbreed-notebook-notebook"),
        ("iam:PassRole", f"{IAM}:role/dogbreed-github-apply"),
        ("ec2:TerminateInstances", f"{EC2}:instance/i-0abc"),
        ("ec2:RunInstances", f"{EC2}:instance/new"),  # without a launch template
        ("s3:ListBucket", BUCKET_ARN),  # no prefix: the whole bucket
        ("s3:GetObject", f"{BUCKET_ARN}/data/dogImages/train/001.jpg"),
        ("sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/dogbreed-1"),
    ],
)
def test_the_operator_has_nothing_else(operator, action, resource):
    context = {"aws:RequestedRegion": REGION, "iam:PassedToService": "ec2.amazonaws.com"}
    assert not allowed([operator], Request(action, resource, context))


def test_the_operator_may_create_the_spot_service_linked_role_and_no_other(operator):
    spot = f"{IAM}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot"
    context = {"iam:AWSServiceName": "spot.amazonaws.com"}
    assert allowed([operator], Request("iam:CreateServiceLinkedRole", spot, context))
    other = f"{IAM}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    assert not allowed(
        [operator], Request("iam:CreateServiceLinkedRole", other, {"iam:AWSServiceName": "ecs"})
    )


def bundle_keys() -> list[str]:
    prefix = notebook_bundle.S3_PREFIX
    return [
        f"{prefix}{notebook_bundle.CODE_ARCHIVE}",
        f"{prefix}{notebook_bundle.WHEELS}/{notebook_bundle.MANIFEST}",
        f"{prefix}{notebook_bundle.WHEELS}/boto3-1.40.0-py3-none-any.whl",
    ]


def put(key: str, principal: str = OPERATOR) -> Request:
    context = {"aws:PrincipalArn": principal, "aws:SecureTransport": "true", "aws:RequestedRegion": REGION}
    return Request("s3:PutObject", f"{BUCKET_ARN}/{key}", context, principal={"AWS": principal})


def test_the_operator_uploads_the_notebook_bundle_and_the_weights_with_the_project_key(
    operator, bucket_policy, plan
):
    for key in [*bundle_keys(), "weights/resnet50/resnet50-11ad3fa6.pth"]:
        assert allowed([operator, bucket_policy], put(key)), key
    key = plan.one("aws_kms_key", "module.data_bucket")
    via_s3 = {"kms:ViaService": f"s3.{REGION}.amazonaws.com", **_resource_tags(key["tags_all"])}
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):  # Decrypt: multipart uploads of SSE-KMS objects
        assert allowed([operator], Request(action, key["arn"], via_s3)), action
    assert allowed([operator], Request("s3:ListBucket", BUCKET_ARN, {"s3:prefix": notebook_bundle.S3_PREFIX}))


@pytest.mark.parametrize(
    "key",
    [
        "code/training/train.py",  # what the EC2 trainer runs: Terraform's
        "code/ec2/bootstrap.sh",
        "data/dogImages/train/001.jpg",
        "models/published/" + "a" * 64 + "/model.tar.gz",
        "staging/dogbreed/source/sourcedir.tar.gz",
    ],
)
def test_the_operator_writes_nothing_else(operator, bucket_policy, key):
    assert not allowed([operator, bucket_policy], put(key))


def test_only_a_named_code_writer_uploads_the_bundle_even_with_the_operator_policy(operator, bucket_policy):
    stranger = f"{IAM}:role/someone-with-the-operator-policy"
    decision = evaluate([operator, bucket_policy], put(bundle_keys()[0], principal=stranger))
    assert decision.effect == DENY, decision  # the bucket policy's code/ writers statement


def test_the_notebook_reads_its_kernel_bundle_and_cannot_change_it(offline_plans, bucket_policy):
    from security.escalation import managed_policies, plan_roles

    roles = plan_roles(offline_plans["root"], managed_policies(offline_plans.values()))
    notebook = next(role for role in roles if role.name == "dogbreed-notebook-notebook")
    for key in bundle_keys():
        read = Request("s3:GetObject", f"{BUCKET_ARN}/{key}", {"aws:SecureTransport": "true"})
        assert allowed(notebook.identity, read), key
        assert not allowed([*notebook.identity, bucket_policy], put(key, principal=notebook.arn)), key
    trainer_code = Request("s3:GetObject", f"{BUCKET_ARN}/code/ec2/bootstrap.sh", {})
    assert not allowed(notebook.identity, trainer_code)  # only its own bundle under code/
