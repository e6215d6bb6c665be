"""Handler unit tests: exact InvokeEndpoint requests (Stubber), every status code, the Powertools log line and
EMF metrics, the client's settings from the environment, moto for the call path."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import socket

import pytest
import requests
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from dogbreed.predict_api.endpoint import RETRYABLE_CODES
from tests.predict.helpers import (
    ENDPOINT_NAME,
    b64,
    decode,
    events_for,
    function_url_event,
    image_bytes,
    invoke,
    sample_event,
)

MODEL_ANSWER = {
    "predictions": [
        {"label": "Labrador_retriever", "index": 95, "probability": 0.6},
        {"label": "Golden_retriever", "index": 75, "probability": 0.2},
        {"label": "Beagle", "index": 15, "probability": 0.1},
        {"label": "Boxer", "index": 30, "probability": 0.06},
        {"label": "Poodle", "index": 100, "probability": 0.04},
    ]
}


def endpoint_reply(body: bytes) -> dict:
    return {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"}


@pytest.fixture
def predict(load_handler):
    return load_handler(ENDPOINT_NAME=ENDPOINT_NAME)


@pytest.fixture
def stubbed(predict, monkeypatch):
    """The handler's client under botocore's Stubber; retries (2 attempts by default) do not sleep."""
    monkeypatch.setattr("dogbreed.predict_api.endpoint.time.sleep", lambda _: None)
    with Stubber(predict.RUNTIME) as stubber:
        yield predict, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("form", list(events_for(b"")))
def test_every_event_form_sends_raw_bytes_with_the_sniffed_type(stubbed, lambda_context, form):
    handler, stubber = stubbed
    image = image_bytes("JPEG")
    expected = {
        "EndpointName": ENDPOINT_NAME,
        "Body": image,
        "ContentType": "image/jpeg",
        "Accept": "application/json",
    }
    stubber.add_response("invoke_endpoint", endpoint_reply(json.dumps(MODEL_ANSWER).encode()), expected)

    response = handler.handler(events_for(image)[form], lambda_context)

    assert response["statusCode"] == 200
    assert response["headers"] == {"Content-Type": "application/json"}
    assert decode(response) == MODEL_ANSWER
    assert ENDPOINT_NAME not in response["body"]  # the caller never learns what is behind the function


def test_png_is_sent_as_image_png_and_top_k_trims(stubbed, lambda_context):
    handler, stubber = stubbed
    image = image_bytes("PNG")
    expected = {
        "EndpointName": ENDPOINT_NAME,
        "Body": image,
        "ContentType": "image/png",
        "Accept": "application/json",
    }
    stubber.add_response("invoke_endpoint", endpoint_reply(json.dumps(MODEL_ANSWER).encode()), expected)

    body = decode(handler.handler({"image": b64(image), "top_k": 2}, lambda_context))

    assert [p["label"] for p in body["predictions"]] == ["Labrador_retriever", "Golden_retriever"]


def test_top_k_above_the_models_raw_answer_uses_its_json_form(stubbed, lambda_context):
    handler, stubber = stubbed
    image = image_bytes("PNG")
    payload = json.dumps({"image": b64(image), "top_k": 7}).encode()
    expected = {
        "EndpointName": ENDPOINT_NAME,
        "Body": payload,
        "ContentType": "application/json",
        "Accept": "application/json",
    }
    stubber.add_response("invoke_endpoint", endpoint_reply(json.dumps(MODEL_ANSWER).encode()), expected)
    assert handler.handler({"image": b64(image), "top_k": 7}, lambda_context)["statusCode"] == 200


def test_top_k_from_the_query_string_for_binary_bodies(stubbed, lambda_context):
    handler, stubber = stubbed
    stubber.add_response("invoke_endpoint", endpoint_reply(json.dumps(MODEL_ANSWER).encode()))
    event = function_url_event(b64(image_bytes()), content_type="image/jpeg", b64=True, query={"top_k": "3"})
    assert len(decode(handler.handler(event, lambda_context))["predictions"]) == 3


@pytest.mark.parametrize("name", ["function_url", "direct"])
def test_the_sample_events_are_complete_requests(stubbed, lambda_context, name):
    """dev/events/*.json: the same PNG with top_k 3, as the Function URL delivers it and as a direct call."""
    handler, stubber = stubbed
    png = base64.b64decode(sample_event("direct")["image"])
    expected = {
        "EndpointName": ENDPOINT_NAME,
        "Body": png,
        "ContentType": "image/png",
        "Accept": "application/json",
    }
    stubber.add_response("invoke_endpoint", endpoint_reply(json.dumps(MODEL_ANSWER).encode()), expected)
    response = handler.handler(sample_event(name), lambda_context)
    assert response["statusCode"] == 200
    assert [p["label"] for p in decode(response)["predictions"]] == [
        "Labrador_retriever",
        "Golden_retriever",
        "Beagle",
    ]


def test_top_k_default_comes_from_the_environment(load_handler, lambda_context):
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME, TOP_K=1)
    with Stubber(handler.RUNTIME) as stubber:
        stubber.add_response("invoke_endpoint", endpoint_reply(json.dumps(MODEL_ANSWER).encode()))
        body = decode(handler.handler({"image": b64(image_bytes())}, lambda_context))
    assert [p["label"] for p in body["predictions"]] == ["Labrador_retriever"]


@pytest.mark.parametrize(
    ("error_code", "http_status", "modeled", "status", "code"),
    [
        ("ModelError", 424, {"OriginalStatusCode": 500, "OriginalMessage": "boom"}, 502, "ModelError"),
        ("ModelError", 424, {"OriginalStatusCode": 415, "OriginalMessage": "type"}, 502, "ModelError"),
        (
            "ModelError",
            424,
            {"OriginalStatusCode": 400, "OriginalMessage": "corrupt"},
            400,
            "UndecodableImage",
        ),
        ("ModelError", 424, {"OriginalStatusCode": 413, "OriginalMessage": "pixels"}, 413, "ImageTooLarge"),
        ("ThrottlingException", 400, {}, 503, "Throttled"),
        ("ModelNotReadyException", 429, {}, 503, "Throttled"),
        ("ValidationError", 400, {}, 503, "EndpointUnavailable"),  # any but "not found", e.g. not in service
        ("ServiceUnavailable", 503, {}, 503, "EndpointUnavailable"),
        ("InternalFailure", 500, {}, 503, "EndpointUnavailable"),
        ("AccessDeniedException", 403, {}, 500, "Misconfiguration"),
        ("SomethingNew", 400, {}, 502, "UpstreamError"),
    ],
)
def test_endpoint_errors_map_to_status_codes(
    stubbed, lambda_context, error_code, http_status, modeled, status, code
):
    handler, stubber = stubbed
    for _ in range(handler.SETTINGS.client.max_attempts if error_code in RETRYABLE_CODES else 1):
        stubber.add_client_error(
            "invoke_endpoint",
            service_error_code=error_code,
            service_message='Received server error (500) from primary with message "Traceback ..."',
            http_status_code=http_status,
            modeled_fields=modeled or None,
        )
    response = handler.handler({"image": b64(image_bytes())}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (status, code)
    assert "Traceback" not in response["body"]


def test_a_missing_endpoint_is_a_500_misconfiguration_not_retry_later(stubbed, lambda_context):
    """ENDPOINT_NAME names no endpoint (or a deleted one): retrying cannot help, the function is wrong.
    AWS's message: "Endpoint NAME of account ACCOUNT not found." (aws/amazon-sagemaker-examples#293)."""
    handler, stubber = stubbed
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ValidationError",
        service_message=f"Endpoint {ENDPOINT_NAME} of account 123456789012 not found.",
        http_status_code=400,
    )
    response, [log], _ = invoke(handler, {"image": b64(image_bytes())}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (500, "Misconfiguration")
    assert ENDPOINT_NAME not in response["body"] and "not found" in log["error_detail"]


@pytest.mark.parametrize("answer", [b"not json", b'{"labels": []}', b'{"predictions": [{"label": "x"}]}'])
def test_unreadable_model_answers_are_502(stubbed, lambda_context, answer):
    handler, stubber = stubbed
    stubber.add_response("invoke_endpoint", endpoint_reply(answer))
    response = handler.handler({"image": b64(image_bytes())}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (502, "InvalidModelResponse")


def test_unexpected_failures_are_a_500_envelope_not_an_exception(predict, lambda_context, monkeypatch):
    def explode(*_):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(predict, "invoke_endpoint", explode)
    response, logs, _ = invoke(predict, {"image": b64(image_bytes())}, lambda_context)
    assert response["statusCode"] == 500
    assert decode(response) == {"error": {"code": "InternalError", "message": "Internal error."}}
    assert "secret internal detail" not in response["body"]
    [log] = logs
    assert (log["level"], log["error"], log["exception_name"]) == ("ERROR", "InternalError", "RuntimeError")
    assert "secret internal detail" in log["error_detail"] and "Traceback" in log["exception"]


def test_missing_endpoint_name_is_a_500_misconfiguration(load_handler, lambda_context):
    handler = load_handler()
    response = handler.handler({"image": b64(image_bytes())}, lambda_context)
    assert response["statusCode"] == 500
    assert decode(response)["error"]["code"] == "Misconfiguration"


@pytest.mark.parametrize(
    "env",
    [
        {"TOP_K": "0"},
        {"TOP_K": "abc"},
        {"MAX_IMAGE_BYTES": "7000000"},
        {"ENDPOINT_NAME": "bad_name!"},
        {"URL_FETCH_CA_BUNDLE": "/nonexistent.pem", "ALLOWED_URL_HOSTS": "example.com"},
    ],
)
def test_invalid_settings_are_a_500_misconfiguration(load_handler, lambda_context, env):
    handler = load_handler(**({"ENDPOINT_NAME": ENDPOINT_NAME} | env))
    response = handler.handler({"image": b64(image_bytes())}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (500, "Misconfiguration")


def test_client_has_timeouts_and_leaves_retries_to_the_handler(predict):
    config = predict.RUNTIME.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 20)
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}  # botocore would retry timeouts
    assert predict.SETTINGS.client.max_attempts == 2
    assert predict.RUNTIME.meta.service_model.service_name == "sagemaker-runtime"
    assert predict.SETTINGS.url_fetch_deadline_s == 5.0


def test_the_time_budget_comes_from_the_environment_terraform_sets(load_handler):
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME,
        ENDPOINT_CONNECT_TIMEOUT_S="1.5",
        ENDPOINT_READ_TIMEOUT_S="7",
        ENDPOINT_MAX_ATTEMPTS="3",
        URL_FETCH_DEADLINE_S="2.5",
    )
    config = handler.RUNTIME.meta.config
    assert (config.connect_timeout, config.read_timeout) == (1.5, 7.0)
    assert handler.SETTINGS.client.max_attempts == 3
    assert handler.SETTINGS.url_fetch_deadline_s == 2.5


@pytest.mark.parametrize(
    "env",
    [
        {"ENDPOINT_CONNECT_TIMEOUT_S": "0"},
        {"ENDPOINT_READ_TIMEOUT_S": "-1"},
        {"ENDPOINT_READ_TIMEOUT_S": "nan"},
        {"ENDPOINT_MAX_ATTEMPTS": "6"},
        {"ENDPOINT_MAX_ATTEMPTS": "1.5"},
        {"URL_FETCH_DEADLINE_S": "soon"},
    ],
)
def test_an_invalid_time_budget_is_a_500_misconfiguration_naming_the_variable(
    load_handler, lambda_context, env
):
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME, **env)
    response, [log], _ = invoke(handler, {"image": b64(image_bytes())}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (500, "Misconfiguration")
    assert next(iter(env)) in log["error_detail"]


def test_endpoint_url_variable_redirects_the_client(load_handler):
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME, AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME="http://127.0.0.1:9"
    )
    assert handler.RUNTIME.meta.endpoint_url == "http://127.0.0.1:9"


def test_one_json_log_line_per_request_without_image_or_context(stubbed, lambda_context):
    handler, stubber = stubbed
    image = image_bytes("JPEG", size=64)
    stubber.add_response("invoke_endpoint", endpoint_reply(json.dumps(MODEL_ANSWER).encode()))
    response, logs, _ = invoke(handler, events_for(image)["function-url-json"], lambda_context)

    [log] = logs
    line = json.dumps(log)
    assert (log["message"], log["level"]) == ("predict", "INFO")
    assert log["function_request_id"] == lambda_context.aws_request_id  # @logger.inject_lambda_context
    assert (log["status"], log["event_type"], log["source"], log["image_bytes"], log["image_type"]) == (
        200,
        "function-url",
        "image",
        len(image),
        "image/jpeg",
    )
    assert (log["top_k"], log["payload_type"]) == (5, "image/jpeg")
    assert log["latency_ms"] >= log["endpoint_ms"] >= 0
    assert log["response_bytes"] > 0
    assert b64(image)[:40] not in line
    assert lambda_context.log_stream_name not in line
    for leaked in (
        lambda_context.invoked_function_arn,
        lambda_context.log_stream_name,
        lambda_context.aws_request_id,
    ):
        assert leaked not in response["body"]


def test_every_request_emits_its_metrics_in_emf(stubbed, lambda_context):
    handler, stubber = stubbed
    stubber.add_response("invoke_endpoint", endpoint_reply(json.dumps(MODEL_ANSWER).encode()))
    _, _, blobs = invoke(handler, {"image": b64(image_bytes())}, lambda_context)

    request_blob = next(b for b in blobs if "Latency" in b)
    [directive] = request_blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "DogBreed" and request_blob["service"] == "dogbreed-predict"
    assert {m["Name"] for m in directive["Metrics"]} == {"Latency", "EndpointLatency", "Top1Probability"}
    assert request_blob["Top1Probability"] == [0.6]


@pytest.mark.parametrize(
    ("event", "metric", "status_class"),
    [
        ({"image": "***"}, "Error.InvalidBase64", "ClientErrors"),
        ({"image": b64(image_bytes())}, "Error.Throttled", "ServerErrors"),
    ],
)
def test_each_error_code_is_its_own_metric(stubbed, lambda_context, event, metric, status_class):
    handler, stubber = stubbed
    if metric == "Error.Throttled":  # retried once, throttled again
        for _ in range(2):
            stubber.add_client_error(
                "invoke_endpoint", service_error_code="ThrottlingException", http_status_code=400
            )
    _, [log], blobs = invoke(handler, event, lambda_context)
    request_blob = next(b for b in blobs if "Latency" in b)
    names = {m["Name"] for m in request_blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {metric, status_class, "Latency"} <= names and "Top1Probability" not in names
    assert request_blob[metric] == [1.0]
    assert log["level"] == ("ERROR" if status_class == "ServerErrors" else "INFO")


# --- transport failures through a real botocore client
def _blackhole_port() -> tuple[socket.socket, int]:
    """A listener that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener, listener.getsockname()[1]


def test_endpoint_read_timeout_is_504(load_handler, lambda_context):
    listener, port = _blackhole_port()
    with listener:
        handler = load_handler(
            ENDPOINT_NAME=ENDPOINT_NAME,
            AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=f"http://127.0.0.1:{port}",
            ENDPOINT_READ_TIMEOUT_S="0.3",
            ENDPOINT_MAX_ATTEMPTS="1",
        )
        response = handler.handler({"image": b64(image_bytes())}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (504, "EndpointTimeout")


def test_a_read_timeout_is_answered_after_one_attempt_not_retried(load_handler, lambda_context):
    """A slow endpoint is still running the inference: a second attempt would run it twice."""
    listener, port = _blackhole_port()
    with listener:
        handler = load_handler(
            ENDPOINT_NAME=ENDPOINT_NAME,
            AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=f"http://127.0.0.1:{port}",
            ENDPOINT_READ_TIMEOUT_S="0.3",
            ENDPOINT_MAX_ATTEMPTS="3",
        )
        response = handler.handler({"image": b64(image_bytes())}, lambda_context)
        listener.settimeout(0.1)
        accepted = []
        with contextlib.suppress(TimeoutError):
            while True:
                accepted.append(listener.accept()[0])
    for connection in accepted:
        connection.close()
    assert (response["statusCode"], decode(response)["error"]["code"]) == (504, "EndpointTimeout")
    assert len(accepted) == 1


class ScriptedClient:
    """A sagemaker-runtime stand-in that fails with the given errors, then answers."""

    def __init__(self, *errors):
        self.errors, self.calls = list(errors), 0

    def invoke_endpoint(self, **_):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return endpoint_reply(json.dumps(MODEL_ANSWER).encode())


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "InvokeEndpoint",
    )


RETRIED = [
    client_error("ThrottlingException", 400),
    client_error("ModelNotReadyException", 429),
    client_error("ServiceUnavailable", 503),
    client_error("InternalFailure", 500),
    EndpointConnectionError(endpoint_url="http://x"),
    ConnectTimeoutError(endpoint_url="http://x"),
]
NOT_RETRIED = [
    ReadTimeoutError(endpoint_url="http://x"),
    ConnectionClosedError(endpoint_url="http://x"),
    client_error("ModelError", 424),
    client_error("ValidationError", 400),
    client_error("AccessDeniedException", 403),
]


@pytest.mark.parametrize("error", RETRIED, ids=lambda e: type(e).__name__ + getattr(e, "operation_name", ""))
def test_failures_that_never_reached_the_model_are_retried_with_bounded_backoff(monkeypatch, error):
    from dogbreed.predict_api import endpoint

    sleeps = []
    monkeypatch.setattr(endpoint.time, "sleep", sleeps.append)
    client = ScriptedClient(error, error)
    body = endpoint.invoke_endpoint(client, ENDPOINT_NAME, b"x", "image/jpeg", max_attempts=3)
    assert json.loads(body) == MODEL_ANSWER and client.calls == 3
    assert 0 <= sleeps[0] <= 2 and 0 <= sleeps[1] <= 4  # full jitter up to min(2^retry, 20) s


@pytest.mark.parametrize("error", NOT_RETRIED, ids=lambda e: type(e).__name__)
def test_failures_a_retry_cannot_help_are_answered_at_once(monkeypatch, error):
    from dogbreed.predict_api import endpoint
    from dogbreed.predict_api.errors import ApiError

    monkeypatch.setattr(endpoint.time, "sleep", lambda _: pytest.fail("must not back off"))
    client = ScriptedClient(error)
    with pytest.raises(ApiError):
        endpoint.invoke_endpoint(client, ENDPOINT_NAME, b"x", "image/jpeg", max_attempts=3)
    assert client.calls == 1


def test_retries_stop_at_max_attempts(monkeypatch):
    from dogbreed.predict_api import endpoint
    from dogbreed.predict_api.errors import ApiError

    monkeypatch.setattr(endpoint.time, "sleep", lambda _: None)
    client = ScriptedClient(*[client_error("ThrottlingException", 400)] * 5)
    with pytest.raises(ApiError) as caught:
        endpoint.invoke_endpoint(client, ENDPOINT_NAME, b"x", "image/jpeg", max_attempts=2)
    assert (client.calls, caught.value.code) == (2, "Throttled")


def test_endpoint_refusing_connections_is_503(load_handler, lambda_context):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME, AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=f"http://127.0.0.1:{port}"
    )
    response = handler.handler({"image": b64(image_bytes())}, lambda_context)
    assert (response["statusCode"], decode(response)["error"]["code"]) == (503, "EndpointUnavailable")


# --- the call path through moto's SageMaker Runtime
@pytest.fixture
def moto_accepts_binary_bodies(monkeypatch):
    """moto 5.2.5's InvokeEndpoint decodes the request body as UTF-8, so no JPEG or PNG can pass (AWS takes
    any bytes). moto only uses the body to key its queued results, so hand it the body base64-encoded."""
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    original = SageMakerRuntimeResponse.invoke_endpoint
    received = []

    def invoke_endpoint(self):
        received.append((self.raw_body, self.headers.get("Content-Type"), self.headers.get("Accept")))
        self.body = base64.b64encode(self.raw_body).decode()
        return original(self)

    monkeypatch.setattr(SageMakerRuntimeResponse, "use_raw_body", True)
    monkeypatch.setattr(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint)
    return received


@mock_aws
def test_call_path_through_moto(load_handler, lambda_context, moto_accepts_binary_bodies):
    requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={
            "results": [
                {
                    "Body": json.dumps(MODEL_ANSWER),
                    "ContentType": "application/json",
                    "InvokedProductionVariant": "AllTraffic",
                    "CustomAttributes": "",
                }
            ]
        },
        timeout=5,
    )
    handler = load_handler(ENDPOINT_NAME=ENDPOINT_NAME)
    image = image_bytes()
    response = handler.handler(events_for(image)["function-url-binary"], lambda_context)
    assert response["statusCode"] == 200
    assert decode(response) == MODEL_ANSWER
    assert ENDPOINT_NAME not in response["body"]  # the caller never learns what is behind the function
    assert moto_accepts_binary_bodies == [(image, "image/jpeg", "application/json")]


def test_no_tls_context_is_built_while_url_input_is_off(load_handler, tmp_path):
    """Loading the CA store costs cold-start time; only functions that fetch URLs pay it."""
    assert load_handler(ENDPOINT_NAME=ENDPOINT_NAME).SETTINGS.url_ssl_context is None
    with_urls = load_handler(ENDPOINT_NAME=ENDPOINT_NAME, ALLOWED_URL_HOSTS="images.example.com")
    assert with_urls.SETTINGS.url_ssl_context is not None
