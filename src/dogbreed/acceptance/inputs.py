"""The run's inputs in the stack's bucket: a small generated dataset and staged backbone weights.

One function, `upload_inputs`, so the layout can follow the training code: data at
s3://<bucket>/data/dogImages/ (the launcher's default channel) and weights at
s3://<bucket>/weights/<arch>/<file> (the layout of dogbreed-stage-weights, torch.hub's <name>-<sha256 prefix>
file name). No download is involved: the weights are the architecture's freshly initialised state dict, which
is all a run that proves the plumbing needs; the jobs train with --pretrained false until the training code
reads the staged file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from dogbreed.orchestration.s3 import default_data_uri, sse_args, upload_data
from dogbreed.orchestration.settings import AwsSettings

DATASET = {"classes": 3, "per_split": {"train": 6, "valid": 2, "test": 2}, "seed": 0}
WEIGHTS_PREFIX = "weights"


def generate_dataset(root: Path) -> Path:
    from dogbreed.data.synthetic import generate

    if not (root / "test").is_dir():
        generate(root, DATASET["classes"], dict(DATASET["per_split"]), DATASET["seed"])
    return root


def stage_weights(arch: str, directory: Path) -> Path:
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


def upload_inputs(session, settings: AwsSettings, workdir: Path, arch: str) -> dict[str, Any]:
    """Generate and upload the dataset and the weights (KMS-encrypted with the stack's key)."""
    dataset = generate_dataset(workdir / "data" / "dogImages")
    data_uri = upload_data(dataset, default_data_uri(settings), settings, session)
    weights = stage_weights(arch, workdir / "weights")
    key = f"{WEIGHTS_PREFIX}/{arch}/{weights.name}"
    s3 = session.boto_session.client("s3", region_name=settings.region)
    s3.upload_file(str(weights), settings.bucket, key, ExtraArgs=sse_args(settings) or None)
    images = sum(1 for p in dataset.rglob("*") if p.is_file())
    return {
        "data_uri": data_uri,
        "images": images,
        "weights_uri": f"s3://{settings.bucket}/{key}",
        "test_images": [str(p) for p in sorted((dataset / "test").rglob("*")) if p.is_file()],
    }
