"""Shared fixtures for the prediction API: events of every shape, images, the handler under a given env,
and a local endpoint hosting a tiny fixture model."""

from __future__ import annotations

import base64
import importlib
import io
import json
import tarfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from local_endpoint import LocalEndpoint

FIXTURE_MODEL_DIR = Path(__file__).parent / "fixture_model"
FIXTURE_CLASSES = json.loads((FIXTURE_MODEL_DIR / "model_meta.json").read_text())["class_names"]
ENDPOINT_NAME = "dogbreed-test"


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch):
    """No test reaches real AWS: fake credentials, fixed region, no endpoint override unless set."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME",
        "URL_FETCH_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def load_handler(monkeypatch):
    """load(**env): sets the function's environment and re-imports the handler (a fresh cold start)."""

    def load(**env):
        for name in ("ENDPOINT_NAME", "TOP_K", "MAX_IMAGE_BYTES", "ALLOWED_URL_HOSTS", "URL_FETCH_CA_BUNDLE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, str(value))
        import handler

        return importlib.reload(handler)

    return load


@dataclass
class FakeLambdaContext:
    """The attributes of a real LambdaContext; the handler may read only the request id."""

    function_name: str = "dogbreed-predict"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:dogbreed-predict"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/dogbreed-predict"
    log_stream_name: str = "2026/11/21/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


def image_bytes(fmt: str = "JPEG", size: int = 32, color=(200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format=fmt)
    return buffer.getvalue()


# --- events, as API Gateway / Lambda deliver them (trimmed to the fields that matter)
def rest_v1_event(body: str | None, *, content_type: str = "application/json", b64: bool = False) -> dict:
    return {
        "resource": "/predict",
        "path": "/predict",
        "httpMethod": "POST",
        "headers": {"Content-Type": content_type},
        "multiValueHeaders": {"Content-Type": [content_type]},
        "queryStringParameters": None,
        "requestContext": {"requestId": "v1-req", "stage": "prod", "httpMethod": "POST"},
        "body": body,
        "isBase64Encoded": b64,
    }


def http_v2_event(body: str | None, *, content_type: str = "application/json", b64: bool = False) -> dict:
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {"content-type": content_type},
        "requestContext": {"http": {"method": "POST", "path": "/predict"}, "requestId": "v2-req"},
        "body": body,
        "isBase64Encoded": b64,
    }


def function_url_event(
    body: str | None, *, content_type: str = "application/json", b64: bool = False
) -> dict:
    event = http_v2_event(body, content_type=content_type, b64=b64)
    event["routeKey"] = "$default"
    event["requestContext"]["domainName"] = "abc123.lambda-url.us-east-1.on.aws"
    return event


def json_body(request: dict) -> str:
    return json.dumps(request)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def events_for(image: bytes, top_k: int | None = None) -> dict[str, dict]:
    """The same image in every supported event form."""
    request = {"image": b64(image)} | ({"top_k": top_k} if top_k else {})
    return {
        "rest-v1-json": rest_v1_event(json_body(request)),
        "rest-v1-binary": rest_v1_event(b64(image), content_type="image/jpeg", b64=True),
        "http-v2-json": http_v2_event(json_body(request)),
        "http-v2-binary": http_v2_event(b64(image), content_type="image/jpeg", b64=True),
        "function-url-json-b64": function_url_event(b64(json_body(request).encode()), b64=True),
        "direct": request,
    }


def decode(response: dict) -> dict:
    return json.loads(response["body"])


def pack_model(source_dir: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(source_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                tar.add(path, arcname=str(path.relative_to(source_dir)))
    return archive


@pytest.fixture(scope="session")
def fixture_model_archive(tmp_path_factory) -> Path:
    return pack_model(FIXTURE_MODEL_DIR, tmp_path_factory.mktemp("fixture-model") / "model.tar.gz")


@pytest.fixture
def fixture_endpoint(fixture_model_archive):
    """A running local endpoint hosting the fixture model; stopped after the test."""
    with LocalEndpoint(fixture_model_archive, endpoint_name=ENDPOINT_NAME, max_concurrency=2) as endpoint:
        yield endpoint


REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class TrainedModel:
    archive: Path
    class_names: list[str]
    test_images: list[Path]


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> TrainedModel:
    """A real model.tar.gz from training/train.py: 3 synthetic breeds, mobilenet_v3_small, 1 epoch (~15 s)."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("trained")
    data = root / "data"
    subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "tools" / "make_synthetic_dataset.py"),
            "--output",
            str(data),
            "--classes",
            "3",
            "--train",
            "4",
            "--valid",
            "2",
            "--test",
            "2",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "training" / "train.py"),
            "--data-dir",
            str(data),
            "--model-dir",
            str(root / "model"),
            "--output-dir",
            str(root / "output"),
            "--checkpoint-dir",
            str(root / "checkpoints"),
            "--arch",
            "mobilenet_v3_small",
            "--no-pretrained",
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--crop-size",
            "64",
            "--num-workers",
            "0",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    archive = root / "model" / "model.tar.gz"
    with tarfile.open(archive) as tar:
        meta = json.load(tar.extractfile("model_meta.json"))
    test_images = sorted(p for p in (data / "test").rglob("*") if p.suffix in {".jpg", ".jpeg", ".png"})
    return TrainedModel(archive, list(meta["class_names"]), test_images)
