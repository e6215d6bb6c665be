"""The packed model.tar.gz served by the real serving stack of the SageMaker PyTorch container (TorchServe +
the toolkit, network off: dogbreed.local_endpoint.stack), every request of the container tables.

The serving venv cannot import the project's dogbreed package (scripts/serving_layer.py links only the
PyTorch stack into it), so every answer comes from the code packed in the artifact's code/.
"""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import tarfile
import time

import pytest
from PIL import Image

from dogbreed.local_endpoint.instance import serving_python
from dogbreed.serving import hooks as inference
from tests.container_requests import BAD_REQUESTS, CLASSES, GOOD_REQUESTS, SLOW_TO_BUILD

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def stack(serve_in_real_stack, single_run):
    return serve_in_real_stack(single_run.model_dir / "model.tar.gz")


@pytest.fixture(scope="module")
def served(stack) -> dict:
    """Every request of both tables, sent once through the stack's /invocations."""
    table = {**GOOD_REQUESTS, **BAD_REQUESTS}
    return {
        name: stack.invoke(body, content_type, accept)
        for name, (body, content_type, accept, _) in table.items()
    }


def test_the_serving_venv_has_no_dogbreed_of_its_own():
    """So the 200s below prove the artifact's code/ is complete: nothing else could have answered."""
    probe = subprocess.run(
        [str(serving_python()), "-I", "-c", "import dogbreed"], capture_output=True, text=True
    )
    assert probe.returncode != 0 and "No module named 'dogbreed'" in probe.stderr


@pytest.mark.parametrize("name", GOOD_REQUESTS)
def test_valid_images_get_well_formed_top_k_json(served, single_run, name):
    expected_count = GOOD_REQUESTS[name][3]
    response = served[name]
    assert response.status == 200, response.body[:500]
    assert response.headers["content-type"] == "application/json"
    predictions = response.json()["predictions"]
    assert len(predictions) == expected_count
    with tarfile.open(single_run.model_dir / "model.tar.gz") as archive:
        class_names = json.load(archive.extractfile("model_meta.json"))["class_names"]
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
    response = served[name]
    assert response.status == BAD_REQUESTS[name][3], response.body[:500]
    assert 0 < len(response.reason) < 160 and "Traceback" not in response.reason


def test_an_image_too_costly_to_decode_is_refused_from_its_header(stack):
    build, content_type, accept, status = SLOW_TO_BUILD["grey+alpha png of 40 MP"]
    body = build()
    started = time.perf_counter()
    response = stack.invoke(body, content_type, accept)
    assert (response.status, len(body) < 100_000) == (status, True)
    assert "MiB to decode" in response.reason
    assert time.perf_counter() - started < 1.0  # decoding it would take seconds and ~800 MB


def test_exif_rotated_image_predicts_like_its_upright_original(served):
    """Same picture, once stored upright and once stored rotated with an EXIF orientation."""
    upright = served["jpeg"].json()["predictions"]
    rotated = served["exif-rotated jpeg"].json()["predictions"]
    assert [p["index"] for p in rotated] == [p["index"] for p in upright]
    for left, right in zip(upright, rotated, strict=True):
        assert left["probability"] == pytest.approx(right["probability"], abs=0.02)


def test_inference_module_imports_without_the_toolkit(monkeypatch):
    """Off the toolkit, errors keep the attributes the toolkit reads (status_code, message, phrase)."""
    for name in [name for name in sys.modules if name.startswith("sagemaker_inference")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sagemaker_inference", None)  # makes `import sagemaker_inference` fail
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


@pytest.mark.parametrize(
    "body",
    [b'{"image": "\xff"}', b"[" * 100_000 + b"]" * 100_000, b'{"image": "x", "top_k": ' + b"9" * 5000 + b"}"],
    ids=["not utf-8", "nested 100000 deep", "5000-digit top_k"],
)
def test_input_fn_refuses_hostile_json_with_a_400(body):
    with pytest.raises(inference.BadRequest):
        inference.input_fn(bytearray(body), "application/json")


def test_the_decode_budget_is_checked_before_decoding():
    image = Image.open(io.BytesIO(SLOW_TO_BUILD["grey+alpha png of 40 MP"][0]()))
    started = time.perf_counter()
    with pytest.raises(inference.PayloadTooLarge, match="needs 762 MiB to decode, over the 256 MiB limit"):
        inference._decode(image, min_side=73)
    assert time.perf_counter() - started < 0.1  # decoding 40 MP would take seconds
