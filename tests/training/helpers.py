"""Helpers shared by the training tests: paths, fast flags, running train.py as a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dogbreed.data.synthetic import generate

REPO = Path(__file__).resolve().parents[2]
TRAIN_SCRIPT = REPO / "training" / "train.py"
TORCHRUN = Path(sys.executable).with_name("torchrun")
CLASSES = 3
# Small and fast on 2 shared CPU cores; the default arch (resnet50) and crop (224) are for real runs.
FAST_FLAGS = [
    "--arch",
    "resnet18",
    "--no-pretrained",
    "--crop-size",
    "32",
    "--batch-size",
    "8",
    "--num-workers",
    "0",
]


@dataclass(frozen=True)
class TrainingRun:
    result: subprocess.CompletedProcess
    model_dir: Path
    output_dir: Path
    checkpoint_dir: Path


def run_dir_flags(run_dir: Path, data_dir: Path) -> list[str]:
    """train.py's path flags for a run kept under RUN_DIR (model/, output/, checkpoints/)."""
    return [
        "--data-dir",
        str(data_dir),
        "--model-dir",
        str(run_dir / "model"),
        "--output-dir",
        str(run_dir / "output"),
        "--checkpoint-dir",
        str(run_dir / "checkpoints"),
    ]


def training_command(run_dir: Path, data_dir: Path, *extra: str, launcher: tuple[str, ...] = ()) -> list[str]:
    prefix = list(launcher) if launcher else [sys.executable]
    return [*prefix, str(TRAIN_SCRIPT), *run_dir_flags(run_dir, data_dir), *FAST_FLAGS, *extra]


def quiet_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("SM_", "RANK", "WORLD_SIZE"))
    }
    env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", **overrides)
    return env


def run_in_own_group(command: list[str], timeout: int, **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run that, on timeout, kills the whole process group (torchrun's workers included)."""
    with subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def run_training(
    run_dir: Path, data_dir: Path, *extra: str, launcher: tuple[str, ...] = (), timeout: int = 240
) -> TrainingRun:
    command = training_command(run_dir, data_dir, *extra, launcher=launcher)
    result = run_in_own_group(command, timeout, env=quiet_env(), cwd=REPO)
    return TrainingRun(result, run_dir / "model", run_dir / "output", run_dir / "checkpoints")


def make_dataset(root: Path, seed: int = 0) -> Path:
    generate(root, CLASSES, {"train": 8, "valid": 3, "test": 3}, seed=seed, min_size=40, max_size=72)
    return root
