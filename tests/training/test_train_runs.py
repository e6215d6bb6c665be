"""End-to-end runs of training/train.py: single process, torchrun with 2 processes, kill and resume."""

from __future__ import annotations

import json
import signal
import subprocess
import tarfile

import pytest

from dogbreed.training.metrics import parse_metrics
from tests.training.helpers import (
    CLASSES,
    REPO,
    TORCHRUN,
    TrainingRun,
    quiet_env,
    run_training,
    training_command,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # a hung process group must not hang CI
ARTIFACT_MEMBERS = {
    "model.pt",
    "model_meta.json",
    "code/inference.py",
    "code/dogbreed/__init__.py",
    "code/dogbreed/contract.py",
    "code/dogbreed/model.py",
    "code/dogbreed/preprocessing.py",
    "code/dogbreed/serving/__init__.py",
    "code/dogbreed/serving/hooks.py",
    "code/dogbreed/serving/runtime.py",
    "code/dogbreed/utils/__init__.py",
    "code/dogbreed/utils/cpus.py",
}
ONNX_MEMBERS = ("model.onnx", "model.int8.onnx", "code/requirements.txt", "code/wheels/")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_complete_run(run: TrainingRun, epochs: int, world_size: int) -> dict:
    """model.tar.gz, metrics.json, training_curves.png and metric lines that agree with metrics.json."""
    assert run.result.returncode == 0, run.result.stderr
    with tarfile.open(run.model_dir / "model.tar.gz") as archive:
        assert {n for n in archive.getnames() if not n.startswith(ONNX_MEMBERS)} == ARTIFACT_MEMBERS
        meta = json.load(archive.extractfile("model_meta.json"))
    assert meta["num_classes"] == CLASSES and meta["arch"] == "resnet18"
    # what ships is decided on the data (tests/training/test_serving_gate.py); both files say what and why
    assert meta["serving"]["runtime"] in ("torch", "onnxruntime") and meta["serving"]["reason"]
    assert (run.output_dir / "training_curves.png").read_bytes().startswith(PNG_SIGNATURE)
    metrics = json.loads((run.output_dir / "metrics.json").read_text())
    assert metrics["world_size"] == world_size
    assert metrics["serving"] == {
        key: value for key, value in meta["serving"].items() if key != "calibration"
    }

    parsed = parse_metrics(run.result.stdout)
    assert parsed["epoch"] == list(range(1, epochs + 1)), "one metric line per epoch, printed by rank 0 only"
    assert parsed["valid_loss"] == pytest.approx([row["valid_loss"] for row in metrics["history"]], abs=1e-4)
    assert parsed["test_accuracy"] == pytest.approx([metrics["test_accuracy"]], abs=1e-4)
    objective = parsed["best_valid_accuracy"]
    assert len(objective) == epochs + 1, "the objective after every epoch (early stopping) and at the end"
    assert objective[-1] == pytest.approx(metrics["best_valid_accuracy"], abs=1e-4), "the shipped weights"
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["test_samples"] == CLASSES * 3
    return metrics


def test_single_process_run_produces_artifact_metrics_and_curves(single_run):
    assert_complete_run(single_run, epochs=2, world_size=1)


def test_unreadable_images_are_skipped_counted_and_named(single_run, broken_images):
    _, broken = broken_images
    metrics = json.loads((single_run.output_dir / "metrics.json").read_text())
    assert metrics["skipped_images"] == sorted(str(path) for path in broken)
    for path in broken:
        assert str(path) in single_run.result.stderr


def test_torchrun_two_processes_produce_artifact_metrics_and_curves(tmp_path, dataset_dir):
    run = run_training(
        tmp_path,
        dataset_dir,
        "--epochs",
        "2",
        launcher=(str(TORCHRUN), "--standalone", "--nproc_per_node=2"),
    )
    assert_complete_run(run, epochs=2, world_size=2)
    assert "2 process(es)" in run.result.stderr


def test_run_killed_after_epoch_1_resumes_at_epoch_2(tmp_path, dataset_dir):
    command = training_command(tmp_path, dataset_dir, "--epochs", "2", "--patience", "0")
    first = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=quiet_env(), cwd=REPO
    )
    try:
        first_lines = [first.stdout.readline()]
        assert first_lines[0].startswith("epoch=1 "), first_lines
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert not (tmp_path / "model" / "model.tar.gz").exists(), "killed before training finished"

    resumed = run_training(tmp_path, dataset_dir, "--epochs", "2", "--patience", "0")
    assert resumed.result.returncode == 0, resumed.result.stderr
    assert "epoch 1 completed, continuing at epoch 2" in resumed.result.stderr
    assert parse_metrics(resumed.result.stdout)["epoch"] == [2]
    history = json.loads((resumed.output_dir / "metrics.json").read_text())["history"]
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[0]["valid_loss"] == pytest.approx(parse_metrics(first_lines[0])["valid_loss"][0], abs=1e-4)
