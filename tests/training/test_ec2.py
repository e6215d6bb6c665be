"""ec2/: the user-data template Terraform renders and the bootstrap it runs on a Deep Learning AMI."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from dogbreed.training.metrics import parse_metrics
from tests.training.helpers import FAST_FLAGS, REPO, make_dataset, run_in_own_group
from tests.training.test_pretrained_offline import no_network_env, refused, staged_weights

BOOTSTRAP = REPO / "ec2" / "bootstrap.sh"
TEMPLATE = REPO / "ec2" / "user_data.sh.tftpl"
DRY_RUN_ENV = {
    "DATA_S3_URI": "s3://bucket/data/dogImages/",
    "WEIGHTS_S3_URI": "s3://bucket/weights/",
    "OUTPUT_S3_URI": "s3://bucket/ec2-runs/",
    "TRAIN_ARGS": "--epochs 10 --batch-size 64",
    "RUN_ID": "run1",
    "TORCHRUN": "torchrun",
}


def bootstrap(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {key: value for key, value in os.environ.items() if not key.startswith("DOGBREED_")}
    full_env.update(DRY_RUN_ENV, **env)
    return subprocess.run(
        ["bash", str(BOOTSTRAP), *args], capture_output=True, text=True, env=full_env, timeout=30
    )


def expected_commands(processes: int) -> list[str]:
    run = "/opt/dogbreed/runs/run1"
    return [
        "aws s3 sync --only-show-errors s3://bucket/data/dogImages/ /opt/dogbreed/data/dogImages",
        "aws s3 sync --only-show-errors s3://bucket/weights/ /opt/dogbreed/weights",
        f"aws s3 sync --only-show-errors s3://bucket/ec2-runs/run1/checkpoints/ {run}/checkpoints",
        f"torchrun --standalone --nproc_per_node={processes} /opt/dogbreed/code/training/train.py "
        "--data-dir /opt/dogbreed/data/dogImages --weights-dir /opt/dogbreed/weights "
        f"--model-dir {run}/model --output-dir {run}/output --checkpoint-dir {run}/checkpoints "
        "--epochs 10 --batch-size 64",
        f"aws s3 cp --only-show-errors {run}/model/model.tar.gz s3://bucket/ec2-runs/run1/model.tar.gz",
        f"aws s3 cp --only-show-errors {run}/output/metrics.json s3://bucket/ec2-runs/run1/metrics.json",
        f"aws s3 cp --only-show-errors {run}/output/training_curves.png s3://bucket/ec2-runs/run1/training_curves.png",
        "aws s3 cp --only-show-errors /var/log/dogbreed-training.log s3://bucket/ec2-runs/run1/training.log",
        "shutdown -h now",
    ]


def commands_of(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("aws ", "torchrun ", "shutdown "))]


def test_dry_run_on_a_1_gpu_instance():
    """g4dn.xlarge: 1 GPU -> one process (its DataLoader workers: tests/training/test_cpus.py)."""
    result = bootstrap("--dry-run", "--gpus", "1")
    assert result.returncode == 0, result.stderr
    assert commands_of(result.stdout) == expected_commands(processes=1)


def test_dry_run_on_a_4_gpu_instance():
    """p3.8xlarge: 4 GPUs -> four processes; the count injected through env."""
    result = bootstrap("--dry-run", DOGBREED_GPUS="4")
    assert result.returncode == 0, result.stderr
    assert commands_of(result.stdout) == expected_commands(processes=4)


def test_dry_run_runs_a_process_per_gpu_and_one_without_gpus():
    many_gpus = commands_of(bootstrap("--dry-run", "--gpus", "8").stdout)[3]
    assert "--nproc_per_node=8 " in many_gpus
    cpu_only = commands_of(bootstrap("--dry-run", "--gpus", "0").stdout)[3]
    assert "--nproc_per_node=1 " in cpu_only


def test_train_args_keep_their_shell_quoting():
    result = bootstrap("--dry-run", "--gpus", "1", TRAIN_ARGS="--arch 'resnet50' --seed \"7\"")
    assert commands_of(result.stdout)[3].endswith("/checkpoints --arch resnet50 --seed 7")


def test_the_test_split_is_never_handed_to_training_as_data():
    train_command = commands_of(bootstrap("--dry-run", "--gpus", "1").stdout)[3]
    assert "test" not in train_command.replace("--", " ")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--dry-run"], {"DATA_S3_URI": ""}, "DATA_S3_URI must be set"),
        (["--dry-run", "--gpus", "two"], {}, "must be a whole number"),
        (["--dry-run", "--frobnicate"], {}, "unknown argument --frobnicate"),
        (["--dry-run"], {"RUN_ID": "../escape"}, "no run id"),
    ],
)
def test_bad_configuration_stops_before_any_command(args, env, message):
    result = bootstrap(*args, **env)
    assert result.returncode != 0 and message in result.stderr
    assert not commands_of(result.stdout)


def render_user_data(variables: dict[str, str], workdir: Path) -> str:
    """Terraform's own templatefile(), through `terraform console` (needs no provider)."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    expression = f"templatefile({json.dumps(str(TEMPLATE))}, {json.dumps(variables)})"
    expression = re.sub(r'"(\w+)":', r"\1 =", expression)  # JSON object -> HCL object
    result = subprocess.run(
        ["terraform", "console"],
        input=expression,
        capture_output=True,
        text=True,
        cwd=workdir,
        timeout=60,
        env={**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "<<EOT" and lines[-1] == "EOT", result.stdout
    return "\n".join(lines[1:-1]) + "\n"


def test_user_data_template_renders_with_exactly_the_documented_variables(tmp_path):
    variables = {
        "code_s3_uri": "s3://bucket/code/",
        "data_s3_uri": "s3://bucket/data/dogImages/",
        "weights_s3_uri": "s3://bucket/weights/",
        "output_s3_uri": "s3://bucket/ec2-runs/",
        "train_args": "--epochs 10 --arch 'resnet50'",
    }
    rendered = render_user_data(variables, tmp_path)
    assert "export CODE_S3_URI='s3://bucket/code/'" in rendered
    assert "export DATA_S3_URI='s3://bucket/data/dogImages/'" in rendered
    assert "export WEIGHTS_S3_URI='s3://bucket/weights/'" in rendered
    assert "export OUTPUT_S3_URI='s3://bucket/ec2-runs/'" in rendered
    encoded = re.search(r"echo '([A-Za-z0-9+/=]+)' \| base64 --decode", rendered).group(1)
    assert base64.b64decode(encoded).decode() == variables["train_args"]
    assert 'exec bash "$WORK_DIR/code/ec2/bootstrap.sh"' in rendered
    script = tmp_path / "user_data.sh"
    script.write_text(rendered)
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0


def test_user_data_template_refuses_a_missing_variable(tmp_path):
    with pytest.raises(AssertionError, match="train_args"):
        render_user_data(
            {"code_s3_uri": "a", "data_s3_uri": "b", "weights_s3_uri": "w", "output_s3_uri": "c"}, tmp_path
        )


FAKE_AWS = """#!/usr/bin/env python3
# `aws s3 sync|cp [--only-show-errors] SRC DST` against a local folder standing in for S3. A sync from a
# prefix that holds nothing copies nothing, as the real CLI does. With FAKE_AWS_FREEZE_AFTER=<file name> it
# hangs (after writing $FAKE_AWS_FROZEN) once it uploaded that file: an instance lost after a checkpoint.
import os, shutil, sys, time
root = os.environ["FAKE_S3_ROOT"]
local = lambda uri: os.path.join(root, uri[len("s3://"):]) if uri.startswith("s3://") else uri
args = [arg for arg in sys.argv[1:] if arg != "--only-show-errors"]
assert args[0] == "s3" and args[1] in ("sync", "cp"), args
source, target = local(args[2]), local(args[3])
os.makedirs(os.path.dirname(target.rstrip("/")) or ".", exist_ok=True)
if args[1] == "sync":
    if os.path.isdir(source):
        shutil.copytree(source, target, dirs_exist_ok=True)
else:
    shutil.copyfile(source, target)
    if args[3].startswith("s3://") and os.path.basename(target) == os.environ.get("FAKE_AWS_FREEZE_AFTER"):
        open(os.environ["FAKE_AWS_FROZEN"], "w").close()
        time.sleep(600)
"""


@dataclass(frozen=True)
class TrainerInstance:
    """A stand-in EC2 instance: its own disk (WORK_DIR), fake `aws` over a folder as S3, fake `shutdown`."""

    root: Path
    s3: Path
    env: dict[str, str]

    @property
    def results(self) -> Path:
        return self.s3 / "bucket" / "ec2-runs" / "run1"

    def command(self) -> list[str]:
        return ["bash", self.env["WORK_DIR"] + "/code/ec2/bootstrap.sh"]


def trainer_instance(
    tmp_path: Path, s3: Path, name: str, train_args: list[str], **env: str
) -> TrainerInstance:
    """A fresh instance: the code the root stack uploads to code/ (ec2_trainer's code_dirs) on a new disk."""
    root = tmp_path / name
    bin_dir, work_dir = root / "bin", root / "work"
    bin_dir.mkdir(parents=True)
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "shutdown").write_text(f'#!/bin/sh\necho "$@" > {root}/shutdown_called\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    for source, folder in (("training", "training"), ("src/dogbreed", "training/dogbreed"), ("ec2", "ec2")):
        shutil.copytree(
            REPO / source, work_dir / "code" / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    (root / "training.log").write_text("log line\n")
    full_env = no_network_env(
        root,
        PATH=f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        FAKE_S3_ROOT=str(s3),
        WORK_DIR=str(work_dir),
        LOG_FILE=str(root / "training.log"),
        RUN_ID="run1",
        TORCHRUN="torchrun",
        DATA_S3_URI="s3://bucket/data/dogImages/",
        WEIGHTS_S3_URI="s3://bucket/weights/",
        OUTPUT_S3_URI="s3://bucket/ec2-runs/",
        TRAIN_ARGS=" ".join(train_args),
        DOGBREED_GPUS="0",
        **env,
    )
    return TrainerInstance(root, s3, full_env)


@pytest.mark.slow
def test_bootstrap_trains_uploads_and_shuts_down_for_real(tmp_path):
    """No dry run: the real torchrun + train.py on CPU, with the network disabled."""
    s3 = tmp_path / "s3"
    make_dataset(s3 / "bucket" / "data" / "dogImages")
    instance = trainer_instance(tmp_path, s3, "instance", [*FAST_FLAGS[:-2], "--epochs", "1"])
    result = run_in_own_group(instance.command(), timeout=240, env=instance.env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(path.name for path in instance.results.iterdir()) == [
        "checkpoints",
        "metrics.json",
        "model.tar.gz",
        "training.log",
        "training_curves.png",
    ]
    assert sorted(p.name for p in (instance.results / "checkpoints").iterdir()) == [
        "best.pt",
        "checkpoint.pt",
    ]
    assert json.loads((instance.results / "metrics.json").read_text())["test_samples"] == 3 * 3
    assert (instance.root / "shutdown_called").read_text().split() == ["-h", "now"]
    assert refused(instance.root) == []


@pytest.mark.slow
def test_a_killed_trainer_started_again_resumes_at_the_next_epoch_from_s3(tmp_path):
    """Instance 1 dies right after epoch 1's checkpoint reached S3; instance 2 (a new disk, the same run id)
    syncs it down and trains epoch 2 only. Pretrained weights come from the weights/ sync, no network."""
    s3 = tmp_path / "s3"
    make_dataset(s3 / "bucket" / "data" / "dogImages")
    weights = staged_weights(s3 / "bucket" / "weights" / "resnet18")
    flags = [f for f in FAST_FLAGS if f != "--no-pretrained"]
    train_args = [*flags, "--weights-file", weights.name, "--epochs", "2", "--patience", "0"]
    frozen = tmp_path / "frozen"
    first = trainer_instance(
        tmp_path, s3, "first", train_args, FAKE_AWS_FREEZE_AFTER="checkpoint.pt", FAKE_AWS_FROZEN=str(frozen)
    )
    with subprocess.Popen(
        first.command(), env=first.env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        deadline = time.monotonic() + 240
        while not frozen.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGKILL)  # the spot interruption
        process.communicate()
    assert frozen.exists(), "the first instance never uploaded a checkpoint"
    checkpoint = first.results / "checkpoints" / "checkpoint.pt"
    assert torch.load(checkpoint, weights_only=False)["epoch"] == 1
    assert not (first.results / "model.tar.gz").exists()

    second = trainer_instance(tmp_path, s3, "second", train_args)
    result = run_in_own_group(second.command(), timeout=240, env=second.env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "epoch 1 completed, continuing at epoch 2" in result.stderr
    assert parse_metrics(result.stdout)["epoch"] == [2]
    history = json.loads((second.results / "metrics.json").read_text())["history"]
    assert [row["epoch"] for row in history] == [1, 2]
    assert torch.load(checkpoint, weights_only=False)["epoch"] == 2
    assert (second.results / "model.tar.gz").is_file()
    assert refused(first.root) == [] and refused(second.root) == []


def test_bootstrap_shuts_down_even_when_training_fails(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool, body in {
        "aws": "exit 0",
        "torchrun": "exit 3",
        "shutdown": f'echo "$@" > {tmp_path}/shutdown',
    }.items():
        (bin_dir / tool).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / tool).chmod(0o755)
    result = bootstrap(
        "--gpus",
        "1",
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        LOG_FILE=str(tmp_path / "none.log"),
    )
    assert result.returncode == 3
    assert (tmp_path / "shutdown").read_text().split() == ["-h", "now"]
    assert not any(
        line.startswith("aws s3 cp") and "model.tar.gz" in line for line in result.stdout.splitlines()
    )
