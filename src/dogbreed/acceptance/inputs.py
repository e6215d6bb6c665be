"""The run's inputs in the stack's bucket: a small generated dataset and staged backbone weights.

Data goes to s3://<bucket>/data/dogImages/ (the launcher's default channel), weights through
dogbreed-stage-weights' own checks and upload to s3://<bucket>/weights/<arch>/<file>, the `weights` channel
the jobs read with --pretrained. Nothing is downloaded: the weights file is the architecture's freshly
initialised state dict under torch.hub's <name>-<sha256 prefix>.pth name, which is all a run that proves the
plumbing needs (accuracy is not what it measures).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from dogbreed.orchestration.s3 import default_data_uri, upload_data
from dogbreed.orchestration.settings import AwsSettings

DATASET = {"classes": 3, "per_split": {"train": 6, "valid": 2, "test": 2}, "seed": 0}


def generate_dataset(root: Path) -> Path:
    from dogbreed.data.synthetic import generate

    if not (root / "test").is_dir():
        generate(root, DATASET["classes"], dict(DATASET["per_split"]), DATASET["seed"])
    return root


def make_weights(arch: str, directory: Path) -> Path:
    """<arch>-<sha256[:8]>.pth: the backbone's state dict, named the way torch.hub checks weights files."""
    import torch
    from torchvision import models

    directory.mkdir(parents=True, exist_ok=True)
    scratch = directory / f"{arch}.pth.partial"
    torch.manual_seed(0)
    torch.save(models.get_model(arch, weights=None).state_dict(), scratch)
    digest = hashlib.sha256(scratch.read_bytes()).hexdigest()
    path = directory / f"{arch}-{digest[:8]}.pth"
    scratch.replace(path)
    return path


def stage_weights(settings: AwsSettings, path: Path, arch: str) -> str:
    """What `dogbreed-stage-weights --file PATH` does: verify the name's hash, load it into ARCH, upload."""
    from dogbreed.pretrained import files, stage

    files.verify(path)
    stage.check_loads(path, arch)
    key = f"{files.S3_PREFIX}/{arch}/{path.name}"
    return stage.upload(path, settings.bucket, key, settings.kms_key_arn, settings.region)


def upload_inputs(session, settings: AwsSettings, workdir: Path, arch: str) -> dict[str, Any]:
    """Generate and upload the dataset and the weights (KMS-encrypted with the stack's key)."""
    dataset = generate_dataset(workdir / "data" / "dogImages")
    data_uri = upload_data(dataset, default_data_uri(settings), settings, session)
    weights = make_weights(arch, workdir / "weights")
    return {
        "data_uri": data_uri,
        "images": sum(1 for p in dataset.rglob("*") if p.is_file()),
        "weights_uri": stage_weights(settings, weights, arch),
        "weights_file": weights.name,
        "test_images": [str(p) for p in sorted((dataset / "test").rglob("*")) if p.is_file()],
    }
