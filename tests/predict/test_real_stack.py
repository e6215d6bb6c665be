"""The trained model.tar.gz in the real serving stack (TorchServe + the SageMaker PyTorch toolkit, network
off) behind the local InvokeEndpoint front, called through an unmodified boto3 sagemaker-runtime client:
every documented request form and every error status (docs/prediction_api.md, docs/training.md).

The container's own answers reach boto3 as AWS shapes them: 200 with the body, or ModelError (424) carrying
the container's status as OriginalStatusCode. The front's own refusals are ValidationError,
ThrottlingException and MissingAuthenticationTokenException.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import shutil
import tarfile
import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from PIL import Image

from dogbreed import contract
from dogbreed.local_endpoint import LocalEndpoint
from dogbreed.serving import hooks
from tests.container_requests import BAD_REQUESTS, GOOD_REQUESTS, JPEG, SLOW_TO_BUILD
from tests.predict.helpers import ENDPOINT_NAME
from tests.serving_stack import inside_namespace

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
VIA_INVOKE_ENDPOINT = {  # what InvokeEndpoint can carry at all (Body max 6291456 bytes)
    name: case for name, case in BAD_REQUESTS.items() if len(case[0]) <= contract.INVOKE_ENDPOINT_MAX_BYTES
}


@pytest.fixture
def client(real_endpoint):
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=real_endpoint.url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def invoke(client, body: bytes, content_type: str | None, accept: str | None = None, **extra):
    request = {"EndpointName": ENDPOINT_NAME, "Body": body, **extra}
    request |= {"ContentType": content_type} if content_type is not None else {}
    request |= {"Accept": accept} if accept is not None else {}
    return client.invoke_endpoint(**request)


@pytest.mark.parametrize("name", GOOD_REQUESTS)
def test_every_request_form_gets_its_predictions(client, trained_model, name):
    body, content_type, accept, expected = GOOD_REQUESTS[name]
    response = invoke(client, body, content_type, accept)
    assert (response["ContentType"], response["InvokedProductionVariant"]) == (
        "application/json",
        "AllTraffic",
    )
    predictions = json.loads(response["Body"].read())["predictions"]
    assert len(predictions) == expected
    assert all(trained_model.class_names[p["index"]] == p["label"] for p in predictions)


def test_sagemaker_headers_are_passed_on_and_ignored(client):
    response = invoke(client, JPEG, "image/jpeg", CustomAttributes="trace=1", InferenceId="abc-123")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize("name", VIA_INVOKE_ENDPOINT)
def test_every_client_error_is_a_model_error_with_its_4xx(client, name):
    body, content_type, accept, status = VIA_INVOKE_ENDPOINT[name]
    with pytest.raises(client.exceptions.ModelError) as caught:
        invoke(client, body, content_type, accept)
    error = caught.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["OriginalStatusCode"]) == (424, status)
    assert error["Error"]["Message"].startswith(f"Received client error ({status}) from primary")


def test_an_image_too_costly_to_decode_is_a_413(client):
    build, content_type, accept, status = SLOW_TO_BUILD["grey+alpha png of 40 MP"]
    with pytest.raises(client.exceptions.ModelError) as caught:
        invoke(client, build(), content_type, accept)
    assert caught.value.response["OriginalStatusCode"] == status == 413


def test_a_body_over_the_invoke_endpoint_limit_is_a_validation_error(client):
    with pytest.raises(client.exceptions.ValidationError):
        invoke(client, b"\xff\xd8" + bytes(contract.INVOKE_ENDPOINT_MAX_BYTES), "image/jpeg")


def test_an_unknown_endpoint_is_a_validation_error(client):
    with pytest.raises(client.exceptions.ValidationError) as caught:
        client.invoke_endpoint(EndpointName="other", Body=JPEG, ContentType="image/jpeg")
    assert caught.value.response["Error"]["Message"] == "Endpoint other of account 123456789012 not found."


def test_an_unsigned_request_is_refused(real_endpoint):
    connection = http.client.HTTPConnection("127.0.0.1", real_endpoint.port, timeout=10)
    connection.request(
        "POST", f"/endpoints/{ENDPOINT_NAME}/invocations", JPEG, {"Content-Type": "image/jpeg"}
    )
    response = connection.getresponse()
    assert (response.status, response.getheader("x-amzn-ErrorType")) == (
        403,
        "MissingAuthenticationTokenException",
    )
    connection.close()


def test_a_call_over_the_concurrency_limit_is_throttled(trained_stack):
    """One slot, held by a 25 MP PNG (a small file, but a fraction of a second to decode at full size): the
    next call is throttled at once."""
    gradient = Image.linear_gradient("L").resize((5000, 5000))
    photo = io.BytesIO()
    Image.merge("RGB", (gradient, gradient.rotate(90), gradient.rotate(180))).save(photo, "PNG")
    with LocalEndpoint(stack=trained_stack, endpoint_name=ENDPOINT_NAME, max_concurrency=1) as front:
        runtime = boto3.client(
            "sagemaker-runtime",
            endpoint_url=front.url,
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )
        holder = threading.Thread(target=invoke, args=(runtime, photo.getvalue(), "image/png"))
        holder.start()
        deadline = time.monotonic() + 10
        while front.in_flight == 0:
            assert time.monotonic() < deadline
            time.sleep(0.002)
        with pytest.raises(ClientError) as caught:
            invoke(runtime, JPEG, "image/jpeg")
        holder.join(timeout=60)
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"


@pytest.mark.skipif(shutil.which("nsenter") is None, reason="needs util-linux's nsenter")
def test_the_stack_has_only_loopback_and_no_route_out(trained_stack):
    inside = inside_namespace(trained_stack)
    assert inside == {"interfaces": ["lo"], "connect": 101}  # ENETUNREACH: nothing leaves the namespace


def answer_here(model_dir, body: bytes, content_type: str, monkeypatch) -> dict[int, float]:
    """{class index: probability} from the hooks in this process, serving the extracted model_dir."""
    monkeypatch.setenv("INFERENCE_THREADS", "1")  # as the stack's workers (tests/serving_stack.py)
    model = hooks.model_fn(str(model_dir))
    assert model.runtime == "onnxruntime"
    predictions = hooks.predict_fn(hooks.input_fn(body, content_type), model)
    return {entry["index"]: entry["probability"] for entry in predictions}


def test_the_int8_model_is_served_with_its_runtime_installed_offline(
    trained_stack, trained_model, tmp_path, monkeypatch
):
    """The artifact holds model.int8.onnx and onnxruntime as wheels in code/wheels/: with the network off
    the toolkit installs them --no-index, the workers load the int8 model (model_fn's log line) and answer
    as ONNX Runtime does on it here. (A 1-epoch model's probabilities are too flat to tell int8 from fp32 by
    the answer alone; tests/training/test_serving_gate.py compares the two on a trained one.)"""
    with tarfile.open(trained_model.archive) as archive:
        archive.extractall(tmp_path, filter="data")
    serving = json.loads((tmp_path / "model_meta.json").read_text())["serving"]
    assert (serving["runtime"], serving["precision"]) == ("onnxruntime", "int8")
    log = trained_stack.log_tail(100_000)
    assert re.search(r"Successfully installed .*onnxruntime-1\.31\.1", log), log[-3000:]
    assert "onnxruntime int8 (1 threads)" in log

    image = trained_model.test_images[0]
    body, content_type = image.read_bytes(), "image/png" if image.suffix == ".png" else "image/jpeg"
    served = {
        p["index"]: p["probability"] for p in trained_stack.invoke(body, content_type).json()["predictions"]
    }
    int8 = answer_here(tmp_path, body, content_type, monkeypatch)
    assert served.keys() == int8.keys()
    assert max(abs(served[index] - int8[index]) for index in served) < 1e-5
