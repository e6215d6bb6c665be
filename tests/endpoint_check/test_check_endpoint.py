"""dogbreed-check-endpoint: ok on the configuration Terraform deployed, one clear line and exit 1 otherwise.

End to end against moto (SageMaker, S3, SageMaker Runtime in-process): a model published by the real publish
path, an endpoint on the expected configuration or on another one (what a rolled-back update leaves: moto has
no UpdateEndpoint, so the endpoint is simply created on the old configuration). The states moto cannot produce
(Updating, RollingBack, a FailureReason, a cold serverless endpoint) come from botocore Stubbers, and so does
every smoke invocation: moto's SageMaker Runtime decodes request bodies as UTF-8, so the PNG probe crashes it.
"""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from moto import mock_aws

from dogbreed.endpoint_check import checks
from dogbreed.endpoint_check.checks import CheckFailed, Expected
from dogbreed.endpoint_check.cli import main
from dogbreed.orchestration.publish import publish_artifact

ACCOUNT, REGION = "123456789012", "eu-west-1"
BUCKET = f"dogbreed-{ACCOUNT}-{REGION}"
ENDPOINT = "dogbreed-endpoint"
OLD_CONFIG, NEW_CONFIG = (
    "dogbreed-endpoint-20260101000000000000000001",
    "dogbreed-endpoint-20260102000000000000000002",
)
PREDICTIONS = {"predictions": [{"label": "Labrador_retriever", "index": 95, "probability": 0.91}]}


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


@pytest.fixture
def published(aws) -> tuple[str, str]:
    """(model_data_url, sha256) of an artifact published by dogbreed-launch publish's own code."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=BUCKET, Key="models/dogbreed-job-1/output/model.tar.gz", Body=b"weights and code")
    artifact = publish_artifact(s3, f"s3://{BUCKET}/models/dogbreed-job-1/output/model.tar.gz")
    return artifact.model_data_url, artifact.sha256


def endpoint_on(config: str, *configs: str) -> None:
    """The endpoint, running `config`; `configs` also exist (as after Terraform created the new one)."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_model(
        ModelName="dogbreed-endpoint-model",
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/dogbreed-endpoint-endpoint",
        PrimaryContainer={"Image": "pytorch-inference:2.6.0-cpu-py312", "ModelDataUrl": f"s3://{BUCKET}/m"},
    )
    for name in {config, *configs}:
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "dogbreed-endpoint-model",
                    "InstanceType": "ml.c5.xlarge",
                    "InitialInstanceCount": 2,
                }
            ],
        )
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config)


@pytest.fixture
def model_answers(monkeypatch):
    """model_answers(body): the next InvokeEndpoint answers `body` (a Stubber checks the request); every other
    client of the CLI's session stays on moto."""
    stubs: list[Stubber] = []
    real_client = boto3.Session.client

    def client(self, service_name, *args, **kwargs):
        made = real_client(self, service_name, *args, **kwargs)
        if service_name != "sagemaker-runtime":
            return made
        stub = Stubber(made)
        for body in answers:
            response = {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"}
            stub.add_response("invoke_endpoint", response, request())
        stub.activate()
        stubs.append(stub)
        return made

    answers: list[bytes] = []
    monkeypatch.setattr(boto3.Session, "client", client)
    yield answers.append
    for stub in stubs:
        stub.assert_no_pending_responses()


def flags(url: str, sha256: str, config: str = NEW_CONFIG) -> list[str]:
    """The flags terraform_data.post_deploy_check passes (terraform/modules/endpoint/checks.tf)."""
    return [
        "--region", REGION, "--endpoint-name", ENDPOINT, "--expected-config", config,
        "--model-data-url", url, "--model-sha256", sha256, "--settle-timeout", "0",
    ]  # fmt: skip


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_on_the_expected_configuration_every_check_passes(published, model_answers, capsys):
    url, sha256 = published
    endpoint_on(NEW_CONFIG, OLD_CONFIG)
    model_answers(json.dumps(PREDICTIONS).encode())

    assert main(flags(url, sha256)) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["config"] == NEW_CONFIG and result["model_sha256"] == sha256
    assert result["smoke"] == {"label": "Labrador_retriever", "probability": 0.91, "predictions": 1}


def test_a_rolled_back_update_fails_in_one_line(published, capsys):
    url, sha256 = published
    endpoint_on(OLD_CONFIG, NEW_CONFIG)  # SageMaker went back to the old configuration

    assert main(flags(url, sha256)) == 1
    line = one_line(capsys)
    assert line.startswith("dogbreed-check-endpoint: FAILED: ")
    assert f"runs endpoint configuration {OLD_CONFIG}, not {NEW_CONFIG} that Terraform deployed" in line
    assert "rolled the update back" in line


def test_the_saved_terraform_outputs_are_enough(published, model_answers, capsys, tmp_path):
    url, sha256 = published
    endpoint_on(NEW_CONFIG)
    model_answers(json.dumps(PREDICTIONS).encode())
    outputs = {
        "region": REGION,
        "endpoint_name": ENDPOINT,
        "endpoint_config_name": NEW_CONFIG,
        "model_data_url": url,
        "model_sha256": sha256,
    }
    path = tmp_path / "outputs.json"
    path.write_text(
        json.dumps({k: {"sensitive": False, "type": "string", "value": v} for k, v in outputs.items()})
    )

    assert main(["--terraform-outputs", str(path), "--settle-timeout", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["endpoint"] == ENDPOINT


def test_a_stack_without_an_endpoint_has_nothing_to_check(aws, capsys, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"region": {"value": REGION}, "endpoint_name": {"value": None}}))
    assert main(["--terraform-outputs", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["endpoint"] is None


def test_an_artifact_replaced_in_s3_fails(published, capsys):
    url, sha256 = published
    endpoint_on(NEW_CONFIG)
    key = url.removeprefix(f"s3://{BUCKET}/")
    # moto does not enforce the bucket policy that refuses this overwrite on AWS: the check still notices it.
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key=key, Body=b"something else", ChecksumAlgorithm="SHA256"
    )

    assert main([*flags(url, sha256), "--no-smoke"]) == 1
    assert f"{url} does not hold the artifact Terraform deployed" in one_line(capsys)


def test_an_artifact_without_a_checksum_fails(published, capsys):
    url, sha256 = published
    endpoint_on(NEW_CONFIG)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key="models/published/x/model.tar.gz", Body=b"x"
    )
    other = f"s3://{BUCKET}/models/published/x/model.tar.gz"

    assert main([*flags(other, sha256), "--no-smoke"]) == 1
    assert "has no SHA-256 checksum in S3" in one_line(capsys)


def test_a_model_that_answers_without_predictions_fails(published, model_answers, capsys):
    url, sha256 = published
    endpoint_on(NEW_CONFIG)
    model_answers(b'{"error": "model not loaded"}')

    assert main(flags(url, sha256)) == 1
    assert "answered without predictions" in one_line(capsys)


def test_incomplete_inputs_are_a_usage_error(aws, capsys):
    assert main(["--region", REGION, "--endpoint-name", ENDPOINT]) == 2
    assert "no expected endpoint configuration" in one_line(capsys)
    assert main(["--endpoint-name", ENDPOINT, "--expected-config", NEW_CONFIG, "--model-sha256", "ab"]) == 2
    assert "together" in one_line(capsys)


# ------------------------------------------------------------------------- states moto cannot produce


def described(status: str, config: str = NEW_CONFIG, reason: str | None = None) -> dict:
    description = {"EndpointName": ENDPOINT, "EndpointStatus": status, "EndpointConfigName": config}
    return description if reason is None else {**description, "FailureReason": reason}


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_settle_waits_out_updating_and_rolling_back():
    answers = iter(
        [described("Updating"), described("RollingBack", OLD_CONFIG), described("InService", OLD_CONFIG)]
    )
    clock = Clock()
    final = checks.settle(
        lambda **_: next(answers), ENDPOINT, timeout_s=600, poll_s=15, sleep=clock.sleep, clock=clock
    )
    assert final["EndpointConfigName"] == OLD_CONFIG and clock.now == 30
    with pytest.raises(CheckFailed, match="rolled the update back"):
        checks.check_deployment(final, Expected(ENDPOINT, NEW_CONFIG))


def test_settle_gives_up_at_its_deadline():
    clock = Clock()
    final = checks.settle(
        lambda **_: described("Updating"), ENDPOINT, timeout_s=60, poll_s=15, sleep=clock.sleep, clock=clock
    )
    assert final["EndpointStatus"] == "Updating" and clock.now == 60  # the last look is at the deadline
    with pytest.raises(CheckFailed, match="is Updating, not InService"):
        checks.check_deployment(final, Expected(ENDPOINT, NEW_CONFIG))


def test_a_failure_reason_on_the_expected_configuration_fails():
    with pytest.raises(CheckFailed, match="reports a failure: the new variant failed its health check"):
        checks.check_deployment(
            described("InService", reason="the new\nvariant failed its health check"),
            Expected(ENDPOINT, NEW_CONFIG),
        )


def test_a_failed_endpoint_says_why():
    with pytest.raises(CheckFailed, match=r"is Failed, not InService \(Image not found\)"):
        checks.check_deployment(described("Failed", reason="Image not found"), Expected(ENDPOINT, NEW_CONFIG))


def runtime_stub():
    client = boto3.client(
        "sagemaker-runtime", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def request() -> dict:
    return {"EndpointName": ENDPOINT, "Body": ANY, "ContentType": "image/png", "Accept": "application/json"}


def test_the_smoke_invocation_waits_for_a_cold_serverless_endpoint():
    client, stub = runtime_stub()
    stub.add_client_error(
        "invoke_endpoint", "ModelNotReadyException", http_status_code=429, expected_params=request()
    )
    body = json.dumps(PREDICTIONS).encode()
    stub.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"},
        request(),
    )
    waits: list[float] = []
    with stub:
        top = checks.smoke_invocation(client, ENDPOINT, attempts=3, backoff_s=5, sleep=waits.append)
    assert top["label"] == "Labrador_retriever" and waits == [5]
    stub.assert_no_pending_responses()


def test_a_model_error_is_not_retried_and_fails_in_one_line():
    client, stub = runtime_stub()
    stub.add_client_error(
        "invoke_endpoint",
        "ModelError",
        "Received server error (500) from primary\nwith message ...",
        http_status_code=424,
        expected_params=request(),
    )
    with stub, pytest.raises(CheckFailed) as failure:
        checks.smoke_invocation(client, ENDPOINT, attempts=3, sleep=pytest.fail)
    message = "Received server error (500) from primary with message ..."
    assert str(failure.value) == f"smoke invocation of {ENDPOINT} failed: ModelError: {message}"


def test_the_probe_image_is_one_the_serving_hooks_accept():
    from dogbreed.preprocessing import to_upright_rgb
    from dogbreed.serving import hooks

    request = hooks.input_fn(checks.probe_png(), "image/png")
    assert to_upright_rgb(request.image, min_side=224).mode == "RGB"
