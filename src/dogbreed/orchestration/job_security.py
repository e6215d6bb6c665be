"""What every job the launcher sends carries, by AWS's rules: the stack's network, KMS where AWS allows it.

- ``ResourceConfig.VolumeKmsKeyId`` only where the instance type has no local instance storage. The API:
  "You can't request a VolumeKmsKeyId when using an instance type with local storage" (botocore's sagemaker
  model, ResourceConfig.VolumeKmsKeyId; local NVMe storage is encrypted by the instance's hardware). The rule
  is the SDK's own, ``sagemaker.core.common_utils.instance_supports_kms``, called here and nowhere copied.
- ``OutputDataConfig.KmsKeyId`` on every type: it is the S3 server-side encryption of the model artifacts,
  unrelated to the instance's disks; checkpoints go to the bucket under its default SSE-KMS key.
- ``VpcConfig``: the stack's private subnets (no route to the internet) and its training security group.
- ``EnableInterContainerTrafficEncryption`` on every job. It protects DDP traffic between instances and costs
  nothing on one ("doesn't affect training jobs with a single compute instance", SageMaker developer guide,
  train-encrypt); the notebook role requires it on every job, because no IAM condition key carries the
  instance count.

The v3 ``HyperparameterTuner`` drops ``VolumeKmsKeyId`` and ``EnableInterContainerTrafficEncryption`` from
the tuning job's TrainingJobDefinition (sagemaker/train/tuner.py ``_build_training_job_definition`` builds
ResourceConfig from type, count and size, and copies only the VpcConfig). The launcher lets the SDK build and
send that request and completes it on the way out, through botocore's documented ``before-parameter-build``
event on the launcher's own boto3 session (``register``). Every CreateTrainingJob and
CreateHyperParameterTuningJob is then checked against the rules above; one that still breaks them (an SDK
change) stops with a LauncherError instead of reaching AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.settings import AwsSettings

TUNING_OPERATION = "CreateHyperParameterTuningJob"
TRAINING_OPERATION = "CreateTrainingJob"


def supports_volume_kms_key(instance_type: str) -> bool:
    """AWS accepts a volume KMS key on this type (the SDK's rule: no local NVMe instance storage)."""
    from sagemaker.core.common_utils import instance_supports_kms

    return instance_supports_kms(instance_type)


def volume_kms_key(instance_type: str, settings: AwsSettings) -> str | None:
    """The stack's key for the instance's EBS volume, or None where AWS refuses one."""
    return settings.kms_key_arn if supports_volume_kms_key(instance_type) else None


def vpc_config(settings: AwsSettings) -> dict[str, list[str]]:
    return {"Subnets": list(settings.subnet_ids), "SecurityGroupIds": list(settings.security_group_ids)}


def networking(settings: AwsSettings):
    """The SDK's Networking config: in the stack's subnets and training security group, traffic encrypted."""
    from sagemaker.core.training.configs import Networking

    return Networking(
        subnets=list(settings.subnet_ids),
        security_group_ids=list(settings.security_group_ids),
        enable_inter_container_traffic_encryption=True,
    )


def tuning_definition_additions(instance_type: str, settings: AwsSettings) -> dict[str, Any]:
    """What the tuning job's TrainingJobDefinition must carry besides what the SDK's tuner puts there."""
    additions: dict[str, Any] = {
        "VpcConfig": vpc_config(settings),
        "EnableInterContainerTrafficEncryption": True,
    }
    key = volume_kms_key(instance_type, settings)
    additions["ResourceConfig"] = {"VolumeKmsKeyId": key} if key else {}
    return additions


def complete_tuning_request(params: dict[str, Any], settings: AwsSettings) -> None:
    """Add to a CreateHyperParameterTuningJob request (in place) what the v3 tuner leaves out."""
    definition = params["TrainingJobDefinition"]
    resources = definition.setdefault("ResourceConfig", {})
    additions = tuning_definition_additions(resources.get("InstanceType", ""), settings)
    resources.update(additions.pop("ResourceConfig"))
    definition.update(additions)


def violations(job: Mapping[str, Any], settings: AwsSettings) -> list[str]:
    """How a training job (or a tuning job's TrainingJobDefinition) breaks the rules; [] when it does not."""
    problems = []
    resources = job.get("ResourceConfig", {})
    instance_type = resources.get("InstanceType", "")
    wanted = volume_kms_key(instance_type, settings)
    if resources.get("VolumeKmsKeyId") != wanted:
        rule = "needs the stack's volume KMS key" if wanted else "must not carry a volume KMS key"
        problems.append(f"{instance_type} {rule}")
    if settings.kms_key_arn and job.get("OutputDataConfig", {}).get("KmsKeyId") != settings.kms_key_arn:
        problems.append("the output must be encrypted with the stack's KMS key")
    if job.get("VpcConfig") != vpc_config(settings):
        problems.append("it must run in the stack's subnets and training security group")
    if job.get("EnableInterContainerTrafficEncryption") is not True:
        problems.append("inter-container traffic must be encrypted")
    return problems


def check_request(operation: str, params: Mapping[str, Any], settings: AwsSettings) -> None:
    job = params["TrainingJobDefinition"] if operation == TUNING_OPERATION else params
    if problems := violations(job, settings):
        raise LauncherError(f"refusing to send {operation}: {'; '.join(problems)}")


def register(events, settings: AwsSettings) -> None:
    """Complete and check the launcher's job requests on this boto3 session's event system (before any
    client is created from it: botocore clients copy the session's handlers when they are made)."""

    def on_tuning_request(params: dict[str, Any], **_: Any) -> None:
        complete_tuning_request(params, settings)
        check_request(TUNING_OPERATION, params, settings)

    def on_training_request(params: dict[str, Any], **_: Any) -> None:
        check_request(TRAINING_OPERATION, params, settings)

    events.register(f"before-parameter-build.sagemaker.{TUNING_OPERATION}", on_tuning_request)
    events.register(f"before-parameter-build.sagemaker.{TRAINING_OPERATION}", on_training_request)
