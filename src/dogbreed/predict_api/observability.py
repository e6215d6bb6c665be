"""Powertools for AWS Lambda: a structured log line, CloudWatch EMF metrics and X-Ray subsegments per request.

Created once per container. The service name (POWERTOOLS_SERVICE_NAME) and the metrics namespace
(POWERTOOLS_METRICS_NAMESPACE) come from Terraform; the fallbacks keep a local run (tests, the demo) valid,
since EMF without a namespace is refused at flush time. Tracer turns itself off outside Lambda
(no LAMBDA_TASK_ROOT), so tests and the demo send nothing to X-Ray.

Log fields of the `predict` line: event_type, source, image_bytes, image_type, payload_type, top_k,
response_bytes, endpoint_ms, top1_probability, status, latency_ms, error, error_detail (plus Powertools' own:
level, timestamp, service, cold_start, function_name, function_request_id, xray_trace_id, ...). Never the
image, its URL's contents or the request body.

Metrics: Latency and EndpointLatency (ms), Top1Probability (successful answers), ClientErrors/ServerErrors
and one `Error.<Code>` count per error code (a metric per code, so no dimension multiplies the others).
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "dogbreed-predict"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "DogBreed"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Only botocore is patched (InvokeEndpoint's own subsegment): X-Ray's default patch_all imports every library
# it can patch that happens to be installed (sqlalchemy, requests, ...), which costs cold start for nothing.
tracer = Tracer(service=SERVICE, patch_modules=["botocore"])


def report(fields: dict, failure: BaseException | None = None) -> None:
    """The request's log line and metrics; a 5xx logs at ERROR, with an unexpected failure's traceback."""
    fields = {key: value for key, value in fields.items() if value is not None}
    _record_metrics(fields)
    if fields["status"] >= 500:
        logger.error("predict", extra=fields, exc_info=failure)
    else:
        logger.info("predict", extra=fields)


def _record_metrics(fields: dict) -> None:
    metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=fields["latency_ms"])
    if "endpoint_ms" in fields:
        metrics.add_metric(name="EndpointLatency", unit=MetricUnit.Milliseconds, value=fields["endpoint_ms"])
    if "top1_probability" in fields:
        metrics.add_metric(name="Top1Probability", unit=MetricUnit.NoUnit, value=fields["top1_probability"])
    if "error" in fields:
        status_class = "ServerErrors" if fields["status"] >= 500 else "ClientErrors"
        metrics.add_metric(name=status_class, unit=MetricUnit.Count, value=1)
        metrics.add_metric(name=f"Error.{fields['error']}", unit=MetricUnit.Count, value=1)
