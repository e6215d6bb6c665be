"""`model.tar.gz` in the layout the SageMaker PyTorch inference containers expect.

    model.pt               state_dict of dogbreed.model.Classifier
    model_meta.json        arch, num_classes, class_names, preprocessing
    code/inference.py      the serving hooks
    code/dogbreed/...      the modules inference.py imports (model, preprocessing)

The archive is byte-identical for identical inputs (sorted entries, fixed owners and timestamps).
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import torch

from dogbreed import checkpoint
from dogbreed.fileio import atomic_write

TRAINING_DIR = Path(__file__).resolve().parent.parent
CODE_FILES = {
    "code/inference.py": TRAINING_DIR / "inference.py",
    "code/dogbreed/__init__.py": TRAINING_DIR / "dogbreed" / "__init__.py",
    "code/dogbreed/model.py": TRAINING_DIR / "dogbreed" / "model.py",
    "code/dogbreed/preprocessing.py": TRAINING_DIR / "dogbreed" / "preprocessing.py",
}
META_FORMAT_VERSION = 1


def model_meta(arch: str, class_names: list[str], preprocessing: dict) -> dict:
    return {
        "format_version": META_FORMAT_VERSION,
        "arch": arch,
        "num_classes": len(class_names),
        "class_names": list(class_names),
        "preprocessing": preprocessing,
    }


def pack_model_artifact(state_dict: dict[str, torch.Tensor], meta: dict, output: Path) -> Path:
    """Write `output` (normally `<model-dir>/model.tar.gz`) atomically; return its path."""
    weights = io.BytesIO()
    torch.save({key: value.detach().cpu() for key, value in state_dict.items()}, weights)
    members = {
        "model.pt": weights.getvalue(),
        "model_meta.json": (json.dumps(meta, indent=2) + "\n").encode(),
        **{name: source.read_bytes() for name, source in CODE_FILES.items()},
    }
    with atomic_write(output) as file:
        _write_tar_gz(members, file)
    return output


def pack_from_checkpoint(checkpoint_path: Path, output: Path) -> Path:
    """Pack a `best.pt` or `checkpoint.pt` written by training."""
    payload = checkpoint.load(checkpoint_path)
    if "model" not in payload or "meta" not in payload:
        raise ValueError(f"{checkpoint_path} is not a dogbreed training checkpoint (no model/meta entries)")
    return pack_model_artifact(payload["model"], payload["meta"], output)


def _write_tar_gz(members: dict[str, bytes], file) -> None:
    with (
        # Level 1: float weights barely compress (about 92% at any level) and level 9 takes twice as long.
        gzip.GzipFile(fileobj=file, mode="wb", compresslevel=1, mtime=0, filename="") as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(members[name]), 0o644, 0
            archive.addfile(info, io.BytesIO(members[name]))
