"""train.py's command line and error handling, the metric-line contract, and model.tar.gz packing."""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import tarfile
from pathlib import Path

import pytest
import torch

from dogbreed.packing import cli as pack_model
from dogbreed.packing.artifact import pack_model_artifact
from dogbreed.training import train
from dogbreed.training.engine import EpochResult
from dogbreed.training.metrics import METRIC_DEFINITIONS, OBJECTIVE_METRIC, format_line, parse_metrics
from dogbreed.training.trainer import TrainingState
from tests.training.helpers import FAST_FLAGS

HYPERPARAMETERS = [
    "epochs",
    "batch-size",
    "learning-rate",
    "weight-decay",
    "arch",
    "pretrained",
    "weights-dir",
    "weights-file",
    "freeze-backbone",
    "data-dir",
    "model-dir",
    "output-dir",
    "checkpoint-dir",
    "num-workers",
    "seed",
    "patience",
]


def test_help_works_without_data_and_shows_every_default(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no data/ anywhere near
    with pytest.raises(SystemExit) as exited:
        train.get_args_parser().parse_args(["--help"])
    assert exited.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for name in HYPERPARAMETERS:
        assert f"--{name}" in help_text
    assert help_text.count("(default:") >= len(HYPERPARAMETERS)
    assert "(default: resnet50)" in help_text and "--learning_rate" in help_text


def test_underscore_spellings_and_sagemaker_booleans():
    args = train.get_args_parser().parse_args(
        [
            "--learning_rate",
            "0.01",
            "--batch_size",
            "4",
            "--weight_decay",
            "0",
            "--pretrained",
            "false",
            "--freeze_backbone",
            "True",
            "--num_workers",
            "2",
            "--data_dir",
            "/data",
        ]
    )
    assert (args.learning_rate, args.batch_size, args.weight_decay) == (0.01, 4, 0.0)
    assert args.pretrained is False and args.freeze_backbone is True and args.data_dir == Path("/data")
    kebab = train.get_args_parser().parse_args(["--no-pretrained", "--freeze-backbone", "--no-amp"])
    assert kebab.pretrained is False and kebab.freeze_backbone is True and kebab.amp is False
    with pytest.raises(SystemExit):
        train.get_args_parser().parse_args(["--pretrained", "maybe"])


def test_paths_default_to_sagemaker_variables(monkeypatch):
    monkeypatch.setenv("SM_TRAINING_ENV", "{}")
    monkeypatch.setenv("SM_CHANNEL_TRAINING", "/opt/ml/input/data/training")
    monkeypatch.setenv("SM_MODEL_DIR", "/opt/ml/model")
    monkeypatch.setenv("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")
    monkeypatch.setenv("SM_CHANNEL_WEIGHTS", "/opt/ml/input/data/weights")
    args = train.get_args_parser().parse_args([])
    assert args.weights_dir == Path("/opt/ml/input/data/weights")
    assert args.data_dir == Path("/opt/ml/input/data/training") and args.model_dir == Path("/opt/ml/model")
    assert args.output_dir == Path("/opt/ml/output/data") and args.checkpoint_dir == Path(
        "/opt/ml/checkpoints"
    )


def test_paths_off_sagemaker_need_no_environment(monkeypatch):
    for name in (
        "SM_TRAINING_ENV",
        "SM_CHANNEL_TRAINING",
        "SM_MODEL_DIR",
        "SM_OUTPUT_DATA_DIR",
        "SM_NUM_CPUS",
        "SM_CHANNEL_WEIGHTS",
    ):
        monkeypatch.delenv(name, raising=False)
    args = train.get_args_parser().parse_args([])
    assert args.checkpoint_dir == Path("runs/checkpoints") and args.arch == "resnet50" and args.pretrained
    assert args.weights_dir == Path("weights") and args.weights_file is None


def run_main_in_process(capsys, *argv: str) -> tuple[int, list[str]]:
    code = train.main(train.get_args_parser().parse_args([*FAST_FLAGS, *argv]))
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--epochs", "0"], "--epochs must be positive"),
        (["--patience", "-1"], "--patience must not be negative"),
        (["--arch", "resnet_9000"], "unknown --arch 'resnet_9000'"),
    ],
)
def test_bad_flag_values_stop_with_one_line(capsys, tmp_path, dataset_dir, argv, expected):
    code, stderr = run_main_in_process(
        capsys, "--data-dir", str(dataset_dir), "--checkpoint-dir", str(tmp_path), *argv
    )
    assert code == 2
    error_lines = [line for line in stderr if line.startswith("error:")]
    assert len(error_lines) == 1 and error_lines[0].startswith(f"error: {expected}")
    assert not any("Traceback" in line for line in stderr)


def test_wrong_layout_stops_with_one_line_naming_the_path(capsys, tmp_path, dataset_dir):
    data_dir = Path(shutil.copytree(dataset_dir, tmp_path / "data"))
    shutil.rmtree(data_dir / "valid")
    code, stderr = run_main_in_process(capsys, "--data-dir", str(data_dir), "--checkpoint-dir", str(tmp_path))
    assert code == 2
    assert (
        stderr[-1] == f"error: missing split directory {data_dir / 'valid'} (expected train/valid/test under "
        "the data dir)"
    )


def test_checkpoint_of_another_run_is_refused(capsys, tmp_path, dataset_dir, single_run):
    checkpoints = Path(shutil.copytree(single_run.checkpoint_dir, tmp_path / "checkpoints"))
    code, stderr = run_main_in_process(
        capsys,
        "--data-dir",
        str(dataset_dir),
        "--checkpoint-dir",
        str(checkpoints),
        "--arch",
        "mobilenet_v3_small",
    )
    assert code == 2 and "different arch" in stderr[-1] and str(checkpoints) in stderr[-1]


def epoch(loss: float, accuracy: float = 0.5) -> EpochResult:
    return EpochResult(loss=loss, accuracy=accuracy, samples=10)


def test_early_stopping_counts_epochs_without_a_lower_validation_loss():
    state = TrainingState()
    improvements = [
        state.record(number, epoch(1.0), epoch(loss))
        for number, loss in enumerate([0.9, 0.8, 0.85, 0.8, 0.7, 0.75], start=1)
    ]
    assert improvements == [True, True, False, False, True, False]
    assert (state.best_epoch, state.best_valid_loss, state.next_epoch) == (5, 0.7, 7)
    assert state.epochs_without_improvement == 1
    assert state.should_stop(patience=1) and not state.should_stop(patience=2) and not state.should_stop(0)


def test_metric_lines_round_trip_through_the_regexes():
    text = "\n".join(
        [
            format_line(epoch=3, train_loss=0.91234, valid_loss=0.81234, valid_accuracy=0.77123),
            "some other log line with loss=5",
            format_line(best_epoch=3, best_valid_loss=0.81234, best_valid_accuracy=0.77123),
            format_line(test_loss=0.8, test_accuracy=0.77),
        ]
    )
    assert text.splitlines()[0] == "epoch=3 train_loss=0.9123 valid_loss=0.8123 valid_accuracy=0.7712"
    parsed = parse_metrics(text)
    assert parsed["valid_loss"] == [0.8123], "valid_loss must not match inside best_valid_loss"
    assert parsed["best_valid_accuracy"] == [0.7712] and parsed["test_accuracy"] == [0.77]
    assert parsed["epoch"] == [3] and parsed["best_epoch"] == [3]
    assert parse_metrics("train_loss=1.5e-05 valid_loss=nan")["train_loss"] == [1.5e-05]


def test_metric_definitions_have_the_sagemaker_shape():
    assert all(set(definition) == {"Name", "Regex"} for definition in METRIC_DEFINITIONS)
    assert all(re.compile(definition["Regex"]).groups == 1 for definition in METRIC_DEFINITIONS)
    assert OBJECTIVE_METRIC in {definition["Name"] for definition in METRIC_DEFINITIONS}
    assert not math.isnan(parse_metrics(format_line(valid_accuracy=0.5))["valid_accuracy"][0])


def test_artifact_is_byte_identical_for_identical_inputs(tmp_path):
    state = {"head.weight": torch.ones(2, 3), "head.bias": torch.zeros(2)}
    meta = {"arch": "resnet18", "class_names": ["A", "B"]}
    first = pack_model_artifact(state, meta, tmp_path / "a" / "model.tar.gz").read_bytes()
    second = pack_model_artifact(state, meta, tmp_path / "b" / "model.tar.gz").read_bytes()
    assert first == second
    with tarfile.open(fileobj=io.BytesIO(first)) as archive:
        assert json.load(archive.extractfile("model_meta.json")) == meta
        assert all(member.mtime == 0 and member.uid == 0 for member in archive.getmembers())


def test_pack_command_rebuilds_the_trained_artifact_from_best_checkpoint(
    tmp_path, single_run, broken_images, capsys
):
    """Same checkpoint, same data, same packing decision: the same bytes as training packed."""
    output = tmp_path / "repacked.tar.gz"
    args = pack_model.get_args_parser().parse_args(
        ["--checkpoint", str(single_run.checkpoint_dir / "best.pt"), "--output", str(output)]
        + ["--data-dir", str(broken_images[0])]
    )
    assert pack_model.main(args) == 0
    assert output.read_bytes() == (single_run.model_dir / "model.tar.gz").read_bytes()


def test_pack_command_refuses_missing_or_foreign_checkpoints(tmp_path, capsys):
    missing = pack_model.get_args_parser().parse_args(["--checkpoint", str(tmp_path / "none.pt")])
    assert pack_model.main(missing) == 2
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(1)}, foreign)
    args = pack_model.get_args_parser().parse_args(
        ["--checkpoint", str(foreign), "--output", str(tmp_path / "x")]
    )
    assert pack_model.main(args) == 2
    assert "not a dogbreed training checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
