"""The payload ceiling. A synchronous Lambda invocation carries at most 6 MB (6,291,456 bytes) of event, and a
Function URL delivers a binary body base64-encoded inside that event. The largest image MAX_IMAGE_BYTES
allows must fit a real Function URL event in every form; one byte more must get our 413 while its event
still fits, so a caller over our limit hears from us and not from the platform.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from dogbreed import contract
from dogbreed.predict_api import settings
from tests.predict.helpers import ENDPOINT_NAME, REPO_ROOT, b64, decode, function_url_event

LAMBDA_LIMIT = 6 * 1024 * 1024  # botocore lambda Invoke: "6 MB for synchronous invocations"
CEILING = settings.MAX_IMAGE_BYTES_CEILING
ANSWER = json.dumps({"predictions": [{"label": "a", "index": 0, "probability": 1.0}]}).encode()
SIGNED_HEADERS = {  # what an AWS_IAM caller with an assumed role's session credentials sends
    "authorization": "AWS4-HMAC-SHA256 "
    "Credential=ASIAEXAMPLEEXAMPLE12/20261201/eu-west-1/lambda/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="
    + "a"
    * 64,
    "x-amz-security-token": "I" * 1100,  # assumed-role session tokens run to about 1,000-1,200 characters
    "x-amz-content-sha256": "b" * 64,
    "accept": "*/*",
    "accept-encoding": "gzip, deflate",
}


def signed(event: dict) -> dict:
    event["headers"] |= SIGNED_HEADERS
    event["requestContext"]["authorizer"]["iam"]["userArn"] = (
        "arn:aws:sts::444455556666:assumed-role/caller/s"
    )
    return event


def image_of(size: int) -> bytes:
    return b"\xff\xd8\xff" + bytes(size - 3)  # a JPEG by its magic bytes, exactly `size` bytes


def events(size: int) -> dict[str, dict]:
    image = image_of(size)
    return {
        "binary body": signed(function_url_event(b64(image), content_type="image/jpeg", b64=True)),
        "JSON body": signed(
            function_url_event(json.dumps({"image": b64(image), "top_k": contract.MAX_TOP_K}))
        ),
    }


def event_bytes(event: dict) -> int:
    return len(json.dumps(event).encode())  # with separators' spaces: no smaller than Lambda's own encoding


def test_the_ceiling_is_the_documented_formula():
    assert CEILING == (LAMBDA_LIMIT - settings.EVENT_ENVELOPE_BUDGET_BYTES) // 4 * 3 == 4_694_016
    assert settings.DEFAULT_MAX_IMAGE_BYTES <= CEILING
    envelope = event_bytes(events(3)["JSON body"]) - len(b64(image_of(3)))
    assert envelope * 4 < settings.EVENT_ENVELOPE_BUDGET_BYTES  # a signed event's envelope: ample margin


@pytest.mark.parametrize("form", ["binary body", "JSON body"])
def test_the_largest_allowed_image_fits_one_synchronous_event_and_is_served(
    load_handler, lambda_context, form
):
    event = events(CEILING)[form]
    assert event_bytes(event) <= LAMBDA_LIMIT
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME, MAX_IMAGE_BYTES=str(CEILING))
    with Stubber(handler.RUNTIME) as stubber:
        stubber.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(ANSWER), len(ANSWER)), "ContentType": "application/json"},
        )
        response = handler.handler(event, lambda_context)
    assert response["statusCode"] == 200, response["body"]


@pytest.mark.parametrize("form", ["binary body", "JSON body"])
def test_one_byte_more_gets_our_413_inside_the_platform_limit(load_handler, lambda_context, form):
    event = events(CEILING + 1)[form]
    assert event_bytes(event) <= LAMBDA_LIMIT  # so Lambda delivers it and the answer is ours
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME, MAX_IMAGE_BYTES=str(CEILING))
    with Stubber(handler.RUNTIME):  # the endpoint must not be called
        response = handler.handler(event, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (413, "ImageTooLarge")


def test_a_max_image_bytes_over_the_ceiling_is_a_misconfiguration(load_handler, lambda_context):
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME, MAX_IMAGE_BYTES=str(CEILING + 1))
    response = handler.handler({"image": b64(image_of(100))}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (500, "Misconfiguration")


def test_terraform_validates_and_defaults_to_the_same_numbers():
    variables = (REPO_ROOT / "terraform" / "modules" / "predict_lambda" / "variables.tf").read_text()
    block = variables[variables.index('variable "max_image_bytes"') :].split("\n}\n", 1)[0]
    assert re.search(r"default\s*=\s*(\d+)", block)[1] == str(settings.DEFAULT_MAX_IMAGE_BYTES)
    assert f"var.max_image_bytes <= {CEILING}" in block


SERVERLESS_LIMIT = (
    4_000_000  # AWS: "The maximum request and response payload size for serverless invocations is 4 MB"
)


def invoked_body(handler, event, lambda_context) -> tuple[int, bytes | None]:
    """The status the handler answers and the InvokeEndpoint body it sent (None when it sent none)."""
    sent = []
    with Stubber(handler.RUNTIME) as stubber:
        stubber.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(ANSWER), len(ANSWER)), "ContentType": "application/json"},
        )
        handler.RUNTIME.meta.events.register(
            "before-parameter-build.sagemaker-runtime.InvokeEndpoint",
            lambda params, **_: sent.append(params["Body"]),
        )
        response = handler.handler(event, lambda_context)
    return response["statusCode"], (sent[0] if sent else None)


def test_behind_a_serverless_endpoint_the_json_form_never_exceeds_its_4_mb(load_handler, lambda_context):
    """top_k above 5 sends base64 JSON (4/3 the image): an image accepted raw may not fit that way."""
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME,
        MAX_IMAGE_BYTES=str(SERVERLESS_LIMIT),
        ENDPOINT_MAX_REQUEST_BYTES=str(SERVERLESS_LIMIT),
    )
    fits = SERVERLESS_LIMIT * 3 // 4 - 1024  # base64 plus the JSON keys stay under the limit
    status, body = invoked_body(handler, events(fits)["JSON body"], lambda_context)
    assert status == 200 and len(body) <= SERVERLESS_LIMIT
    status, body = invoked_body(handler, events(SERVERLESS_LIMIT * 3 // 4 + 1)["JSON body"], lambda_context)
    assert (status, body) == (413, None)


def test_a_raw_image_over_the_endpoint_limit_is_refused_before_the_call(load_handler, lambda_context):
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME,
        MAX_IMAGE_BYTES=str(CEILING),
        ENDPOINT_MAX_REQUEST_BYTES=str(SERVERLESS_LIMIT),
    )
    status, body = invoked_body(handler, events(SERVERLESS_LIMIT)["binary body"], lambda_context)
    assert status == 200 and len(body) == SERVERLESS_LIMIT
    status, body = invoked_body(handler, events(SERVERLESS_LIMIT + 1)["binary body"], lambda_context)
    assert (status, body) == (413, None)


def test_the_instance_endpoint_limit_is_the_default(load_handler, lambda_context):
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME)
    assert handler.SETTINGS.endpoint_max_request_bytes == contract.INVOKE_ENDPOINT_MAX_BYTES == 6_291_456


@pytest.mark.parametrize("raw", ["6291457", "1023", "4e6", "-1"])
def test_an_endpoint_limit_out_of_range_is_a_misconfiguration(load_handler, lambda_context, raw):
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME, ENDPOINT_MAX_REQUEST_BYTES=raw)
    response = handler.handler({"image": b64(image_of(100))}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (500, "Misconfiguration")


def test_terraform_passes_the_endpoint_limit_the_code_reads():
    module = REPO_ROOT / "terraform" / "modules" / "predict_lambda"
    assert (
        "ENDPOINT_MAX_REQUEST_BYTES   = tostring(var.endpoint_max_request_bytes)"
        in (module / "main.tf").read_text()
    )
    variables = (module / "variables.tf").read_text()
    block = variables[variables.index('variable "endpoint_max_request_bytes"') :].split("\n}\n", 1)[0]
    assert re.search(r"default\s*=\s*(\d+)", block)[1] == str(contract.INVOKE_ENDPOINT_MAX_BYTES)
    assert f"var.endpoint_max_request_bytes <= {contract.INVOKE_ENDPOINT_MAX_BYTES}" in block
