"""Locust user for benchmarks/endpoint_capacity.py: SageMaker Runtime InvokeEndpoint through boto3.

Each user is a closed loop (next request as soon as the last one is answered), so the user count is the
concurrency. Requests go through the real client path (SigV4 signing, rest-json protocol, HTTP keep-alive)
to the endpoint URL given as ``--host``; retries are off so a throttle or error counts as a failure instead
of hiding in the latency. Every request's start time, latency and outcome are written to ``--latency-file``
(JSON) when locust quits: exact values, not locust's rounded percentile buckets.

    locust -f benchmarks/locust_invoke.py --headless -u 4 -r 4 -t 20s --host http://127.0.0.1:PORT \
        --endpoint-name bench --images DIR --latency-file step.json
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import boto3
from botocore.config import Config
from locust import User, constant, events, task

_samples: list[tuple[float, float, bool, int]] = []  # (start epoch s, latency s, succeeded, image index)


@events.init_command_line_parser.add_listener
def _add_arguments(parser):
    parser.add_argument("--endpoint-name", default="bench", help="EndpointName of InvokeEndpoint")
    parser.add_argument("--images", required=True, help="folder of *.jpg request bodies, sent in turn")
    parser.add_argument("--latency-file", required=True, help="JSON file for every request's timing")


@events.request.add_listener
def _record(request_type, response_time, exception, context, **_):
    if request_type == "InvokeEndpoint":
        _samples.append((context["started"], response_time / 1000.0, exception is None, context["image"]))


@events.quitting.add_listener
def _write_samples(environment, **_):
    path = Path(environment.parsed_options.latency_file)
    path.write_text(json.dumps({"columns": ["started", "latency_s", "ok", "image"], "samples": _samples}))


class InvokeEndpointUser(User):
    wait_time = constant(0)
    _client = None
    _bodies: list[bytes] = []

    def on_start(self):
        options = self.environment.parsed_options
        if (
            InvokeEndpointUser._client is None
        ):  # one client shared by all users, as one Lambda container would
            InvokeEndpointUser._client = boto3.client(
                "sagemaker-runtime",
                endpoint_url=self.host,
                config=Config(
                    retries={"mode": "standard", "total_max_attempts": 1},
                    read_timeout=120,
                    max_pool_connections=max(10, self.environment.runner.target_user_count or 1),
                ),
            )
            InvokeEndpointUser._bodies = [p.read_bytes() for p in sorted(Path(options.images).glob("*.jpg"))]
        self._endpoint_name = options.endpoint_name
        # users start at different images so concurrent requests mix sizes from the first second
        offset = self.environment.runner.user_count % len(self._bodies)
        self._next_body = itertools.islice(itertools.cycle(enumerate(self._bodies)), offset, None)

    @task
    def invoke(self):
        image, body = next(self._next_body)
        started, clock = time.time(), time.perf_counter()
        error, length = None, 0
        try:
            response = self._client.invoke_endpoint(
                EndpointName=self._endpoint_name,
                Body=body,
                ContentType="image/jpeg",
                Accept="application/json",
            )
            length = len(response["Body"].read())
        except Exception as exc:  # any failure is a data point for the benchmark, not a crash of the user
            error = exc
        self.environment.events.request.fire(
            request_type="InvokeEndpoint",
            name="invoke_endpoint",
            response_time=(time.perf_counter() - clock) * 1000.0,
            response_length=length,
            exception=error,
            context={"started": started, "image": image},
        )
