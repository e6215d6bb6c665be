"""Serve requests through the SageMaker inference toolkit's real Transformer, as the PyTorch container does.

    python serve_requests.py MODEL_DIR REQUESTS_JSON

MODEL_DIR is an extracted model.tar.gz; its code/ must be the only place `inference` and `dogbreed` come from
(run with PYTHONPATH=MODEL_DIR/code). Sockets are disabled first: serving must never touch the network.
REQUESTS_JSON is a list of {"body_b64", "content_type", "accept"}; prints a JSON list of
{"status", "phrase", "content_type", "body"} (status 200 when the toolkit set none).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import sys


def _no_network(*args, **kwargs):
    raise OSError("network access attempted while serving")


socket.socket.connect = _no_network
socket.create_connection = _no_network
os.environ["SAGEMAKER_PROGRAM"] = "inference.py"

from sagemaker_inference.transformer import Transformer  # noqa: E402


class RequestProcessor:
    def __init__(self, headers: dict[str, str]):
        self.headers = headers

    def get_request_properties(self) -> dict[str, str]:
        return self.headers


class Context:
    """The slice of the model server's context object that Transformer.transform uses."""

    def __init__(self, model_dir: str, headers: dict[str, str]):
        self.system_properties = {"model_dir": model_dir}
        self.request_processor = [RequestProcessor(headers)]
        self.status, self.phrase, self.content_type = 200, "", None

    def set_response_status(self, code: int, phrase: str) -> None:
        self.status, self.phrase = int(code), phrase

    def set_response_content_type(self, index: int, content_type: str) -> None:
        self.content_type = content_type


def serve(model_dir: str, requests: list[dict]) -> list[dict]:
    transformer = Transformer()
    responses = []
    for request in requests:
        headers = {}
        if request.get("content_type") is not None:
            headers["Content-Type"] = request["content_type"]
        if request.get("accept") is not None:
            headers["Accept"] = request["accept"]
        context = Context(model_dir, headers)
        (body,) = transformer.transform([{"body": base64.b64decode(request["body_b64"])}], context)
        body = body.decode() if isinstance(body, bytes) else body
        responses.append(
            {
                "status": context.status,
                "phrase": context.phrase,
                "content_type": context.content_type,
                "body": body,
            }
        )
    return responses


if __name__ == "__main__":
    model_dir, requests_file = sys.argv[1:3]
    import inference  # the module Transformer will use; reported so the test can check where it came from

    with open(requests_file) as file:
        results = serve(model_dir, json.load(file))
    print(json.dumps({"inference_module": inference.__file__, "responses": results}))
