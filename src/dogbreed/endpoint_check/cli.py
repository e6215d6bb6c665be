"""dogbreed-check-endpoint: fail, in one line saying why, unless the endpoint serves what Terraform deployed.

    terraform -chdir=terraform output -json > outputs.json
    dogbreed-check-endpoint --terraform-outputs outputs.json
    dogbreed-check-endpoint --region eu-west-1 --endpoint-name dogbreed-endpoint \\
        --expected-config dogbreed-endpoint-2026... --model-data-url s3://... --model-sha256 <hex>

The endpoint module runs the second form after every deployment (terraform_data.post_deploy_check), the apply
workflow the first. Checks (dogbreed.endpoint_check.checks): InService on the expected configuration with no
FailureReason (after waiting out Updating/RollingBack), the artifact's S3 SHA-256 checksum, and a smoke
invocation (--no-smoke skips it). Exit 0 and one JSON line on stdout when all hold; 1 when a check fails;
2 when the inputs are incomplete. AWS permissions: sagemaker:DescribeEndpoint and sagemaker:InvokeEndpoint on
the endpoint, s3:GetObject on the artifact (HeadObject).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from dogbreed.endpoint_check.checks import (
    CheckFailed,
    Expected,
    check_artifact,
    check_deployment,
    settle,
    smoke_invocation,
)
from dogbreed.orchestration.errors import LauncherError
from dogbreed.orchestration.settings import TerraformOutputs

PROG = "dogbreed-check-endpoint"


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--terraform-outputs", type=Path, help="saved `terraform output -json` of the root stack"
    )
    parser.add_argument("--region", help="AWS region (output: region)")
    parser.add_argument("--endpoint-name", help="endpoint (output: endpoint_name)")
    parser.add_argument(
        "--expected-config", help="configuration Terraform deployed (output: endpoint_config_name)"
    )
    parser.add_argument("--model-data-url", help="published artifact (output: model_data_url)")
    parser.add_argument("--model-sha256", help="its SHA-256 (output: model_sha256)")
    parser.add_argument(
        "--smoke", action=argparse.BooleanOptionalAction, default=True, help="invoke the endpoint once"
    )
    parser.add_argument(
        "--settle-timeout", type=float, default=1800, help="seconds to wait while the endpoint is Updating"
    )
    return parser


def expected_from(args: argparse.Namespace) -> tuple[str | None, Expected | None]:
    """(region, what Terraform deployed) from the flags, else the saved outputs; (_, None): no endpoint."""
    outputs = TerraformOutputs.load(outputs_file=args.terraform_outputs) if args.terraform_outputs else None

    def pick(flag: str | None, output: str) -> str | None:
        return flag if flag is not None else (outputs.get(output) if outputs else None)

    endpoint = pick(args.endpoint_name, "endpoint_name")
    region = pick(args.region, "region")
    if endpoint is None:
        return region, None
    config = pick(args.expected_config, "endpoint_config_name")
    if not config:
        raise LauncherError(
            "no expected endpoint configuration: give --expected-config or --terraform-outputs"
        )
    url, sha = pick(args.model_data_url, "model_data_url"), pick(args.model_sha256, "model_sha256")
    if (url is None) != (sha is None):
        raise LauncherError("give the artifact's --model-data-url and --model-sha256 together")
    return region, Expected(endpoint, config, url, sha)


def run_checks(session, expected: Expected, *, smoke: bool, settle_timeout: float) -> dict:
    from botocore.config import Config

    sagemaker = session.client("sagemaker")
    description = settle(sagemaker.describe_endpoint, expected.endpoint_name, timeout_s=settle_timeout)
    check_deployment(description, expected)
    result = {"endpoint": expected.endpoint_name, "status": "InService", "config": expected.config_name}
    if expected.model_data_url is not None:
        check_artifact(session.client("s3"), expected.model_data_url, expected.model_sha256)
        result["model_sha256"] = expected.model_sha256
    if smoke:
        # The API's own advice for a model near its 60 s processing limit: a 70 s socket timeout.
        runtime = session.client(
            "sagemaker-runtime", config=Config(read_timeout=70, retries={"max_attempts": 1})
        )
        result["smoke"] = smoke_invocation(runtime, expected.endpoint_name)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = get_args_parser().parse_args(argv)
    try:
        region, expected = expected_from(args)
    except LauncherError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    if expected is None:
        print(json.dumps({"endpoint": None, "result": "no endpoint in this stack yet: nothing to check"}))
        return 0
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        result = run_checks(
            boto3.Session(region_name=region), expected, smoke=args.smoke, settle_timeout=args.settle_timeout
        )
    except CheckFailed as e:
        print(f"{PROG}: FAILED: {e}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as e:
        print(f"{PROG}: FAILED: AWS error: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
