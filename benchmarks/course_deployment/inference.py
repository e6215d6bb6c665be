"""The course project's endpoint code (its inference2.py), as the SageMaker PyTorch container ran it: the
deployment the serving benchmarks compare ours against, in the same real serving stack.

Faithful to the course: PIL opens the whole image, Resize((224, 224)), ToTensor, Normalize, fp32 eager
ResNet under torch.no_grad at torch's default thread count (it never sets one: every worker uses every core),
the model built the course way (torchvision's constructor, `fc` replaced by Sequential(Linear)), weights from
model.pth, and the toolkit's default output_fn (the logits as JSON). Not reproduced: the `application/json`
request that downloads a URL, and `pretrained=True` (a serve-time download that load_state_dict overwrites).
One deviation: the course hard-coded resnet50 and 133 classes; here they come from course_model.json, so the
same code serves the benchmark's model (benchmarks/course_baseline.py packs it). Imports nothing of ours.
"""

import io
import json
import os

import torch
from PIL import Image
from torch import nn
from torchvision import models, transforms

JPEG_CONTENT_TYPE = "image/jpeg"


def model_fn(model_dir):
    with open(os.path.join(model_dir, "course_model.json")) as file:
        described = json.load(file)
    model = getattr(models, described["arch"])(weights=None)
    for parameter in model.parameters():
        parameter.requires_grad = False
    model.fc = nn.Sequential(nn.Linear(model.fc.in_features, described["num_classes"]))
    with open(os.path.join(model_dir, "model.pth"), "rb") as file:
        model.load_state_dict(torch.load(file, map_location="cpu"))
    model.eval()
    return model


def input_fn(request_body, content_type=JPEG_CONTENT_TYPE):
    if content_type == JPEG_CONTENT_TYPE:
        return Image.open(io.BytesIO(request_body))
    raise Exception(f"Requested unsupported ContentType in content_type: {content_type}")


def predict_fn(input_object, model):
    test_transform = transforms.Compose(
        [
            transforms.Resize((224, 224)),
            transforms.ToTensor(),
            transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ]
    )
    input_object = test_transform(input_object)
    with torch.no_grad():
        prediction = model(input_object.unsqueeze(0))
    return prediction
