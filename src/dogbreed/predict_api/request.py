"""The request model: a Function URL event or a direct invocation, validated into a PredictRequest.

Function URL events (payload format 2.0) are read through Powertools' `LambdaFunctionUrlEvent` data class: the
body, its base64 flag, the case-insensitive Content-Type header and ?top_k. A direct invocation's event is the
JSON request itself, `{"image": "<base64>"}` or `{"url": "https://..."}`, with an optional `top_k` (what
`dogbreed-launch predict` sends). Anything invalid raises ApiError(4xx) with a short, safe message.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent

from dogbreed import contract
from dogbreed.predict_api.errors import ApiError, bad_request, image_too_large
from dogbreed.predict_api.settings import Settings
from dogbreed.predict_api.url_fetch import check_url_allowed

URL_FIELD = "url"
REQUEST_FIELDS = contract.MODEL_REQUEST_FIELDS | {URL_FIELD}
# Raw bodies the function accepts: the model's raw image types, plus what HTTP clients send for any file.
RAW_BODY_CONTENT_TYPES = contract.RAW_IMAGE_CONTENT_TYPES | {"application/octet-stream"}
MAX_URL_LENGTH = 2048
BASE64_SLACK_BYTES = 64 * 1024  # room for the JSON around a base64 image
# ?top_k=3: ASCII digits only (str.isdigit() also accepts "²", which int() refuses), and few of them
QUERY_TOP_K = re.compile(r"[0-9]{1,3}")


@dataclass(frozen=True)
class PredictRequest:
    """A validated request: either image bytes (already decoded) or an allowed https URL, and top_k."""

    top_k: int
    image: bytes | None = None
    url: str | None = None
    source: str = "image"  # "image" (base64 JSON), "raw" (binary body) or "url"


def event_kind(event: Any) -> str:
    """'function-url', 'direct' or 'invalid'. Function URL events always carry requestContext; a direct
    request may only hold the request fields."""
    if not isinstance(event, dict):
        return "invalid"
    return "function-url" if "requestContext" in event else "direct"


def parse_event(event: Any, settings: Settings) -> PredictRequest:
    """Turns a Function URL event or a direct request into a PredictRequest, or raises ApiError(4xx)."""
    kind = event_kind(event)
    if kind == "invalid":
        raise bad_request("InvalidRequest", "The request must be a JSON object.")
    if kind == "function-url":
        return parse_function_url_event(LambdaFunctionUrlEvent(event), settings)
    return parse_json_request(event, settings)


def parse_function_url_event(event: LambdaFunctionUrlEvent, settings: Settings) -> PredictRequest:
    _check_event_shape(event)
    body = event.body
    if body is None or body == "":
        raise bad_request("EmptyBody", "The request body is empty.")
    if not isinstance(body, str):
        raise bad_request("InvalidRequest", "The request body must be a string.")
    reject_oversized_text(body, settings)
    payload = b64decode(body) if event.is_base64_encoded else body.encode("utf-8")
    content_type = _content_type(event)
    is_image_type = content_type in RAW_BODY_CONTENT_TYPES or content_type.startswith("image/")
    if content_type == contract.JSON_CONTENT_TYPE or (not is_image_type and payload.lstrip()[:1] == b"{"):
        return parse_json_request(_json_object(payload), settings)
    if content_type and not is_image_type:
        raise ApiError(
            415, "UnsupportedMediaType", "Send image/jpeg or image/png bytes, or an application/json request."
        )
    check_size(len(payload), settings)
    return PredictRequest(top_k=_query_top_k(event, settings), image=payload, source="raw")


def parse_json_request(request: Mapping[str, Any], settings: Settings) -> PredictRequest:
    unknown = sorted(set(request) - REQUEST_FIELDS)
    if unknown:
        raise bad_request("InvalidRequest", f"Unknown field(s): {', '.join(map(str, unknown))[:100]}.")
    has_image, has_url = contract.IMAGE_FIELD in request, URL_FIELD in request
    if has_image == has_url:
        raise bad_request("InvalidRequest", 'Send exactly one of "image" (base64) or "url".')
    top_k = _top_k(request, settings)
    if has_url:
        return PredictRequest(top_k=top_k, url=_allowed_url(request[URL_FIELD], settings), source="url")
    image = request[contract.IMAGE_FIELD]
    if not isinstance(image, str) or not image:
        raise bad_request("InvalidImage", '"image" must be a non-empty base64 string.')
    reject_oversized_text(image, settings)
    decoded = b64decode(image)
    check_size(len(decoded), settings)
    return PredictRequest(top_k=top_k, image=decoded, source="image")


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("InvalidBase64", "The image is not valid base64.") from None


def reject_oversized_text(text: str, settings: Settings) -> None:
    """Refuses a body too big to hold an allowed image in any form (base64 is 4/3), before decoding it."""
    if len(text) > settings.max_image_bytes * 4 // 3 + BASE64_SLACK_BYTES:
        raise image_too_large(settings.max_image_bytes)


def check_size(size: int, settings: Settings) -> None:
    if size > settings.max_image_bytes:
        raise image_too_large(settings.max_image_bytes)


def _check_event_shape(event: LambdaFunctionUrlEvent) -> None:
    """Function URL events carry headers as a map of strings and query parameters as a map (format 2.0)."""
    headers, query = event.get("headers"), event.get("queryStringParameters")
    if headers is not None and not (
        isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())
    ):
        raise bad_request("InvalidRequest", "The request headers are malformed.")
    if query is not None and not isinstance(query, dict):
        raise bad_request("InvalidRequest", "The query string is malformed.")


def _content_type(event: LambdaFunctionUrlEvent) -> str:
    value = event.headers.get("content-type")
    return value.split(";", 1)[0].strip().lower() if isinstance(value, str) else ""


def _json_object(payload: bytes) -> dict:
    try:
        request = contract.parse_json(payload)
    except contract.InvalidJson:
        raise bad_request("InvalidJson", "The request body is not valid JSON.") from None
    if not isinstance(request, dict):
        raise bad_request("InvalidRequest", "The request must be a JSON object.")
    return request


def _query_top_k(event: LambdaFunctionUrlEvent, settings: Settings) -> int:
    """Raw image bodies take top_k from the query string (?top_k=3), where every value is text (a repeated
    parameter arrives comma-joined, "1,2"; anything but a short run of ASCII digits is refused)."""
    value = event.query_string_parameters.get(contract.TOP_K_FIELD)
    if value is None:
        return settings.default_top_k
    number = int(value) if isinstance(value, str) and QUERY_TOP_K.fullmatch(value) else None
    return _top_k({contract.TOP_K_FIELD: number}, settings)


def _top_k(source: Mapping[str, Any], settings: Settings) -> int:
    if contract.TOP_K_FIELD not in source:
        return settings.default_top_k
    value = source[contract.TOP_K_FIELD]
    if not contract.is_count(value) or not 1 <= value <= contract.MAX_TOP_K:
        raise bad_request("InvalidTopK", f'"top_k" must be an integer from 1 to {contract.MAX_TOP_K}.')
    return value


def _allowed_url(url: Any, settings: Settings) -> str:
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_LENGTH:
        raise bad_request("InvalidUrl", f'"url" must be a string of 1 to {MAX_URL_LENGTH} characters.')
    if not settings.allowed_url_hosts:
        raise bad_request("UrlNotAllowed", "Image URLs are not accepted here; send the image instead.")
    check_url_allowed(url, settings)
    return url
