"""Published models are write-once and readable by the endpoint, old and new: proven on the rendered policies.

The templates are rendered as templatefile() renders them (plain `${name}` substitution; whole-value
placeholders take JSON) with the values the modules pass, then evaluated with security/iam_eval.py: a role's
identity policy and the bucket policy together, as AWS decides a same-account request (an explicit Deny in
either wins, otherwise an Allow in either grants). Moto enforces neither, so these are the proofs.
"""

from __future__ import annotations

import json
import re

import pytest

from dev.offline_terraform import REPO_ROOT
from security.iam_eval import ALLOW, DENY, IMPLICIT_DENY, Request, evaluate

POLICIES = REPO_ROOT / "policies"
ACCOUNT, REGION, PARTITION = "123456789012", "eu-west-1", "aws"
BUCKET = f"dogbreed-{ACCOUNT}-{REGION}"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
OLD_SHA, NEW_SHA = "1a" * 32, "c1" * 32
OLD_ARTIFACT = f"{BUCKET_ARN}/models/published/{OLD_SHA}/model.tar.gz"
NEW_ARTIFACT = f"{BUCKET_ARN}/models/published/{NEW_SHA}/model.tar.gz"
TRAINING_OUTPUT = f"{BUCKET_ARN}/models/dogbreed-job-1/output/model.tar.gz"
ENDPOINT = "dogbreed-endpoint"
ADMIN = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"}
ALL_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def render(template: str, **values: str) -> dict:
    text = (POLICIES / template).read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    leftover = re.findall(r"\$\{[^}]+\}", text)
    assert not leftover, f"{template}: unrendered {leftover}"
    return json.loads(text)


def common(**extra: str) -> dict[str, str]:
    return {
        "partition": PARTITION,
        "region": REGION,
        "account_id": ACCOUNT,
        "bucket": BUCKET,
        "kms_key_project_tag": "dogbreed",
        **extra,
    }


@pytest.fixture(scope="module")
def bucket_policy() -> list[dict]:
    """The data_bucket module's two documents (it merges their statements into one policy)."""
    return [
        render("s3_bucket_tls_only.json", bucket_arn=BUCKET_ARN),
        render(
            "s3_bucket_write_once.json",
            write_once_object_arns=json.dumps([f"{BUCKET_ARN}/models/published/*"]),
        ),
    ]


@pytest.fixture(scope="module")
def endpoint_role() -> dict:
    alarms = [
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{ENDPOINT}-{n}" for n in ("5xx-errors", "model-latency")
    ]
    return render(
        "endpoint.json",
        **common(
            endpoint_name=ENDPOINT,
            published_models_arn=f"{BUCKET_ARN}/models/published/*",
            rollback_alarm_arns=json.dumps(alarms),
        ),
    )


@pytest.fixture(scope="module")
def training_role() -> dict:
    return render("training_job.json", **common())


@pytest.fixture(scope="module")
def notebook_role() -> dict:
    text = (POLICIES / "notebook.json").read_text()
    # Whole-JSON-value placeholders (`..._json`: subnets, groups, instance types) take a list.
    names = set(re.findall(r"\$\{([^}]+)\}", text))
    values = {name: json.dumps([f"X{name}"]) if name.endswith("_json") else f"X{name}" for name in names}
    values = values | common()
    return render("notebook.json", **values)


def put(resource: str, *, if_none_match: str | None = None, **context) -> Request:
    if if_none_match is not None:
        context["s3:if-none-match"] = if_none_match
    return Request("s3:PutObject", resource, {"aws:SecureTransport": "true", **context}, ADMIN)


def decide(documents, request: Request) -> str:
    return evaluate(documents, request).effect


# ---------------------------------------------------------------------------------------------- the bucket


def test_a_published_key_is_created_only_by_a_conditional_put(bucket_policy):
    documents = [ALL_S3, *bucket_policy]  # even a principal allowed every S3 action
    assert decide(documents, put(NEW_ARTIFACT, if_none_match="*")) == ALLOW
    assert decide(documents, put(NEW_ARTIFACT)) == DENY  # a plain PUT would overwrite an existing key
    assert decide(documents, put(NEW_ARTIFACT, if_none_match='"some-etag"')) == DENY


def test_a_copy_or_a_multipart_part_into_the_prefix_is_refused(bucket_policy):
    # CopyObject and UploadPart are authorized as s3:PutObject and carry no If-None-Match (AWS:
    # conditional-writes-enforce.html; a multipart upload into the prefix cannot complete).
    documents = [ALL_S3, *bucket_policy]
    copy = put(
        NEW_ARTIFACT, **{"s3:x-amz-copy-source": f"{BUCKET}/models/dogbreed-job-1/output/model.tar.gz"}
    )
    assert decide(documents, copy) == DENY


def test_a_published_key_is_never_freed_by_a_delete_marker(bucket_policy):
    documents = [ALL_S3, *bucket_policy]
    delete = Request("s3:DeleteObject", OLD_ARTIFACT, {"aws:SecureTransport": "true"}, ADMIN)
    assert decide(documents, delete) == DENY
    checkpoint = Request(
        "s3:DeleteObject", f"{BUCKET_ARN}/checkpoints/x", {"aws:SecureTransport": "true"}, ADMIN
    )
    assert decide(documents, checkpoint) == ALLOW


def test_other_prefixes_keep_ordinary_writes(bucket_policy):
    documents = [ALL_S3, *bucket_policy]
    assert decide(documents, put(TRAINING_OUTPUT)) == ALLOW
    assert decide(documents, put(f"{BUCKET_ARN}/data-capture/{ENDPOINT}/x.jsonl")) == ALLOW


def test_the_write_once_rule_fails_without_its_statement(bucket_policy):
    """The proof above comes from the write-once statements, not from something else in the bucket policy."""
    tls_only = bucket_policy[:1]
    assert decide([ALL_S3, *tls_only], put(NEW_ARTIFACT)) == ALLOW


# ---------------------------------------------------------------------------------------------- the roles


def test_the_training_role_cannot_write_or_delete_published_models(training_role, bucket_policy):
    documents = [training_role, *bucket_policy]
    assert decide(documents, put(TRAINING_OUTPUT)) == ALLOW  # its own job output
    assert decide(documents, put(NEW_ARTIFACT, if_none_match="*")) == DENY  # not even a new key
    assert decide(documents, put(NEW_ARTIFACT)) == DENY
    delete = Request("s3:DeleteObject", OLD_ARTIFACT, {"aws:SecureTransport": "true"}, ADMIN)
    assert decide(documents, delete) == DENY


def test_the_notebook_publishes_only_new_objects(notebook_role, bucket_policy):
    documents = [notebook_role, *bucket_policy]
    assert decide(documents, put(NEW_ARTIFACT, if_none_match="*")) == ALLOW
    assert decide(documents, put(NEW_ARTIFACT)) == DENY
    read = Request("s3:GetObject", TRAINING_OUTPUT, {"aws:SecureTransport": "true"}, ADMIN)
    assert decide(documents, read) == ALLOW  # what publish downloads and hashes


@pytest.mark.parametrize("artifact", [OLD_ARTIFACT, NEW_ARTIFACT], ids=["old", "new"])
def test_the_endpoint_role_reads_old_and_new_published_artifacts(endpoint_role, bucket_policy, artifact):
    read = Request("s3:GetObject", artifact, {"aws:SecureTransport": "true"}, ADMIN)
    assert decide([endpoint_role, *bucket_policy], read) == ALLOW


@pytest.mark.parametrize(
    "resource",
    [
        TRAINING_OUTPUT,
        f"{BUCKET_ARN}/data/dogImages/train/x.jpg",
        "arn:aws:s3:::other-bucket/models/published/x",
    ],
    ids=["training-output", "dataset", "other-bucket"],
)
def test_the_endpoint_role_reads_nothing_unpublished(endpoint_role, resource):
    assert decide([endpoint_role], Request("s3:GetObject", resource)) == IMPLICIT_DENY


def test_the_endpoint_role_describes_exactly_its_rollback_alarms(endpoint_role):
    # AWS: the execution role needs cloudwatch:DescribeAlarms on the auto-rollback alarms.
    for name in ("5xx-errors", "model-latency"):
        alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{ENDPOINT}-{name}"
        assert decide([endpoint_role], Request("cloudwatch:DescribeAlarms", alarm)) == ALLOW
    other = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:someone-elses-alarm"
    assert decide([endpoint_role], Request("cloudwatch:DescribeAlarms", other)) == IMPLICIT_DENY
