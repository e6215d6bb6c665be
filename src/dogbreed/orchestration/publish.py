"""Publish a trained model for the Terraform root stack: the auto-loaded tfvars file and/or SSM."""

from __future__ import annotations

from pathlib import Path

from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.results import best_training_job, describe
from dogbreed.orchestration.s3 import split_s3_uri
from dogbreed.orchestration.settings import DEFAULT_TERRAFORM_DIR
from dogbreed.utils import tfvars

DEFAULT_TFVARS_PATH = DEFAULT_TERRAFORM_DIR / "model.auto.tfvars.json"
TFVARS_VARIABLE = "model_data_url"


def model_artifact(session, *, training_job: str | None = None, tuning_job: str | None = None) -> str:
    """The S3 URI of a completed job's model.tar.gz (the best trial's when given a tuning job)."""
    if (training_job is None) == (tuning_job is None):
        raise LauncherError("give exactly one of a training job or a tuning job")
    if tuning_job is not None:
        training_job = best_training_job(session, tuning_job).training_job
    job = describe(session.sagemaker_client.describe_training_job, TrainingJobName=training_job)
    if job.get("TrainingJobStatus") != "Completed":
        raise LauncherError(f"training job {training_job} is {job.get('TrainingJobStatus')}, not Completed")
    return job["ModelArtifacts"]["S3ModelArtifacts"]


def check_model_exists(session, model_data_url: str) -> None:
    from botocore.exceptions import ClientError

    if not model_data_url.endswith(".tar.gz"):
        raise LauncherError(f"{model_data_url} is not a model.tar.gz")
    bucket, key = split_s3_uri(model_data_url)
    try:
        session.boto_session.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        raise LauncherError(f"{model_data_url} cannot be read: {e.response['Error'].get('Code')}") from e


def write_tfvars(model_data_url: str, path: Path = DEFAULT_TFVARS_PATH) -> Path:
    """The root stack's auto-loaded model tfvars file, written atomically."""
    return tfvars.write_tfvars(Path(path), {TFVARS_VARIABLE: model_data_url})


def publish(
    session,
    model_data_url: str,
    *,
    tfvars_path: Path | None = DEFAULT_TFVARS_PATH,
    ssm_parameter: str | None = None,
) -> dict[str, str]:
    """Record the model for ``terraform apply``: the tfvars file and/or an SSM parameter."""
    if tfvars_path is None and ssm_parameter is None:
        raise LauncherError("nothing to publish to: give a tfvars path and/or an SSM parameter name")
    check_model_exists(session, model_data_url)
    published = {TFVARS_VARIABLE: model_data_url}
    if tfvars_path is not None:
        published["tfvars"] = str(write_tfvars(model_data_url, tfvars_path))
    if ssm_parameter is not None:
        ssm = session.boto_session.client("ssm")
        ssm.put_parameter(Name=ssm_parameter, Value=model_data_url, Type="String", Overwrite=True)
        published["ssm_parameter"] = ssm_parameter
    return published
