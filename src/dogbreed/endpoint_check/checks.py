"""What dogbreed-check-endpoint verifies after a deployment, one function per check.

- `settle` waits while SageMaker is still deploying or rolling back (DescribeEndpoint's transitional states).
- `check_deployment`: the endpoint is InService on the configuration Terraform created, with no FailureReason.
  hashicorp/aws reports an update that SageMaker rolled back as a success (terraform-provider-aws#46663,
  #48997): the endpoint then still runs the previous configuration, which only this comparison reveals.
- `check_artifact`: the artifact's S3 SHA-256 checksum (stored by dogbreed-launch publish, which uploads it in
  one PutObject with ChecksumSHA256) is the hash the model name was built from.
- `smoke_invocation`: one InvokeEndpoint with a generated PNG must answer predictions. Rollback alarms see
  nothing while nobody calls the endpoint (no invocation, no metric); this call acts with no traffic.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dogbreed import contract

# DescribeEndpoint's EndpointStatus values while SageMaker is still working (botocore sagemaker model).
SETTLING_STATES = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
# InvokeEndpoint errors a later attempt can cure: a serverless endpoint still provisioning, or a throttle.
RETRYABLE_INVOKE_ERRORS = frozenset({"ModelNotReadyException", "ThrottlingException", "ServiceUnavailable"})


class CheckFailed(Exception):
    """A check did not hold; the message is one line saying what and what to do."""


@dataclass(frozen=True)
class Expected:
    """What Terraform deployed."""

    endpoint_name: str
    config_name: str
    model_data_url: str | None = None
    model_sha256: str | None = None


def settle(
    describe: Callable[..., Mapping[str, Any]],
    endpoint_name: str,
    *,
    timeout_s: float,
    poll_s: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Mapping[str, Any]:
    """DescribeEndpoint once the endpoint left the transitional states (or the last one at the deadline)."""
    deadline = clock() + timeout_s
    while True:
        description = describe(EndpointName=endpoint_name)
        if description.get("EndpointStatus") not in SETTLING_STATES or clock() + poll_s > deadline:
            return description
        sleep(poll_s)


def check_deployment(description: Mapping[str, Any], expected: Expected) -> None:
    name = expected.endpoint_name
    status = description.get("EndpointStatus")
    actual = description.get("EndpointConfigName")
    reason = " ".join(str(description.get("FailureReason") or "").split())
    if status != "InService":
        raise CheckFailed(
            f"endpoint {name} is {status}, not InService ({reason or 'no FailureReason given'})"
        )
    if actual != expected.config_name:
        raise CheckFailed(
            f"endpoint {name} runs endpoint configuration {actual}, not {expected.config_name} that "
            f"Terraform deployed: SageMaker rolled the update back ({reason or 'no FailureReason given'}); "
            "the previous configuration still serves, see docs/infra.md#rollback"
        )
    if reason:
        raise CheckFailed(f"endpoint {name} is on {actual} but reports a failure: {reason}")


def sha256_checksum(hex_digest: str) -> str:
    """S3's ChecksumSHA256 form of a hex SHA-256: the base64 of the 32 bytes."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def check_artifact(s3, model_data_url: str, model_sha256: str) -> None:
    bucket, _, key = model_data_url.removeprefix("s3://").partition("/")
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    stored = head.get("ChecksumSHA256")
    if stored is None:
        raise CheckFailed(
            f"{model_data_url} has no SHA-256 checksum in S3: it was not written by dogbreed-launch publish"
        )
    if stored != sha256_checksum(model_sha256):
        raise CheckFailed(
            f"{model_data_url} does not hold the artifact Terraform deployed: its SHA-256 checksum is "
            f"{stored}, model_sha256 {model_sha256} is {sha256_checksum(model_sha256)}"
        )


def probe_png(size: int = 64) -> bytes:
    """A small valid RGB PNG (standard library only): any image gets predictions from a healthy model."""
    row = [
        b"\x00" + b"".join(bytes((x * 4 % 256, y * 4 % 256, 128)) for x in range(size)) for y in range(size)
    ]
    rows = b"".join(row)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def smoke_invocation(
    runtime,
    endpoint_name: str,
    *,
    attempts: int = 5,
    backoff_s: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """InvokeEndpoint with probe_png(); returns the top prediction. Retries only what a retry can cure."""
    from botocore.exceptions import ClientError

    for attempt in range(1, attempts + 1):
        try:
            response = runtime.invoke_endpoint(
                EndpointName=endpoint_name,
                Body=probe_png(),
                ContentType="image/png",
                Accept=contract.JSON_CONTENT_TYPE,
            )
            return _top_prediction(endpoint_name, response["Body"].read())
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in RETRYABLE_INVOKE_ERRORS or attempt == attempts:
                message = " ".join(str(error.response.get("Error", {}).get("Message", "")).split())
                raise CheckFailed(f"smoke invocation of {endpoint_name} failed: {code}: {message}") from None
            sleep(backoff_s)
    raise AssertionError("unreachable")


def _top_prediction(endpoint_name: str, body: bytes) -> dict[str, Any]:
    try:
        predictions = json.loads(body)["predictions"]
        top = predictions[0]
        if not all(field in top for field in contract.PREDICTION_FIELDS):
            raise KeyError(contract.PREDICTION_FIELDS)
    except (ValueError, KeyError, IndexError, TypeError):
        raise CheckFailed(
            f"smoke invocation of {endpoint_name} answered without predictions: {body[:200]!r}"
        ) from None
    return {"label": top["label"], "probability": top["probability"], "predictions": len(predictions)}
