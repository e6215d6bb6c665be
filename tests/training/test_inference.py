"""The packed model.tar.gz served through the real SageMaker inference toolkit Transformer.

Every request goes through `Transformer.transform`, which maps our errors to their status and anything
else to 500, in a subprocess whose only import path for `inference`/`dogbreed` is the artifact's code/.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest
from PIL import Image

from dogbreed.serving import hooks as inference
from tests.training.helpers import CLASSES, quiet_env, run_in_own_group

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # a hung process group must not hang CI
SERVER = Path(__file__).with_name("serve_requests.py")


def picture(mode: str = "RGB", size: tuple[int, int] = (90, 60)) -> Image.Image:
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (gradient, gradient.rotate(90), Image.new("L", size, 128)))
    return image.convert(mode) if mode != "P" else image.quantize(16)


def encode(image: Image.Image, file_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, file_format, **options)
    return buffer.getvalue()


def exif_rotated_jpeg() -> bytes:
    """Pixels stored rotated, EXIF orientation 6 says how to turn them upright."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(picture().transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif.tobytes())


def json_body(image: bytes, **fields) -> bytes:
    return json.dumps({"image": base64.b64encode(image).decode(), **fields}).encode()


JPEG = encode(picture(), "JPEG")
PNG = encode(picture(), "PNG")

GOOD_REQUESTS = {
    "jpeg": (JPEG, "image/jpeg", None, 3),
    "png": (PNG, "image/png", None, 3),
    "x-image": (JPEG, "application/x-image", None, 3),
    "grayscale jpeg": (encode(picture("L"), "JPEG"), "image/jpeg", None, 3),
    "rgba png": (encode(picture("RGBA"), "PNG"), "image/png", None, 3),
    "cmyk jpeg": (encode(picture("CMYK"), "JPEG"), "image/jpeg", None, 3),
    "palette png": (encode(picture("P"), "PNG"), "image/png", None, 3),
    "exif-rotated jpeg": (exif_rotated_jpeg(), "image/jpeg", None, 3),
    "json top_k 2": (json_body(PNG, top_k=2), "application/json", None, 2),
    "json top_k capped": (json_body(JPEG, top_k=1000), "application/json", None, CLASSES),
    "json default top_k": (json_body(JPEG), "application/json", None, CLASSES),
    "content-type with parameter": (JPEG, "image/jpeg; charset=binary", None, 3),
    "accept list": (JPEG, "image/jpeg", "text/html, application/json;q=0.9", 3),
    "accept any": (JPEG, "image/jpeg", "*/*", 3),
}

BAD_REQUESTS = {  # name: (body, content type, accept, documented status)
    "empty body": (b"", "image/jpeg", None, 400),
    "not an image": (b"definitely not a picture", "image/png", None, 400),
    "gif is not accepted": (encode(picture("P"), "GIF"), "image/jpeg", None, 400),
    "truncated jpeg": (JPEG[: len(JPEG) // 2], "image/jpeg", None, 400),
    "truncated png": (PNG[: len(PNG) // 2], "image/png", None, 400),
    "decompression bomb": (encode(Image.new("1", (8000, 8000)), "PNG"), "image/png", None, 413),
    "body too large": (b"\xff\xd8" + bytes(17 * 1024 * 1024), "image/jpeg", None, 413),
    "unsupported content type": (JPEG, "text/plain", None, 415),
    "missing content type": (JPEG, None, None, 415),
    "unsupported accept": (JPEG, "image/jpeg", "text/csv", 406),
    "malformed json": (b'{"image": ', "application/json", None, 400),
    "json not an object": (b"[1, 2]", "application/json", None, 400),
    "json without image": (b'{"top_k": 2}', "application/json", None, 400),
    "malformed base64": (b'{"image": "not*base64!"}', "application/json", None, 400),
    "base64 of a non-image": (json_body(b"plain text"), "application/json", None, 400),
    "unknown json key": (json_body(JPEG, topk=2), "application/json", None, 400),
    "top_k zero": (json_body(JPEG, top_k=0), "application/json", None, 400),
    "top_k negative": (json_body(JPEG, top_k=-3), "application/json", None, 400),
    "top_k string": (json_body(JPEG, top_k="3"), "application/json", None, 400),
    "top_k float": (json_body(JPEG, top_k=2.5), "application/json", None, 400),
    "top_k boolean": (json_body(JPEG, top_k=True), "application/json", None, 400),
}


@pytest.fixture(scope="module")
def served(single_run, tmp_path_factory) -> dict:
    """Extract the trained model.tar.gz and send every request of both tables through the toolkit."""
    model_dir = tmp_path_factory.mktemp("model")
    with tarfile.open(single_run.model_dir / "model.tar.gz") as archive:
        archive.extractall(model_dir, filter="data")
    table = {**GOOD_REQUESTS, **BAD_REQUESTS}
    requests = [
        {"body_b64": base64.b64encode(body).decode(), "content_type": content_type, "accept": accept}
        for body, content_type, accept, _ in table.values()
    ]
    requests_file = model_dir.parent / f"{model_dir.name}_requests.json"
    requests_file.write_text(json.dumps(requests))
    env = quiet_env(PYTHONPATH=str(model_dir / "code"), TORCH_HOME=str(model_dir.parent / "empty_torch_home"))
    result = run_in_own_group(
        [sys.executable, str(SERVER), str(model_dir), str(requests_file)],
        timeout=180,
        env=env,
        cwd=model_dir.parent,
    )
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    meta = json.loads((model_dir / "model_meta.json").read_text())
    return {
        "model_dir": model_dir,
        "meta": meta,
        "module": output["inference_module"],
        "responses": dict(zip(table, output["responses"], strict=True)),
    }


def test_serving_uses_the_code_packed_in_the_artifact(served):
    assert Path(served["module"]).resolve() == (served["model_dir"] / "code" / "inference.py").resolve()


@pytest.mark.parametrize("name", GOOD_REQUESTS)
def test_valid_images_get_well_formed_top_k_json(served, name):
    expected_count = GOOD_REQUESTS[name][3]
    response = served["responses"][name]
    assert response["status"] == 200, response["phrase"]
    assert response["content_type"] == "application/json"
    predictions = json.loads(response["body"])["predictions"]
    assert len(predictions) == expected_count
    class_names = served["meta"]["class_names"]
    for prediction in predictions:
        assert set(prediction) == {"label", "index", "probability"}
        assert class_names[prediction["index"]] == prediction["label"]
        assert 0.0 <= prediction["probability"] <= 1.0
    probabilities = [prediction["probability"] for prediction in predictions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) <= 1.0 + 1e-5
    if expected_count == CLASSES:
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_bad_requests_get_their_documented_4xx(served, name):
    response = served["responses"][name]
    assert response["status"] == BAD_REQUESTS[name][3], response["body"][:500]
    assert 0 < len(response["phrase"]) < 120 and "Traceback" not in response["phrase"]


def test_exif_rotated_image_predicts_like_its_upright_original(served):
    """Same picture, once stored upright and once stored rotated with an EXIF orientation."""
    upright = json.loads(served["responses"]["jpeg"]["body"])["predictions"]
    rotated = json.loads(served["responses"]["exif-rotated jpeg"]["body"])["predictions"]
    assert [p["index"] for p in rotated] == [p["index"] for p in upright]
    for left, right in zip(upright, rotated, strict=True):
        assert left["probability"] == pytest.approx(right["probability"], abs=0.02)


def test_inference_module_imports_without_the_toolkit(monkeypatch):
    """Off the toolkit, errors keep the attributes the toolkit reads (status_code, message, phrase)."""
    for name in [name for name in sys.modules if name.startswith("sagemaker_inference")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(
        sys.modules, "sagemaker_inference", None
    )  # makes `import sagemaker_inference...` fail
    spec = importlib.util.spec_from_file_location("inference_without_toolkit", inference.__file__)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)

    error = module.UnsupportedMediaType("nope")
    assert "GenericInferenceToolkitError" not in [cls.__name__ for cls in type(error).__mro__]
    assert (error.status_code, error.message, error.phrase) == (415, "nope", "nope")


def test_model_fn_refuses_an_artifact_of_another_format(tmp_path):
    (tmp_path / "model_meta.json").write_text(json.dumps({"format_version": 2, "arch": "resnet18"}))
    with pytest.raises(RuntimeError, match="format_version 2 is not 1; repack"):
        inference.model_fn(str(tmp_path))
