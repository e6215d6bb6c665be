"""The SageMaker session: it stages uploads under staging/ in the stack's bucket and never probes that bucket.

No public switch stops the probe (sagemaker 3.27, sagemaker/core/helper/session_helper.py). A bucket passed
as ``Session(default_bucket=...)`` (or as the config's ``DefaultS3Bucket``) only overrides the name: the
first ``default_bucket()`` call still runs ``_create_s3_bucket_if_it_does_not_exist``, which reads the
bucket's creation date with ListBuckets (boto3/s3/inject.py ``bucket_load``) and, when that is denied or the
bucket is not listed, sends ListObjectsV2 on the bare ``default_bucket_prefix`` (or HeadBucket), then
CreateBucket on a 404. The notebook role may send none of these (policies/notebook.json allows s3:ListBucket
only under prefixes such as ``staging/*``, and no ListAllMyBuckets or CreateBucket), and ModelTrainer always
makes that call to stage its driver scripts (``_resolve_staging_bucket`` in sagemaker/train/model_trainer.py).
``SessionSettings`` has no such flag either.

``default_bucket()`` is the public method through which the SDK reads the default bucket (the field behind it
is read elsewhere only by an ownership check that is off for a bucket the caller named), so the session
below answers it with the Terraform bucket and sends nothing. tests/orchestration/test_fits_the_stack_iam.py
proves both halves: this session sends nothing, and a plain ``Session(default_bucket=...)`` still probes
(when that test fails, the SDK has changed and this class can go).
"""

from __future__ import annotations

import functools

from dogbreed.orchestration import job_security
from dogbreed.orchestration.s3 import STAGING_PREFIX
from dogbreed.orchestration.settings import AwsSettings


@functools.cache
def stack_bucket_session_class() -> type:
    """Built on first use: importing the SDK takes seconds, which `--help` need not pay."""
    from sagemaker.core.helper.session_helper import Session

    class StackBucketSession(Session):
        """A Session whose default bucket is the stack's, taken as given (see the module docstring)."""

        def __init__(self, *, stack_bucket: str, **kwargs):
            super().__init__(default_bucket=stack_bucket, **kwargs)
            self.stack_bucket = stack_bucket

        def default_bucket(self) -> str:
            return self.stack_bucket

    return StackBucketSession


def make_session(settings: AwsSettings):
    """A SageMaker session staging uploads in the project bucket (never a sagemaker-<account> default), whose
    job requests are completed and checked by job_security (network, KMS) before they leave."""
    import boto3

    boto_session = boto3.Session(region_name=settings.region)
    job_security.register(boto_session.events, settings)
    return stack_bucket_session_class()(
        boto_session=boto_session,
        stack_bucket=settings.bucket,
        default_bucket_prefix=STAGING_PREFIX,
    )
