"""The project bucket: its layout, and what the launcher writes there (the dataset and the training source).

The prefixes are the ones the stack's IAM policies allow (policies/*.json): the notebook role writes only
data/ and staging/, the training role reads data/, staging/, weights/ and checkpoints/ and writes models/ and
checkpoints/. code/ holds what the EC2 trainer and the notebook's kernel run: only the CI apply role and the
operator roles of code_writer_role_arns write there (docs/infra.md), so the launcher stages the jobs' source
under staging/. weights/ is written once by `dogbreed-stage-weights` (dogbreed.pretrained).
"""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.settings import AwsSettings
from dogbreed.orchestration.source import ShippedWheels, source_tarball

if TYPE_CHECKING:
    from dogbreed.orchestration.hyperparameters import WeightsSource

STAGING_PREFIX = "staging"
CHECKPOINT_PREFIX = "checkpoints"
MODEL_PREFIX = "models"
WEIGHTS_PREFIX = "weights"  # dogbreed.pretrained.files.S3_PREFIX (that module imports torch)
STAGE_TOOL = "dogbreed-stage-weights"


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or len(uri) <= 5:
        raise LauncherError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise LauncherError(f"{uri!r} has no bucket")
    return bucket, key


def default_data_uri(settings: AwsSettings) -> str:
    return f"s3://{settings.bucket}/data/dogImages/"


def model_output_uri(settings: AwsSettings) -> str:
    return f"s3://{settings.bucket}/{MODEL_PREFIX}/"


def default_checkpoint_uri(settings: AwsSettings) -> str:
    """A fresh prefix per run: a spot restart of this job resumes from it, a new job never does."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    return f"s3://{settings.bucket}/{CHECKPOINT_PREFIX}/{settings.training_job_base}-{stamp}/"


def weights_uri(settings: AwsSettings, weights: WeightsSource) -> str:
    """The `weights` channel: the arch's folder, or the one file when the job names it."""
    return f"s3://{settings.bucket}/{WEIGHTS_PREFIX}/{weights.arch}/{weights.file_name or ''}"


def check_weights_staged(session, settings: AwsSettings, weights: WeightsSource) -> None:
    """A job whose channel holds nothing fails only after it starts; say so before it is sent."""
    bucket, prefix = split_s3_uri(weights_uri(settings, weights))
    s3 = session.boto_session.client("s3", region_name=settings.region)
    if not s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount"):
        raise LauncherError(
            f"no pretrained {weights.arch} weights in s3://{bucket}/{prefix}: stage them once with "
            f"`{STAGE_TOOL} --arch {weights.arch}`, or pass --hp pretrained=false"
        )


def sse_args(settings: AwsSettings) -> dict[str, str]:
    """Server-side encryption with the stack's KMS key, as put_object / upload_file arguments."""
    if not settings.kms_key_arn:
        return {}
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": settings.kms_key_arn}


def source_tarball_uri(settings: AwsSettings, tarball: bytes) -> str:
    """Content-addressed: the same code lands on the same key, whichever job ships it."""
    digest = hashlib.sha256(tarball).hexdigest()[:16]
    return f"s3://{settings.bucket}/{STAGING_PREFIX}/{settings.job_prefix}/source/{digest}/sourcedir.tar.gz"


def upload_source_tarball(session, settings: AwsSettings, shipped: ShippedWheels | None = None) -> str:
    """Stage the jobs' code ourselves, KMS-encrypted: the SDK's tuning upload skips the key and the prefix."""
    tarball = source_tarball(shipped)
    uri = source_tarball_uri(settings, tarball)
    bucket, key = split_s3_uri(uri)
    s3 = session.boto_session.client("s3", region_name=settings.region)
    s3.put_object(Bucket=bucket, Key=key, Body=tarball, **sse_args(settings))
    return uri


def upload_data(local_dir: Path, s3_uri: str, settings: AwsSettings, session) -> str:
    """Copy a dogImages folder to S3 (KMS-encrypted with the stack's key), with a progress bar."""
    from tqdm import tqdm

    local_dir = Path(local_dir)
    files = _dataset_files(local_dir)
    bucket, prefix = split_s3_uri(s3_uri)
    s3 = session.boto_session.client("s3", region_name=settings.region)
    extra = sse_args(settings) or None
    for path in tqdm(files, desc=f"upload to {s3_uri}", unit="file"):
        key = f"{prefix.rstrip('/')}/{path.relative_to(local_dir).as_posix()}".lstrip("/")
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
    return f"s3://{bucket}/{prefix.strip('/')}/"


def _dataset_files(local_dir: Path) -> list[Path]:
    missing = [split for split in ("train", "valid", "test") if not (local_dir / split).is_dir()]
    if missing:
        raise LauncherError(
            f"{local_dir} is not a dogImages folder: missing {', '.join(m + '/' for m in missing)}"
        )
    files = sorted(p for p in local_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise LauncherError(f"{local_dir} has no files to upload")
    return files
