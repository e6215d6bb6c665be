"""The local endpoint: the real serving stack answers the container protocol, and the InvokeEndpoint front
gives an unmodified boto3 client what AWS would give it. The fixture model (tests/predict/fixture_model)
makes the container's behaviour observable; tests/predict/test_real_stack.py runs the trained hooks."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from dogbreed.local_endpoint import LocalEndpoint, ServingStack, StackError
from dogbreed.local_endpoint.instance import extract_model, processes_under, serving_python
from tests.predict.helpers import ENDPOINT_NAME, FIXTURE_CLASSES, b64, image_bytes, pack_model

pytestmark = pytest.mark.timeout(300)


def runtime_client(endpoint, max_attempts=1):
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=endpoint.url,
        config=Config(retries={"mode": "standard", "max_attempts": max_attempts}),
    )


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


# --- the container protocol, answered by TorchServe and the toolkit
def test_ping_is_torchserves_and_every_worker_is_ready(fixture_stack):
    answer = fixture_stack.request("GET", "/ping")
    assert (answer.status, answer.json()) == (200, {"status": "Healthy"})
    assert [worker["status"] for worker in fixture_stack.workers()] == ["READY", "READY"]


def test_invocations_run_the_hooks_in_container_order(fixture_stack):
    answer = fixture_stack.invoke(image_bytes("PNG"), "image/png")
    body = answer.json()
    assert (answer.status, answer.headers["content-type"]) == (200, "application/json")
    # TorchServe hands image bodies over as bytearray; model_fn ran once in this worker
    assert body["trace"] == ["input_fn:image/png:bytearray", "predict_fn", "output_fn:application/json"]
    assert body["model_loads"] == 1
    assert {p["label"] for p in body["predictions"]} <= set(FIXTURE_CLASSES)


def test_code_requirements_install_offline_into_the_stack_never_into_the_serving_venv(fixture_stack):
    """The toolkit ran pip install -r code/requirements.txt at start, --no-index from code/wheels/
    (the network is off), into this stack's own venv: the shared serving venv cannot import it."""
    assert fixture_stack.invoke(image_bytes(), "image/jpeg").json()["wheel"] == "installed offline"
    probe = subprocess.run([str(serving_python()), "-I", "-c", "import offline_wheel"], capture_output=True)
    assert probe.returncode != 0


def test_the_toolkit_decodes_exact_json_bodies_to_str_before_input_fn(fixture_stack):
    """Why dogbreed.serving.hooks empties the toolkit's UTF8_TYPES: this fixture model does not."""
    answer = fixture_stack.invoke(b'{"sleep": 0}', "application/json")
    assert answer.json()["trace"][0] == "input_fn:application/json:str"


def test_container_errors_have_the_toolkits_shape(fixture_stack):
    answer = fixture_stack.invoke(b"x", "text/csv")
    assert answer.status == 415 and b"Unsupported content type text/csv" in answer.body
    assert "content-type" not in answer.headers  # the toolkit sets it on successes only
    crashed = fixture_stack.invoke(b'{"fail": true}', "application/json")
    assert crashed.status == 500 and b"the model broke on purpose" in crashed.body


def test_archives_with_paths_outside_the_model_dir_are_refused(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "x.py"
    payload.write_text("print('pwned')")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="../escaped.py")
    with pytest.raises(tarfile.OutsideDestinationError):
        extract_model(evil, tmp_path / "model")
    assert not (tmp_path / "escaped.py").exists()


# --- InvokeEndpoint, through an unmodified boto3 client
def test_boto3_invoke_endpoint_gets_the_aws_response_shape(fixture_endpoint):
    response = runtime_client(fixture_endpoint).invoke_endpoint(
        EndpointName=ENDPOINT_NAME, Body=image_bytes(), ContentType="image/jpeg", Accept="application/json"
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["RequestId"]
    assert response["ContentType"] == "application/json"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    assert json.loads(response["Body"].read())["predictions"][0]["label"] in FIXTURE_CLASSES


def test_unknown_endpoint_is_a_validation_error(fixture_endpoint):
    client = runtime_client(fixture_endpoint)
    with pytest.raises(client.exceptions.ValidationError) as caught:
        client.invoke_endpoint(EndpointName="no-such-endpoint", Body=image_bytes(), ContentType="image/jpeg")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"] == {
        "Code": "ValidationError",
        "Message": "Endpoint no-such-endpoint of account 123456789012 not found.",
    }


def test_a_body_over_6_mb_is_a_validation_error(fixture_endpoint):
    client = runtime_client(fixture_endpoint)
    with pytest.raises(client.exceptions.ValidationError):
        client.invoke_endpoint(
            EndpointName=ENDPOINT_NAME, Body=b"\xff\xd8\xff" + bytes(6 * 2**20), ContentType="image/jpeg"
        )


@pytest.mark.parametrize(
    ("body", "content_type", "status", "kind"),
    [
        (b"a,b", "text/csv", 415, "client"),
        (b'{"fail": true}', "application/json", 500, "server"),
    ],
)
def test_model_errors_carry_the_original_status_and_message(
    fixture_endpoint, body, content_type, status, kind
):
    client = runtime_client(fixture_endpoint)
    with pytest.raises(client.exceptions.ModelError) as caught:
        client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=body, ContentType=content_type)
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["Error"]["Code"] == "ModelError"
    assert error["OriginalStatusCode"] == status
    assert error["Error"]["Message"].startswith(f"Received {kind} error ({status}) from primary with message")
    assert error["OriginalMessage"] in error["Error"]["Message"]
    assert (
        error["LogStreamArn"]
        == f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/{ENDPOINT_NAME}"
    )


def test_a_container_over_its_time_is_a_model_error_as_on_aws(fixture_stack):
    with LocalEndpoint(stack=fixture_stack, endpoint_name=ENDPOINT_NAME, container_timeout_s=0.5) as front:
        client = runtime_client(front)
        with pytest.raises(client.exceptions.ModelError) as caught:
            client.invoke_endpoint(
                EndpointName=ENDPOINT_NAME, Body=b'{"sleep": 2}', ContentType="application/json"
            )
    message = caught.value.response["Error"]["Message"]
    assert message.startswith("Received server error (0) from primary with message")
    assert "Your invocation timed out while waiting for a response from container primary" in message


def test_an_unreachable_container_is_service_unavailable():
    nothing_listens = SimpleNamespace(url="http://127.0.0.1:9")  # discard port: connection refused
    with LocalEndpoint(stack=nothing_listens, endpoint_name=ENDPOINT_NAME) as front:
        client = runtime_client(front)
        with pytest.raises(ClientError) as caught:
            client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=image_bytes(), ContentType="image/jpeg")
    assert caught.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_over_the_concurrency_limit_boto3_sees_throttling(fixture_endpoint):
    """max_concurrency=2: two slow calls hold the slots, the third is throttled as AWS does it."""
    slow = json.dumps({"sleep": 3.0}).encode()
    client = runtime_client(fixture_endpoint)

    def call(body):
        return client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=body, ContentType="application/json")

    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(call, slow) for _ in range(2)]
        wait_until(lambda: fixture_endpoint.in_flight == 2)
        with pytest.raises(ClientError) as caught:
            call(b'{"sleep": 0}')
        assert all(f.result()["ResponseMetadata"]["HTTPStatusCode"] == 200 for f in running)
    error = caught.value.response
    assert error["Error"]["Code"] == "ThrottlingException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["MaxAttemptsReached"] is True  # boto3 classed it retryable


def test_two_workers_serve_requests_concurrently(fixture_endpoint):
    slow = json.dumps({"sleep": 1.0}).encode()
    client = runtime_client(fixture_endpoint)
    client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=b'{"sleep": 0}', ContentType="application/json")
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(
                lambda _: client.invoke_endpoint(
                    EndpointName=ENDPOINT_NAME, Body=slow, ContentType="application/json"
                ),
                range(2),
            )
        )
    assert time.perf_counter() - started < 1.9  # two 1 s requests overlapped (in series: >= 2 s)


def test_unsigned_requests_are_refused(fixture_endpoint):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", fixture_endpoint.port, timeout=10)
    connection.request(
        "POST", f"/endpoints/{ENDPOINT_NAME}/invocations", image_bytes(), {"Content-Type": "image/jpeg"}
    )
    response = connection.getresponse()
    assert (response.status, response.getheader("x-amzn-ErrorType")) == (
        403,
        "MissingAuthenticationTokenException",
    )
    connection.close()


def test_the_front_binds_loopback_and_stops_cleanly(fixture_stack):
    front = LocalEndpoint(stack=fixture_stack, endpoint_name=ENDPOINT_NAME).start()
    client = runtime_client(front)
    client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=image_bytes(), ContentType="image/jpeg")
    assert front.url.startswith("http://127.0.0.1:")
    threads_before = threading.active_count()
    front.stop()
    front.stop()  # idempotent
    with pytest.raises(EndpointConnectionError):  # the pooled keep-alive connection was cut too
        client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=image_bytes(), ContentType="image/jpeg")
    assert threading.active_count() < threads_before
    assert fixture_stack.request("GET", "/ping").status == 200  # a stack it does not own keeps running


# --- the whole endpoint in its own process, and starts that fail
def test_cli_serves_until_terminated_and_leaves_nothing(fixture_model_archive):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dogbreed.local_endpoint.cli",
            "--model",
            str(fixture_model_archive),
            "--endpoint-name",
            ENDPOINT_NAME,
            "--port",
            "0",
            "--workers",
            "1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = process.stdout.readline()
        assert "ready at http://127.0.0.1:" in ready
        url = ready.rsplit(" ", 1)[1].strip()
        client = boto3.client("sagemaker-runtime", endpoint_url=url)
        response = client.invoke_endpoint(
            EndpointName=ENDPOINT_NAME, Body=image_bytes(), ContentType="image/jpeg"
        )
        assert response["InvokedProductionVariant"] == "AllTraffic"
        stack_processes = descendants(process.pid)
        assert len(stack_processes) >= 4  # unshare, the toolkit, java, a worker
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "endpoint stopped" in out
    assert not [pid for pid in stack_processes if Path(f"/proc/{pid}").exists()]


def descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        for task in Path(f"/proc/{pending.pop()}/task").glob("*"):
            children = [int(c) for c in (task / "children").read_text().split()] if task.exists() else []
            found += children
            pending += children
    return found


def test_cli_reports_a_missing_archive_in_one_line(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dogbreed.local_endpoint.cli",
            "--model",
            str(tmp_path / "none.tar.gz"),
            "--endpoint-name",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot serve") and "Traceback" not in result.stderr


def test_a_model_that_fails_to_load_fails_the_start_at_once_and_leaves_nothing(tmp_path):
    code = tmp_path / "src" / "code"
    code.mkdir(parents=True)
    (code / "inference.py").write_text("def model_fn(model_dir):\n    raise RuntimeError('no weights')\n")
    archive = pack_model(tmp_path / "src", tmp_path / "model.tar.gz")
    stack = ServingStack(archive, startup_timeout_s=120)
    started = time.monotonic()
    with pytest.raises(StackError, match="the model failed to load") as caught:
        stack.start()
    assert time.monotonic() - started < 60  # TorchServe alone would retry for minutes with /ping 200
    assert "RuntimeError: no weights" in str(caught.value)
    assert stack._layout is not None and not stack._layout.root.exists()
    assert not processes_under(stack._layout.root)


def test_the_handler_answers_503_throttled_when_the_endpoint_is_busy(
    fixture_endpoint, load_handler, lambda_context
):
    """Both slots held by slow calls: the handler's one retry is throttled too, and the caller gets 503."""
    handler = load_handler(
        ENDPOINT_NAME=ENDPOINT_NAME, AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=fixture_endpoint.url
    )
    client = runtime_client(fixture_endpoint)
    slow = json.dumps({"sleep": 3.0}).encode()
    with ThreadPoolExecutor(2) as pool:
        for _ in range(2):
            pool.submit(
                client.invoke_endpoint, EndpointName=ENDPOINT_NAME, Body=slow, ContentType="application/json"
            )
        wait_until(lambda: fixture_endpoint.in_flight == 2)
        response = handler.handler({"image": b64(image_bytes())}, lambda_context)
    assert response["statusCode"] == 503
    assert json.loads(response["body"]) == {
        "error": {"code": "Throttled", "message": "The model endpoint is busy; retry later."}
    }
