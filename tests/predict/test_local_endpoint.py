"""The local endpoint speaks both protocols: the container's (/ping, /invocations) and InvokeEndpoint's, so
an unmodified boto3 client gets what AWS would give it."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from dogbreed.local_endpoint import LocalEndpoint
from dogbreed.local_endpoint.container import InferenceContext, extract_model
from tests.predict.helpers import ENDPOINT_NAME, FIXTURE_CLASSES, b64, image_bytes, pack_model


def raw_request(endpoint, method, path, body=b"", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


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


# --- container protocol
def test_ping_is_healthy_once_the_model_is_loaded(fixture_endpoint):
    status, headers, body = raw_request(fixture_endpoint, "GET", "/ping")
    assert (status, json.loads(body)) == (200, {"status": "Healthy"})


def test_invocations_run_the_hooks_in_container_order(fixture_endpoint):
    status, headers, body = raw_request(
        fixture_endpoint, "POST", "/invocations", image_bytes("PNG"), {"Content-Type": "image/png"}
    )
    answer = json.loads(body)
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    # the toolkit passes binary bodies as bytes, model_fn ran once, then input -> predict -> output
    assert answer["trace"] == ["input_fn:image/png:bytes", "predict_fn", "output_fn:application/json"]
    assert answer["model_loads"] == 1
    assert {p["label"] for p in answer["predictions"]} <= set(FIXTURE_CLASSES)


def test_json_bodies_reach_input_fn_decoded_to_str_as_the_toolkit_does(fixture_endpoint):
    status, _, body = raw_request(
        fixture_endpoint, "POST", "/invocations", b'{"sleep": 0}', {"Content-Type": "application/json"}
    )
    assert status == 200
    assert json.loads(body)["trace"][0] == "input_fn:application/json:str"


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_missing_or_wildcard_accept_falls_back_to_the_default_accept(fixture_endpoint, accept):
    headers = {"Content-Type": "image/jpeg"} | ({"Accept": accept} if accept else {})
    status, response_headers, body = raw_request(
        fixture_endpoint, "POST", "/invocations", image_bytes(), headers
    )
    assert status == 200
    assert json.loads(body)["trace"][-1] == "output_fn:application/json"
    assert response_headers["Content-Type"] == "application/json"


def test_hook_errors_become_the_container_status(fixture_endpoint):
    unsupported = raw_request(fixture_endpoint, "POST", "/invocations", b"x", {"Content-Type": "text/csv"})
    not_acceptable = raw_request(
        fixture_endpoint,
        "POST",
        "/invocations",
        image_bytes(),
        {"Content-Type": "image/jpeg", "Accept": "text/csv"},
    )
    crashed = raw_request(
        fixture_endpoint, "POST", "/invocations", b'{"fail": true}', {"Content-Type": "application/json"}
    )
    assert unsupported[0] == 415 and b"Unsupported content type text/csv" in unsupported[2]
    assert unsupported[1]["Content-Type"] == "text/plain; charset=utf-8"
    assert not_acceptable[0] == 406
    assert crashed[0] == 500 and b"the model broke on purpose" in crashed[2]


def test_unknown_paths_are_404(fixture_endpoint):
    assert raw_request(fixture_endpoint, "GET", "/nope")[0] == 404


def test_the_context_has_the_shape_the_toolkit_uses(tmp_path):
    context = InferenceContext(str(tmp_path), [{"Content-Type": "image/png"}])
    context.set_response_status(code=415, phrase="nope")
    context.set_response_content_type(0, "application/json")
    assert context.system_properties["model_dir"] == str(tmp_path)
    assert context.request_processor[0].get_request_properties() == {"Content-Type": "image/png"}
    assert (context.get_response_status(0), context.get_response_content_type(0)) == (415, "application/json")


def test_archives_with_paths_outside_the_model_dir_are_refused(tmp_path):
    import tarfile

    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "x.py"
    payload.write_text("print('pwned')")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="../escaped.py")
    with pytest.raises(tarfile.OutsideDestinationError):
        extract_model(evil, tmp_path / "model")
    assert not (tmp_path / "escaped.py").exists()


# --- InvokeEndpoint protocol, through an unmodified boto3 client
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


def test_serves_requests_concurrently(fixture_endpoint):
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
    status, headers, body = raw_request(
        fixture_endpoint,
        "POST",
        f"/endpoints/{ENDPOINT_NAME}/invocations",
        image_bytes(),
        {"Content-Type": "image/jpeg"},
    )
    assert (status, headers["x-amzn-ErrorType"]) == (403, "MissingAuthenticationTokenException")


def test_binds_loopback_and_stops_cleanly(fixture_model_archive):
    endpoint = LocalEndpoint(fixture_model_archive, endpoint_name=ENDPOINT_NAME).start()
    client = runtime_client(endpoint)
    client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=image_bytes(), ContentType="image/jpeg")
    assert endpoint.url.startswith("http://127.0.0.1:")
    threads_before = threading.active_count()
    endpoint.stop()
    endpoint.stop()  # idempotent
    with pytest.raises(EndpointConnectionError):  # the pooled keep-alive connection was cut too
        client.invoke_endpoint(EndpointName=ENDPOINT_NAME, Body=image_bytes(), ContentType="image/jpeg")
    assert threading.active_count() < threads_before


def test_stopping_gives_the_process_its_imports_back(fixture_model_archive):
    """In one process (tests, the demo) a stopped endpoint's code/ must not shadow later imports."""
    endpoint = LocalEndpoint(fixture_model_archive, endpoint_name=ENDPOINT_NAME).start()
    code_dir = sys.path[0]  # the container puts the model's code/ first
    assert code_dir.endswith("code") and sys.modules["inference"].__file__.startswith(code_dir)
    endpoint.stop()
    assert code_dir not in sys.path
    assert not [
        name
        for name, module in sys.modules.items()
        if (module.__dict__.get("__file__") or "").startswith(code_dir)
    ]


def test_cli_serves_until_terminated(fixture_model_archive, tmp_path):
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
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "endpoint stopped" in out


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


def test_a_model_that_fails_to_load_leaves_nothing_behind(tmp_path, monkeypatch):
    code = tmp_path / "src" / "code"
    code.mkdir(parents=True)
    (code / "inference.py").write_text("def model_fn(model_dir):\n    raise RuntimeError('no weights')\n")
    archive = pack_model(tmp_path / "src", tmp_path / "model.tar.gz")
    made, mkdtemp = [], tempfile.mkdtemp
    monkeypatch.setattr(
        tempfile, "mkdtemp", lambda **kw: made.append(mkdtemp(dir=tmp_path, **kw)) or made[-1]
    )
    with pytest.raises(RuntimeError, match="no weights"):
        LocalEndpoint(archive, endpoint_name=ENDPOINT_NAME).start()
    assert len(made) == 1 and not Path(made[0]).exists()


def test_transform_fn_replaces_the_three_hooks_as_in_the_toolkit(tmp_path):
    code = tmp_path / "src" / "code"
    code.mkdir(parents=True)
    (code / "inference.py").write_text(
        "def model_fn(model_dir):\n    return 'm'\n"
        "def transform_fn(model, data, content_type, accept):\n"
        "    return f'{model}:{content_type}:{accept}:{len(data)}', 'text/plain'\n"
    )
    archive = pack_model(tmp_path / "src", tmp_path / "model.tar.gz")
    with LocalEndpoint(archive, endpoint_name=ENDPOINT_NAME) as endpoint:
        status, headers, body = raw_request(
            endpoint, "POST", "/invocations", b"abc", {"Content-Type": "image/png"}
        )
    assert (status, headers["Content-Type"], body) == (200, "text/plain", b"m:image/png:application/json:3")


def test_transform_fn_with_input_fn_is_refused_like_the_toolkit_does(tmp_path):
    code = tmp_path / "src" / "code"
    code.mkdir(parents=True)
    (code / "inference.py").write_text(
        "def model_fn(model_dir):\n    return 'm'\n"
        "def input_fn(data, content_type):\n    return data\n"
        "def transform_fn(model, data, content_type, accept):\n    return 'x'\n"
    )
    archive = pack_model(tmp_path / "src", tmp_path / "model.tar.gz")
    with pytest.raises(ValueError, match="Cannot use transform_fn"):
        LocalEndpoint(archive, endpoint_name=ENDPOINT_NAME).start()


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
