"""Calling the Function URL as a client does: each request form, signed with SigV4 (service `lambda`).

Signing is botocore's own SigV4Auth on an AWSRequest, sent with urllib (no extra dependency). A request may
be signed for the deployed URL and carried to another address (``transport``): the Host header keeps the
signed host, so a stand-in that checks the signature sees what AWS would.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SERVICE = "lambda"
TOP_K = 2
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> dict:
        try:
            return json.loads(self.body or b"{}")
        except json.JSONDecodeError:
            return {}


def request_forms(image: Path) -> dict[str, tuple[str, bytes, str]]:
    """Request form -> (query, body, content type): the forms docs/prediction_api.md documents for the URL."""
    data = image.read_bytes()
    kind = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    encoded = base64.b64encode(data).decode("ascii")
    return {
        "json-base64-image": (
            "",
            json.dumps({"image": encoded, "top_k": TOP_K}).encode(),
            "application/json",
        ),
        "raw-image-bytes": (f"top_k={TOP_K}", data, kind),
        "raw-octet-stream": (f"top_k={TOP_K}", data, "application/octet-stream"),
    }


def signed_post(
    url: str,
    body: bytes,
    content_type: str,
    *,
    credentials,
    region: str,
    transport: Callable[[str], str] | None = None,
    timeout_s: float = 70,
) -> Answer:
    """POST BODY to URL signed with SigV4 for CREDENTIALS (None: unsigned)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": content_type})
    request.headers["Host"] = urllib.parse.urlsplit(url).netloc
    if credentials is not None:
        SigV4Auth(credentials, SERVICE, region).add_auth(request)
    target = transport(url) if transport else url
    sent = urllib.request.Request(target, data=body, headers=dict(request.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(sent, timeout=timeout_s) as response:
            return Answer(response.status, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read())


def call_every_form(url: str, image: Path, *, credentials, region: str, transport=None, attempts: int = 4):
    """Each request form, signed; then one unsigned request, which AWS_IAM auth must refuse with 403."""
    results = {}
    for form, (query, body, content_type) in request_forms(image).items():
        target = f"{url.rstrip('/')}/" + (f"?{query}" if query else "")
        answer = _with_retries(
            lambda t=target, b=body, c=content_type: signed_post(
                t, b, c, credentials=credentials, region=region, transport=transport
            ),
            attempts,
        )
        predictions = answer.json().get("predictions", [])
        results[form] = {
            "status": answer.status,
            "predictions": len(predictions),
            "top1": predictions[0]["label"] if predictions else None,
            "ok": answer.status == 200 and len(predictions) == TOP_K,
            "error": None if answer.status == 200 else answer.body[:300].decode("utf-8", "replace"),
        }
    _, body, content_type = request_forms(image)["json-base64-image"]
    unsigned = signed_post(url, body, content_type, credentials=None, region=region, transport=transport)
    results["unsigned-request-refused"] = {"status": unsigned.status, "ok": unsigned.status == 403}
    return results


def _with_retries(call: Callable[[], Answer], attempts: int) -> Answer:
    """A cold endpoint or Lambda may answer 5xx/429 at first: retry those with a growing pause."""
    answer = call()
    for attempt in range(1, attempts):
        if answer.status not in RETRY_STATUSES:
            break
        time.sleep(min(2**attempt, 20))
        answer = call()
    return answer
