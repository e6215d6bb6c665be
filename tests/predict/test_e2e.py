"""End to end: the Lambda handler -> boto3 -> local endpoint (the real serving stack) -> the trained model."""

from __future__ import annotations

import socket
import threading
import time

import boto3
import pytest

from dev.image_host import LocalImageHost
from dogbreed.local_endpoint import LocalEndpoint
from tests.predict.helpers import ENDPOINT_NAME, b64, decode, events_for, image_bytes

pytestmark = pytest.mark.slow


@pytest.fixture
def real_handler(load_handler, real_endpoint):
    return load_handler(ENDPOINT_NAME=ENDPOINT_NAME, AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=real_endpoint.url)


def assert_valid_predictions(body: dict, class_names: list[str], expected_count: int) -> None:
    predictions = body["predictions"]
    assert len(predictions) == expected_count
    assert {p["label"] for p in predictions} <= set(class_names)
    assert all(class_names[p["index"]] == p["label"] for p in predictions)
    probabilities = [p["probability"] for p in predictions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probabilities) and sum(probabilities) <= 1.0 + 1e-4


@pytest.mark.parametrize("form", list(events_for(b"")))
def test_every_event_form_returns_the_trained_models_classes(
    real_handler, trained_model, lambda_context, form
):
    for image_path in trained_model.test_images[:2]:
        image = image_path.read_bytes()
        event = events_for(image, "image/png" if image_path.suffix == ".png" else "image/jpeg")[form]
        response = real_handler.handler(event, lambda_context)
        assert response["statusCode"] == 200, response["body"]
        body = decode(response)
        assert set(body) == {"predictions"}  # nothing about the endpoint behind it
        assert_valid_predictions(body, trained_model.class_names, min(5, len(trained_model.class_names)))


@pytest.mark.parametrize("top_k", [1, 2, 50])
def test_top_k_is_honoured_through_the_real_model(real_handler, trained_model, lambda_context, top_k):
    image = trained_model.test_images[0].read_bytes()
    response = real_handler.handler({"image": b64(image), "top_k": top_k}, lambda_context)
    assert response["statusCode"] == 200, response["body"]
    assert_valid_predictions(
        decode(response), trained_model.class_names, min(top_k, len(trained_model.class_names))
    )


def test_a_corrupt_jpeg_is_the_callers_400_not_a_502(real_handler, lambda_context):
    truncated = image_bytes("JPEG", size=64)[:200]  # right magic bytes, undecodable data
    response = real_handler.handler({"image": b64(truncated)}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (400, "UndecodableImage")


def test_the_real_hooks_keep_the_containers_content_rules(real_endpoint, trained_model):
    """Through unmodified boto3: an Accept the model cannot produce is the model's 406, as ModelError."""
    client = boto3.client("sagemaker-runtime", endpoint_url=real_endpoint.url)
    image = trained_model.test_images[0].read_bytes()
    with pytest.raises(client.exceptions.ModelError) as caught:
        client.invoke_endpoint(
            EndpointName=ENDPOINT_NAME, Body=image, ContentType="image/jpeg", Accept="text/csv"
        )
    assert caught.value.response["OriginalStatusCode"] == 406
    ok = client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=image, ContentType="application/x-image")
    assert ok["ContentType"] == "application/json" and ok["InvokedProductionVariant"] == "AllTraffic"


def test_url_request_through_the_real_model(load_handler, real_endpoint, trained_model, lambda_context):
    with LocalImageHost() as host:
        url = host.add("/dog.jpg", trained_model.test_images[0].read_bytes())
        handler = load_handler(
            ENDPOINT_NAME=ENDPOINT_NAME,
            AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=real_endpoint.url,
            ALLOWED_URL_HOSTS=host.netloc,
            URL_FETCH_CA_BUNDLE=host.ca_bundle,
        )
        response = handler.handler({"url": url}, lambda_context)
    assert response["statusCode"] == 200, response["body"]
    assert_valid_predictions(
        decode(response), trained_model.class_names, min(5, len(trained_model.class_names))
    )


def test_stopping_the_endpoint_mid_run_gives_503_and_504_envelopes(
    load_handler, trained_stack, trained_model, lambda_context
):
    """Requests keep flowing while the endpoint stops; then the port accepts but never answers (a hung
    endpoint). Every request gets an envelope: 200 before, 503 while nothing listens, 504 while it hangs."""
    endpoint = LocalEndpoint(stack=trained_stack, endpoint_name=ENDPOINT_NAME).start()
    port = endpoint.port
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME,
        AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=endpoint.url,
        ENDPOINT_CONNECT_TIMEOUT_S="0.5",
        ENDPOINT_READ_TIMEOUT_S="0.5",
    )
    event = {"image": b64(trained_model.test_images[0].read_bytes())}
    statuses, stop_requests = [], threading.Event()

    def keep_calling():
        while not stop_requests.is_set():
            response = handler.handler(event, lambda_context)  # raising here would fail the test below
            statuses.append((response["statusCode"], decode(response).get("error", {}).get("code")))
            time.sleep(0.02)

    def wait_for(status: tuple[int, str | None]) -> None:
        deadline = time.monotonic() + 30
        while status not in statuses:
            assert time.monotonic() < deadline, f"no {status} in {statuses}"
            time.sleep(0.05)

    caller = threading.Thread(target=keep_calling)
    caller.start()
    try:
        wait_for((200, None))
        endpoint.stop()
        wait_for((503, "EndpointUnavailable"))
        with socket.create_server(("127.0.0.1", port)):  # accepts, never answers
            wait_for((504, "EndpointTimeout"))
            stop_requests.set()
            caller.join(timeout=10)
    finally:
        stop_requests.set()
        caller.join(timeout=10)
        endpoint.stop()
    assert not caller.is_alive()
    assert set(statuses) <= {(200, None), (503, "EndpointUnavailable"), (504, "EndpointTimeout")}
