"""The notebook role may start training and tuning jobs only in the stack's network, with its keys.

The policy evaluated is the one Terraform renders: the root stack planned offline (dev/offline_terraform.py,
moto holding the key, the subnets and the training security group, so their ids are in the plan). The jobs
evaluated are the launcher's own, as moto records them, and mutations of them. Each request becomes the
condition keys the Service Authorization Reference lists for CreateTrainingJob and
CreateHyperParameterTuningJob (https://docs.aws.amazon.com/service-authorization/latest/reference/
list_amazonsagemaker.html; types from parliament's copy of it, TRAINING.md §2): sagemaker:InstanceTypes,
VpcSubnets and VpcSecurityGroupIds (ArrayOfString), InterContainerTrafficEncryption (Bool), VolumeKmsKey and
OutputKmsKey (ARN); a field the request leaves out is a key absent from the context.
"""

from __future__ import annotations

import copy
import json
import shutil

import boto3
import pytest
from moto import mock_aws
from sagemaker.core.common_utils import instance_supports_kms

from dev import offline_terraform as terraform
from dogbreed.orchestration import jobs
from dogbreed.orchestration.settings import AwsSettings
from dogbreed.orchestration.specs import TrainSpec, TuneSpec
from security.iam_eval import Request, evaluate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.terraform,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH"),
]

REGION, ACCOUNT = terraform.REGION, "123456789012"
IMAGE = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.10-gpu-py313"
CREATE = {"training": "sagemaker:CreateTrainingJob", "tuning": "sagemaker:CreateHyperParameterTuningJob"}
EBS_TYPE, LOCAL_STORAGE_TYPE = "ml.p3.2xlarge", "ml.g5.xlarge"


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> dict:
    """The rendered notebook policy and the values of the stack it names, from one offline plan."""
    workdir = tmp_path_factory.mktemp("stack")
    terraform.stage_stack(terraform.REPO_ROOT, workdir)
    no_vars = workdir / "none.tfvars.json"
    no_vars.write_text("{}")
    plan = terraform.plan_json(workdir, no_vars)
    policy = next(
        p for p in terraform.planned(plan, "aws_iam_role_policy") if p["name"] == "run-project-training"
    )
    outputs = {
        name: output["value"]
        for name, output in plan["planned_values"]["outputs"].items()
        if "value" in output
    }
    return {"policy": json.loads(policy["policy"]), "outputs": outputs}


@pytest.fixture(scope="module")
def settings(stack) -> AwsSettings:
    outputs = stack["outputs"]
    assert outputs["training_subnet_ids"] and outputs["training_security_group_ids"], "known at plan time"
    return AwsSettings(
        region=REGION,
        bucket=outputs["data_bucket_name"],
        training_role_arn=outputs["training_role_arn"],
        kms_key_arn=outputs["kms_key_arn"],
        job_prefix=outputs["name"],
        subnet_ids=tuple(outputs["training_subnet_ids"]),
        security_group_ids=tuple(outputs["training_security_group_ids"]),
    )


@pytest.fixture(scope="module")
def launched(settings, tmp_path_factory) -> dict:
    """The launcher's real requests (moto records them) for an EBS-only and a local-storage instance type."""
    home = tmp_path_factory.mktemp("sdk")
    config = home / "sagemaker-config.yaml"
    config.write_text(
        "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"
    )
    env = {
        "SAGEMAKER_VALIDATE_ROLE": "false",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config),
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    requests = {}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        for instance_type in (EBS_TYPE, LOCAL_STORAGE_TYPE):
            with mock_aws():  # one account each: the SDK's short tuning job names are unique per minute
                requests.update(launch_both(settings, instance_type))
    for (kind, _), request in requests.items():
        request["Arn"] = request.get("Arn") or request["TrainingJobArn"]
        request["Kind"] = kind
    return requests


def launch_both(settings: AwsSettings, instance_type: str) -> dict:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=settings.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=settings.bucket, Key="weights/resnet50/resnet50-11ad3fa6.pth", Body=b"staged")
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    spec = TrainSpec(instance_type=instance_type, instance_count=2, image_uri=IMAGE)
    training = sagemaker.describe_training_job(TrainingJobName=jobs.train(spec, settings, check_quota=False))
    tune = TuneSpec(instance_type=instance_type, image_uri=IMAGE, max_jobs=2, max_parallel_jobs=1)
    name = jobs.tune(tune, settings, check_quota=False)
    tuning = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    return {
        ("training", instance_type): training,
        ("tuning", instance_type): {
            **tuning["TrainingJobDefinition"],
            "Arn": tuning["HyperParameterTuningJobArn"],
        },
    }


def condition_context(job: dict) -> dict:
    """The condition keys a CreateTrainingJob request (or a tuning job's TrainingJobDefinition) carries."""
    context = {"sagemaker:InstanceTypes": [job["ResourceConfig"]["InstanceType"]]}
    if "VpcConfig" in job:
        context["sagemaker:VpcSubnets"] = list(job["VpcConfig"]["Subnets"])
        context["sagemaker:VpcSecurityGroupIds"] = list(job["VpcConfig"]["SecurityGroupIds"])
    if "EnableInterContainerTrafficEncryption" in job:
        context["sagemaker:InterContainerTrafficEncryption"] = job["EnableInterContainerTrafficEncryption"]
    if job["ResourceConfig"].get("VolumeKmsKeyId"):
        context["sagemaker:VolumeKmsKey"] = job["ResourceConfig"]["VolumeKmsKeyId"]
    if job.get("OutputDataConfig", {}).get("KmsKeyId"):
        context["sagemaker:OutputKmsKey"] = job["OutputDataConfig"]["KmsKeyId"]
    return context


def decision(policy: dict, job: dict):
    return evaluate([policy], Request(CREATE[job["Kind"]], job["Arn"], condition_context(job)))


@pytest.mark.parametrize("kind", ["training", "tuning"])
@pytest.mark.parametrize("instance_type", [EBS_TYPE, LOCAL_STORAGE_TYPE])
def test_the_launchers_own_jobs_are_allowed(stack, launched, kind, instance_type):
    job = launched[(kind, instance_type)]
    assert job["ResourceConfig"].get("VolumeKmsKeyId") is (
        None if instance_type == LOCAL_STORAGE_TYPE else job["ResourceConfig"]["VolumeKmsKeyId"]
    )
    assert decision(stack["policy"], job).allowed, condition_context(job)


DROP = object()


def changed(job: dict, path: str, value) -> dict:
    """A copy of `job` with the field at `path` ("A.B") set to `value` (a function of the job), or dropped."""
    job = copy.deepcopy(job)
    *parents, field = path.split(".")
    target = job
    for part in parents:
        target = target[part]
    if value is DROP:
        target.pop(field)
    else:
        target[field] = value(job) if callable(value) else value
    return job


def other_prefix(job: dict) -> str:
    kind, _, name = job["Arn"].rpartition("/")
    return f"{kind}/other-{name}"


def plus_one_group(job: dict) -> list[str]:
    return [*job["VpcConfig"]["SecurityGroupIds"], "sg-0other"]


OTHER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/99999999-8888-7777-6666-555555555555"
MUTATIONS = {
    "no VPC": ("VpcConfig", DROP),
    "another subnet": ("VpcConfig.Subnets", lambda job: [job["VpcConfig"]["Subnets"][0], "subnet-0other"]),
    "another security group": ("VpcConfig.SecurityGroupIds", ["sg-0other"]),
    "an extra security group": ("VpcConfig.SecurityGroupIds", plus_one_group),
    "no traffic encryption on 2 instances": ("EnableInterContainerTrafficEncryption", DROP),
    "traffic encryption off on 2 instances": ("EnableInterContainerTrafficEncryption", False),
    "another output key": ("OutputDataConfig.KmsKeyId", OTHER_KEY),
    "no output key": ("OutputDataConfig.KmsKeyId", DROP),
    "another instance family": ("ResourceConfig.InstanceType", "ml.r5.xlarge"),
    "outside the job prefix": ("Arn", other_prefix),
}  # fmt: skip


@pytest.mark.parametrize("kind", ["training", "tuning"])
@pytest.mark.parametrize("instance_type", [EBS_TYPE, LOCAL_STORAGE_TYPE])
@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_job_without_the_stack_network_or_keys_is_denied(stack, launched, kind, instance_type, mutation):
    job = changed(launched[(kind, instance_type)], "ResourceConfig.InstanceCount", 2)
    job = changed(job, *MUTATIONS[mutation])
    assert not decision(stack["policy"], job).allowed, (mutation, condition_context(job))


@pytest.mark.parametrize("kind", ["training", "tuning"])
def test_the_volume_key_follows_the_kms_rule_of_the_instance_type(stack, launched, kind):
    """EBS-only types need the stack's key (not none, not another); local-storage types may carry none."""
    ebs = launched[(kind, EBS_TYPE)]
    for value in (DROP, OTHER_KEY):
        assert not decision(stack["policy"], changed(ebs, "ResourceConfig.VolumeKmsKeyId", value)).allowed
    key = ebs["ResourceConfig"]["VolumeKmsKeyId"]
    local = changed(launched[(kind, LOCAL_STORAGE_TYPE)], "ResourceConfig.VolumeKmsKeyId", key)
    assert not decision(stack["policy"], local).allowed  # AWS refuses it too; the policy says no first


def test_tags_are_allowed_on_project_jobs_without_the_job_keys(stack, launched):
    """sagemaker:AddTags requests carry none of the job's keys: a statement of its own, or tagging breaks."""
    for job in launched.values():
        assert evaluate([stack["policy"]], Request("sagemaker:AddTags", job["Arn"])).allowed


def test_the_instance_type_classes_match_the_sdks_kms_rule(stack):
    """Each pattern of the two statements, against sagemaker.core.common_utils.instance_supports_kms."""
    classes = {}
    for statement in stack["policy"]["Statement"]:
        types = (
            statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("sagemaker:InstanceTypes")
        )
        if types:
            takes_key = "sagemaker:VolumeKmsKey" in statement["Condition"].get("ArnEquals", {})
            classes.update({pattern: takes_key for pattern in types})
    assert len(classes) >= 10
    for pattern, takes_key in classes.items():
        assert instance_supports_kms(pattern.replace("*", "xlarge")) is takes_key, pattern
