"""Prediction Lambda: validates an image request, calls the SageMaker endpoint, returns the top-k breeds.

Entry point ``handler.handler``. Accepts API Gateway REST (v1), HTTP API (v2) and Function URL events,
or a direct invocation whose event is the JSON request itself. See ``docs/prediction_api.md``
(the contract).

Only the standard library and boto3/botocore (both in the Lambda Python runtime) are used, so the zip holds
this file alone and cold start stays small.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import ssl
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
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

# InvokeEndpoint accepts at most 6 MB (6,291,456 bytes) of payload; stay just under it.
INVOKE_ENDPOINT_MAX_BYTES = 6 * 1024 * 1024
DEFAULT_MAX_IMAGE_BYTES = INVOKE_ENDPOINT_MAX_BYTES - 1024
DEFAULT_TOP_K = 5
MAX_TOP_K = 133  # the number of dog breeds the classifier knows
MODEL_RAW_TOP_K = 5  # how many predictions the model returns for a raw image (training/inference.py)

# Time budget. Worst case of one invocation = MAX_ATTEMPTS * (CONNECT + READ) + one standard-mode backoff
# (<= 2 s) = 2 * 22 + 2 = 46 s, plus URL_FETCH_DEADLINE_S = 51 s. The function timeout must be above that
# (Terraform sets 60 s).
SAGEMAKER_CONNECT_TIMEOUT_S = 2
SAGEMAKER_READ_TIMEOUT_S = 20
SAGEMAKER_MAX_ATTEMPTS = 2  # botocore "standard" retry mode: one retry on throttling and transient errors
URL_FETCH_DEADLINE_S = 5.0
URL_FETCH_MAX_REDIRECTS = 3

# botocore's service model for EndpointName: max 63 characters, this pattern.
_ENDPOINT_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_JSON_HEADERS = {"Content-Type": "application/json"}
_RAW_IMAGE_CONTENT_TYPES = {"image/jpeg", "image/png", "application/x-image", "application/octet-stream"}
_REQUEST_FIELDS = {"image", "url", "top_k"}

_SUPPORTED_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_UNSUPPORTED_SIGNATURES = (
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


class ApiError(Exception):
    """A failure the caller is told about: HTTP status, a CamelCase code and a short, safe message."""

    def __init__(self, status: int, code: str, message: str, detail: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail  # logged only, never returned


def _bad_request(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


# --- configuration
@dataclass(frozen=True)
class Settings:
    endpoint_name: str
    default_top_k: int
    max_image_bytes: int
    allowed_url_hosts: frozenset[str]
    url_ssl_context: ssl.SSLContext

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Reads the function's configuration; raises ApiError(500) naming the first bad variable."""
        endpoint_name = env.get("ENDPOINT_NAME", "").strip()
        if len(endpoint_name) > 63 or not _ENDPOINT_NAME_PATTERN.match(endpoint_name):
            raise ApiError(
                500,
                "Misconfiguration",
                "The function is not configured correctly.",
                detail=f"ENDPOINT_NAME is missing or invalid: {endpoint_name!r}",
            )
        return cls(
            endpoint_name=endpoint_name,
            default_top_k=_int_setting(env, "TOP_K", DEFAULT_TOP_K, 1, MAX_TOP_K),
            max_image_bytes=_int_setting(
                env, "MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES, 1, INVOKE_ENDPOINT_MAX_BYTES
            ),
            allowed_url_hosts=_parse_allowed_hosts(env.get("ALLOWED_URL_HOSTS", "")),
            # URL_FETCH_CA_BUNDLE: optional PEM file trusted for URL fetches instead of the system CAs
            # (a private CA in production, a test CA in tests).
            url_ssl_context=ssl.create_default_context(cafile=env.get("URL_FETCH_CA_BUNDLE") or None),
        )


def _int_setting(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(
            500,
            "Misconfiguration",
            "The function is not configured correctly.",
            detail=f"{name} must be an integer in {low}..{high}, got {raw!r}",
        )
    return value


def _parse_allowed_hosts(raw: str) -> frozenset[str]:
    """'a.example.com, b.example.com:8443' -> {'a.example.com:443', 'b.example.com:8443'} (lower case)."""
    hosts = set()
    for entry in filter(None, (part.strip().lower() for part in raw.split(","))):
        hosts.add(entry if re.search(r":\d+$", entry) else f"{entry}:443")
    return frozenset(hosts)


def load_settings(env: Mapping[str, str] = os.environ) -> Settings | ApiError:
    try:
        return Settings.from_env(env)
    except ApiError as error:
        return error
    except (OSError, ssl.SSLError) as error:  # unreadable URL_FETCH_CA_BUNDLE
        return ApiError(
            500,
            "Misconfiguration",
            "The function is not configured correctly.",
            detail=f"URL_FETCH_CA_BUNDLE: {error}",
        )


def make_runtime_client(
    connect_timeout: float = SAGEMAKER_CONNECT_TIMEOUT_S,
    read_timeout: float = SAGEMAKER_READ_TIMEOUT_S,
    max_attempts: int = SAGEMAKER_MAX_ATTEMPTS,
):
    """sagemaker-runtime client; boto3 resolves the endpoint, so AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME works."""
    config = BotocoreConfig(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},  # attempts incl. the first,
    )
    return boto3.client("sagemaker-runtime", config=config)


def log_json(record: dict) -> None:
    """One JSON object per line on stdout: CloudWatch Logs Insights discovers the fields by itself."""
    sys.stdout.write(json.dumps(record, default=str) + "\n")
    sys.stdout.flush()


def _runtime_client_or_error():
    try:
        return make_runtime_client()
    except BotoCoreError as error:  # e.g. no region: report it per request instead of failing the import
        return ApiError(
            500, "Misconfiguration", "The function is not configured correctly.", detail=str(error)
        )


# Created once per container.
SETTINGS = load_settings()
RUNTIME = _runtime_client_or_error()


# --- request model
@dataclass(frozen=True)
class PredictRequest:
    """A validated request: either image bytes (already decoded) or an allowed https URL, and top_k."""

    top_k: int
    image: bytes | None = None
    url: str | None = None
    source: str = "image"  # "image" (base64 JSON), "raw" (binary body) or "url"


def parse_event(event: Any, settings: Settings) -> PredictRequest:
    """Turns any supported event shape into a PredictRequest, or raises ApiError(4xx)."""
    if not isinstance(event, dict):
        raise _bad_request("InvalidRequest", "The request must be a JSON object.")
    if _is_http_event(event):
        return _parse_http_event(event, settings)
    return _parse_json_request(event, settings)


def _is_http_event(event: dict) -> bool:
    """API Gateway v1/v2 and Function URL events all carry `body` and `requestContext`/`headers`."""
    return "body" in event or "requestContext" in event or "httpMethod" in event or "routeKey" in event


def _parse_http_event(event: dict, settings: Settings) -> PredictRequest:
    body = event.get("body")
    if body is None or body == "":
        raise _bad_request("EmptyBody", "The request body is empty.")
    if not isinstance(body, str):
        raise _bad_request("InvalidRequest", "The request body must be a string.")
    _reject_oversized_text(body, settings)
    content_type = _content_type(event.get("headers"))
    payload = _b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    is_image_type = content_type in _RAW_IMAGE_CONTENT_TYPES or content_type.startswith("image/")
    if content_type == "application/json" or (not is_image_type and payload.lstrip()[:1] == b"{"):
        return _parse_json_request(_json_object(payload), settings)
    if content_type and not is_image_type:
        raise ApiError(
            415, "UnsupportedMediaType", "Send image/jpeg or image/png bytes, or an application/json request."
        )
    _check_size(len(payload), settings)
    return PredictRequest(
        top_k=_top_k(event.get("queryStringParameters") or {}, settings), image=payload, source="raw"
    )


def _content_type(headers: Any) -> str:
    if not isinstance(headers, dict):
        return ""
    for name, value in headers.items():
        if name.lower() == "content-type" and isinstance(value, str):
            return value.split(";", 1)[0].strip().lower()
    return ""


def _json_object(payload: bytes) -> dict:
    try:
        request = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad_request("InvalidJson", "The request body is not valid JSON.") from None
    if not isinstance(request, dict):
        raise _bad_request("InvalidRequest", "The request must be a JSON object.")
    return request


def _parse_json_request(request: dict, settings: Settings) -> PredictRequest:
    unknown = sorted(set(request) - _REQUEST_FIELDS)
    if unknown:
        raise _bad_request("InvalidRequest", f"Unknown field(s): {', '.join(map(str, unknown))[:100]}.")
    has_image, has_url = "image" in request, "url" in request
    if has_image == has_url:
        raise _bad_request("InvalidRequest", 'Send exactly one of "image" (base64) or "url".')
    top_k = _top_k(request, settings)
    if has_url:
        return PredictRequest(top_k=top_k, url=_allowed_url(request["url"], settings), source="url")
    image = request["image"]
    if not isinstance(image, str) or not image:
        raise _bad_request("InvalidImage", '"image" must be a non-empty base64 string.')
    _reject_oversized_text(image, settings)
    decoded = _b64decode(image)
    _check_size(len(decoded), settings)
    return PredictRequest(top_k=top_k, image=decoded, source="image")


def _top_k(source: Mapping[str, Any], settings: Settings) -> int:
    if "top_k" not in source:
        return settings.default_top_k
    value = source["top_k"]
    if isinstance(value, str) and value.isdigit():  # query strings carry text
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOP_K:
        raise _bad_request("InvalidTopK", f'"top_k" must be an integer from 1 to {MAX_TOP_K}.')
    return value


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_request("InvalidBase64", "The image is not valid base64.") from None


def _reject_oversized_text(text: str, settings: Settings) -> None:
    """Refuses a body too big to hold an allowed image in any form (base64 is 4/3), before decoding it."""
    if len(text) > settings.max_image_bytes * 4 // 3 + 64 * 1024:
        raise ApiError(413, "ImageTooLarge", f"The image must be at most {settings.max_image_bytes} bytes.")


def _check_size(size: int, settings: Settings) -> None:
    if size > settings.max_image_bytes:
        raise ApiError(413, "ImageTooLarge", f"The image must be at most {settings.max_image_bytes} bytes.")


def _allowed_url(url: Any, settings: Settings) -> str:
    if not isinstance(url, str) or not url:
        raise _bad_request("InvalidUrl", '"url" must be a non-empty string.')
    if not settings.allowed_url_hosts:
        raise _bad_request("UrlNotAllowed", "Image URLs are not accepted here; send the image instead.")
    _check_url_allowed(url, settings)
    return url


def _check_url_allowed(url: str, settings: Settings) -> None:
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise _bad_request("InvalidUrl", "The image URL is malformed.") from None
    if parts.scheme != "https":
        raise _bad_request("UrlNotAllowed", "Only https image URLs are accepted.")
    if parts.username or parts.password or not parts.hostname:
        raise _bad_request("UrlNotAllowed", "The image URL host is not allowed.")
    if f"{parts.hostname.lower()}:{port}" not in settings.allowed_url_hosts:
        raise _bad_request("UrlNotAllowed", "The image URL host is not allowed.")


# --- URL fetch
class _AllowListRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to another allowed https URL, and only a few times."""

    max_redirections = URL_FETCH_MAX_REDIRECTS

    def __init__(self, settings: Settings):
        super().__init__()
        self._settings = settings

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        _check_url_allowed(urllib.parse.urljoin(req.full_url, newurl), self._settings)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_image(url: str, settings: Settings) -> bytes:
    """Downloads an allowed https URL within URL_FETCH_DEADLINE_S and settings.max_image_bytes."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=settings.url_ssl_context),
        _AllowListRedirectHandler(settings),
    )
    deadline = time.monotonic() + URL_FETCH_DEADLINE_S
    request = urllib.request.Request(url, headers={"User-Agent": "dogbreed-predict/1.0", "Accept": "image/*"})
    try:
        with opener.open(request, timeout=URL_FETCH_DEADLINE_S) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit():
                _check_size(int(declared), settings)
            return _read_capped(response, settings.max_image_bytes, deadline, settings)
    except ApiError:
        raise
    except urllib.error.HTTPError as error:
        raise ApiError(400, "UrlFetchFailed", f"The image URL returned HTTP {error.code}.") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ApiError(
            400,
            "UrlFetchFailed",
            "The image URL could not be fetched.",
            detail=f"{type(error).__name__}: {error}",
        ) from None


def _read_capped(response, max_bytes: int, deadline: float, settings: Settings) -> bytes:
    chunks, size = [], 0
    while chunk := response.read1(64 * 1024):  # what has arrived, so the deadline is checked as data trickles
        size += len(chunk)
        _check_size(size, settings)
        if time.monotonic() > deadline:
            raise ApiError(400, "UrlFetchFailed", "The image URL took too long to download.")
        chunks.append(chunk)
    return b"".join(chunks)


# --- image + endpoint
def sniff_image_type(data: bytes) -> str:
    """Content type from the magic bytes; 415 for a known unsupported image type, 400 for anything else."""
    for signature, content_type in _SUPPORTED_SIGNATURES:
        if data.startswith(signature):
            return content_type
    unsupported = next((ct for sig, ct in _UNSUPPORTED_SIGNATURES if data.startswith(sig)), None)
    if unsupported is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        unsupported = "image/webp"
    if unsupported:
        raise ApiError(415, "UnsupportedImageType", f"{unsupported} is not supported; send JPEG or PNG.")
    raise _bad_request("NotAnImage", "The data is not a JPEG or PNG image.")


def endpoint_payload(image: bytes, content_type: str, top_k: int) -> tuple[bytes, str]:
    """The raw image with its sniffed type; the model answers raw images with its top MODEL_RAW_TOP_K.
    Only a larger top_k needs the model's JSON form ({"image": base64, "top_k": k}), 4/3 the size."""
    if top_k <= MODEL_RAW_TOP_K:
        return image, content_type
    payload = json.dumps({"image": base64.b64encode(image).decode("ascii"), "top_k": top_k}).encode()
    if len(payload) > INVOKE_ENDPOINT_MAX_BYTES:
        limit = INVOKE_ENDPOINT_MAX_BYTES * 3 // 4 // 1024
        raise ApiError(
            413, "ImageTooLarge", f"With top_k above {MODEL_RAW_TOP_K} the image must be under {limit} KiB."
        )
    return payload, "application/json"


def invoke_endpoint(client, endpoint_name: str, body: bytes, content_type: str) -> bytes:
    """Calls InvokeEndpoint; maps every failure to an ApiError."""
    try:
        response = client.invoke_endpoint(
            EndpointName=endpoint_name, Body=body, ContentType=content_type, Accept="application/json"
        )
        return response["Body"].read()
    except ClientError as error:
        raise _endpoint_error(error) from None
    except ReadTimeoutError as error:
        raise ApiError(
            504, "EndpointTimeout", "The model endpoint did not answer in time.", detail=str(error)
        ) from None
    except (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError) as error:
        raise ApiError(
            503, "EndpointUnavailable", "The model endpoint is unavailable; retry later.", detail=str(error)
        ) from None
    except NoCredentialsError as error:
        raise ApiError(
            500, "Misconfiguration", "The function is not configured correctly.", detail=str(error)
        ) from None
    except BotoCoreError as error:
        raise ApiError(
            503,
            "EndpointUnavailable",
            "The model endpoint is unavailable; retry later.",
            detail=f"{type(error).__name__}: {error}",
        ) from None


def _endpoint_error(error: ClientError) -> ApiError:
    info = error.response.get("Error", {})
    code = info.get("Code", "")
    detail = f"{code}: {info.get('Message')}"
    if code == "ModelError":
        return _model_error(error.response.get("OriginalStatusCode"), detail)
    if code in ("ThrottlingException", "ModelNotReadyException"):
        return ApiError(503, "Throttled", "The model endpoint is busy; retry later.", detail=detail)
    if code in ("ValidationError", "ServiceUnavailable", "InternalFailure", "InternalDependencyException"):
        return ApiError(
            503, "EndpointUnavailable", "The model endpoint is unavailable; retry later.", detail=detail
        )
    if code in ("AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException"):
        return ApiError(500, "Misconfiguration", "The function is not configured correctly.", detail=detail)
    return ApiError(502, "UpstreamError", "The model endpoint returned an unexpected error.", detail=detail)


def _model_error(original_status: Any, detail: str) -> ApiError:
    """The container refused or failed. Its 400 and 413 are about the image (it passed our magic-byte check
    but does not decode, or has too many pixels): the caller's to fix. Anything else is the model's fault."""
    detail = f"{detail} (original status {original_status})"
    if original_status == 400:
        return ApiError(400, "UndecodableImage", "The image data is corrupt or truncated.", detail=detail)
    if original_status == 413:
        return ApiError(413, "ImageTooLarge", "The image has too many pixels.", detail=detail)
    return ApiError(502, "ModelError", "The model could not process the image.", detail=detail)


def parse_predictions(body: bytes, top_k: int) -> list[dict]:
    """Validates the model's JSON answer and keeps the top_k predictions."""
    try:
        predictions = json.loads(body)["predictions"]
        cleaned = [
            {"label": str(p["label"]), "index": int(p["index"]), "probability": float(p["probability"])}
            for p in predictions
        ]
    except (ValueError, TypeError, KeyError) as error:
        raise ApiError(
            502,
            "InvalidModelResponse",
            "The model returned an unreadable answer.",
            detail=f"{type(error).__name__}: {body[:200]!r}",
        ) from None
    cleaned.sort(key=lambda p: p["probability"], reverse=True)
    return cleaned[:top_k]


# --- handler
def predict(request: PredictRequest, settings: Settings, client, log: dict) -> dict:
    image = request.image if request.image is not None else fetch_image(request.url, settings)
    content_type = sniff_image_type(image)
    log.update(image_bytes=len(image), image_type=content_type, top_k=request.top_k)
    payload, payload_type = endpoint_payload(image, content_type, request.top_k)
    log["payload_type"] = payload_type
    started = time.perf_counter()
    try:
        body = invoke_endpoint(client, settings.endpoint_name, payload, payload_type)
    finally:
        log["endpoint_ms"] = round((time.perf_counter() - started) * 1000, 2)
    log["response_bytes"] = len(body)
    return {"predictions": parse_predictions(body, request.top_k), "endpoint": settings.endpoint_name}


def _envelope(status: int, body: dict) -> dict:
    return {"statusCode": status, "headers": dict(_JSON_HEADERS), "body": json.dumps(body)}


def _event_kind(event: Any) -> str:
    if not isinstance(event, dict):
        return "invalid"
    if event.get("version") == "2.0":
        return "http-v2"  # HTTP API payload 2.0 and Function URLs share this shape
    if "httpMethod" in event or "resource" in event:
        return "rest-v1"
    return "http" if _is_http_event(event) else "direct"


def handler(event: Any, context: Any) -> dict:
    """Lambda entry point. Never raises; the context is read for its request id only."""
    started = time.perf_counter()
    log: dict[str, Any] = {
        "message": "predict",
        "request_id": getattr(context, "aws_request_id", None),
        "event_type": _event_kind(event),
    }
    try:
        for ready in (SETTINGS, RUNTIME):
            if isinstance(ready, ApiError):
                raise ready
        request = parse_event(event, SETTINGS)
        log["source"] = request.source
        response = _envelope(200, predict(request, SETTINGS, RUNTIME, log))
    except ApiError as error:
        log.update(error=error.code, error_detail=error.detail)
        response = _envelope(error.status, {"error": {"code": error.code, "message": error.message}})
    except Exception as error:  # the last line of defence: the caller gets a 500 envelope, the log the cause
        log.update(
            error="InternalError",
            error_detail=f"{type(error).__name__}: {error}"[:500],
            traceback=traceback.format_exc(limit=8)[-2000:],
        )
        response = _envelope(500, {"error": {"code": "InternalError", "message": "Internal error."}})
    log.update(status=response["statusCode"], latency_ms=round((time.perf_counter() - started) * 1000, 2))
    log["level"] = "ERROR" if response["statusCode"] >= 500 else "INFO"
    log_json({k: v for k, v in log.items() if v is not None})
    return response
