"""The pack-time accuracy gate: what model.tar.gz serves with is decided on the validation split.

Both ways through train.py and dogbreed-pack on a really trained network: a model whose int8 version passes
the gate ships int8 (model.int8.onnx, the runtime's wheels in code/wheels/ and an offline
code/requirements.txt); one made to fail ships fp32 with the gate's numbers and the reason in model_meta.json
and metrics.json. Beside them: the gate's arithmetic, its thresholds, the wheelhouse's completeness check, and
the pins the artifact ships against requirements/dev.txt.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest

from dogbreed.local_endpoint.instance import python_version, serving_python
from dogbreed.packing import cli as pack_model
from dogbreed.packing import wheels
from dogbreed.packing.gate import GateThresholds, judge
from dogbreed.packing.options import PackOptions
from dogbreed.serving import hooks
from dogbreed.utils.repo import BUILD_DIR, REPO_ROOT
from tests.predict.helpers import pure_python_wheel
from tests.training.helpers import TrainingRun, run_training

pytestmark = pytest.mark.timeout(600)


# --------------------------------------------------------------------------- the gate's arithmetic
def logits_for(classes: list[int], count: int = 4) -> np.ndarray:
    """Confident logits (10 for the class, 0 elsewhere) choosing `classes`."""
    logits = np.zeros((len(classes), count), dtype=np.float32)
    logits[np.arange(len(classes)), classes] = 10.0
    return logits


def test_the_gate_passes_an_identical_candidate():
    reference = logits_for([0, 1, 2, 3])
    report = judge("int8", reference, reference.copy(), [0, 1, 2, 3], GateThresholds())
    assert report.passed and report.failures == []
    assert (report.top1_agreement, report.accuracy_drop_points, report.max_probability_diff) == (
        1.0,
        0.0,
        0.0,
    )


def test_the_gate_fails_on_agreement_and_says_why():
    """200 images, 3 changed predictions: 98.5% < 99%, although accuracy does not drop (the changed images
    were wrong before and after)."""
    truth = [0] * 200
    ours = [0] * 197 + [1, 1, 1]
    theirs = [0] * 197 + [2, 2, 2]
    report = judge("int8", logits_for(ours), logits_for(theirs), truth, GateThresholds())
    assert not report.passed
    assert report.disagreements == 3 and report.accuracy_drop_points == 0.0
    assert report.failures == ["top-1 agreement 98.50% < 99%"]
    assert "FAILED (top-1 agreement 98.50% < 99%)" in report.summary()


def test_the_gate_fails_on_an_accuracy_drop():
    """1 of 1000 changed (99.9% agreement) but it was right before: 0.1 points; the threshold 0.05 fails."""
    truth = list(range(4)) * 250
    theirs = truth[:-1] + [(truth[-1] + 1) % 4]
    report = judge(
        "int8", logits_for(truth), logits_for(theirs), truth, GateThresholds(max_accuracy_drop_points=0.05)
    )
    assert report.failures == ["accuracy drop 0.10 points > 0.05"]
    assert judge("int8", logits_for(truth), logits_for(theirs), truth, GateThresholds()).passed


def test_the_gate_checks_the_probability_difference_only_when_asked():
    reference = logits_for([0, 1]) / 5  # logits 2 and 0: class 0 at 0.711
    candidate = reference + np.array([[0.5, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32)  # 0.802
    assert judge("int8", reference, candidate, [0, 1], GateThresholds()).passed
    report = judge("int8", reference, candidate, [0, 1], GateThresholds(max_probability_diff=0.05))
    assert report.failures == ["max probability difference 0.0912 > 0.05"]


@pytest.mark.parametrize(
    "thresholds",
    [
        {"min_agreement": 1.5},
        {"min_agreement": -0.1},
        {"max_accuracy_drop_points": -1},
        {"max_probability_diff": 2.0},
    ],
)
def test_thresholds_out_of_range_are_refused(thresholds):
    with pytest.raises(ValueError):
        GateThresholds(**thresholds)


def test_bad_packing_flags_are_refused_before_training(tmp_path, dataset_dir):
    run = run_training(tmp_path, dataset_dir, "--gate-min-agreement", "1.5", timeout=120)
    assert run.result.returncode == 2
    assert "min agreement must be within 0..1, got 1.5" in run.result.stderr
    assert not (tmp_path / "checkpoints").exists(), "refused before any epoch"


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="serving precision must be one of auto, int8, fp32"):
        PackOptions(precision="int4")


# --------------------------------------------------------------------------- the wheels that travel
def test_the_shipped_pins_are_requirements_dev_pins():
    """The runtime the artifact ships is the one packing measured and validated with."""
    pinned = dict(
        re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
        for line in (REPO_ROOT / "requirements" / "dev.txt").read_text().splitlines()
        if re.match(r"[A-Za-z0-9_.-]+==", line)
    )
    for pin in wheels.PACK_PINS:
        name, version = pin.split("==")
        assert pinned.get(name) == version, pin
    assert set(wheels.SERVING_PINS) <= set(wheels.PACK_PINS)


def test_a_wheelhouse_missing_a_dependency_is_refused(tmp_path):
    pure_python_wheel(tmp_path, "runtime_pkg", "1.0", "", requires=("helper_pkg>=2", "numpy"))
    with pytest.raises(wheels.WheelhouseError, match="requires helper_pkg>=2, which neither"):
        wheels.select(tmp_path, ("runtime_pkg==1.0",), "3.12")
    pure_python_wheel(tmp_path, "helper_pkg", "1.5", "")
    with pytest.raises(wheels.WheelhouseError, match="requires helper_pkg>=2"):
        wheels.select(tmp_path, ("runtime_pkg==1.0", "helper_pkg==1.5"), "3.12")
    pure_python_wheel(tmp_path, "helper_pkg", "2.0", "")
    chosen = wheels.select(tmp_path, ("runtime_pkg==1.0", "helper_pkg==2.0"), "3.12")
    assert [path.name for path in chosen] == [
        "helper_pkg-2.0-py3-none-any.whl",
        "runtime_pkg-1.0-py3-none-any.whl",
    ]


def test_a_wheel_for_another_python_is_not_shipped(tmp_path):
    (tmp_path / "runtime_pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl").write_bytes(b"")
    with pytest.raises(wheels.WheelhouseError, match="no wheel of runtime_pkg==1.0 for CPython 3.12"):
        wheels.select(tmp_path, ("runtime_pkg==1.0",), "3.12")


def test_the_requirements_file_never_asks_an_index():
    text = wheels.requirements_text(wheels.SERVING_PINS, "wheels")
    assert text.splitlines()[:2] == ["--no-index", "--find-links wheels"]


# --------------------------------------------------------------------------- both ways, on a trained model
@pytest.fixture(scope="session")
def local_python() -> str:
    """The local serving stack's CPython: build/wheelhouse holds the runtime for it (scripts/setup.sh)."""
    return python_version(serving_python())


@pytest.fixture(scope="session")
def wheelhouse(local_python) -> Path:
    folder = BUILD_DIR / "wheelhouse"
    try:
        wheels.select(folder, wheels.SERVING_PINS, local_python)
    except wheels.WheelhouseError as error:
        pytest.fail(f"{error}: scripts/setup.sh fills it")
    return folder


@pytest.fixture(scope="session")
def gate_data(tmp_path_factory) -> Path:
    """Three synthetic breeds, 10 validation images each: big enough for distinct, confident classes."""
    root = tmp_path_factory.mktemp("gate_data")
    from dogbreed.data.synthetic import generate

    generate(root, 3, {"train": 12, "valid": 10, "test": 2}, seed=3, min_size=72, max_size=120)
    return root


@pytest.fixture(scope="session")
def failed_gate_run(tmp_path_factory, gate_data, wheelhouse, local_python) -> TrainingRun:
    """train.py with a gate int8 cannot pass: no probability may move by more than 1e-9 (int8 rounding moves
    every one)."""
    run = run_training(
        tmp_path_factory.mktemp("failed_gate"),
        gate_data,
        *("--epochs", "6", "--learning-rate", "0.003", "--crop-size", "64"),
        *("--wheelhouse", str(wheelhouse), "--serving-python", local_python),
        *("--gate-max-probability-diff", "1e-9"),
        timeout=480,
    )
    assert run.result.returncode == 0, run.result.stderr[-3000:]
    return run


def archive_members(archive: Path) -> tuple[dict, set[str], str | None]:
    with tarfile.open(archive) as tar:
        meta = json.load(tar.extractfile("model_meta.json"))
        names = set(tar.getnames())
        requirements = tar.extractfile("code/requirements.txt") if "code/requirements.txt" in names else None
        return meta, names, requirements.read().decode() if requirements else None


def test_a_model_made_to_fail_the_gate_ships_fp32_and_says_why(failed_gate_run, local_python):
    meta, names, requirements = archive_members(failed_gate_run.model_dir / "model.tar.gz")
    serving = meta["serving"]
    assert (serving["runtime"], serving["precision"], serving["file"]) == (
        "onnxruntime",
        "fp32",
        "model.onnx",
    )
    assert serving["gate"]["passed"] is False
    assert serving["gate"]["failures"][0].startswith("max probability difference")
    assert serving["reason"].startswith("int8 not shipped: onnxruntime int8 vs fp32 on 30 validation images")
    assert "FAILED (max probability difference" in serving["reason"]
    assert serving["fp32_check"]["passed"] is True and serving["fp32_check"]["top1_agreement"] == 1.0
    assert "model.int8.onnx" not in names and {"model.onnx", "model.pt"} <= names
    assert requirements.startswith("--no-index\n--find-links wheels\n")
    assert {f"code/wheels/{name}" for name in serving["wheels"]} <= names
    assert serving["serving_python"] == local_python
    metrics = json.loads((failed_gate_run.output_dir / "metrics.json").read_text())
    assert metrics["serving"]["reason"] == serving["reason"]
    assert metrics["serving"]["gate"] == serving["gate"]
    assert "serving: onnxruntime fp32 (int8 not shipped" in failed_gate_run.result.stderr


def test_int8_required_but_not_possible_writes_no_artifact(
    tmp_path, failed_gate_run, wheelhouse, local_python
):
    """--serving-precision int8 without a validation split to gate it on: an error, no archive."""
    output = tmp_path / "model.tar.gz"
    args = pack_model.get_args_parser().parse_args(
        ["--checkpoint", str(failed_gate_run.checkpoint_dir / "best.pt"), "--output", str(output)]
        + ["--wheelhouse", str(wheelhouse), "--serving-python", local_python, "--serving-precision", "int8"]
    )
    assert pack_model.main(args) == 2 and not output.exists()


@pytest.fixture(scope="session")
def passed_gate(tmp_path_factory, failed_gate_run, gate_data, wheelhouse, local_python) -> tuple[Path, str]:
    """The same trained network repacked by dogbreed-pack with the default gate; the archive and what the
    command printed."""
    output = tmp_path_factory.mktemp("passed_gate") / "model.tar.gz"
    args = pack_model.get_args_parser().parse_args(
        ["--checkpoint", str(failed_gate_run.checkpoint_dir / "best.pt"), "--output", str(output)]
        + ["--data-dir", str(gate_data), "--wheelhouse", str(wheelhouse), "--serving-python", local_python]
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert pack_model.main(args) == 0
    return output, printed.getvalue()


@pytest.fixture(scope="session")
def passed_gate_archive(passed_gate) -> Path:
    return passed_gate[0]


def test_a_model_that_passes_the_gate_ships_int8(passed_gate):
    archive, printed = passed_gate
    meta, names, requirements = archive_members(archive)
    serving = meta["serving"]
    assert (serving["runtime"], serving["precision"], serving["file"]) == (
        "onnxruntime",
        "int8",
        "model.int8.onnx",
    )
    gate = serving["gate"]
    assert gate["passed"] is True and gate["images"] == 30
    assert gate["top1_agreement"] >= 0.99 and gate["accuracy_drop_points"] <= 0.5
    assert gate["thresholds"] == {
        "min_agreement": 0.99,
        "max_accuracy_drop_points": 0.5,
        "max_probability_diff": None,
    }
    assert (
        serving["reason"].startswith("onnxruntime int8 vs fp32 on 30 validation images")
        and "passed" in serving["reason"]
    )
    assert serving["calibration"]["images"] == 36  # every training image: fewer than the default 128
    assert all(name.startswith("train/") for name in serving["calibration"]["files"])
    assert {"model.int8.onnx", "model.pt"} <= names and "model.onnx" not in names
    assert requirements == wheels.requirements_text(wheels.SERVING_PINS, "wheels")
    assert f"wrote {archive}: " in printed and '"precision": "int8"' in printed


def test_the_hooks_serve_what_the_artifact_names(passed_gate_archive, gate_data, tmp_path, monkeypatch):
    """model_fn loads model.int8.onnx in ONNX Runtime; INFERENCE_RUNTIME=torch switches back to model.pt
    without repacking."""
    with tarfile.open(passed_gate_archive) as tar:
        tar.extractall(tmp_path, filter="data")
    image = sorted((gate_data / "valid").rglob("*.jpg"))[0].read_bytes()
    monkeypatch.setenv("INFERENCE_THREADS", "1")
    int8 = hooks.model_fn(str(tmp_path))
    assert int8.runtime == "onnxruntime"
    monkeypatch.setenv(hooks.RUNTIME_ENV, "torch")
    fp32 = hooks.model_fn(str(tmp_path))
    assert fp32.runtime == "torch"
    answers = []
    for model in (int8, fp32):
        body, _ = hooks.output_fn(
            hooks.predict_fn(hooks.input_fn(image, "image/jpeg"), model), "application/json"
        )
        answers.append(json.loads(body)["predictions"])
    assert answers[0][0]["label"] == answers[1][0]["label"]
    assert abs(answers[0][0]["probability"] - answers[1][0]["probability"]) < 0.2
    assert answers[0] != answers[1], "two runtimes, two sets of numbers: int8 was really used"


def test_without_a_validation_split_the_torch_network_ships(
    tmp_path, failed_gate_run, wheelhouse, local_python
):
    output = tmp_path / "model.tar.gz"
    args = pack_model.get_args_parser().parse_args(
        ["--checkpoint", str(failed_gate_run.checkpoint_dir / "best.pt"), "--output", str(output)]
        + ["--wheelhouse", str(wheelhouse), "--serving-python", local_python]
    )
    assert pack_model.main(args) == 0
    meta, names, requirements = archive_members(output)
    assert meta["serving"]["runtime"] == "torch" and requirements is None
    assert (
        meta["serving"]["reason"] == "no data directory: nothing to calibrate and validate an ONNX model on"
    )
    assert not any(name.startswith("code/wheels/") for name in names)
