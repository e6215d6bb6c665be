"""`model.tar.gz` in the layout the SageMaker PyTorch inference containers expect.

    model.pt               state_dict of dogbreed.model.Classifier (always: the fp32 torch network)
    model_meta.json        arch, num_classes, class_names, preprocessing, serving (what the hooks load)
    model.int8.onnx        only when int8 passed its gate at pack time (dogbreed.packing.serving_build),
    | model.onnx           or the ONNX Runtime fp32 model when only that passed
    code/inference.py      the module the container imports: it re-exports dogbreed.serving.hooks
    code/dogbreed/...      exactly the package modules the hooks import (SERVING_MODULES)
    code/requirements.txt  with an ONNX model: installs code/wheels/*.whl (onnxruntime and what it needs
    code/wheels/*.whl      beyond the container) with --no-index, before the model server starts

The archive is byte-identical for identical inputs (sorted entries, fixed owners and timestamps).
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import torch

import dogbreed
from dogbreed.model import build_model
from dogbreed.packing.options import PackOptions
from dogbreed.packing.serving_build import build_serving
from dogbreed.training import checkpoint
from dogbreed.utils.fileio import atomic_write

PACKAGE_DIR = Path(dogbreed.__file__).resolve().parent
# What dogbreed.serving.hooks imports, and nothing more: the container has torch, torchvision and Pillow only.
SERVING_MODULES = (
    "__init__.py",
    "contract.py",
    "model.py",
    "preprocessing.py",
    "serving/__init__.py",
    "serving/hooks.py",
    "serving/runtime.py",
    "utils/__init__.py",
    "utils/cpus.py",
)
# The container imports the module named by SAGEMAKER_PROGRAM, `inference` by default, from code/.
ENTRY_MODULE = (
    b'"""SageMaker inference entry point: the hooks live in dogbreed.serving.hooks (code/dogbreed/)."""\n\n'
    b"from dogbreed.serving.hooks import input_fn, model_fn, output_fn, predict_fn  # noqa: F401\n"
)
META_FORMAT_VERSION = 1


def code_members() -> dict[str, bytes]:
    """The archive's code/ entries: the entry module and the package modules it needs."""
    members = {"code/inference.py": ENTRY_MODULE}
    for module in SERVING_MODULES:
        members[f"code/dogbreed/{module}"] = (PACKAGE_DIR / module).read_bytes()
    return members


def model_meta(arch: str, class_names: list[str], preprocessing: dict) -> dict:
    return {
        "format_version": META_FORMAT_VERSION,
        "arch": arch,
        "num_classes": len(class_names),
        "class_names": list(class_names),
        "preprocessing": preprocessing,
    }


def pack_model_artifact(
    state_dict: dict[str, torch.Tensor],
    meta: dict,
    output: Path,
    extra_members: dict[str, bytes] | None = None,
) -> Path:
    """Write `output` (normally `<model-dir>/model.tar.gz`) atomically; return its path. Without a
    `serving` entry in `meta` the hooks serve model.pt with torch."""
    weights = io.BytesIO()
    torch.save({key: value.detach().cpu() for key, value in state_dict.items()}, weights)
    members = {
        "model.pt": weights.getvalue(),
        "model_meta.json": (json.dumps(meta, indent=2) + "\n").encode(),
        **code_members(),
        **(extra_members or {}),
    }
    with atomic_write(output) as file:
        _write_tar_gz(members, file)
    return output


def pack_for_serving(
    state_dict: dict[str, torch.Tensor], meta: dict, output: Path, options: PackOptions
) -> tuple[Path, dict]:
    """Decide the serving precision on `options.data_dir` (the accuracy gate), then pack; returns the archive
    and model_meta.json's `serving` entry (what was shipped, why, and the gate's numbers)."""
    network = build_model(meta["arch"], int(meta["num_classes"]), pretrained=False)
    network.load_state_dict(state_dict)
    build = build_serving(network, meta, options)
    return pack_model_artifact(
        state_dict, {**meta, "serving": build.serving}, output, build.members
    ), build.serving


def pack_from_checkpoint(checkpoint_path: Path, output: Path, options: PackOptions) -> tuple[Path, dict]:
    """Pack a `best.pt` or `checkpoint.pt` written by training."""
    payload = checkpoint.load(checkpoint_path)
    if "model" not in payload or "meta" not in payload:
        raise ValueError(f"{checkpoint_path} is not a dogbreed training checkpoint (no model/meta entries)")
    return pack_for_serving(payload["model"], payload["meta"], output, options)


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
