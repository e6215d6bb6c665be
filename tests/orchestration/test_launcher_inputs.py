"""Where the launcher's AWS values come from, and how it refuses bad input (one line, nothing sent)."""

from __future__ import annotations

import base64
import importlib
import io
import json
import subprocess
import sys
import tomllib
from types import SimpleNamespace

import botocore.session
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from orchestration_support import BUCKET, REGION, REPO_ROOT, TRAINING_ROLE

from dogbreed.orchestration import cli
from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.invoke import predict
from dogbreed.orchestration.publish import PublishedArtifact, write_tfvars
from dogbreed.orchestration.s3 import default_checkpoint_uri
from dogbreed.orchestration.settings import AwsSettings, resolve_settings
from dogbreed.orchestration.source import source_tarball

pytestmark = pytest.mark.timeout(120)


def run_cli_failing(capsys, *argv: str) -> str:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    return lines[-1]


def test_settings_come_from_terraform_outputs(terraform_outputs):
    settings = resolve_settings(terraform_outputs=terraform_outputs)
    assert settings.region == REGION
    assert settings.bucket == BUCKET
    assert settings.training_role_arn == TRAINING_ROLE
    assert settings.kms_key_arn.startswith(f"arn:aws:kms:{REGION}:")


def test_flags_win_over_terraform_outputs(terraform_outputs):
    settings = resolve_settings(
        region="eu-west-1", bucket="other", role="arn:aws:iam::1:role/x", terraform_outputs=terraform_outputs
    )
    assert (settings.region, settings.bucket, settings.training_role_arn) == (
        "eu-west-1",
        "other",
        "arn:aws:iam::1:role/x",
    )


def test_job_prefix_follows_the_stack_name(tmp_path):
    outputs = {
        "region": REGION,
        "data_bucket_name": BUCKET,
        "training_role_arn": TRAINING_ROLE,
        "name": "mydogs",
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({k: {"value": v} for k, v in outputs.items()}))
    settings = resolve_settings(terraform_outputs=path)
    assert (settings.training_job_base, settings.tuning_job_base) == ("mydogs", "mydogs-hpo")
    assert default_checkpoint_uri(settings).startswith(f"s3://{BUCKET}/checkpoints/mydogs-")
    assert resolve_settings(job_prefix="other", terraform_outputs=path).job_prefix == "other"


def test_flags_alone_need_no_terraform(tmp_path):
    settings = resolve_settings(
        region=REGION, bucket=BUCKET, role=TRAINING_ROLE, kms_key="k", terraform_dir=tmp_path / "absent"
    )
    assert settings == AwsSettings(REGION, BUCKET, TRAINING_ROLE, "k")


@pytest.mark.parametrize(
    ("missing_output", "flag"),
    [("training_role_arn", "--role"), ("data_bucket_name", "--bucket"), ("region", "--region")],
)
def test_missing_value_is_one_line_naming_flag_and_output(capsys, tmp_path, missing_output, flag):
    outputs = {"region": REGION, "data_bucket_name": BUCKET, "training_role_arn": TRAINING_ROLE}
    del outputs[missing_output]
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({k: {"value": v} for k, v in outputs.items()}))

    line = run_cli_failing(capsys, "train", "--terraform-outputs", str(path), "--dry-run")

    assert flag in line
    assert missing_output in line
    assert line.startswith("dogbreed-launch train: error:")


def test_without_any_source_the_error_says_where_to_look(capsys, tmp_path):
    line = run_cli_failing(capsys, "tune", "--terraform-dir", str(tmp_path), "--dry-run")
    assert "--region" in line
    assert "terraform" in line


def test_unreadable_outputs_file_is_a_clear_error(capsys, tmp_path):
    broken = tmp_path / "outputs.json"
    broken.write_text("{not json")
    assert "not valid JSON" in run_cli_failing(
        capsys, "tune", "--terraform-outputs", str(broken), "--dry-run"
    )
    missing = tmp_path / "absent.json"
    assert "does not exist" in run_cli_failing(
        capsys, "tune", "--terraform-outputs", str(missing), "--dry-run"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--instance-count", "0"], "instance count must be >= 1"),
        (["train", "--max-run", "3600", "--max-wait", "600"], "max wait (600 s) must be >= max run (3600 s)"),
        (["train", "--instance-type", "g5.xlarge"], "must be a SageMaker type"),
        (["train", "--no-spot", "--max-wait", "7200"], "max wait only applies to spot training"),
        (["train", "--volume-size", "0"], "volume size must be >= 1 GB"),
        (["train", "--data", "/local/dogImages"], "must be an s3:// URI"),
        (["train", "--hp", "epochs"], "is not NAME=VALUE"),
        (["train", "--hp", "lr=0.1"], "unrecognized arguments: --lr 0.1"),
        (["train", "--hp", "epochs=0"], "--epochs must be positive"),
        (["train", "--hp", "freeze-backbone=maybe"], "expected true or false"),
        (["tune", "--lr-min", "0.1", "--lr-max", "0.01"], "need 0 < lr-min < lr-max"),
        (["tune", "--max-jobs", "2", "--max-parallel-jobs", "3"], "max parallel jobs <= max jobs"),
        (["tune", "--hp", "learning-rate=0.1"], "are tuned; do not also pass them"),
        (["tune", "--batch-sizes", "0"], "batch sizes must be positive"),
        (
            ["tune", "--tune-freeze-backbone", "--hp", "cache-features=true"],
            "--cache-features needs --freeze-backbone",
        ),
    ],
)
def test_bad_job_input_is_refused_before_anything_is_sent(
    capsys, terraform_outputs, sagemaker, argv, message
):
    line = run_cli_failing(capsys, *argv, "--terraform-outputs", str(terraform_outputs))
    assert message in line
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    assert sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []


def test_tuning_trials_can_train_the_head_on_cached_features(capsys, terraform_outputs):
    argv = ["tune", "--hp", "freeze-backbone=true", "--hp", "cache-features=true", "--dry-run"]
    assert cli.main([*argv, "--terraform-outputs", str(terraform_outputs)]) == 0
    request = json.dumps(json.loads(capsys.readouterr().out)["dry_run"]["ModelTrainer"])
    assert '"cache-features": "true"' in request and '"freeze-backbone": "true"' in request


def test_unknown_tuning_job_is_a_clear_error(capsys, terraform_outputs, aws_env):
    line = run_cli_failing(
        capsys, "train", "--terraform-outputs", str(terraform_outputs), "--from-tuning-job", "nope"
    )
    assert "nope" in line
    assert "Could not find" in line


def test_publish_refuses_a_model_that_is_not_there(capsys, terraform_outputs, tmp_path, aws_env):
    tfvars = tmp_path / "model.auto.tfvars.json"
    line = run_cli_failing(
        capsys, "publish", "--terraform-outputs", str(terraform_outputs),
        "--model-data", f"s3://{BUCKET}/models/missing/output/model.tar.gz", "--tfvars", str(tfvars),
    )  # fmt: skip
    assert "cannot be read" in line
    assert not tfvars.exists()


def test_publish_refuses_what_is_not_a_model_archive(capsys, terraform_outputs, tmp_path, aws_env):
    line = run_cli_failing(
        capsys, "publish", "--terraform-outputs", str(terraform_outputs),
        "--model-data", f"s3://{BUCKET}/models/x/model.pt", "--tfvars", str(tmp_path / "t.json"),
    )  # fmt: skip
    assert "is not a model.tar.gz" in line


def test_publish_dry_run_writes_nothing(capsys, terraform_outputs, tmp_path, aws_env):
    tfvars = tmp_path / "model.auto.tfvars.json"
    url = f"s3://{BUCKET}/models/job/output/model.tar.gz"
    code = cli.main(
        [
            "publish",
            "--terraform-outputs",
            str(terraform_outputs),
            "--model-data",
            url,
            "--tfvars",
            str(tfvars),
            "--dry-run",
        ]
    )
    assert code == 0
    dry_run = json.loads(capsys.readouterr().out)["dry_run"]
    assert dry_run["source"] == url
    assert dry_run["publish_to"] == f"s3://{BUCKET}/models/published/<sha256>/model.tar.gz"
    assert not tfvars.exists()


def test_tfvars_is_replaced_whole(tmp_path):
    path = tmp_path / "model.auto.tfvars.json"
    path.write_text('{"model_data_url": "s3://old/model.tar.gz", "stale": 1}')
    new = PublishedArtifact(
        "s3://b/models/published/" + "a" * 64 + "/model.tar.gz", "a" * 64, "s3://b/x", True
    )
    write_tfvars(new, path)
    assert json.loads(path.read_text()) == {"model_data_url": new.model_data_url, "model_sha256": "a" * 64}
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_upload_data_refuses_a_folder_that_is_not_dogimages(tmp_path, capsys, terraform_outputs, aws_env):
    (tmp_path / "train").mkdir()
    line = run_cli_failing(
        capsys, "upload-data", str(tmp_path), "--terraform-outputs", str(terraform_outputs)
    )
    assert "missing valid/, test/" in line


def test_upload_data_copies_the_layout_encrypted(tmp_path, capsys, terraform_outputs, s3):
    for split in ("train", "valid", "test"):
        folder = tmp_path / "dogImages" / split / "001.Affenpinscher"
        folder.mkdir(parents=True)
        (folder / "a.jpg").write_bytes(b"jpeg")
    code = cli.main(
        ["upload-data", str(tmp_path / "dogImages"), "--terraform-outputs", str(terraform_outputs)]
    )
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out) == {"data": f"s3://{BUCKET}/data/dogImages/"}
    head = s3.head_object(Bucket=BUCKET, Key="data/dogImages/valid/001.Affenpinscher/a.jpg")
    assert head["ServerSideEncryption"] == "aws:kms"


def test_source_tarball_is_reproducible_and_holds_only_training_code():
    import io
    import tarfile

    first, second = source_tarball(), source_tarball()
    assert first == second
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        names = tar.getnames()
    assert "train.py" in names
    assert "dogbreed/training/metrics.py" in names
    assert not [n for n in names if "notebooks" in n or "orchestration" in n or "__pycache__" in n]


@pytest.mark.parametrize(
    ("command", "flags"),
    [
        ([], ["upload-data", "predict"]),
        (["upload-data"], ["--dest"]),
        (["tune"], ["--tune-freeze-backbone", "--dry-run"]),
        (["results"], ["--plot"]),
        (["train"], ["--from-tuning-job", "--checkpoint-s3-uri"]),
        (["publish"], ["--ssm-parameter"]),
        (["predict"], ["--function-name"]),
    ],
)
def test_help_runs_as_a_script_from_any_directory(tmp_path, command, flags):
    result = subprocess.run(
        [sys.executable, "-m", "dogbreed.orchestration.cli", *command, "--help"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {' '.join(['dogbreed-launch', *command])} ")
    assert all(flag in result.stdout for flag in flags)


def test_the_console_script_runs_the_cli():
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["dogbreed-launch"].partition(":")
    assert getattr(importlib.import_module(module), function) is cli.main


def stubbed_session(stubber_client):
    return SimpleNamespace(boto_session=SimpleNamespace(client=lambda service: stubber_client))


def lambda_answer(status: int, body: dict) -> dict:
    payload = json.dumps({"statusCode": status, "headers": {}, "body": json.dumps(body)}).encode()
    return {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(payload), len(payload))}


def test_predict_sends_the_image_as_the_lambdas_json_request(tmp_path):
    image = tmp_path / "dog.jpg"
    image.write_bytes(b"\xff\xd8\xffjpeg bytes")
    client = botocore.session.get_session().create_client("lambda", region_name=REGION)
    answer = {"predictions": [{"label": "Akita", "index": 3, "probability": 0.9}]}
    request = {"image": base64.b64encode(image.read_bytes()).decode(), "top_k": 2}
    with Stubber(client) as stubber:
        stubber.add_response(
            "invoke",
            lambda_answer(200, answer),
            {"FunctionName": "dogbreed-predict", "Payload": json.dumps(request).encode()},
        )
        assert predict(stubbed_session(client), "dogbreed-predict", image, top_k=2) == answer
        stubber.assert_no_pending_responses()


def test_predict_error_answer_is_one_clear_line(tmp_path):
    image = tmp_path / "dog.jpg"
    image.write_bytes(b"not an image")
    client = botocore.session.get_session().create_client("lambda", region_name=REGION)
    error = {"error": {"code": "UnsupportedImage", "message": "The image could not be read."}}
    with Stubber(client) as stubber:
        stubber.add_response("invoke", lambda_answer(400, error), {"FunctionName": "f", "Payload": ANY})
        with pytest.raises(LauncherError, match="f answered 400: The image could not be read."):
            predict(stubbed_session(client), "f", image)


def test_predict_needs_a_deployed_function(tmp_path, capsys):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({"region": REGION, "data_bucket_name": BUCKET, "training_role_arn": TRAINING_ROLE})
    )
    line = run_cli_failing(capsys, "predict", str(tmp_path / "x.jpg"), "--terraform-outputs", str(outputs))
    assert "no function_name" in line
    assert "terraform apply" in line
