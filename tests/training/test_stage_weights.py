"""dogbreed-stage-weights: only a file that is what its name promises, and loads into --arch, reaches S3."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from dogbreed.pretrained import stage
from tests.training.test_pretrained_offline import staged_weights, tampered_copy

REGION = "eu-west-1"
BUCKET = "dogbreed-weights-test"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        yield client, key


def run_tool(capsys, *argv: str) -> tuple[int, str, list[str]]:
    code = stage.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err.splitlines()


def destination_flags(kms_key: str) -> list[str]:
    return ["--s3-uri", f"s3://{BUCKET}/weights/", "--kms-key", kms_key, "--region", REGION]


def stored_keys(client) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_genuine_file_lands_under_weights_arch_kms_encrypted(s3, capsys, tmp_path):
    client, kms_key = s3
    genuine = staged_weights(tmp_path)
    code, out, _ = run_tool(capsys, "--arch", "resnet18", "--file", str(genuine), *destination_flags(kms_key))

    assert code == 0
    key = f"weights/resnet18/{genuine.name}"
    assert json.loads(out)["s3_uri"] == f"s3://{BUCKET}/{key}"
    head = client.head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == kms_key
    assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == genuine.read_bytes()


def test_a_download_is_checked_against_the_hash_in_its_name(s3, capsys, tmp_path):
    """--url: torch.hub.download_url_to_file with the hash prefix of the name (file:// needs no network)."""
    client, kms_key = s3
    source = staged_weights(tmp_path / "mirror")
    downloads = tmp_path / "downloads"
    code, out, _ = run_tool(
        capsys, "--arch", "resnet18", "--url", source.as_uri(), "--download-dir", str(downloads),
        *destination_flags(kms_key),
    )  # fmt: skip
    assert code == 0, out
    assert (downloads / source.name).read_bytes() == source.read_bytes()
    assert stored_keys(client) == [f"weights/resnet18/{source.name}"]


@pytest.mark.parametrize("problem", ["tampered file", "tampered download", "another architecture"])
def test_anything_else_is_refused_in_one_line_and_nothing_is_uploaded(s3, capsys, tmp_path, problem):
    client, kms_key = s3
    genuine = staged_weights(tmp_path / "genuine")
    if problem == "tampered file":
        source = ["--file", str(tampered_copy(genuine, tmp_path / "bad"))]
    elif problem == "tampered download":
        url = tampered_copy(genuine, tmp_path / "bad").as_uri()
        source = ["--url", url, "--download-dir", str(tmp_path / "downloads")]
    else:
        source = ["--file", str(staged_weights(tmp_path / "other", arch="resnet34"))]
    code, _, errors = run_tool(capsys, "--arch", "resnet18", *source, *destination_flags(kms_key))

    assert code == 2
    assert len(errors) == 1 and errors[0].startswith("dogbreed-stage-weights: error: "), errors
    assert stored_keys(client) == []
