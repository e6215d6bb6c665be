"""The events the prediction Lambda receives, from the sample JSON files in dev/events/, for local runs
and tests.

    function_url.json   a Function URL request (payload format 2.0, AWS_IAM auth): what the stack deploys
    direct.json         a direct invocation: the JSON request itself (`aws lambda invoke`, `dogbreed-launch
                        predict`)

Both carry the same small PNG with top_k 3, so each is a complete request as it stands.

The Function URL sample follows AWS's request payload example
(https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads). Builders take the HTTP body
as Lambda hands it over: text, or base64 text with ``b64=True`` (binary bodies are always base64-encoded).
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

EVENTS_DIR = Path(__file__).resolve().parent / "events"


@cache
def sample_event(name: str) -> dict:
    """dev/events/<name>.json, parsed once (callers get copies)."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())


def function_url_event(
    body: str | None,
    *,
    content_type: str = "application/json",
    b64: bool = False,
    query: dict[str, str] | None = None,
) -> dict:
    """A Function URL event carrying `body` (None: no body at all, as for a bodiless request)."""
    event = copy.deepcopy(sample_event("function_url"))
    event["headers"]["content-type"] = content_type
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["isBase64Encoded"] = b64
    if body is None:
        del event["body"]
    else:
        event["body"] = body
    if query:
        event["queryStringParameters"] = dict(query)
        event["rawQueryString"] = "&".join(f"{key}={value}" for key, value in query.items())
    return event


def direct_event(request: dict) -> dict:
    """A direct invocation: the request is the event (as in dev/events/direct.json)."""
    return dict(request)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def events_for(image: bytes, content_type: str = "image/jpeg", top_k: int | None = None) -> dict[str, dict]:
    """The same image in every supported event form, by name."""
    request = {"image": b64(image)} | ({"top_k": top_k} if top_k else {})
    text = json.dumps(request)
    return {
        "function-url-json": function_url_event(text),
        "function-url-binary": function_url_event(b64(image), content_type=content_type, b64=True),
        "function-url-json-b64": function_url_event(b64(text.encode()), b64=True),
        "direct": direct_event(request),
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
