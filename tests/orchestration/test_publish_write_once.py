"""`publish` records the artifact's SHA-256 and writes it once: a conditional PUT to models/published/<sha>/.

Against this suite's moto server (which honours If-None-Match but, unlike AWS, neither enforces the bucket
policy nor checks a ChecksumSHA256): the request publish sends is captured from botocore, so the headers AWS
acts on are asserted exactly. The bucket policy and role policies that make the prefix write-once on AWS are
proven in tests/infra/test_write_once_policies.py.
"""

from __future__ import annotations

import base64
import hashlib
import json

import boto3
import pytest
from botocore.stub import Stubber
from orchestration_support import BUCKET, REGION, run_cli

from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.publish import publish_artifact

SOURCE_KEY = "models/dogbreed-job-1/output/model.tar.gz"
SOURCE = f"s3://{BUCKET}/{SOURCE_KEY}"
ARTIFACT = b"model.pt and code/inference.py, gzipped" * 1000
SHA256 = hashlib.sha256(ARTIFACT).hexdigest()
PUBLISHED_KEY = f"models/published/{SHA256}/model.tar.gz"
PUBLISHED = f"s3://{BUCKET}/{PUBLISHED_KEY}"


@pytest.fixture
def s3(aws_env):
    client = boto3.client("s3", region_name=REGION)
    client.put_object(Bucket=BUCKET, Key=SOURCE_KEY, Body=ARTIFACT)
    return client


@pytest.fixture
def sent_puts(s3):
    """The PutObject requests the client sends: (key, headers), as they leave botocore."""
    puts: list[tuple[str, dict]] = []

    def record(request, **_):
        if request.method == "PUT":
            puts.append((request.url.split(f"{BUCKET}/", 1)[1], dict(request.headers)))

    s3.meta.events.register("before-send.s3.PutObject", record)
    return puts


def header(headers: dict, name: str) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value.decode() if isinstance(value, bytes) else value


def test_publish_writes_the_artifact_under_its_hash_with_a_conditional_put(s3, sent_puts):
    artifact = publish_artifact(s3, SOURCE, kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/k")

    assert (artifact.model_data_url, artifact.sha256, artifact.created) == (PUBLISHED, SHA256, True)
    assert s3.get_object(Bucket=BUCKET, Key=PUBLISHED_KEY)["Body"].read() == ARTIFACT
    [(key, headers)] = sent_puts
    assert key == PUBLISHED_KEY
    assert header(headers, "If-None-Match") == "*"  # AWS refuses (412) rather than overwrite
    assert header(headers, "x-amz-checksum-sha256") == base64.b64encode(bytes.fromhex(SHA256)).decode()
    assert header(headers, "x-amz-server-side-encryption") == "aws:kms"
    assert header(headers, "x-amz-server-side-encryption-aws-kms-key-id").endswith(":key/k")
    assert "x-amz-copy-source" not in {k.lower() for k in headers}  # one PUT, no copy, no multipart
    stored = s3.head_object(Bucket=BUCKET, Key=PUBLISHED_KEY, ChecksumMode="ENABLED")["ChecksumSHA256"]
    assert stored == base64.b64encode(bytes.fromhex(SHA256)).decode()


def test_publishing_the_same_bytes_again_overwrites_nothing(s3, sent_puts):
    first = publish_artifact(s3, SOURCE)
    version = s3.head_object(Bucket=BUCKET, Key=PUBLISHED_KEY)["ETag"]
    again = publish_artifact(s3, SOURCE)

    assert (again.model_data_url, again.created) == (first.model_data_url, False)
    assert [header(h, "If-None-Match") for _, h in sent_puts] == ["*", "*"]  # the second was refused (412)
    assert s3.head_object(Bucket=BUCKET, Key=PUBLISHED_KEY)["ETag"] == version


def test_a_published_key_holding_other_bytes_is_refused(s3):
    # On AWS the bucket policy refuses this plain PUT; moto lets it through: a stand-in for a tampered object.
    s3.put_object(Bucket=BUCKET, Key=PUBLISHED_KEY, Body=b"not the model", ChecksumAlgorithm="SHA256")
    with pytest.raises(LauncherError, match="exists but its SHA-256 checksum is .*not these bytes"):
        publish_artifact(s3, SOURCE)
    assert s3.get_object(Bucket=BUCKET, Key=PUBLISHED_KEY)["Body"].read() == b"not the model"


def test_republishing_a_published_url_verifies_it_and_sends_no_put(s3, sent_puts):
    publish_artifact(s3, SOURCE)
    sent_puts.clear()
    again = publish_artifact(s3, PUBLISHED)
    assert (again.model_data_url, again.sha256, again.created) == (PUBLISHED, SHA256, False)
    assert sent_puts == []


def test_a_published_url_whose_bytes_are_not_its_name_is_refused(s3):
    wrong = f"models/published/{'0' * 64}/model.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=wrong, Body=ARTIFACT)
    with pytest.raises(LauncherError, match=f"is named after {'0' * 64} but its SHA-256 is {SHA256}"):
        publish_artifact(s3, f"s3://{BUCKET}/{wrong}")


def test_a_concurrent_publish_asks_to_publish_again(s3):
    stub = Stubber(s3)
    stub.add_response("head_object", {"ContentLength": len(ARTIFACT)})
    stub.add_response("get_object", {"Body": _body(ARTIFACT)})
    stub.add_client_error("put_object", "ConditionalRequestConflict", http_status_code=409)
    with stub, pytest.raises(LauncherError, match="in progress: publish again"):
        publish_artifact(s3, SOURCE)


def test_an_artifact_too_large_for_one_put_is_refused_before_any_download(s3):
    stub = Stubber(s3)
    stub.add_response("head_object", {"ContentLength": 5 * 1024**3 + 1})
    with stub, pytest.raises(LauncherError, match="one PUT of at most 5 GiB"):
        publish_artifact(s3, SOURCE)
    stub.assert_no_pending_responses()


def test_the_cli_records_url_and_hash_for_terraform(s3, capsys, terraform_outputs, tmp_path):
    tfvars = tmp_path / "model.auto.tfvars.json"
    result = run_cli(
        capsys, "publish", "--terraform-outputs", str(terraform_outputs), "--model-data", SOURCE,
        "--tfvars", str(tfvars),
    )  # fmt: skip
    assert json.loads(tfvars.read_text()) == {"model_data_url": PUBLISHED, "model_sha256": SHA256}
    assert (result["source"], result["created"]) == (SOURCE, True)


def _body(data: bytes):
    import io

    from botocore.response import StreamingBody

    return StreamingBody(io.BytesIO(data), len(data))
