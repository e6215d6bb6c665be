"""Table-driven bad input: each case gets its status and error code, and the endpoint is never called."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from tests.predict.helpers import (
    ENDPOINT_NAME,
    b64,
    decode,
    function_url_event,
    image_bytes,
)

HTML = b"<!doctype html><html><body>not an image</body></html>"
GIF = image_bytes("GIF")
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20
TEN_MB = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)
JPEG_B64 = b64(image_bytes())
DIGITS_5000 = "9" * 5000  # past Python's 4,300-digit limit for int(): a ValueError inside the parser
DEEP_JSON = "[" * 100_000 + "]" * 100_000  # past the JSON scanner's recursion limit: RecursionError


def raw_jpeg_event(query: dict) -> dict:
    return function_url_event(JPEG_B64, content_type="image/jpeg", b64=True, query=query)


CASES = [
    # (name, event, status, code)
    ("empty body", function_url_event(""), 400, "EmptyBody"),
    ("function URL, no body", function_url_event(None), 400, "EmptyBody"),
    ("body not a string", function_url_event("x") | {"body": 12}, 400, "InvalidRequest"),
    ("invalid JSON", function_url_event("{not json"), 400, "InvalidJson"),
    ("JSON array", function_url_event("[1, 2]"), 400, "InvalidRequest"),
    ("non-base64 image", {"image": "***not base64***"}, 400, "InvalidBase64"),
    (
        "non-base64 binary body",
        function_url_event("%%%", content_type="image/jpeg", b64=True),
        400,
        "InvalidBase64",
    ),
    ("empty image", {"image": ""}, 400, "InvalidImage"),
    ("image not a string", {"image": 12}, 400, "InvalidImage"),
    ("HTML bytes as image", {"image": b64(HTML)}, 400, "NotAnImage"),
    (
        "HTML bytes as jpeg body",
        function_url_event(b64(HTML), content_type="image/jpeg", b64=True),
        400,
        "NotAnImage",
    ),
    (
        "HTML page body",
        function_url_event(HTML.decode(), content_type="text/html"),
        415,
        "UnsupportedMediaType",
    ),
    ("GIF", {"image": b64(GIF)}, 415, "UnsupportedImageType"),
    (
        "GIF body",
        function_url_event(b64(GIF), content_type="image/gif", b64=True),
        415,
        "UnsupportedImageType",
    ),
    ("WebP", {"image": b64(WEBP)}, 415, "UnsupportedImageType"),
    (
        "10 MB body",
        function_url_event(b64(TEN_MB), content_type="image/jpeg", b64=True),
        413,
        "ImageTooLarge",
    ),
    ("10 MB image in JSON", {"image": b64(TEN_MB)}, 413, "ImageTooLarge"),
    ("url from a host not allowed", {"url": "https://evil.example.net/dog.jpg"}, 400, "UrlNotAllowed"),
    ("allowed host, other port", {"url": "https://images.example.com:8443/dog.jpg"}, 400, "UrlNotAllowed"),
    ("http url", {"url": "http://images.example.com/dog.jpg"}, 400, "UrlNotAllowed"),
    ("file url", {"url": "file:///etc/passwd"}, 400, "UrlNotAllowed"),
    ("credentials in url", {"url": "https://u:p@images.example.com/dog.jpg"}, 400, "UrlNotAllowed"),
    ("url not a string", {"url": ["https://images.example.com/a.jpg"]}, 400, "InvalidUrl"),
    ("url too long", {"url": "https://images.example.com/" + "a" * 3000}, 400, "InvalidUrl"),
    ("top_k as a JSON string", {"image": b64(image_bytes()), "top_k": "3"}, 400, "InvalidTopK"),
    # hostile numbers, nesting, encodings and shapes: each once raised inside the handler (a 500)
    (
        "top_k of 5,000 digits in JSON",
        function_url_event(f'{{"image": "{JPEG_B64}", "top_k": {DIGITS_5000}}}'),
        400,
        "InvalidTopK",
    ),
    ("top_k of 5,000 digits, direct", {"image": JPEG_B64, "top_k": 10**5000}, 400, "InvalidTopK"),
    ("top_k of 5,000 digits in the query", raw_jpeg_event({"top_k": DIGITS_5000}), 400, "InvalidTopK"),
    (
        "negative 5,000-digit top_k",
        function_url_event(f'{{"image": "x", "top_k": -{DIGITS_5000}}}'),
        400,
        "InvalidTopK",
    ),
    (
        "5,000-digit float top_k",
        function_url_event(f'{{"image": "x", "top_k": {DIGITS_5000}.5}}'),
        400,
        "InvalidTopK",
    ),
    ("JSON nested 100,000 deep", function_url_event(DEEP_JSON), 400, "InvalidJson"),
    (
        "object nested 100,000 deep",
        function_url_event('{"a": ' * 100_000 + "1" + "}" * 100_000),
        400,
        "InvalidJson",
    ),
    (
        "JSON that is not UTF-8",
        function_url_event(b64(b'{"image": "\xff\xfe"}'), b64=True),
        400,
        "InvalidJson",
    ),
    ("non-ASCII digit top_k in the query", raw_jpeg_event({"top_k": "²"}), 400, "InvalidTopK"),
    ("Arabic-Indic digit top_k in the query", raw_jpeg_event({"top_k": "٣"}), 400, "InvalidTopK"),
    ("non-ASCII digit top_k in JSON", {"image": JPEG_B64, "top_k": "²"}, 400, "InvalidTopK"),
    ("query parameter given as a list", raw_jpeg_event({"top_k": ["1", "2"]}), 400, "InvalidTopK"),
    ("repeated query parameter (comma-joined)", raw_jpeg_event({"top_k": "1,2"}), 400, "InvalidTopK"),
    ("query parameter given as a number", raw_jpeg_event({"top_k": 3}), 400, "InvalidTopK"),
    (
        "query string given as a list",
        function_url_event(JPEG_B64, content_type="image/jpeg", b64=True)
        | {"queryStringParameters": ["top_k"]},
        400,
        "InvalidRequest",
    ),
    (
        "headers given as a list",
        function_url_event(JPEG_B64, content_type="image/jpeg", b64=True) | {"headers": ["content-type"]},
        400,
        "InvalidRequest",
    ),
    (
        "header value given as a list",
        function_url_event(JPEG_B64, content_type="image/jpeg", b64=True)
        | {"headers": {"content-type": ["a"]}},
        400,
        "InvalidRequest",
    ),
    ("a tab inside the URL's host", {"url": "https://images.exa\tmple.com/dog.jpg"}, 400, "InvalidUrl"),
    ("a newline inside the URL", {"url": "https://images.example.com/\ndog.jpg"}, 400, "InvalidUrl"),
    ("a space inside the URL's host", {"url": "https://images.example .com/dog.jpg"}, 400, "InvalidUrl"),
    ("a NUL inside the URL", {"url": "https://images.example.com/dog\x00.jpg"}, 400, "InvalidUrl"),
    ("a port out of range", {"url": "https://images.example.com:99999/dog.jpg"}, 400, "InvalidUrl"),
    ("an unclosed IPv6 host", {"url": "https://[::1/dog.jpg"}, 400, "InvalidUrl"),
    (
        "top_k x in the query",
        function_url_event(b64(image_bytes()), content_type="image/jpeg", b64=True, query={"top_k": "x"}),
        400,
        "InvalidTopK",
    ),
    ("top_k 0", {"image": b64(image_bytes()), "top_k": 0}, 400, "InvalidTopK"),
    ("top_k 1000", {"image": b64(image_bytes()), "top_k": 1000}, 400, "InvalidTopK"),
    ("top_k x", {"image": b64(image_bytes()), "top_k": "x"}, 400, "InvalidTopK"),
    ("top_k true", {"image": b64(image_bytes()), "top_k": True}, 400, "InvalidTopK"),
    ("top_k 2.5", {"image": b64(image_bytes()), "top_k": 2.5}, 400, "InvalidTopK"),
    (
        "both image and url",
        {"image": b64(image_bytes()), "url": "https://images.example.com/a.jpg"},
        400,
        "InvalidRequest",
    ),
    ("neither body nor image", {}, 400, "InvalidRequest"),
    ("unknown field only", {"picture": "abc"}, 400, "InvalidRequest"),
    ("direct event with an HTTP body", {"body": "{}"}, 400, "InvalidRequest"),
    ("event not an object", ["image"], 400, "InvalidRequest"),
]


@pytest.fixture
def guarded_handler(load_handler):
    """The handler with an endpoint client that fails the test if it is ever called."""
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME, ALLOWED_URL_HOSTS="images.example.com")
    with Stubber(handler.RUNTIME) as stubber:
        yield handler
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("event", "status", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_clear_error(guarded_handler, lambda_context, event, status, code):
    response = guarded_handler.handler(event, lambda_context)
    error = decode(response)["error"]
    assert (response["statusCode"], error["code"]) == (status, code)
    assert response["headers"] == {"Content-Type": "application/json"}
    assert 0 < len(error["message"]) <= 120 and "Traceback" not in error["message"]


def test_missing_endpoint_name(load_handler, lambda_context):
    handler = load_handler()
    response = handler.handler({"image": b64(image_bytes())}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (500, "Misconfiguration")


def test_url_input_is_off_when_no_host_is_allowed(load_handler, lambda_context):
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME)
    response = handler.handler({"url": "https://images.example.com/dog.jpg"}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (400, "UrlNotAllowed")


def test_max_image_bytes_is_enforced(load_handler, lambda_context):
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME, MAX_IMAGE_BYTES=100)
    response = handler.handler({"image": b64(image_bytes(size=64))}, lambda_context)
    assert response["statusCode"] == 413
    assert json.loads(response["body"])["error"]["message"] == "The image must be at most 100 bytes."
