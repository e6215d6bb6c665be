"""The model side of a SageMaker PyTorch inference container, in-process.

The container extracts ``model.tar.gz`` to ``/opt/ml/model``, puts ``model/code`` on ``sys.path`` and lets
the SageMaker inference toolkit's ``Transformer`` dispatch each request to the user module's hooks
(``model_fn`` once, then ``input_fn`` -> ``predict_fn`` -> ``output_fn``, or ``transform_fn``). The model
server (TorchServe) hands the handler a list of requests plus a ``Context``; :class:`InferenceContext` has
the parts of that context the toolkit uses, so the toolkit's own dispatching, content-type and accept rules
run unchanged.
"""

from __future__ import annotations

import json
import os
import sys
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sagemaker_inference.default_handler_service import DefaultHandlerService
from sagemaker_inference.transformer import Transformer

USER_MODULE = "inference"  # SAGEMAKER_PROGRAM's default, "inference.py"


class RequestProcessor:
    """Per-request headers and response status, as TorchServe's ``ts.context.RequestProcessor``."""

    def __init__(self, request_header: dict[str, str]):
        self._request_header = request_header
        self._status_code = 200
        self._reason_phrase = None
        self._response_header: dict[str, str] = {}

    def get_request_properties(self) -> dict[str, str]:
        return self._request_header

    def get_request_property(self, key: str) -> str | None:
        return self._request_header.get(key)

    def report_status(self, code: int, reason_phrase: str | None = None) -> None:
        self._status_code = code
        self._reason_phrase = reason_phrase

    def get_response_status_code(self) -> int:
        return self._status_code

    def add_response_property(self, key: str, value: str) -> None:
        self._response_header[key] = value

    def get_response_headers(self) -> dict[str, str]:
        return self._response_header


class InferenceContext:
    """The shape of TorchServe's ``ts.context.Context`` that the inference toolkit reads and writes."""

    def __init__(self, model_dir: str, request_headers: list[dict[str, str]] | None = None):
        self.model_name = "model"
        self.manifest = {"model": {"modelName": "model", "handler": "local_endpoint"}}
        self.system_properties = {
            "model_dir": model_dir,
            "gpu_id": None,
            "batch_size": 1,
            "server_name": "local_endpoint",
            "server_version": "1",
        }
        self.request_processor = [RequestProcessor(h) for h in (request_headers or [{}])]
        self.metrics = None

    def set_response_status(self, code: int = 200, phrase: str = "", idx: int = 0) -> None:
        self.request_processor[idx].report_status(code, phrase)

    def set_response_content_type(self, idx: int, value: str) -> None:
        self.request_processor[idx].add_response_property("content-type", value)

    def get_response_content_type(self, idx: int) -> str | None:
        return self.request_processor[idx].get_response_headers().get("content-type")

    def get_response_status(self, idx: int) -> int:
        return self.request_processor[idx].get_response_status_code()


class PyTorchHandlerService(DefaultHandlerService):
    """As ``sagemaker_pytorch_serving_container.handler_service.HandlerService``: code/ first on sys.path."""

    def __init__(self):
        super().__init__(transformer=Transformer())
        self._code_dir: str | None = None

    def initialize(self, context: InferenceContext) -> None:
        code_dir = os.path.join(context.system_properties["model_dir"], "code")
        sys.path.insert(0, code_dir)
        self._code_dir = code_dir
        # A container hosts one model; in one process an earlier model's module must not shadow this one.
        sys.modules.pop(USER_MODULE, None)
        self._service.validate_and_initialize(
            model_dir=context.system_properties["model_dir"], context=context
        )

    def unload(self) -> None:
        """Undoes initialize() for the rest of the process (a container would exit instead): takes code/ off
        sys.path and forgets every module imported from it, so later imports in this process get their own."""
        if self._code_dir is None:
            return
        while self._code_dir in sys.path:
            sys.path.remove(self._code_dir)
        prefix = self._code_dir + os.sep
        for name, module in list(sys.modules.items()):
            if (getattr(module, "__file__", None) or "").startswith(prefix):
                del sys.modules[name]
        self._code_dir = None


@dataclass
class ContainerResponse:
    status: int
    content_type: str
    body: bytes


@dataclass
class ModelContainer:
    """A loaded model answering /ping and /invocations the way the PyTorch inference container does."""

    model_dir: str
    service: PyTorchHandlerService = field(default_factory=PyTorchHandlerService)
    _init_lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> None:
        """Runs model_fn once (the container does it when the worker starts, before /ping turns healthy)."""
        with self._init_lock:
            self.service.initialize(InferenceContext(self.model_dir))

    def unload(self) -> None:
        self.service.unload()

    def invoke(self, body: bytes, headers: dict[str, str]) -> ContainerResponse:
        """One /invocations request: the toolkit picks hooks and content types; we only carry bytes."""
        context = InferenceContext(self.model_dir, [headers])
        result = self.service.handle([{"body": body}], context)
        return ContainerResponse(
            status=context.get_response_status(0),
            content_type=context.get_response_content_type(0) or _default_content_type(context),
            body=_to_bytes(result[0] if result else b""),
        )


def _default_content_type(context: InferenceContext) -> str:
    """The toolkit sets a content type on success only; its error bodies are "message\ntraceback" text."""
    return "text/plain; charset=utf-8" if context.get_response_status(0) >= 400 else "application/json"


def _to_bytes(value) -> bytes:
    """TorchServe's encoding of a handler's return value: str as UTF-8, bytes as is, anything else as JSON."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


def extract_model(archive: str | Path, model_dir: str | Path) -> Path:
    """Extracts model.tar.gz like SageMaker does into /opt/ml/model, refusing links and paths outside it."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(model_dir, filter="data")
    if not (model_dir / "code" / f"{USER_MODULE}.py").is_file():
        raise FileNotFoundError(f"{archive} has no code/{USER_MODULE}.py (the SageMaker inference hooks)")
    return model_dir
