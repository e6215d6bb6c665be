"""Fixtures for the prediction API tests: fake AWS, the handler under a given env, lambda contexts, the real
serving stack hosting a tiny fixture model and a really trained model.tar.gz (each started once per session),
and InvokeEndpoint fronts over them (one per test, so each test picks its own front settings)."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest

from dev.lambda_runtime import import_lambda_handler
from dogbreed.local_endpoint import LocalEndpoint
from tests.predict.helpers import (
    ENDPOINT_NAME,
    FIXTURE_MODEL_DIR,
    FakeLambdaContext,
    TrainedModel,
    pack_model,
    pure_python_wheel,
)


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


FUNCTION_ENV = (  # every variable the function reads (dogbreed.predict_api.settings)
    "ENDPOINT_NAME",
    "TOP_K",
    "MAX_IMAGE_BYTES",
    "ALLOWED_URL_HOSTS",
    "URL_FETCH_CA_BUNDLE",
    "URL_FETCH_DEADLINE_S",
    "ENDPOINT_CONNECT_TIMEOUT_S",
    "ENDPOINT_READ_TIMEOUT_S",
    "ENDPOINT_MAX_ATTEMPTS",
)


@pytest.fixture
def load_handler(monkeypatch):
    """load(**env): sets the function's environment and re-imports the app module (a fresh cold start)."""

    def load(**env):
        for name in FUNCTION_ENV:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, str(value))
        return import_lambda_handler()

    return load


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(scope="session")
def fixture_model_archive(tmp_path_factory) -> Path:
    """The fixture model, with a code/requirements.txt the toolkit installs --no-index from code/wheels/ (the
    network is off in the stack), as an artifact that ships its own wheels does."""
    root = tmp_path_factory.mktemp("fixture-model")
    source = root / "model"
    shutil.copytree(FIXTURE_MODEL_DIR, source, ignore=shutil.ignore_patterns("__pycache__"))
    (source / "code" / "wheels").mkdir()
    pure_python_wheel(source / "code" / "wheels", "offline_wheel", "1.0", 'VALUE = "installed offline"\n')
    (source / "code" / "requirements.txt").write_text("--no-index\n--find-links wheels\noffline_wheel==1.0\n")
    return pack_model(source, root / "model.tar.gz")


@pytest.fixture(scope="session")
def fixture_stack(serve_in_real_stack, fixture_model_archive):
    """The fixture model in the real serving stack, two workers (so two requests run at once)."""
    return serve_in_real_stack(fixture_model_archive, workers=2)


@pytest.fixture
def fixture_endpoint(fixture_stack):
    """An InvokeEndpoint front (at most 2 concurrent calls) over the fixture model's stack."""
    with LocalEndpoint(stack=fixture_stack, endpoint_name=ENDPOINT_NAME, max_concurrency=2) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> TrainedModel:
    """A real model.tar.gz from training/train.py: 3 synthetic breeds, mobilenet_v3_small, 1 epoch (~15 s),
    packed int8 (ONNX Runtime, its wheels in code/wheels/ for the local stack's Python).

    The gate is opened here (any agreement, any drop; --serving-precision int8 fails the run otherwise): these
    tests are about serving the int8 artifact, and 6 validation images of a 1-epoch model say nothing about
    int8's accuracy. The gate itself: tests/training/test_serving_gate.py."""
    import subprocess
    import sys

    from dogbreed.local_endpoint.instance import python_version, serving_python
    from dogbreed.utils.repo import BUILD_DIR

    root = tmp_path_factory.mktemp("trained")
    data = root / "data"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dogbreed.data.synthetic",
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
            "-m",
            "dogbreed.training.train",
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
            *("--serving-precision", "int8", "--gate-min-agreement", "0", "--gate-max-accuracy-drop", "100"),
            *(
                "--wheelhouse",
                str(BUILD_DIR / "wheelhouse"),
                "--serving-python",
                python_version(serving_python()),
            ),
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


@pytest.fixture(scope="session")
def trained_stack(serve_in_real_stack, trained_model):
    """The trained model.tar.gz in the real serving stack, network off."""
    return serve_in_real_stack(trained_model.archive)


@pytest.fixture
def real_endpoint(trained_stack):
    """An InvokeEndpoint front over the trained model's stack."""
    with LocalEndpoint(stack=trained_stack, endpoint_name=ENDPOINT_NAME) as endpoint:
        yield endpoint
