"""Every job the launcher sends carries the stack's network and KMS exactly where AWS's rule allows it.

The rule is the SDK's (sagemaker.core.common_utils.instance_supports_kms: no volume key on instance types with
local NVMe storage); the table's second column is AWS's own wording beside it (botocore's sagemaker model,
ResourceConfig.VolumeSizeInGB: "ML instance families with the NVMe-type instance storage include ml.p4d,
ml.g4dn, and ml.g5"; EBS-only examples there: ml.c5, ml.p2), so a change of the SDK's rule fails here too.
"""

from __future__ import annotations

import json

import pytest
from orchestration_support import BUCKET, SECURITY_GROUP, SUBNETS, run_cli, settings
from sagemaker.core.common_utils import instance_supports_kms

from dogbreed.orchestration import job_security
from dogbreed.orchestration.dry_run import describe_train_request, describe_tune_request
from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.specs import TrainSpec, TuneSpec

pytestmark = pytest.mark.timeout(120)

KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.10-gpu-py313"
# instance type -> takes a volume KMS key (EBS only) / has local NVMe instance storage
INSTANCE_TYPES = {
    "ml.m5.xlarge": True,  # CPU, EBS
    "ml.c5.2xlarge": True,  # CPU, EBS (AWS's EBS example)
    "ml.c6i.4xlarge": True,  # CPU, EBS
    "ml.t3.medium": True,  # CPU, EBS, burstable
    "ml.p2.xlarge": True,  # GPU, EBS (AWS's EBS example)
    "ml.p3.2xlarge": True,  # GPU, EBS
    "ml.m5d.large": False,  # CPU, NVMe ("d" family)
    "ml.c5d.xlarge": False,  # CPU, NVMe
    "ml.g4dn.xlarge": False,  # GPU, NVMe (AWS's NVMe example; the default tuning type)
    "ml.g5.xlarge": False,  # GPU, NVMe (AWS's NVMe example; the default training type)
    "ml.g5.12xlarge": False,  # GPU, NVMe, 4 GPUs
    "ml.g6.xlarge": False,  # GPU, NVMe
    "ml.p3dn.24xlarge": False,  # GPU, NVMe
    "ml.p4d.24xlarge": False,  # GPU, NVMe (AWS's NVMe example)
    "ml.p5.48xlarge": False,  # GPU, NVMe
}


def stack(**overrides):
    return settings(kms_key_arn=KEY, **overrides)


@pytest.mark.parametrize(("instance_type", "takes_key"), INSTANCE_TYPES.items())
def test_dry_run_requests_carry_a_volume_key_exactly_where_the_sdk_rule_allows(instance_type, takes_key):
    assert instance_supports_kms(instance_type) is takes_key  # the SDK's rule agrees with AWS's examples
    tune = describe_tune_request(
        TuneSpec(instance_type=instance_type, image_uri=IMAGE, hyperparameters={"pretrained": "false"}),
        stack(),
    )
    train = describe_train_request(
        TrainSpec(instance_type=instance_type, image_uri=IMAGE, hyperparameters={"pretrained": "false"}),
        stack(),
    )
    tuning_resources = tune["TrainingJobDefinition"]["ResourceConfig"]
    assert ("VolumeKmsKeyId" in tuning_resources) is takes_key
    assert ("volume_kms_key_id" in train["ModelTrainer"]["compute"]) is takes_key
    if takes_key:
        assert tuning_resources["VolumeKmsKeyId"] == KEY
        assert train["ModelTrainer"]["compute"]["volume_kms_key_id"] == KEY
    for request in (tune, train):  # the artifacts stay KMS-encrypted on every type
        assert request["ModelTrainer"]["output_data_config"]["kms_key_id"] == KEY


def test_dry_run_requests_run_in_the_stack_network_with_encrypted_traffic():
    train = describe_train_request(TrainSpec(instance_count=2, image_uri=IMAGE), stack())
    tune = describe_tune_request(TuneSpec(image_uri=IMAGE), stack())

    assert train["ModelTrainer"]["compute"]["instance_count"] == 2
    assert train["ModelTrainer"]["networking"] == {
        "subnets": list(SUBNETS),
        "security_group_ids": [SECURITY_GROUP],
        "enable_inter_container_traffic_encryption": True,
    }
    definition = tune["TrainingJobDefinition"]
    assert definition["VpcConfig"] == {"Subnets": list(SUBNETS), "SecurityGroupIds": [SECURITY_GROUP]}
    assert definition["EnableInterContainerTrafficEncryption"] is True
    channels = {i["channel_name"]: i["data_source"] for i in train["input_data_config"]}
    assert channels["weights"] == f"s3://{BUCKET}/weights/resnet50/"  # pretrained is train.py's default


def test_jobs_outside_the_stack_network_are_refused_before_anything_is_built():
    with pytest.raises(LauncherError, match="no subnets or security group"):
        describe_train_request(TrainSpec(image_uri=IMAGE), stack(subnet_ids=()))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda job: job.pop("VpcConfig"), "stack's subnets"),
        (lambda job: job["VpcConfig"].update(Subnets=["subnet-other"]), "stack's subnets"),
        (lambda job: job.pop("EnableInterContainerTrafficEncryption"), "must be encrypted"),
        (lambda job: job["ResourceConfig"].pop("VolumeKmsKeyId"), "needs the stack's volume KMS key"),
        (lambda job: job["OutputDataConfig"].update(KmsKeyId="arn:aws:kms:x:1:key/o"), "output must"),
    ],
)
def test_a_request_that_breaks_a_rule_is_refused(change, message):
    """The guard on every request the SDK sends: an SDK that stops setting a field fails here, not on AWS."""
    job = {
        "ResourceConfig": {"InstanceType": "ml.p3.2xlarge", "InstanceCount": 2, "VolumeKmsKeyId": KEY},
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models/", "KmsKeyId": KEY},
        "VpcConfig": {"Subnets": list(SUBNETS), "SecurityGroupIds": [SECURITY_GROUP]},
        "EnableInterContainerTrafficEncryption": True,
    }
    job_security.check_request(job_security.TRAINING_OPERATION, job, stack())
    change(job)
    with pytest.raises(LauncherError, match=message):
        job_security.check_request(job_security.TRAINING_OPERATION, job, stack())


def test_a_volume_key_on_a_local_storage_type_is_refused():
    job = {
        "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeKmsKeyId": KEY},
        "OutputDataConfig": {"KmsKeyId": KEY},
        "VpcConfig": {"Subnets": list(SUBNETS), "SecurityGroupIds": [SECURITY_GROUP]},
        "EnableInterContainerTrafficEncryption": True,
    }
    with pytest.raises(LauncherError, match="ml.g5.xlarge must not carry a volume KMS key"):
        job_security.check_request(job_security.TRAINING_OPERATION, job, stack())


@pytest.mark.parametrize("instance_type", ["ml.p3.2xlarge", "ml.g4dn.xlarge"])
def test_the_requests_sent_carry_network_and_keys(instance_type, capsys, terraform_outputs, sagemaker):
    """The real SDK path, as moto records it: the tuner's definition completed on the way out, the training
    job from the SDK's public configs."""
    flags = ["--terraform-outputs", str(terraform_outputs), "--instance-type", instance_type]
    tuning = run_cli(capsys, "tune", *flags, "--max-jobs", "1", "--max-parallel-jobs", "1")["tuning_job"]
    training = run_cli(capsys, "train", *flags, "--instance-count", "2")["training_job"]
    definition = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning)[
        "TrainingJobDefinition"
    ]
    job = sagemaker.describe_training_job(TrainingJobName=training)
    outputs = json.loads(terraform_outputs.read_text())
    key = outputs["kms_key_arn"]["value"]
    network = {
        "Subnets": outputs["training_subnet_ids"]["value"],
        "SecurityGroupIds": outputs["training_security_group_ids"]["value"],
    }

    for request in (definition, job):
        assert request["ResourceConfig"].get("VolumeKmsKeyId") == (
            key if instance_supports_kms(instance_type) else None
        )
        assert request["OutputDataConfig"]["KmsKeyId"] == key
        assert request["VpcConfig"] == network
        assert request["EnableInterContainerTrafficEncryption"] is True
    assert job["ResourceConfig"]["InstanceCount"] == 2
