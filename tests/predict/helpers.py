"""Helpers shared by the prediction API tests: constants, images, response decoding, model packing."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import zipfile
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


def pure_python_wheel(
    directory: Path, name: str, version: str, module_source: str, requires: tuple[str, ...] = ()
) -> Path:
    """A minimal pure-Python wheel holding one module `name` (what an artifact ships in code/wheels/), its
    METADATA listing `requires` as Requires-Dist."""
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    files = {
        f"{name}.py": module_source.encode(),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{path},sha256={_record_hash(data)},{len(data)}" for path, data in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


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
