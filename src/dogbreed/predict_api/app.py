"""The Lambda handler: resolve the event, predict, answer the same envelope whatever happened; never raise.

Settings and the sagemaker-runtime client are built once per container (at import, Lambda's INIT phase).

Why Powertools' `LambdaFunctionUrlEvent` data class and not `LambdaFunctionUrlResolver`: the function has one
operation, whatever the path or method, and also serves direct invocations, whose event is the request itself
and is no HTTP event a resolver could route. A resolver would add routing (404/405 for paths and methods that
work today), its own error envelope beside ours, and the event handler package's imports to every cold start;
the data class gives what the request needs (body, base64 flag, case-insensitive headers, query string) and
nothing else. The envelope is the API's contract (docs/prediction_api.md), the same for both event kinds:

    {"statusCode": int, "headers": {"Content-Type": "application/json"}, "body": "<JSON text>"}
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from dogbreed import contract
from dogbreed.predict_api.endpoint import (
    endpoint_payload,
    invoke_endpoint,
    parse_predictions,
    runtime_client_or_error,
)
from dogbreed.predict_api.errors import ApiError
from dogbreed.predict_api.image import sniff_image_type
from dogbreed.predict_api.observability import logger, metrics, report, tracer
from dogbreed.predict_api.request import PredictRequest, event_kind, parse_event
from dogbreed.predict_api.settings import EndpointClientSettings, Settings, load_settings
from dogbreed.predict_api.url_fetch import fetch_image

JSON_HEADERS = {"Content-Type": contract.JSON_CONTENT_TYPE}
INTERNAL_ERROR = ApiError(500, "InternalError", "Internal error.")

SETTINGS = load_settings(os.environ)
RUNTIME = runtime_client_or_error(
    SETTINGS.client if isinstance(SETTINGS, Settings) else EndpointClientSettings()
)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: Any, context: Any) -> dict:
    """Lambda entry point (`handler.handler`). Never raises; returns the response envelope."""
    return respond(event)


def respond(event: Any) -> dict:
    """The envelope for one event; logs one `predict` line and records the request's metrics."""
    started = time.perf_counter()
    fields: dict[str, Any] = {"event_type": event_kind(event)}
    failure = None
    try:
        response = envelope(200, _serve(event, fields))
    except ApiError as error:
        fields.update(error=error.code, error_detail=error.detail[:500] if error.detail else None)
        response = envelope(error.status, error.body())
    except Exception as error:  # the last line of defence: the caller gets a 500 envelope, the log the cause
        failure = error
        fields.update(error=INTERNAL_ERROR.code, error_detail=f"{type(error).__name__}: {error}"[:500])
        response = envelope(INTERNAL_ERROR.status, INTERNAL_ERROR.body())
    fields.update(status=response["statusCode"], latency_ms=_ms_since(started))
    report(fields, failure)
    return response


def envelope(status: int, body: dict) -> dict:
    return {"statusCode": status, "headers": dict(JSON_HEADERS), "body": json.dumps(body)}


def _serve(event: Any, fields: dict) -> dict:
    for ready in (SETTINGS, RUNTIME):
        if isinstance(ready, ApiError):
            raise ready
    request = parse_event(event, SETTINGS)
    fields["source"] = request.source
    answer = predict(request, SETTINGS, RUNTIME, fields)
    if answer["predictions"]:
        fields["top1_probability"] = answer["predictions"][0]["probability"]
    return answer


def predict(request: PredictRequest, settings: Settings, client, fields: dict) -> dict:
    """Image (sent, or fetched from its URL) -> sniffed type -> InvokeEndpoint -> the top_k predictions."""
    image = request.image if request.image is not None else fetch_image(request.url, settings)
    content_type = sniff_image_type(image)
    fields.update(image_bytes=len(image), image_type=content_type, top_k=request.top_k)
    payload, payload_type = endpoint_payload(
        image, content_type, request.top_k, settings.endpoint_max_request_bytes
    )
    fields["payload_type"] = payload_type
    started = time.perf_counter()
    try:
        body = invoke_endpoint(
            client, settings.endpoint_name, payload, payload_type, settings.client.max_attempts
        )
    finally:
        fields["endpoint_ms"] = _ms_since(started)
    fields["response_bytes"] = len(body)
    return {"predictions": parse_predictions(body, request.top_k)}


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
