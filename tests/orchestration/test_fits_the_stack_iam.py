"""What the launcher asks of AWS fits the least-privilege roles of the root stack (policies/*.json).

Moto does not enforce IAM, so these tests read the policy templates themselves: every object the launcher
writes must be in a prefix the notebook role may write, every job input in a prefix the training role may
read, outputs and checkpoints where it may write, and job names must match the notebook role's ARN patterns.
"""

from __future__ import annotations

import fnmatch
import json
import re

import boto3
import botocore.client
import pytest
from orchestration_support import BUCKET, REGION, REPO_ROOT, run_cli, settings

from dogbreed.orchestration.results import tuning_results
from dogbreed.orchestration.s3 import split_s3_uri
from dogbreed.orchestration.session import make_session
from security.policy_lint import WHOLE_VALUE_PLACEHOLDER

pytestmark = pytest.mark.timeout(120)

ACCOUNT = "123456789012"
TEMPLATE_VALUES = {
    "partition": "aws",
    "region": REGION,
    "account_id": ACCOUNT,
    "bucket": BUCKET,
    "name": "dogbreed",
}


def policy(name: str) -> dict:
    """The template with the values above; a placeholder that is a whole JSON value becomes a string."""
    text = WHOLE_VALUE_PLACEHOLDER.sub(r'\1"placeholder"', (REPO_ROOT / "policies" / name).read_text())
    return json.loads(re.sub(r"\$\{(\w+)\}", lambda m: TEMPLATE_VALUES.get(m.group(1), "placeholder"), text))


def allowed_resources(policy_name: str, action: str) -> list[str]:
    resources = []
    for statement in policy(policy_name)["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and action in actions:
            found = statement["Resource"]
            resources += found if isinstance(found, list) else [found]
    return resources


def s3_allowed(policy_name: str, action: str, uri: str) -> bool:
    bucket, key = split_s3_uri(uri)
    arn = f"arn:aws:s3:::{bucket}/{key}"
    return any(fnmatch.fnmatchcase(arn, pattern) for pattern in allowed_resources(policy_name, action))


def s3_uris(channels: list[dict]) -> list[str]:
    return [c["DataSource"]["S3DataSource"]["S3Uri"] for c in channels]


# What the SDK's bucket probe sends (sagemaker/core/helper/session_helper.py, Session.default_bucket);
# the notebook role may send none of them.
BUCKET_PROBES = {"ListBuckets", "HeadBucket", "CreateBucket", "ListObjectsV2", "ListObjects"}


LISTING = {"ListObjectsV2", "ListObjects"}


class RecordedCalls(list):
    """Operation names in order; `listings`: the Prefix of every ListObjects call among them."""

    def __init__(self):
        super().__init__()
        self.listings: list[str] = []


def listable(prefix: str) -> bool:
    """The notebook role's s3:ListBucket statement allows this s3:prefix."""
    patterns = [
        pattern
        for statement in policy("notebook.json")["Statement"]
        if statement["Action"] == "s3:ListBucket"
        for pattern in statement["Condition"]["StringLike"]["s3:prefix"]
    ]
    return any(fnmatch.fnmatchcase(prefix, pattern) for pattern in patterns)


def probes_among(calls: RecordedCalls) -> set[str]:
    """Bucket probes: calls the notebook role may never send, and listings outside its listable prefixes."""
    probes = (BUCKET_PROBES - LISTING) & set(calls)
    return probes | {f"ListObjectsV2 {prefix!r}" for prefix in calls.listings if not listable(prefix)}


@pytest.fixture
def aws_calls(aws_env, monkeypatch) -> RecordedCalls:
    """Every AWS operation this process sends from now on, in order."""
    calls = RecordedCalls()
    make_api_call = botocore.client.BaseClient._make_api_call

    def recording(client, operation, params):
        calls.append(operation)
        if operation in LISTING:
            calls.listings.append(params.get("Prefix", ""))
        return make_api_call(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


@pytest.fixture
def launched(capsys, terraform_outputs, sagemaker, aws_calls):
    tuning = run_cli(capsys, "tune", "--terraform-outputs", str(terraform_outputs), "--max-jobs", "2")[
        "tuning_job"
    ]
    training = run_cli(
        capsys, "train", "--terraform-outputs", str(terraform_outputs), "--from-tuning-job", tuning
    )
    probes = probes_among(aws_calls)
    return (
        sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning),
        sagemaker.describe_training_job(TrainingJobName=training["training_job"]),
        probes,
    )


def test_the_policies_are_readable():
    """Guards the tests below against passing on an empty policy."""
    assert allowed_resources("notebook.json", "s3:PutObject")
    assert allowed_resources("training_job.json", "s3:GetObject")
    assert not s3_allowed("notebook.json", "s3:PutObject", f"s3://{BUCKET}/models/x/model.tar.gz")


def test_a_tune_and_train_round_fits_the_stack_iam(launched, s3, sagemaker):
    """One round of launches (they are slow), four checks."""
    tuning, training, bucket_probes = launched
    objects_are_where_the_notebook_role_may_write(s3)
    jobs_read_and_write_where_the_training_role_may(tuning, training)
    job_names_match_what_the_notebook_role_may_create(tuning, training, sagemaker)
    assert bucket_probes == set()  # the SDK reached the bucket only through the session's default_bucket()


def objects_are_where_the_notebook_role_may_write(s3):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    written = [o["Key"] for page in pages for o in page.get("Contents", [])]
    # model.tar.gz comes from "SageMaker", weights/ from dogbreed-stage-weights (the fixture stands in for it)
    by_launcher = [
        k for k in written if not k.endswith("/output/model.tar.gz") and not k.startswith("weights/")
    ]
    assert by_launcher
    denied = [k for k in by_launcher if not s3_allowed("notebook.json", "s3:PutObject", f"s3://{BUCKET}/{k}")]
    assert denied == []


def jobs_read_and_write_where_the_training_role_may(tuning, training):
    definition = tuning["TrainingJobDefinition"]
    reads = [
        *s3_uris(definition["InputDataConfig"]),
        definition["StaticHyperParameters"]["sagemaker_submit_directory"],
        *s3_uris(training["InputDataConfig"]),
        training["CheckpointConfig"]["S3Uri"],
    ]
    writes = [
        definition["OutputDataConfig"]["S3OutputPath"] + "job/output/model.tar.gz",
        training["OutputDataConfig"]["S3OutputPath"] + "job/output/model.tar.gz",
        training["CheckpointConfig"]["S3Uri"] + "checkpoint.pt",
    ]
    # a channel is a prefix: the role must be able to read objects under it
    assert [
        u for u in reads if not s3_allowed("training_job.json", "s3:GetObject", u.rstrip("/") + "/f")
    ] == []
    assert [u for u in writes if not s3_allowed("training_job.json", "s3:PutObject", u)] == []


def job_names_match_what_the_notebook_role_may_create(tuning, training, sagemaker):
    trial = tuning_results(make_session(settings()), tuning["HyperParameterTuningJobName"])[0]
    arns = {
        "sagemaker:CreateHyperParameterTuningJob": tuning["HyperParameterTuningJobArn"],
        "sagemaker:CreateTrainingJob": training["TrainingJobArn"],
        "sagemaker:DescribeTrainingJob": sagemaker.describe_training_job(
            TrainingJobName=trial["training_job"]
        )["TrainingJobArn"],
    }
    for action, arn in arns.items():
        assert any(fnmatch.fnmatchcase(arn, p) for p in allowed_resources("notebook.json", action)), (
            action,
            arn,
        )


def test_session_never_probes_the_bucket(aws_calls):
    """The notebook role may not ListBuckets, HeadBucket, ListObjects on the bare prefix or CreateBucket."""
    session = make_session(settings())

    assert session.default_bucket() == BUCKET
    assert aws_calls == []
    session.boto_session.client("s3").list_buckets()  # the recorder does see this session's calls
    assert aws_calls == ["ListBuckets"]


def test_the_sdk_still_probes_a_bucket_it_is_given(aws_calls):
    """Why session.py overrides default_bucket(): Session(default_bucket=...) alone still probes the bucket.

    When this fails, the SDK has stopped probing a given bucket and StackBucketSession can go.
    """
    from sagemaker.core.helper.session_helper import Session

    session = Session(
        boto_session=boto3.Session(region_name=REGION), default_bucket=BUCKET, default_bucket_prefix="code"
    )

    assert session.default_bucket() == BUCKET
    assert probes_among(aws_calls)
