"""Pretrained weights with no network: staged once, verified by the hash in their name, loaded from a folder.

Every training run here has sockets disabled (tests/training/no_network/sitecustomize.py: any connection or
DNS lookup that is not loopback fails and is recorded); torchrun's rendezvous and gloo stay on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch
from torchvision import models

from dogbreed.pretrained import files
from tests.training.helpers import REPO, TORCHRUN, quiet_env, run_in_own_group, training_command

GUARD_DIR = Path(__file__).resolve().parent / "no_network"
ARCH = "resnet18"


def staged_weights(folder: Path, arch: str = ARCH, seed: int = 0) -> Path:
    """A real ImageNet-shaped state dict of `arch`, named by the rule: <arch>-<8 hex of its sha256>.pth."""
    torch.manual_seed(seed)
    buffer = io.BytesIO()
    torch.save(models.get_model(arch, weights=None).state_dict(), buffer)
    data = buffer.getvalue()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{arch}-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    path.write_bytes(data)
    return path


def tampered_copy(original: Path, folder: Path) -> Path:
    """The same name, one byte changed: what a corrupted or swapped file looks like."""
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0xFF
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / original.name
    path.write_bytes(bytes(data))
    return path


def no_network_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    python_path = os.pathsep.join([str(GUARD_DIR), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return quiet_env(
        PYTHONPATH=python_path,
        NO_NETWORK_LOG=str(tmp_path / "refused.log"),
        NO_NETWORK_LOADED_LOG=str(tmp_path / "loaded.log"),
        **extra,
    )


def refused(tmp_path: Path) -> list[str]:
    log = tmp_path / "refused.log"
    return log.read_text().splitlines() if log.exists() else []


def loaded(tmp_path: Path) -> list[str]:
    return (tmp_path / "loaded.log").read_text().splitlines()


def pretrained_command(run_dir: Path, data_dir: Path, weights_dir: Path, *extra: str, **kwargs) -> list[str]:
    command = training_command(run_dir, data_dir, "--weights-dir", str(weights_dir), *extra, **kwargs)
    command.remove("--no-pretrained")
    return command


def test_the_guard_refuses_the_network_and_keeps_loopback(tmp_path):
    """The control: under the guard an outside connection and a DNS lookup fail (logged); loopback works."""
    probe = (
        "import socket, urllib.request\n"
        "server = socket.create_server(('127.0.0.1', 0)); port = server.getsockname()[1]\n"
        "socket.create_connection(('127.0.0.1', port)).close()\n"
        "for target in ('http://192.0.2.1/', 'https://download.pytorch.org/models/x.pth'):\n"
        "    try:\n"
        "        urllib.request.urlopen(target, timeout=5)\n"
        "    except OSError as error:\n"
        "        print('refused', type(error).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=no_network_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["refused URLError", "refused URLError"]
    assert len(refused(tmp_path)) == 2 and "192.0.2.1" in refused(tmp_path)[0]
    assert "download.pytorch.org" in refused(tmp_path)[1]


def test_file_check_accepts_the_named_file_and_refuses_a_tampered_or_unnamed_one(tmp_path):
    genuine = staged_weights(tmp_path / "good")
    assert files.verify(genuine) == genuine
    with pytest.raises(files.WeightsError, match="is not the file its name promises"):
        files.verify(tampered_copy(genuine, tmp_path / "bad"))
    unnamed = tmp_path / "resnet18.pth"
    unnamed.write_bytes(genuine.read_bytes())
    with pytest.raises(files.WeightsError, match="carries no SHA-256 prefix"):
        files.verify(unnamed)


def test_default_names_are_torchvisions_own():
    assert files.default_file_name("resnet50") == "resnet50-11ad3fa6.pth"  # ResNet50_Weights.IMAGENET1K_V2
    assert files.hash_prefix("efficientnet_b0_rwightman-7f5810bc.pth") == "7f5810bc"


@pytest.mark.slow
def test_training_loads_staged_weights_with_the_network_disabled(tmp_path, dataset_dir):
    """--freeze-backbone keeps the backbone as loaded: the packed model shows the weights it started from."""
    weights = staged_weights(tmp_path / "weights", seed=7)
    command = pretrained_command(
        tmp_path / "run", dataset_dir, weights.parent, "--weights-file", weights.name,
        "--freeze-backbone", "--epochs", "1",
    )  # fmt: skip
    result = run_in_own_group(command, timeout=240, env=no_network_env(tmp_path), cwd=REPO)

    assert result.returncode == 0, result.stderr
    assert refused(tmp_path) == [] and loaded(tmp_path)
    with tarfile.open(tmp_path / "run" / "model" / "model.tar.gz") as archive:
        packed = torch.load(archive.extractfile("model.pt"), weights_only=True)
    staged = torch.load(weights, weights_only=True)
    assert torch.equal(packed["backbone.conv1.weight"], staged["conv1.weight"])
    assert torch.equal(packed["backbone.layer4.1.bn2.running_var"], staged["layer4.1.bn2.running_var"])


@pytest.mark.slow
def test_torchrun_loads_staged_weights_with_the_network_disabled(tmp_path, dataset_dir):
    """Two processes: the weights from the folder layout the EC2 sync leaves (<dir>/<arch>/<file>)."""
    weights = staged_weights(tmp_path / "weights" / ARCH)
    launcher = (str(TORCHRUN), "--standalone", "--nproc_per_node=2")
    command = pretrained_command(
        tmp_path / "run", dataset_dir, weights.parent.parent, "--weights-file", weights.name,
        "--epochs", "1", launcher=launcher,
    )  # fmt: skip
    result = run_in_own_group(command, timeout=300, env=no_network_env(tmp_path), cwd=REPO)

    assert result.returncode == 0, result.stderr
    assert refused(tmp_path) == []
    assert len(loaded(tmp_path)) >= 3, "torchrun and both of its workers ran under the guard"
    assert json.loads((tmp_path / "run" / "output" / "metrics.json").read_text())["world_size"] == 2


@pytest.mark.parametrize("problem", ["missing", "tampered"])
def test_unusable_weights_stop_training_in_one_line(tmp_path, dataset_dir, problem):
    weights_dir = tmp_path / "weights"
    extra = []
    if problem == "tampered":
        good = staged_weights(tmp_path / "good")
        extra = ["--weights-file", tampered_copy(good, weights_dir).name]
    command = pretrained_command(tmp_path / "run", dataset_dir, weights_dir, *extra)
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=REPO, env=no_network_env(tmp_path)
    )

    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    expected = "dogbreed-stage-weights --arch resnet18" if problem == "missing" else "not the file its name"
    assert expected in errors[0]
    assert refused(tmp_path) == []
    assert not (tmp_path / "run" / "model" / "model.tar.gz").exists()
