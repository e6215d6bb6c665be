"""The launcher drives the real SageMaker SDK v3 against a moto server; the jobs moto records are checked."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
from orchestration_support import BUCKET, run_cli, settings

from dogbreed.orchestration import sdk
from dogbreed.orchestration.hyperparameters import to_cli_args
from dogbreed.orchestration.results import best_training_job, tuning_results
from dogbreed.orchestration.s3 import split_s3_uri, upload_source_tarball
from dogbreed.orchestration.session import make_session
from dogbreed.orchestration.specs import TrainSpec
from dogbreed.training.metrics import METRIC_DEFINITIONS, OBJECTIVE_METRIC, OBJECTIVE_TYPE
from dogbreed.training.train import get_args_parser

pytestmark = pytest.mark.timeout(120)


def channel(job: dict, name: str) -> str:
    return next(c for c in job["InputDataConfig"] if c["ChannelName"] == name)["DataSource"]["S3DataSource"][
        "S3Uri"
    ]


def read_s3(s3, uri: str) -> str:
    return read_s3_bytes(s3, uri).decode()


def read_s3_bytes(s3, uri: str) -> bytes:
    bucket, key = split_s3_uri(uri)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def tarball_members(s3, uri: str) -> set[str]:
    bucket, key = split_s3_uri(uri)
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) as tar:
        return set(tar.getnames())


def assert_kms_encrypted_like_the_outputs(s3, uri: str, output_data_config: dict) -> None:
    bucket, key = split_s3_uri(uri)
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert output_data_config["KmsKeyId"] == head["SSEKMSKeyId"]


def keys_under(s3, uri: str) -> set[str]:
    bucket, prefix = split_s3_uri(uri)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix.rstrip("/") + "/")
    return {o["Key"][len(prefix.rstrip("/")) + 1 :] for page in pages for o in page.get("Contents", [])}


@pytest.fixture
def tuning_job(capsys, terraform_outputs, aws_env) -> str:
    result = run_cli(
        capsys, "tune", "--terraform-outputs", str(terraform_outputs),
        "--tune-freeze-backbone", "--max-jobs", "4", "--max-parallel-jobs", "2", "--hp", "epochs=3",
    )  # fmt: skip
    return result["tuning_job"]


def test_tuning_job_has_the_ranges_objective_and_metric_definitions(tuning_job, sagemaker, s3):
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job)
    config = described["HyperParameterTuningJobConfig"]

    assert config["HyperParameterTuningJobObjective"] == {
        "Type": OBJECTIVE_TYPE,
        "MetricName": OBJECTIVE_METRIC,
    }
    assert (
        described["TrainingJobDefinition"]["AlgorithmSpecification"]["MetricDefinitions"]
        == METRIC_DEFINITIONS
    )
    ranges = config["ParameterRanges"]
    assert ranges["ContinuousParameterRanges"] == [
        {"Name": "learning-rate", "MinValue": "0.0001", "MaxValue": "0.1", "ScalingType": "Logarithmic"}
    ]
    assert ranges["CategoricalParameterRanges"] == [
        {"Name": "batch-size", "Values": ["32", "64", "128"]},
        {"Name": "freeze-backbone", "Values": ["true", "false"]},
    ]
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2}
    assert config["TrainingJobEarlyStoppingType"] == "Auto"

    trials_run_train_py_from_a_kms_encrypted_source_tarball(described["TrainingJobDefinition"], s3)
    every_tuned_combination_parses_in_train_py(tuning_job, described["TrainingJobDefinition"])


def trials_run_train_py_from_a_kms_encrypted_source_tarball(definition, s3):
    static = definition["StaticHyperParameters"]
    assert static["sagemaker_program"] == "train.py"
    assert static["epochs"] == "3"
    assert definition["ResourceConfig"]["InstanceCount"] == 1
    assert definition["EnableManagedSpotTraining"] is True
    assert_kms_encrypted_like_the_outputs(
        s3, static["sagemaker_submit_directory"], definition["OutputDataConfig"]
    )


def every_tuned_combination_parses_in_train_py(tuning_job, definition):
    static = {k: v for k, v in definition["StaticHyperParameters"].items() if not k.startswith("sagemaker_")}
    trials = tuning_results(make_session(settings()), tuning_job)
    assert len(trials) == 4
    for trial in trials:
        tuned = {k: trial[k] for k in ("learning-rate", "batch-size", "freeze-backbone")}
        args = get_args_parser().parse_args(to_cli_args({**static, **tuned}))
        assert args.batch_size in (32, 64, 128)
        assert 1e-4 <= args.learning_rate <= 1e-1


def test_distributed_job_from_the_best_trial(tuning_job, capsys, terraform_outputs, sagemaker, s3):
    best = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job)[
        "BestTrainingJob"
    ]

    name = run_cli(
        capsys, "train", "--terraform-outputs", str(terraform_outputs),
        "--from-tuning-job", tuning_job, "--instance-count", "2", "--max-run", "3600", "--max-wait", "7200",
    )["training_job"]  # fmt: skip
    job = sagemaker.describe_training_job(TrainingJobName=name)

    assert job["ResourceConfig"]["InstanceCount"] == 2
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert job["CheckpointConfig"]["S3Uri"].startswith(f"s3://{BUCKET}/checkpoints/dogbreed-")
    assert job["CheckpointConfig"]["LocalPath"] == "/opt/ml/checkpoints"
    # the best trial's tuned values, plus the tuning job's static ones
    assert job["HyperParameters"] == {"epochs": "3", **best["TunedHyperParameters"]}
    args = get_args_parser().parse_args(to_cli_args(job["HyperParameters"]))
    assert args.learning_rate == float(best["TunedHyperParameters"]["learning-rate"])
    assert channel(job, "training") == f"s3://{BUCKET}/data/dogImages/"
    # one source for both kinds of job: the trials' tarball is the distributed job's code channel
    definition = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job)[
        "TrainingJobDefinition"
    ]
    assert channel(job, "code") == definition["StaticHyperParameters"]["sagemaker_submit_directory"]


def test_distributed_job_runs_train_py_under_torchrun(capsys, terraform_outputs, sagemaker, s3):
    name = run_cli(
        capsys, "train", "--terraform-outputs", str(terraform_outputs),
        "--hp", "learning-rate=0.001", "--hp", "batch_size=64",
    )["training_job"]  # fmt: skip
    job = sagemaker.describe_training_job(TrainingJobName=name)
    drivers = channel(job, "sm_drivers")

    assert json.loads(read_s3(s3, f"{drivers}/distributed.json")) == {
        "process_count_per_node": None,
        "smp": None,
    }
    script = read_s3(s3, f"{drivers}/sm_train.sh")
    assert "torchrun_driver.py" in script
    assert "tar -xzf sourcedir.tar.gz" in script  # the code channel is unpacked before torchrun starts
    assert json.loads(read_s3(s3, f"{drivers}/sourcecode.json"))["entry_script"] == "train.py"
    assert channel(job, "code").endswith("/sourcedir.tar.gz")
    assert_kms_encrypted_like_the_outputs(s3, channel(job, "code"), job["OutputDataConfig"])
    code = tarball_members(s3, channel(job, "code"))
    assert {"train.py", "dogbreed/training/metrics.py", "dogbreed/serving/hooks.py"} <= code
    assert not {k for k in code if "notebooks/" in k or "orchestration/" in k or "__pycache__" in k}
    assert job["HyperParameters"] == {"learning-rate": "0.001", "batch-size": "64"}
    get_args_parser().parse_args(to_cli_args(job["HyperParameters"]))


def test_the_job_name_is_read_from_the_sdks_public_output_data(aws_env, sagemaker):
    """sagemaker 3.27's ModelTrainer.train() returns None; sdk.started_training_job_name reads the job it
    created from the public ``output_data`` property. This fails when the SDK changes that layout."""
    session, stack = make_session(settings()), settings()
    spec = TrainSpec(instance_count=1, checkpoint_s3_uri=f"s3://{BUCKET}/checkpoints/t/")
    trainer = sdk.build_distributed_trainer(spec, stack, session, upload_source_tarball(session, stack))
    trainer.train(input_data_config=sdk.data_inputs(spec, stack), wait=False, logs=False)

    name = sdk.started_training_job_name(trainer)
    assert [j["TrainingJobName"] for j in sagemaker.list_training_jobs()["TrainingJobSummaries"]] == [name]
    assert trainer.output_data == f"s3://{BUCKET}/models/{name}/output/output.tar.gz"


def test_single_instance_on_demand_job(capsys, terraform_outputs, sagemaker):
    name = run_cli(
        capsys, "train", "--terraform-outputs", str(terraform_outputs),
        "--instance-count", "1", "--no-spot", "--instance-type", "ml.g4dn.xlarge",
    )["training_job"]  # fmt: skip
    job = sagemaker.describe_training_job(TrainingJobName=name)
    assert job["ResourceConfig"]["InstanceCount"] == 1
    assert job["ResourceConfig"]["InstanceType"] == "ml.g4dn.xlarge"
    assert job["EnableManagedSpotTraining"] is False
    assert "MaxWaitTimeInSeconds" not in job["StoppingCondition"]


def test_publish_records_the_best_model_for_terraform_and_ssm(
    tuning_job, capsys, terraform_outputs, tmp_path
):
    tfvars = tmp_path / "terraform" / "model.auto.tfvars.json"
    result = run_cli(
        capsys, "publish", "--terraform-outputs", str(terraform_outputs),
        "--tuning-job", tuning_job, "--tfvars", str(tfvars), "--ssm-parameter", "/dogbreed/model_data_url",
    )  # fmt: skip
    session = make_session(settings())
    best = best_training_job(session, tuning_job)
    source = f"s3://{BUCKET}/models/{best.training_job}/output/model.tar.gz"
    sha256 = hashlib.sha256(read_s3_bytes(session.boto_session.client("s3"), source)).hexdigest()
    expected = f"s3://{BUCKET}/models/published/{sha256}/model.tar.gz"

    assert json.loads(tfvars.read_text()) == {"model_data_url": expected, "model_sha256": sha256}
    assert result["model_data_url"] == expected and result["source"] == source and result["created"] is True
    ssm = session.boto_session.client("ssm")
    assert ssm.get_parameter(Name="/dogbreed/model_data_url")["Parameter"]["Value"] == expected


def test_dry_run_sends_nothing(capsys, terraform_outputs, sagemaker, s3):
    before = keys_under(s3, f"s3://{BUCKET}/")
    tune = run_cli(capsys, "tune", "--terraform-outputs", str(terraform_outputs), "--dry-run")["dry_run"]
    train = run_cli(capsys, "train", "--terraform-outputs", str(terraform_outputs), "--dry-run")["dry_run"]

    assert sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    assert keys_under(s3, f"s3://{BUCKET}/") == before
    assert tune["HyperparameterTuner"]["objective_metric_name"] == OBJECTIVE_METRIC
    assert (
        tune["HyperparameterTuner"]["hyperparameter_ranges"]["learning-rate"]["scaling_type"] == "Logarithmic"
    )
    assert train["ModelTrainer"]["compute"]["instance_count"] == 2
    assert train["ModelTrainer"]["distributed"] == {"Torchrun": {}}
    assert train["ModelTrainer"]["training_image"].endswith("pytorch-training:2.10-gpu-py313")
