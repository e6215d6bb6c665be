"""Publish a trained model for the Terraform root stack: a write-once copy named after its SHA-256, recorded
in the auto-loaded tfvars file and/or SSM.

The training output (models/<job>/output/model.tar.gz, writable by the training role) is downloaded once,
hashed, and uploaded to models/published/<sha256>/model.tar.gz in one PutObject with `If-None-Match: *` (S3
conditional write: AWS answers 412 PreconditionFailed instead of overwriting an existing key) and its
ChecksumSHA256 (S3 refuses a body that does not match it, and stores it for dogbreed-check-endpoint). The
bucket policy denies every other PutObject on that prefix (policies/s3_bucket_write_once.json) and the
training role may not write there at all, so what the endpoint loads is what was published. Republishing the
same bytes is a no-op.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dogbreed.endpoint_check.checks import sha256_checksum
from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.results import best_training_job, describe
from dogbreed.orchestration.s3 import split_s3_uri
from dogbreed.orchestration.settings import DEFAULT_TERRAFORM_DIR
from dogbreed.utils import tfvars

DEFAULT_TFVARS_PATH = DEFAULT_TERRAFORM_DIR / "model.auto.tfvars.json"
TFVARS_VARIABLE = "model_data_url"
TFVARS_SHA256 = "model_sha256"
PUBLISHED_PREFIX = "models/published/"  # the root stack's and the bucket policy's write-once prefix
PUBLISHED_KEY = re.compile(rf"^{re.escape(PUBLISHED_PREFIX)}(?P<sha256>[0-9a-f]{{64}})/model\.tar\.gz$")
# S3: "With a single PUT operation, you can upload a single object up to 5 GB in size"; the write-once rule
# refuses multipart parts (UploadPart carries no conditional header), so a published artifact is one PUT.
MAX_SINGLE_PUT_BYTES = 5 * 1024**3
CHUNK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class PublishedArtifact:
    model_data_url: str  # s3://<bucket>/models/published/<sha256>/model.tar.gz
    sha256: str
    source: str
    created: bool  # False: these bytes were already published


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


def published_url(bucket: str, sha256: str) -> str:
    return f"s3://{bucket}/{PUBLISHED_PREFIX}{sha256}/model.tar.gz"


def check_model_exists(s3, model_data_url: str) -> int:
    """The artifact's size; a clear error when it is not a model.tar.gz we can read or publish in one PUT."""
    from botocore.exceptions import ClientError

    if not model_data_url.endswith(".tar.gz"):
        raise LauncherError(f"{model_data_url} is not a model.tar.gz")
    bucket, key = split_s3_uri(model_data_url)
    try:
        size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    except ClientError as e:
        raise LauncherError(f"{model_data_url} cannot be read: {e.response['Error'].get('Code')}") from e
    if size > MAX_SINGLE_PUT_BYTES:
        raise LauncherError(
            f"{model_data_url} is {size} bytes: a published artifact is one PUT of at most 5 GiB"
        )
    return size


def publish_artifact(s3, source_url: str, *, kms_key_arn: str | None = None) -> PublishedArtifact:
    """Copy `source_url` to its write-once published key (or verify it, when it already is one)."""
    size = check_model_exists(s3, source_url)
    bucket, key = split_s3_uri(source_url)
    with tempfile.TemporaryFile() as spool:
        sha256 = _download_hashing(s3, bucket, key, spool)
        if (match := PUBLISHED_KEY.match(key)) is not None:
            if match["sha256"] != sha256:
                raise LauncherError(
                    f"{source_url} is named after {match['sha256']} but its SHA-256 is {sha256}"
                )
            return PublishedArtifact(source_url, sha256, source_url, created=False)
        spool.seek(0)
        created = _put_once(s3, bucket, sha256, spool, size, kms_key_arn)
    return PublishedArtifact(published_url(bucket, sha256), sha256, source_url, created)


def _download_hashing(s3, bucket: str, key: str, spool: IO[bytes]) -> str:
    digest = hashlib.sha256()
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in body.iter_chunks(CHUNK_BYTES):
        digest.update(chunk)
        spool.write(chunk)
    return digest.hexdigest()


def _put_once(s3, bucket: str, sha256: str, body: IO[bytes], size: int, kms_key_arn: str | None) -> bool:
    """True when this call created the object; False when the same bytes were there already."""
    from botocore.exceptions import ClientError

    key = f"{PUBLISHED_PREFIX}{sha256}/model.tar.gz"
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_arn} if kms_key_arn else {}
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentLength=size,
            ContentType="application/gzip",
            IfNoneMatch="*",
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=sha256_checksum(sha256),
            **encryption,
        )
        return True
    except ClientError as e:
        code = e.response["Error"].get("Code")
        if code == "ConditionalRequestConflict":  # 409: a concurrent write of this key; AWS says retry
            raise LauncherError(f"another upload of s3://{bucket}/{key} is in progress: publish again") from e
        if code != "PreconditionFailed":
            raise
    stored = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED").get("ChecksumSHA256")
    if stored != sha256_checksum(sha256):
        raise LauncherError(
            f"s3://{bucket}/{key} exists but its SHA-256 checksum is {stored!r}: not these bytes, and it is "
            "write-once; investigate before deploying it"
        )
    return False


def write_tfvars(artifact: PublishedArtifact, path: Path = DEFAULT_TFVARS_PATH) -> Path:
    """The root stack's auto-loaded model tfvars file, written atomically."""
    variables = {TFVARS_VARIABLE: artifact.model_data_url, TFVARS_SHA256: artifact.sha256}
    return tfvars.write_tfvars(Path(path), variables)


def publish(
    session,
    model_data_url: str,
    *,
    tfvars_path: Path | None = DEFAULT_TFVARS_PATH,
    ssm_parameter: str | None = None,
    kms_key_arn: str | None = None,
) -> dict[str, str | bool]:
    """Publish `model_data_url` write-once and record it for ``terraform apply`` (tfvars file and/or SSM)."""
    if tfvars_path is None and ssm_parameter is None:
        raise LauncherError("nothing to publish to: give a tfvars path and/or an SSM parameter name")
    artifact = publish_artifact(session.boto_session.client("s3"), model_data_url, kms_key_arn=kms_key_arn)
    published: dict[str, str | bool] = {
        TFVARS_VARIABLE: artifact.model_data_url,
        TFVARS_SHA256: artifact.sha256,
        "source": artifact.source,
        "created": artifact.created,
    }
    if tfvars_path is not None:
        published["tfvars"] = str(write_tfvars(artifact, tfvars_path))
    if ssm_parameter is not None:
        ssm = session.boto_session.client("ssm")
        ssm.put_parameter(Name=ssm_parameter, Value=artifact.model_data_url, Type="String", Overwrite=True)
        published["ssm_parameter"] = ssm_parameter
    return published
