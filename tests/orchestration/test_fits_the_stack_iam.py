"""What the launcher asks of AWS fits the least-privilege roles of the root stack (policies/*.json).

Moto does not enforce IAM, so these tests read the policy templates themselves: every object the launcher
writes must be in a prefix the notebook role may write, every job input in a prefix the training role may
read, outputs and checkpoints where it may write, and job names must match the notebook role's ARN patterns.
"""

from __future__ import annotations

import fnmatch
import json
import re

import botocore.client
import pytest
from orchestration_support import BUCKET, REGION, REPO_ROOT, run_cli, settings

from dogbreed.orchestration import launch

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
    text = (REPO_ROOT / "policies" / name).read_text()
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
    bucket, key = launch.split_s3_uri(uri)
    arn = f"arn:aws:s3:::{bucket}/{key}"
    return any(fnmatch.fnmatchcase(arn, pattern) for pattern in allowed_resources(policy_name, action))


def s3_uris(channels: list[dict]) -> list[str]:
    return [c["DataSource"]["S3DataSource"]["S3Uri"] for c in channels]


@pytest.fixture
def launched(capsys, terraform_outputs, sagemaker):
    tuning = run_cli(capsys, "tune", "--terraform-outputs", str(terraform_outputs), "--max-jobs", "2")[
        "tuning_job"
    ]
    training = run_cli(
        capsys, "train", "--terraform-outputs", str(terraform_outputs), "--from-tuning-job", tuning
    )
    return (
        sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning),
        sagemaker.describe_training_job(TrainingJobName=training["training_job"]),
    )


def test_the_policies_are_readable():
    """Guards the tests below against passing on an empty policy."""
    assert allowed_resources("notebook.json", "s3:PutObject")
    assert allowed_resources("training_job.json", "s3:GetObject")
    assert not s3_allowed("notebook.json", "s3:PutObject", f"s3://{BUCKET}/models/x/model.tar.gz")


def test_a_tune_and_train_round_fits_the_stack_iam(launched, s3, sagemaker):
    """One round of launches (they are slow), three checks."""
    objects_are_where_the_notebook_role_may_write(s3)
    jobs_read_and_write_where_the_training_role_may(*launched)
    job_names_match_what_the_notebook_role_may_create(*launched, sagemaker)


def objects_are_where_the_notebook_role_may_write(s3):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    written = [o["Key"] for page in pages for o in page.get("Contents", [])]
    by_launcher = [
        k for k in written if not k.endswith("/output/model.tar.gz")
    ]  # those come from "SageMaker"
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
    trial = launch.tuning_results(launch.make_session(settings()), tuning["HyperParameterTuningJobName"])[0]
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


def test_session_never_probes_the_bucket(aws_env, monkeypatch):
    """The notebook role may not ListBuckets, HeadBucket, ListObjects on the bare prefix or CreateBucket."""
    calls: list[str] = []
    make_api_call = botocore.client.BaseClient._make_api_call

    def recording(client, operation, params):
        calls.append(operation)
        return make_api_call(client, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    session = launch.make_session(settings())

    assert session.default_bucket() == BUCKET
    assert calls == []
    session.boto_session.client("s3").list_buckets()  # the recorder does see this session's calls
    assert calls == ["ListBuckets"]
