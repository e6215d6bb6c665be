"""The course project's code the benchmarks compare against, re-implemented faithfully.

Serving (`CoursePath`, its ``inference2.py``): PIL opens the full image, Resize((224, 224)), ToTensor,
Normalize, fp32 eager under torch.no_grad at torch's default thread count, one request at a time, the model
built the course way (torchvision's constructor with its `fc` replaced by Sequential(Linear)), raw logits as
JSON. Not reproduced: the `url` JSON request that downloads arbitrary URLs, and `pretrained=True` (a download
at serve time whose weights load_state_dict overwrites anyway).

Training input (`course_loader_dataset`): torchvision ImageFolder with its default loader (full PIL decode,
convert to RGB) and the course's transform: RandomHorizontalFlip, Resize((224, 224)), ToTensor, Normalize.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import torch
from PIL import Image
from torch import nn
from torchvision import datasets, models, transforms

from dogbreed.preprocessing import IMAGENET_MEAN, IMAGENET_STD


class CoursePath:
    """inference2.py of the course project: model_fn / input_fn / predict_fn with its transforms."""

    transform = transforms.Compose(
        [
            transforms.Resize((224, 224)),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )

    def __init__(self, model_dir: Path):
        meta = json.loads((model_dir / "model_meta.json").read_text())
        model = getattr(models, meta["arch"])(weights=None)
        for parameter in model.parameters():
            parameter.requires_grad = False
        model.fc = nn.Sequential(nn.Linear(model.fc.in_features, meta["num_classes"]))
        state = torch.load(model_dir / "model.pt", map_location="cpu", weights_only=True)
        model.load_state_dict({course_key(key): value for key, value in state.items()})
        self.model = model.eval()

    def request(self, body: bytes) -> str:
        image = Image.open(io.BytesIO(body))  # input_fn
        with torch.no_grad():  # predict_fn
            prediction = self.model(self.transform(image).unsqueeze(0))
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
