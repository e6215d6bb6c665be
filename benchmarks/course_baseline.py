"""The course project's code the benchmarks compare against, re-implemented faithfully.

Serving: its endpoint code (inference2.py) is `course_deployment/inference.py`, which that folder's docstring
describes. `course_deployment_dir` turns our packed model into the course deployment's model directory
(model.pth under the course's parameter names, code/inference.py), which `pack_course_deployment` archives for
the real serving stack and `CoursePath` runs in-process through the same model_fn / input_fn / predict_fn,
then the toolkit's default output_fn (the logits as JSON).

Training input (`course_loader_dataset`): torchvision ImageFolder with its default loader (full PIL decode,
convert to RGB) and the course's transform: RandomHorizontalFlip, Resize((224, 224)), ToTensor, Normalize.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tarfile
from pathlib import Path

import torch
from torchvision import datasets, transforms

from dogbreed.preprocessing import IMAGENET_MEAN, IMAGENET_STD

COURSE_CODE = Path(__file__).resolve().parent / "course_deployment" / "inference.py"


def course_module():
    """course_deployment/inference.py as a module of its own (it imports nothing of ours)."""
    spec = importlib.util.spec_from_file_location("course_inference", COURSE_CODE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def course_deployment_dir(model_dir: Path, target: Path) -> Path:
    """The course deployment's model directory for our extracted model `model_dir`: the same weights."""
    meta = json.loads((model_dir / "model_meta.json").read_text())
    state = torch.load(model_dir / "model.pt", map_location="cpu", weights_only=True)
    (target / "code").mkdir(parents=True, exist_ok=True)
    torch.save({course_key(key): value for key, value in state.items()}, target / "model.pth")
    described = {"arch": meta["arch"], "num_classes": meta["num_classes"]}
    (target / "course_model.json").write_text(json.dumps(described) + "\n")
    shutil.copy(COURSE_CODE, target / "code" / "inference.py")
    return target


def pack_course_deployment(model_dir: Path, archive: Path) -> Path:
    """model.tar.gz of the course deployment (course_deployment_dir) for the serving stack."""
    source = course_deployment_dir(model_dir, archive.parent / (archive.name + ".d"))
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(source).as_posix())
    shutil.rmtree(source)
    return archive


class CoursePath:
    """The course deployment's hooks in this process, one request at a time."""

    transform = transforms.Compose(  # its predict_fn's, for the decode comparison
        [
            transforms.Resize((224, 224)),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )

    def __init__(self, course_dir: Path):
        self.hooks = course_module()
        self.model = self.hooks.model_fn(str(course_dir))

    def request(self, body: bytes) -> str:
        prediction = self.hooks.predict_fn(self.hooks.input_fn(body, "image/jpeg"), self.model)
        return json.dumps(prediction.tolist())  # the toolkit's default output_fn: raw logits


def course_key(key: str) -> str:
    """Our state_dict key under the course model's name (backbone.* -> *, head.* -> fc.0.*)."""
    return key.replace("backbone.", "", 1) if key.startswith("backbone.") else key.replace("head.", "fc.0.")


def course_loader_dataset(train_dir: Path) -> datasets.ImageFolder:
    transform = transforms.Compose(
        [
            transforms.RandomHorizontalFlip(),
            transforms.Resize((224, 224)),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )
    return datasets.ImageFolder(str(train_dir), transform=transform)
