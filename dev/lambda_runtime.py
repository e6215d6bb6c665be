"""Run the prediction Lambda in-process the way the runtime does: a fresh import is a cold start, and what the
function writes (its Powertools log lines and EMF metrics) goes where Lambda sends stdout.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys
from types import ModuleType
from typing import TextIO

APP_MODULE = "dogbreed.predict_api.app"  # what functions/predict/handler.py re-exports as `handler`


def import_lambda_handler() -> ModuleType:
    """A fresh app module (a cold start: it reads the environment and builds its client again)."""
    sys.modules.pop(APP_MODULE, None)
    return importlib.import_module(APP_MODULE)


@contextlib.contextmanager
def function_output(sink: TextIO):
    """Everything the function writes goes to `sink`: the logger's stream (bound when the logger was created)
    and stdout, where Powertools prints EMF metrics."""
    from dogbreed.predict_api.observability import logger

    previous = logger.registered_handler.setStream(sink)
    try:
        with contextlib.redirect_stdout(sink):
            yield sink
    finally:
        if previous is not None:
            logger.registered_handler.setStream(previous)


def split_output(text: str) -> tuple[list[dict], list[dict]]:
    """(log records, EMF metric blobs) from what the function wrote, one JSON object per line."""
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [r for r in records if "_aws" not in r], [r for r in records if "_aws" in r]


def invoke(handler: ModuleType, event, context) -> tuple[dict, list[dict], list[dict]]:
    """One invocation: the response, its log records and its metric blobs."""
    with function_output(io.StringIO()) as sink:
        response = handler.handler(event, context)
    logs, metrics = split_output(sink.getvalue())
    return response, logs, metrics
