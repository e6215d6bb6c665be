"""InvokeEndpoint: the sagemaker-runtime client, the request body, every failure mapped to an ApiError, the
retries that can help, and the model's answer validated. Request and answer formats: dogbreed.contract.

Retries: botocore's own are off (its standard mode also retries read timeouts and closed connections, so a
slow endpoint would run every inference twice and double its load just when it is overloaded). This module
retries, up to ENDPOINT_MAX_ATTEMPTS attempts in all, only what never reached the model or was refused
before it ran: throttling (ThrottlingException, ModelNotReadyException), the service's own transient errors
(ServiceUnavailable, InternalFailure) and connections that could not be opened (EndpointConnectionError,
ConnectTimeoutError). It sleeps a random time up to min(2^retry, 20) s before each retry (botocore's
full-jitter bound, which the Terraform timeout budget already counts). A read timeout, a connection closed
mid-answer, a ModelError and a ValidationError are answered at once.
"""

from __future__ import annotations

import base64
import json
import random
import time
from typing import Any

import boto3
from botocore.config import Config as BotocoreConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from dogbreed import contract
from dogbreed.predict_api.errors import ApiError, misconfiguration
from dogbreed.predict_api.observability import tracer
from dogbreed.predict_api.settings import EndpointClientSettings

RAW_ANSWER_TOP_K = contract.DEFAULT_TOP_K  # how many predictions the model returns for a raw image
RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "ModelNotReadyException", "ServiceUnavailable", "InternalFailure"}
)
RETRYABLE_EXCEPTIONS = (EndpointConnectionError, ConnectTimeoutError)  # the request was never sent
MAX_BACKOFF_S = 20


def make_runtime_client(settings: EndpointClientSettings):
    """sagemaker-runtime client; boto3 resolves the endpoint, so AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME works.
    One attempt per call: invoke_endpoint decides what is retried."""
    config = BotocoreConfig(
        connect_timeout=settings.connect_timeout_s,
        read_timeout=settings.read_timeout_s,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    return boto3.client("sagemaker-runtime", config=config)


def runtime_client_or_error(settings: EndpointClientSettings):
    try:
        return make_runtime_client(settings)
    except BotoCoreError as error:  # e.g. no region: report it per request instead of failing the import
        return misconfiguration(str(error))


def endpoint_payload(
    image: bytes, content_type: str, top_k: int, max_request_bytes: int = contract.INVOKE_ENDPOINT_MAX_BYTES
) -> tuple[bytes, str]:
    """The raw image with its sniffed type; the model answers raw images with its top RAW_ANSWER_TOP_K.
    Only a larger top_k needs the model's JSON form ({"image": base64, "top_k": k}), 4/3 the size. Either
    must fit the endpoint's request limit (max_request_bytes: 4 MB serverless, 6 MiB on instances)."""
    if top_k <= RAW_ANSWER_TOP_K:
        if len(image) > max_request_bytes:
            raise ApiError(413, "ImageTooLarge", f"The image must be under {max_request_bytes // 1024} KiB.")
        return image, content_type
    request = {contract.IMAGE_FIELD: base64.b64encode(image).decode("ascii"), contract.TOP_K_FIELD: top_k}
    payload = json.dumps(request).encode()
    if len(payload) > max_request_bytes:
        limit = max_request_bytes * 3 // 4 // 1024
        raise ApiError(
            413, "ImageTooLarge", f"With top_k above {RAW_ANSWER_TOP_K} the image must be under {limit} KiB."
        )
    return payload, contract.JSON_CONTENT_TYPE


@tracer.capture_method(capture_response=False)
def invoke_endpoint(
    client, endpoint_name: str, body: bytes, content_type: str, max_attempts: int = 1
) -> bytes:
    """Calls InvokeEndpoint, retrying only what a retry can help (see the module doc); maps every failure to
    an ApiError."""
    attempt = 1
    while True:
        try:
            response = client.invoke_endpoint(
                EndpointName=endpoint_name,
                Body=body,
                ContentType=content_type,
                Accept=contract.JSON_CONTENT_TYPE,
            )
            return response["Body"].read()
        except (ClientError, BotoCoreError) as error:
            failure, retryable = _classify(error)
        if not retryable or attempt >= max_attempts:
            raise failure
        time.sleep(random.uniform(0, min(2**attempt, MAX_BACKOFF_S)))
        attempt += 1


def _classify(error: ClientError | BotoCoreError) -> tuple[ApiError, bool]:
    """The ApiError for one failed attempt, and whether another attempt could succeed."""
    if isinstance(error, ClientError):
        return endpoint_error(error), error.response.get("Error", {}).get("Code") in RETRYABLE_CODES
    if isinstance(error, ReadTimeoutError):
        message = "The model endpoint did not answer in time."
        return ApiError(504, "EndpointTimeout", message, detail=str(error)), False
    if isinstance(error, RETRYABLE_EXCEPTIONS):
        return _unavailable(str(error)), True
    if isinstance(error, ConnectionClosedError):
        return _unavailable(str(error)), False
    if isinstance(error, NoCredentialsError):
        return misconfiguration(str(error)), False
    return _unavailable(f"{type(error).__name__}: {error}"), False


def endpoint_error(error: ClientError) -> ApiError:
    info = error.response.get("Error", {})
    code = info.get("Code", "")
    detail = f"{code}: {info.get('Message')}"
    if code == "ModelError":
        return model_error(error.response.get("OriginalStatusCode"), detail)
    if code in ("ThrottlingException", "ModelNotReadyException"):
        return ApiError(503, "Throttled", "The model endpoint is busy; retry later.", detail=detail)
    if code == "ValidationError" and "not found" in str(info.get("Message")):
        # "Endpoint NAME of account ACCOUNT not found.": ENDPOINT_NAME names no endpoint (or a deleted one)
        return misconfiguration(detail)
    if code in ("ValidationError", "ServiceUnavailable", "InternalFailure", "InternalDependencyException"):
        return _unavailable(detail)
    if code in ("AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException"):
        return misconfiguration(detail)
    return ApiError(502, "UpstreamError", "The model endpoint returned an unexpected error.", detail=detail)


def model_error(original_status: Any, detail: str) -> ApiError:
    """The container refused or failed. Its 400 and 413 are about the image (it passed our magic-byte check
    but does not decode, or is too large to decode): the caller's to fix. Anything else is the model's."""
    detail = f"{detail} (original status {original_status})"
    if original_status == 400:
        return ApiError(400, "UndecodableImage", "The image data is corrupt or truncated.", detail=detail)
    if original_status == 413:
        return ApiError(413, "ImageTooLarge", "The image has too many pixels to decode.", detail=detail)
    return ApiError(502, "ModelError", "The model could not process the image.", detail=detail)


def parse_predictions(body: bytes, top_k: int) -> list[dict]:
    """Validates the model's JSON answer and keeps the top_k predictions."""
    label, index, probability = contract.PREDICTION_FIELDS
    try:
        predictions = json.loads(body)["predictions"]
        cleaned = [
            {label: str(p[label]), index: int(p[index]), probability: float(p[probability])}
            for p in predictions
        ]
    except (ValueError, TypeError, KeyError) as error:
        raise ApiError(
            502,
            "InvalidModelResponse",
            "The model returned an unreadable answer.",
            detail=f"{type(error).__name__}: {body[:200]!r}",
        ) from None
    cleaned.sort(key=lambda p: p[probability], reverse=True)
    return cleaned[:top_k]


def _unavailable(detail: str) -> ApiError:
    return ApiError(
        503, "EndpointUnavailable", "The model endpoint is unavailable; retry later.", detail=detail
    )
