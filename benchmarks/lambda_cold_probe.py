"""One Lambda cold start, run in a fresh interpreter by benchmarks/lambda_overhead.py.

The caller's PYTHONPATH starts with the function's folder (the extracted zip, as /var/task) and ends with
the repository root (for the canned endpoint). Imports nothing before the handler but the clock, so the import
time is the handler's own; then sends one request to the canned endpoint (the first request pays botocore's
lazy loading) and writes both to RESULT_JSON. Whatever the handler logs goes to this process's stdout.

    PYTHONPATH=FUNCTION_DIR:REPO_ROOT ENDPOINT_NAME=x \
        python benchmarks/lambda_cold_probe.py EVENT_JSON RESULT_JSON
"""

import time

_started = time.perf_counter()

import json  # noqa: E402  (json, sys: already loaded by the interpreter's start-up or by any handler)
import sys  # noqa: E402

_clock = time.perf_counter()
import handler  # noqa: E402

imported = time.perf_counter()

from benchmarks.lambda_stub import CannedEndpoint, client_of  # noqa: E402
from dev.lambda_events import FakeLambdaContext  # noqa: E402

endpoint = CannedEndpoint(client_of(handler))
with open(sys.argv[1]) as file:
    event = json.load(file)
context = FakeLambdaContext()
first_started = time.perf_counter()
response = handler.handler(event, context)
first_done = time.perf_counter()
with open(sys.argv[2], "w") as file:
    json.dump(
        {
            "import_s": imported - _clock,
            "first_request_s": first_done - first_started,
            "status": response["statusCode"],
            "endpoint_calls": endpoint.calls,
        },
        file,
    )
