"""{"url": ...} end to end: handler -> local https host (test CA) -> boto3 -> local endpoint -> model."""

from __future__ import annotations

import time

import pytest

from dev.image_host import LocalImageHost
from tests.predict.helpers import (
    ENDPOINT_NAME,
    FIXTURE_CLASSES,
    decode,
    function_url_event,
    image_bytes,
    json_body,
)


@pytest.fixture
def image_host():
    with LocalImageHost() as host:
        yield host


@pytest.fixture
def url_handler(load_handler, image_host, fixture_endpoint):
    return load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME,
        ALLOWED_URL_HOSTS=f"images.example.com, {image_host.netloc}",
        URL_FETCH_CA_BUNDLE=image_host.ca_bundle,
        AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=fixture_endpoint.url,
    )


def status_and_code(response):
    body = decode(response)
    return response["statusCode"], body.get("error", {}).get("code")


def test_url_request_is_served_end_to_end(url_handler, image_host, lambda_context):
    url = image_host.add("/dogs/rex.png", image_bytes("PNG"))
    response = url_handler.handler(function_url_event(json_body({"url": url, "top_k": 2})), lambda_context)
    assert response["statusCode"] == 200
    body = decode(response)
    assert set(body) == {"predictions"}
    assert len(body["predictions"]) == 2
    assert {p["label"] for p in body["predictions"]} <= set(FIXTURE_CLASSES)


def test_redirects_within_the_allow_list_are_followed(url_handler, image_host, lambda_context):
    image_host.add("/real.jpg", image_bytes())
    url = image_host.redirect("/moved.jpg", image_host.url("/real.jpg"))
    assert url_handler.handler({"url": url}, lambda_context)["statusCode"] == 200


def test_a_redirect_off_the_allow_list_is_refused(url_handler, image_host, lambda_context):
    url = image_host.redirect("/out.jpg", "https://evil.example.net/dog.jpg")
    assert status_and_code(url_handler.handler({"url": url}, lambda_context)) == (400, "UrlNotAllowed")


def test_a_redirect_to_http_is_refused(url_handler, image_host, lambda_context):
    url = image_host.redirect("/downgrade.jpg", f"http://{image_host.netloc}/real.jpg")
    assert status_and_code(url_handler.handler({"url": url}, lambda_context)) == (400, "UrlNotAllowed")


def test_missing_image_is_a_fetch_error(url_handler, image_host, lambda_context):
    response = url_handler.handler({"url": image_host.url("/nothing.jpg")}, lambda_context)
    assert status_and_code(response) == (400, "UrlFetchFailed")
    assert decode(response)["error"]["message"] == "The image URL returned HTTP 404."


def test_too_large_download_is_413(load_handler, image_host, lambda_context):
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME,
        ALLOWED_URL_HOSTS=image_host.netloc,
        URL_FETCH_CA_BUNDLE=image_host.ca_bundle,
        MAX_IMAGE_BYTES=1000,
    )
    url = image_host.add("/huge.jpg", image_bytes(size=256))
    assert status_and_code(handler.handler({"url": url}, lambda_context)) == (413, "ImageTooLarge")


def test_slow_download_hits_the_time_limit(load_handler, image_host, lambda_context):
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME,
        ALLOWED_URL_HOSTS=image_host.netloc,
        URL_FETCH_CA_BUNDLE=image_host.ca_bundle,
        URL_FETCH_DEADLINE_S="0.5",
    )
    url = image_host.add("/slow.jpg", image_bytes() + b"\0" * 20_000, delay_per_kib=0.1)
    response = handler.handler({"url": url}, lambda_context)  # 20 KiB at 0.1 s/KiB: 2 s, 4 x the deadline
    assert status_and_code(response) == (400, "UrlFetchFailed")
    assert decode(response)["error"]["message"] == "The image URL took too long to download."


def test_one_deadline_bounds_the_whole_fetch_when_the_headers_trickle(
    load_handler, image_host, lambda_context
):
    """The headers arrive a byte every 0.05 s (about 7 s for all of them): every single read is quick, so
    only a deadline over the whole fetch stops it, not a socket timeout (before: 14 s of headers passed)."""
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME,
        ALLOWED_URL_HOSTS=image_host.netloc,
        URL_FETCH_CA_BUNDLE=image_host.ca_bundle,
        URL_FETCH_DEADLINE_S="1",
    )
    url = image_host.add("/trickle.jpg", image_bytes(), header_delay_s=0.05)
    started = time.monotonic()
    response = handler.handler({"url": url}, lambda_context)
    elapsed = time.monotonic() - started
    assert status_and_code(response) == (400, "UrlFetchFailed")
    assert decode(response)["error"]["message"] == "The image URL took too long to download."
    assert 1.0 <= elapsed < 1.8


def test_a_host_the_ca_bundle_does_not_vouch_for_is_refused(load_handler, image_host, lambda_context):
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME, ALLOWED_URL_HOSTS=image_host.netloc
    )  # system CAs only
    url = image_host.add("/dog.jpg", image_bytes())
    response = handler.handler({"url": url}, lambda_context)
    assert status_and_code(response) == (400, "UrlFetchFailed")
