"""Dev-only: what dev/offline_acceptance.py puts where AWS would be, one context manager or step each.

- `offline_environment`: moto (dev/offline_aws.py) with the process environment pointed at it, so boto3, the
  SageMaker SDK and the Terraform provider (from the local mirror) all reach it; restored afterwards.
- `real_model_artifacts`: every simulated training job leaves a servable model.tar.gz.
- `serve_published_model`: the local endpoint (dogbreed.local_endpoint, the real serving stack) serving the
  artifact the run published, as SageMaker Runtime for everything after it: the endpoint module's post-deploy
  check run by Terraform, and the Lambda handler.
- `configure_function_url`: the Function URL front (dev/function_url_front.py) runs the real handler with the
  environment Terraform gave the deployed function.
- `use_the_stack`: what a used deployment holds before its teardown.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dev.offline_aws import offline_aws
from dev.offline_terraform import cli_config, terraform_env, warm_plugin_cache
from dogbreed.acceptance.config import MODEL_ARCH
from dogbreed.acceptance.context import RunContext

REGION = "eu-west-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
SDK_CONFIG = "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"
RUNTIME_URL_VARIABLE = "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"


@contextlib.contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    """os.environ with VALUES set (None: removed), restored on exit."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def offline_environment() -> Iterator[str]:
    """moto with the gaps filled and SageMaker jobs simulated; yields its URL.

    The provider cache is filled first, under its lock: runs started side by side on a fresh machine would
    otherwise each install into the same empty cache ("mkdir .../linux_amd64: file exists")."""
    with tempfile.TemporaryDirectory(prefix="offline-acceptance-") as scratch, offline_aws() as endpoint:
        scratch = Path(scratch)
        (scratch / "sagemaker.yaml").write_text(SDK_CONFIG)
        terraform_config = cli_config(scratch)
        warm_plugin_cache(terraform_env(terraform_config))
        values = {
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_MAX_ATTEMPTS": "3",  # the provider retries a moto 500 for minutes otherwise
            "AWS_CONFIG_FILE": str(scratch / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-credentials"),
            "SAGEMAKER_VALIDATE_ROLE": "false",
            "SAGEMAKER_USER_CONFIG_OVERRIDE": str(scratch / "sagemaker.yaml"),
            "TF_CLI_CONFIG_FILE": str(terraform_config),
            "AWS_PROFILE": None,
            "AWS_SESSION_TOKEN": None,
            RUNTIME_URL_VARIABLE: None,
        }
        with environment(values), real_model_artifacts(scratch):
            yield endpoint


@contextlib.contextmanager
def real_model_artifacts(scratch: Path) -> Iterator[None]:
    """Every simulated training job leaves a servable model.tar.gz: the run's architecture, untrained, with
    the class names of the run's generated dataset."""
    from dogbreed.acceptance.inputs import generate_dataset
    from dogbreed.data.dogimages import class_names_of
    from dogbreed.model import build_model
    from dogbreed.packing.artifact import model_meta, pack_model_artifact
    from dogbreed.preprocessing import Preprocessing
    from tests.orchestration import fake_sagemaker

    names = class_names_of(generate_dataset(scratch / "dogImages") / "train")
    meta = model_meta(MODEL_ARCH, names, Preprocessing.for_crop(64).to_dict())
    state = build_model(MODEL_ARCH, len(names)).state_dict()
    archive = pack_model_artifact(state, meta, scratch / "model.tar.gz")
    original = fake_sagemaker._fake_model_tarball
    fake_sagemaker._fake_model_tarball = archive.read_bytes
    try:
        yield
    finally:
        fake_sagemaker._fake_model_tarball = original


@contextlib.contextmanager
def function_url_front():
    from dev.function_url_front import FunctionUrlFront

    secrets = {CREDENTIALS["AWS_ACCESS_KEY_ID"]: CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}
    with FunctionUrlFront(secrets, REGION) as front:
        yield front


def serve_published_model(ctx: RunContext, stack: contextlib.ExitStack) -> str:
    """The published artifact, downloaded from the stand-in S3, served locally; returns the runtime URL."""
    from dogbreed.local_endpoint import LocalEndpoint
    from dogbreed.orchestration.s3 import split_s3_uri

    bucket, key = split_s3_uri(ctx.values["model_data_url"])
    model = ctx.config.workdir / "served" / "model.tar.gz"
    model.parent.mkdir(parents=True, exist_ok=True)
    ctx.client("s3").download_file(bucket, key, str(model))
    served = stack.enter_context(LocalEndpoint(model, endpoint_name=ctx.config.endpoint_name, region=REGION))
    stack.enter_context(environment({RUNTIME_URL_VARIABLE: served.url}))
    return served.url


def configure_function_url(ctx: RunContext, front, stack: contextlib.ExitStack) -> None:
    """The front runs the real handler with the deployed function's environment (its AWS_IAM URL only)."""
    from dev.lambda_runtime import import_lambda_handler

    name = ctx.values["outputs"]["function_name"]
    lam = ctx.client("lambda")
    if lam.get_function_url_config(FunctionName=name, Qualifier="live")["AuthType"] != "AWS_IAM":
        raise RuntimeError("the deployed Function URL is not AWS_IAM: the front only stands in for that")
    function = lam.get_function_configuration(FunctionName=name, Qualifier="live")
    stack.enter_context(environment(dict(function["Environment"]["Variables"])))
    with contextlib.redirect_stdout(io.StringIO()):
        front.configure(import_lambda_handler(), name)


def use_the_stack(ctx: RunContext) -> None:
    """What a used deployment holds: captured requests, overwritten and deleted objects, stopped notebook."""
    bucket = (ctx.values.get("outputs") or {}).get("data_bucket_name")
    if not bucket:
        return
    s3 = ctx.client("s3")
    prefix = f"data-capture/{ctx.config.endpoint_name}/AllTraffic/2026/12/01/12"
    for index in range(3):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/capture-{index}.jsonl", Body=b'{"captureData": {}}\n')
    s3.put_object(Bucket=bucket, Key="checkpoints/used/checkpoint.pt", Body=b"first")
    s3.put_object(Bucket=bucket, Key="checkpoints/used/checkpoint.pt", Body=b"second")  # a noncurrent version
    s3.delete_object(Bucket=bucket, Key="checkpoints/used/checkpoint.pt")  # a delete marker
    ctx.client("sagemaker").stop_notebook_instance(NotebookInstanceName=f"{ctx.config.name}-notebook")
    versions = s3.list_object_versions(Bucket=bucket)
    held = len(versions.get("Versions", [])), len(versions.get("DeleteMarkers", []))
    ctx.report.notes.append(
        f"offline: before the teardown the bucket held {held[0]} object versions and {held[1]} delete "
        "markers (data capture, overwritten and deleted objects, the published model); the notebook was "
        "stopped"
    )
