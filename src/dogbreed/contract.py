"""What the prediction Lambda and the model container agree on: the InvokeEndpoint request and its answer.

Both deploy units import this module (it ships in model.tar.gz's code/ and in the Lambda zip), so the limits
and names below are written once. Standard library only.

Request to the model (InvokeEndpoint body):
    image/jpeg, image/png, application/x-image   raw image bytes; the answer holds DEFAULT_TOP_K predictions
    application/json                              {"image": "<base64 JPEG/PNG>", "top_k": 1..MAX_TOP_K}
Answer (application/json):
    {"predictions": [{"label": str, "index": int, "probability": float}, ...]}, sorted by probability,
    at most top_k entries and never more than the model's class count (model_meta.json `num_classes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSON_CONTENT_TYPE = "application/json"
RAW_IMAGE_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "application/x-image"})
IMAGE_FIELD = "image"
TOP_K_FIELD = "top_k"
MODEL_REQUEST_FIELDS = frozenset({IMAGE_FIELD, TOP_K_FIELD})
PREDICTION_FIELDS = ("label", "index", "probability")

DEFAULT_TOP_K = 5  # the answer to a raw image, and the default of a JSON request
MAX_TOP_K = 133  # the dogImages breeds; a model with fewer classes answers with all of them
# SageMaker Runtime's InvokeEndpoint payload limit (botocore model: Body max 6291456 bytes).
INVOKE_ENDPOINT_MAX_BYTES = 6 * 1024 * 1024


def class_count(model_meta: Mapping[str, Any]) -> int:
    """How many classes a packed model knows: `num_classes` of its model_meta.json."""
    return int(model_meta["num_classes"])
