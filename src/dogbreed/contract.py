"""What the prediction Lambda and the model container agree on: the InvokeEndpoint request and its answer.

Both deploy units import this module (it ships in model.tar.gz's code/ and in the Lambda zip), so the limits
and names below are written once. Standard library only.

Request to the model (InvokeEndpoint body):
    image/jpeg, image/png, application/x-image   raw image bytes; the answer holds DEFAULT_TOP_K predictions
    application/json                              {"image": "<base64 JPEG/PNG>", "top_k": 1..MAX_TOP_K}
Answer (application/json):
    {"predictions": [{"label": str, "index": int, "probability": float}, ...]}, sorted by probability,
    at most top_k entries and never more than the model's class count (model_meta.json `num_classes`).

Both read JSON request bodies with `parse_json`, so hostile JSON (not UTF-8, nested 100,000 deep, a number of
thousands of digits) is the same clear client error on both sides, never an exception from the parser.
"""

from __future__ import annotations

import json
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
# Integers longer than this stay out of int(): Python refuses over 4,300 digits (a ValueError from inside the
# parser) and converting is quadratic below that. No valid field needs more than a few digits.
MAX_INTEGER_DIGITS = 20


class InvalidJson(ValueError):
    """A request body that is not a JSON document we read: not UTF-8, malformed, or nested too deeply."""


def parse_json(body: bytes | bytearray | str) -> Any:
    """`json.loads` for request bodies; raises InvalidJson, whatever the body.

    An integer of more than MAX_INTEGER_DIGITS digits is read as a float (`inf` when huge), so it fails a
    field's "must be an integer" check like any other non-integer instead of raising inside the parser.
    """
    try:
        return json.loads(body, parse_int=_bounded_int)
    except RecursionError as error:  # [[[[...: the C scanner recurses once per level
        raise InvalidJson("JSON nested too deeply") from error
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError (bytes that are not UTF-8)
        raise InvalidJson("malformed JSON") from error


def is_count(value: Any) -> bool:
    """A JSON integer (not a bool, not a float such as 2.5 or a 5,000-digit number)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _bounded_int(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= MAX_INTEGER_DIGITS else float(text)


def class_count(model_meta: Mapping[str, Any]) -> int:
    """How many classes a packed model knows: `num_classes` of its model_meta.json."""
    return int(model_meta["num_classes"])
