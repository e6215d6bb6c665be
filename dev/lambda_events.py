"""The Lambda events API Gateway and Function URLs deliver, trimmed to what matters, for local runs and tests.

Each builder takes the HTTP body as Lambda sees it: text, or base64 text with ``b64=True`` (binary bodies).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field


def rest_v1_event(body: str | None, *, content_type: str = "application/json", b64: bool = False) -> dict:
    """API Gateway REST API (payload format 1.0), Lambda proxy integration."""
    return {
        "resource": "/predict",
        "path": "/predict",
        "httpMethod": "POST",
        "headers": {"Content-Type": content_type},
        "multiValueHeaders": {"Content-Type": [content_type]},
        "queryStringParameters": None,
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "prod", "httpMethod": "POST"},
        "body": body,
        "isBase64Encoded": b64,
    }


def http_v2_event(body: str | None, *, content_type: str = "application/json", b64: bool = False) -> dict:
    """API Gateway HTTP API (payload format 2.0)."""
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {"content-type": content_type},
        "requestContext": {"http": {"method": "POST", "path": "/predict"}, "requestId": str(uuid.uuid4())},
        "body": body,
        "isBase64Encoded": b64,
    }


def function_url_event(
    body: str | None, *, content_type: str = "application/json", b64: bool = False
) -> dict:
    """Lambda Function URL: the 2.0 shape with routeKey $default; binary bodies arrive base64-encoded."""
    event = http_v2_event(body, content_type=content_type, b64=b64)
    event["routeKey"] = "$default"
    event["requestContext"]["domainName"] = "abc123.lambda-url.us-east-1.on.aws"
    return event


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def events_for(image: bytes, content_type: str = "image/jpeg", top_k: int | None = None) -> dict[str, dict]:
    """The same image in every supported event form, by name."""
    request = {"image": b64(image)} | ({"top_k": top_k} if top_k else {})
    text = json.dumps(request)
    return {
        "rest-v1-json": rest_v1_event(text),
        "rest-v1-binary": rest_v1_event(b64(image), content_type=content_type, b64=True),
        "http-v2-json": http_v2_event(text),
        "http-v2-binary": http_v2_event(b64(image), content_type=content_type, b64=True),
        "function-url-json-b64": function_url_event(b64(text.encode()), b64=True),
        "direct": request,
    }


@dataclass
class FakeLambdaContext:
    """The attributes of a real LambdaContext."""

    function_name: str = "dogbreed-predict"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:dogbreed-predict"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/dogbreed-predict"
    log_stream_name: str = "2026/11/21/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
