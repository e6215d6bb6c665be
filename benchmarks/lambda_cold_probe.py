"""One Lambda cold start, run in a fresh interpreter by benchmarks/lambda_overhead.py.

Imports nothing before the handler but the clock, so the import time is the handler's own; then sends one
request to the canned endpoint (the first request pays botocore's lazy loading) and prints both as JSON.

    ENDPOINT_NAME=x python benchmarks/lambda_cold_probe.py FUNCTION_DIR EVENT_JSON_FILE
"""

import time

_started = time.perf_counter()

import json  # noqa: E402  (json, os, sys: already loaded by the interpreter's start-up or by any handler)
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, sys.argv[1])
_clock = time.perf_counter()
import handler  # noqa: E402

imported = time.perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambda_stub import CannedEndpoint  # noqa: E402

endpoint = CannedEndpoint(handler.RUNTIME)
with open(sys.argv[2]) as file:
    event = json.load(file)
real_stdout = sys.stdout
with open(os.devnull, "w") as sys.stdout:  # the handler's log line, as CloudWatch would take it
    first_started = time.perf_counter()
    response = handler.handler(event, None)
    first_done = time.perf_counter()
sys.stdout = real_stdout
print(
    json.dumps(
        {
            "import_s": imported - _clock,
            "first_request_s": first_done - first_started,
            "status": response["statusCode"],
            "endpoint_calls": endpoint.calls,
        }
    )
)
