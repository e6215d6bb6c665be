"""Teardown of a stack that holds data: kept without the opt-in, deleted with every version with it.

The whole used stack's destroy (objects and versions, data capture, a stopped notebook, endpoint
configurations) is planned and applied by the offline acceptance run (tests/acceptance/test_offline_run.py).
Here, what `allow_destroy_data` changes, against moto with the provider's own force_destroy: the root stack's
bucket with its configuration and the destroy guard applied alone, given objects, versions and a delete
marker, then destroyed without the opt-in (refused before anything of the bucket is touched) and with it.
And the bucket policy's side, by evaluation: the write-once rule refuses a plain delete of a published model
but not the version deletes with which the provider empties the bucket.
"""

from __future__ import annotations

import json

import boto3
import pytest

from dev import offline_terraform as terraform
from dev.offline_aws import offline_aws
from dev.offline_terraform import TerraformError
from security.iam_eval import ALLOW, DENY, Request, evaluate
from tests.infra.test_write_once_policies import ADMIN, ALL_S3, BUCKET_ARN, OLD_ARTIFACT, bucket_policy  # noqa: F401

REGION = terraform.REGION
NAME = "teardown"
BUCKET = f"{NAME}-123456789012-{REGION}"
TARGET = "-target=module.data_bucket.terraform_data.destroy_guard"  # the bucket, its configuration, the key


def fill(s3) -> int:
    """Objects, noncurrent versions and a delete marker, as a used stack has; returns the version count."""
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for key in ("data/dogImages/train/a/1.jpg", "data-capture/e/AllTraffic/1.jsonl"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="checkpoints/run/checkpoint.pt", Body=b"1")
    s3.put_object(Bucket=BUCKET, Key="checkpoints/run/checkpoint.pt", Body=b"2")
    s3.delete_object(Bucket=BUCKET, Key="checkpoints/run/checkpoint.pt")
    return len(s3.list_object_versions(Bucket=BUCKET)["Versions"])


def assert_still_protected(s3) -> None:
    """The kept bucket keeps what protects its data: versioning, its policy, encryption, no public access."""
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert (
        "PublishedObjectsAreCreatedOnlyByConditionalPutsIfNoneMatch"
        in s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    )
    rule = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]


def bucket_exists(s3) -> bool:
    return BUCKET in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]


@pytest.mark.slow
@pytest.mark.terraform
@pytest.mark.timeout(600)
def test_destroy_keeps_the_bucket_intact_unless_opted_in_then_deletes_every_version(tmp_path, tf_env):
    stack = tmp_path / "stack"
    terraform.stage_stack(terraform.REPO_ROOT, stack)
    root = stack / "terraform"
    keep, delete = tmp_path / "keep.tfvars.json", tmp_path / "delete.tfvars.json"
    keep.write_text(json.dumps({"name": NAME, "region": REGION}))
    delete.write_text(json.dumps({"name": NAME, "region": REGION, "allow_destroy_data": True}))
    with offline_aws() as endpoint:  # moto, the bucket policy's conditions evaluated as AWS does
        env = {**tf_env, **terraform.FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION}
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing")  # fmt: skip
        terraform.run(["init", "-input=false"], root, env)
        terraform.run(["apply", "-input=false", "-auto-approve", TARGET, f"-var-file={keep}"], root, env)
        assert fill(s3) == 4  # the module's versioning is on; fill() enables it again harmlessly

        with pytest.raises(TerraformError, match="apply with allow_destroy_data = true"):
            terraform.run(["destroy", "-input=false", "-auto-approve", f"-var-file={keep}"], root, env)
        assert bucket_exists(s3) and len(s3.list_object_versions(Bucket=BUCKET)["Versions"]) == 4
        assert_still_protected(s3)

        # The opt-in reaches the provider through the state: apply it, then destroy.
        terraform.run(["apply", "-input=false", "-auto-approve", TARGET, f"-var-file={delete}"], root, env)
        terraform.run(["destroy", "-input=false", "-auto-approve", f"-var-file={delete}"], root, env)
        assert not bucket_exists(s3)


def test_the_write_once_rule_lets_the_provider_empty_the_bucket(bucket_policy):  # noqa: F811
    """force_destroy deletes object versions (DeleteObjects with VersionIds: s3:DeleteObjectVersion), which
    the bucket policy leaves to IAM; a plain DeleteObject of a published model stays refused."""
    context = {"aws:SecureTransport": "true"}
    documents = [ALL_S3, *bucket_policy]
    version_delete = Request("s3:DeleteObjectVersion", OLD_ARTIFACT, context, ADMIN)
    assert evaluate(documents, version_delete).effect == ALLOW
    assert evaluate(documents, Request("s3:DeleteObject", OLD_ARTIFACT, context, ADMIN)).effect == DENY
    for action, resource in [("s3:ListBucketVersions", BUCKET_ARN), ("s3:DeleteBucket", BUCKET_ARN)]:
        assert evaluate(documents, Request(action, resource, context, ADMIN)).effect == ALLOW
