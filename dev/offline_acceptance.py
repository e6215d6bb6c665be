"""Dev-only: `make aws-acceptance OFFLINE=1` — every step of dogbreed-acceptance against the stand-ins.

    python -m dev.offline_acceptance --spend                          # the whole run, then the teardown
    python -m dev.offline_acceptance                                  # estimate only: creates nothing
    python -m dev.offline_acceptance --spend --inject-failure train   # a step fails: the teardown still runs

The same product code runs (dogbreed.acceptance.cli.main), with the environment and hooks below:

- AWS is a moto server in this process (dev/offline_aws.py: the gaps a full `terraform apply` needs filled,
  SageMaker jobs simulated by tests/orchestration/fake_sagemaker.py); boto3, the SageMaker SDK and the
  Terraform provider reach it through AWS_ENDPOINT_URL, with the provider from the local mirror.
- The simulated training jobs leave a real, untrained model.tar.gz (the packing code, the real serving hooks),
  so the endpoint behind the Function URL serves exactly the artifact the run published.
- The Function URL is dev/function_url_front.py: it checks the SigV4 signature with botocore, builds the
  Function URL event and runs the real handler in-process with the environment Terraform gave the deployed
  function; the handler calls the local endpoint (dogbreed.local_endpoint) serving the published model.
- Before the teardown the stand-in "uses" the stack as a deployment would: data-capture objects, an
  overwritten and a deleted object (noncurrent versions, a delete marker), so the destroy meets real data.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from dev.offline_aws import offline_aws
from dev.offline_terraform import cli_config
from dogbreed.acceptance import cli
from dogbreed.acceptance.config import MODEL_ARCH
from dogbreed.acceptance.context import Hooks, RunContext

REGION = "eu-west-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
SDK_CONFIG = "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"
STAND_INS = {
    "preflight": "moto STS and Lambda (account 123456789012 and moto's concurrency quota)",
    "stage": "the provider from the local mirror (dev/offline_terraform.py cli_config)",
    "apply-base": "terraform apply against moto (dev/offline_aws.py fills the gaps the provider needs)",
    "upload": "moto S3",
    "tune": "moto SageMaker + tests/orchestration/fake_sagemaker.py: the request is recorded, the trial and "
    "its model.tar.gz simulated (a real, untrained model)",
    "train": "moto SageMaker + fake_sagemaker: the two-instance job request is recorded, no container runs",
    "publish": "moto S3",
    "apply-serving": "terraform apply against moto (no container: the endpoint is InService at once)",
    "function-url": "dev/function_url_front.py: SigV4 checked by botocore, the real handler in-process with "
    "the deployed function's environment, the local endpoint serving the published model.tar.gz",
    "autoscaling": "moto Application Auto Scaling, CloudWatch and Budgets",
    "teardown-destroy": "terraform destroy against moto, after the stand-in added data-capture objects, "
    "noncurrent versions and a delete marker",
}


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spend", action="store_true", help="run every step (nothing is billed offline)")
    parser.add_argument("--inject-failure", metavar="STEP", help="make STEP fail after it started")
    parser.add_argument("--name", help="stack name (default: a new acc-... name)")
    parser.add_argument("--work-root", type=Path, help="where the run's directory goes (default .acceptance/)")
    parser.add_argument("--report-dir", type=Path, help="also copy the report here")
    return parser


class InjectedFailure(RuntimeError):
    """The failure --inject-failure asked for."""


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    forwarded = ["--region", REGION, "--job-timeout", "120"]
    forwarded += ["--spend"] if args.spend else []
    forwarded += ["--name", args.name] if args.name else []
    forwarded += ["--work-root", str(args.work_root)] if args.work_root else []
    forwarded += ["--report-dir", str(args.report_dir)] if args.report_dir else []
    with offline_environment() as endpoint, _function_url_front() as front, contextlib.ExitStack() as stack:
        hooks = Hooks(
            mode="offline",
            before_step=_before_step(endpoint, front, stack, args.inject_failure),
            transport=front.transport,
            stand_ins=STAND_INS,
        )
        return cli.main(forwarded, hooks=hooks)


@contextlib.contextmanager
def offline_environment() -> Iterator[str]:
    """moto with the gaps filled, the process environment pointed at it (restored afterwards)."""
    with tempfile.TemporaryDirectory(prefix="offline-acceptance-") as scratch, offline_aws() as endpoint:
        scratch = Path(scratch)
        (scratch / "sagemaker.yaml").write_text(SDK_CONFIG)
        environment = {
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_MAX_ATTEMPTS": "3",  # the provider retries a moto 500 for minutes otherwise
            "AWS_CONFIG_FILE": str(scratch / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-credentials"),
            "SAGEMAKER_VALIDATE_ROLE": "false",
            "SAGEMAKER_USER_CONFIG_OVERRIDE": str(scratch / "sagemaker.yaml"),
            "TF_CLI_CONFIG_FILE": str(cli_config(scratch)),
        }
        removed = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME")
        saved = {name: os.environ.get(name) for name in [*environment, *removed]}
        os.environ.update(environment)
        for name in removed:
            os.environ.pop(name, None)
        try:
            with _real_model_artifacts(scratch):
                yield endpoint
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextlib.contextmanager
def _real_model_artifacts(scratch: Path) -> Iterator[None]:
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
    archive = pack_model_artifact(build_model(MODEL_ARCH, len(names)).state_dict(), meta, scratch / "model.tar.gz")
    original = fake_sagemaker._fake_model_tarball
    fake_sagemaker._fake_model_tarball = archive.read_bytes
    try:
        yield
    finally:
        fake_sagemaker._fake_model_tarball = original


@contextlib.contextmanager
def _function_url_front():
    from dev.function_url_front import FunctionUrlFront

    with FunctionUrlFront({CREDENTIALS["AWS_ACCESS_KEY_ID"]: CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}, REGION) as front:
        yield front


def _before_step(endpoint: str, front, stack: contextlib.ExitStack, inject_failure: str | None):
    def before_step(name: str, ctx: RunContext) -> None:
        if name == "function-url":
            _serve_the_published_model(ctx, front, stack)
        if name == "teardown-stop-jobs":
            _use_the_stack(ctx)
        if name == inject_failure:
            raise InjectedFailure(f"failure injected into {name} (dev/offline_acceptance.py --inject-failure)")

    return before_step


def _serve_the_published_model(ctx: RunContext, front, stack: contextlib.ExitStack) -> None:
    """The deployed function's environment and the published artifact, served locally."""
    from dev.lambda_runtime import import_lambda_handler
    from dogbreed.local_endpoint import LocalEndpoint
    from dogbreed.orchestration.s3 import split_s3_uri

    outputs = ctx.values["outputs"]
    lam = ctx.client("lambda")
    function = lam.get_function_configuration(FunctionName=outputs["function_name"], Qualifier="live")
    if lam.get_function_url_config(FunctionName=outputs["function_name"], Qualifier="live")["AuthType"] != "AWS_IAM":
        raise RuntimeError("the deployed Function URL is not AWS_IAM: the front only stands in for that")
    bucket, key = split_s3_uri(ctx.values["model_data_url"])
    model = ctx.config.workdir / "served" / "model.tar.gz"
    model.parent.mkdir(parents=True, exist_ok=True)
    ctx.client("s3").download_file(bucket, key, str(model))
    served = stack.enter_context(LocalEndpoint(model, endpoint_name=outputs["endpoint_name"], region=REGION))
    environment = {**function["Environment"]["Variables"], "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": served.url}
    stack.enter_context(_environment(environment))
    with contextlib.redirect_stdout(io.StringIO()):
        front.configure(import_lambda_handler(), outputs["function_name"])


def _use_the_stack(ctx: RunContext) -> None:
    """What a used deployment holds: captured requests, overwritten and deleted objects."""
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
    versions = s3.list_object_versions(Bucket=bucket)
    ctx.report.notes.append(
        f"offline: before the teardown the bucket held {len(versions.get('Versions', []))} object versions and "
        f"{len(versions.get('DeleteMarkers', []))} delete markers (data capture, overwritten and deleted objects)"
    )


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


if __name__ == "__main__":
    sys.exit(main())
