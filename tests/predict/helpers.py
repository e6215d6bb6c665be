"""Helpers shared by the prediction API tests: constants, images, response decoding, model packing."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from dev.lambda_events import (  # noqa: F401 - re-exported to the tests
    FakeLambdaContext,
    b64,
    events_for,
    function_url_event,
    sample_event,
)
from dev.lambda_runtime import invoke  # noqa: F401 - re-exported to the tests

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_MODEL_DIR = Path(__file__).parent / "fixture_model"
FIXTURE_CLASSES = json.loads((FIXTURE_MODEL_DIR / "model_meta.json").read_text())["class_names"]
ENDPOINT_NAME = "dogbreed-test"


def image_bytes(fmt: str = "JPEG", size: int = 32, color=(200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, format=fmt)
    return buffer.getvalue()


def json_body(request: dict) -> str:
    return json.dumps(request)


def decode(response: dict) -> dict:
    return json.loads(response["body"])


def pack_model(source_dir: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(source_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                tar.add(path, arcname=str(path.relative_to(source_dir)))
    return archive


@dataclass(frozen=True)
class TrainedModel:
    archive: Path
    class_names: list[str]
    test_images: list[Path]
