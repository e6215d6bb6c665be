"""X-Ray: with Lambda's tracing environment, the handler, InvokeEndpoint and the URL fetch are subsegments.

A fresh interpreter gets what the Lambda runtime sets when tracing is Active (LAMBDA_TASK_ROOT, the trace
header in _X_AMZN_TRACE_ID, AWS_XRAY_DAEMON_ADDRESS), with the daemon address pointing at a UDP socket here;
the X-Ray SDK sends each finished subsegment there as `{"format": "json", "version": 1}\\n<subsegment JSON>`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from dev.image_host import LocalImageHost
from tests.predict.helpers import REPO_ROOT, b64, image_bytes

TRACE_ID = "1-5759e988-bd862e3fe1be46a994272793"
SCRIPT = """
import json, sys
import handler
from dogbreed.predict_api import app
from benchmarks.lambda_stub import CannedEndpoint
from dev.lambda_events import FakeLambdaContext
CannedEndpoint(app.RUNTIME)
for request in json.loads(sys.argv[1]):
    print(json.dumps(handler.handler(request, FakeLambdaContext())))
"""


@pytest.fixture
def daemon():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(1.0)
        yield listener


def received(listener: socket.socket) -> list[dict]:
    segments = []
    while True:
        try:
            datagram = listener.recv(65536)
        except TimeoutError:
            return segments
        header, document = datagram.split(b"\n", 1)
        assert json.loads(header) == {"format": "json", "version": 1}
        segments.append(json.loads(document))


def test_handler_endpoint_call_and_url_fetch_are_traced_without_the_image(daemon):
    image = image_bytes("PNG")
    with LocalImageHost() as host:
        url = host.add("/dog.png", image)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))} | {
            "PYTHONPATH": os.pathsep.join(
                [str(REPO_ROOT / "functions" / "predict"), str(REPO_ROOT / "src"), str(REPO_ROOT)]
            ),
            "LAMBDA_TASK_ROOT": "/var/task",
            "_X_AMZN_TRACE_ID": f"Root={TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
            "ENDPOINT_NAME": "dogbreed-endpoint",
            "ALLOWED_URL_HOSTS": host.netloc,
            "URL_FETCH_CA_BUNDLE": str(host.ca_bundle),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        requests = json.dumps([{"image": b64(image)}, {"url": url}])
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, requests], env=env, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr[-3000:]
    responses = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"statusCode"')]
    assert [r["statusCode"] for r in responses] == [200, 200]

    segments = received(daemon)
    names = [s["name"] for s in segments]
    assert names.count("## handler") == 2
    assert names.count("## dogbreed.predict_api.endpoint.invoke_endpoint") == 2
    assert names.count("## dogbreed.predict_api.url_fetch.fetch_image") == 1
    assert names.count("runtime.sagemaker") == 2  # botocore's call, patched by Tracer
    assert all(s["trace_id"] == TRACE_ID and s["type"] == "subsegment" for s in segments)
    assert b64(image)[:40] not in json.dumps(segments)  # responses are not captured: no image in the trace
    logs = [json.loads(line) for line in done.stdout.splitlines() if '"message":"predict"' in line]
    assert len(logs) == 2 and all(log["xray_trace_id"] == TRACE_ID for log in logs)
