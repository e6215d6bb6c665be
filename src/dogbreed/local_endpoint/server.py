"""HTTP front of the local endpoint: the container protocol and SageMaker Runtime's InvokeEndpoint call.

Routes
  GET  /ping                                   container health check (200 once the model is loaded)
  POST /invocations                            container inference, answered exactly as the container answers
  POST /endpoints/{EndpointName}/invocations   SageMaker Runtime InvokeEndpoint (rest-json protocol)

InvokeEndpoint answers as AWS does, in the shapes botocore's ``sagemaker-runtime`` service model parses:
  success            200, the container's body and Content-Type, ``x-Amzn-Invoked-Production-Variant``
  model 4xx/5xx      424 ``ModelError`` with OriginalStatusCode, OriginalMessage, LogStreamArn
  unknown endpoint   400 ``ValidationError`` "Endpoint NAME of account ACCOUNT not found."
  over concurrency   400 ``ThrottlingException`` with ``{"message": null}`` (what AWS sends; botocore's
                     standard retry mode retries it as throttling)
  unsigned request   403 ``MissingAuthenticationTokenException``
Error codes travel in the ``x-amzn-ErrorType`` header, which botocore's rest-json parser reads first.
Shapes: the error members and status codes are botocore's ``sagemaker-runtime`` 2017-05-13 service model
(ModelError 424 with OriginalStatusCode/OriginalMessage/LogStreamArn, ValidationError 400); throttling as
reported from real endpoints: "400 ... Error Code: ThrottlingException" with a null message
(opensearch-project/ml-commons#2429, aws-samples/amazon-sagemaker-nlu-search#4).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dogbreed.local_endpoint.container import ContainerResponse, ModelContainer

INVOKE_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's request limit (botocore model: Body max 6291456)
# Headers SageMaker passes from the InvokeEndpoint call to the container (never the caller's credentials).
FORWARDED_HEADERS = (
    "content-type",
    "accept",
    "x-amzn-sagemaker-custom-attributes",
    "x-amzn-sagemaker-inference-id",
)


class EndpointServer(ThreadingHTTPServer):
    """A threaded server that can also cut its open keep-alive connections, so a stop is a real stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, container: ModelContainer, settings: dict):
        super().__init__(address, EndpointRequestHandler)
        self.container = container
        self.settings = settings
        self.invocation_slots = threading.BoundedSemaphore(settings["max_concurrency"])
        self.in_flight = 0  # InvokeEndpoint calls being answered now
        self._in_flight_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def count_in_flight(self, delta: int) -> None:
        with self._in_flight_lock:
            self.in_flight += delta

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class EndpointRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects
    server_version = "local-endpoint/1"
    timeout = 60  # idle keep-alive connections are closed after this many seconds
    server: EndpointServer

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        if self.server.settings.get("verbose"):
            super().log_message(format, *args)

    # --- routing
    def do_GET(self):
        if self.path == "/ping":
            self._send(200, "application/json", b'{"status": "Healthy"}\n')
        else:
            self._send_not_found()

    def do_POST(self):
        try:
            body = self._read_body()
        except ValueError:
            self._send(400, "application/json", b'{"message": "Invalid Content-Length"}')
            return
        if self.path == "/invocations":
            self._send_container(self.server.container.invoke(body, self._container_headers()))
            return
        match = INVOKE_PATH.match(self.path.split("?", 1)[0])
        if match:
            self._invoke_endpoint(match["name"], body)
        else:
            self._send_not_found()

    # --- InvokeEndpoint
    def _invoke_endpoint(self, endpoint_name: str, body: bytes) -> None:
        settings = self.server.settings
        if not self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256"):
            self._send_error(
                403, "MissingAuthenticationTokenException", {"message": "Missing Authentication Token"}
            )
        elif endpoint_name != settings["endpoint_name"]:
            message = f"Endpoint {endpoint_name} of account {settings['account_id']} not found."
            self._send_error(400, "ValidationError", {"Message": message})
        elif len(body) > MAX_PAYLOAD_BYTES:
            self._send_error(400, "ValidationError", {"Message": "Request payload size exceeds 6 MB."})
        elif not self.server.invocation_slots.acquire(blocking=False):
            self._send_error(400, "ThrottlingException", {"message": None})
        else:
            self.server.count_in_flight(+1)
            try:
                self._answer_invocation(self.server.container.invoke(body, self._container_headers()))
            finally:
                self.server.count_in_flight(-1)
                self.server.invocation_slots.release()

    def _answer_invocation(self, response: ContainerResponse) -> None:
        settings = self.server.settings
        if response.status < 400:
            variant = {"x-Amzn-Invoked-Production-Variant": settings["variant_name"]}
            self._send(200, response.content_type, response.body, variant)
            return
        self._send_error(424, "ModelError", _model_error(response, settings))

    # --- plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError(length)
        return self.rfile.read(length) if length else b""

    def _container_headers(self) -> dict[str, str]:
        return {name: value for name, value in self.headers.items() if name.lower() in FORWARDED_HEADERS}

    def _send_container(self, response: ContainerResponse) -> None:
        self._send(response.status, response.content_type, response.body)

    def _send_not_found(self) -> None:
        self._send(404, "application/json", json.dumps({"message": f"No route for {self.path}"}).encode())

    def _send_error(self, status: int, code: str, body: dict) -> None:
        self._send(status, "application/json", json.dumps(body).encode(), {"x-amzn-ErrorType": code})

    def _send(self, status: int, content_type: str, body: bytes, extra: dict | None = None) -> None:
        self.send_response(
            status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        )
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _model_error(response: ContainerResponse, settings: dict) -> dict:
    """The body AWS sends when the container answers 4xx/5xx (botocore: ModelError's members)."""
    region, account, name = settings["region"], settings["account_id"], settings["endpoint_name"]
    kind = "client" if response.status < 500 else "server"
    original = response.body.decode("utf-8", errors="replace")
    log_group = f"/aws/sagemaker/Endpoints/{name}"
    return {
        "ErrorCode": "CLIENT_ERROR_FROM_MODEL" if kind == "client" else "INTERNAL_FAILURE_FROM_MODEL",
        "LogStreamArn": f"arn:aws:logs:{region}:{account}:log-group:{log_group}",
        "Message": (
            f'Received {kind} error ({response.status}) from primary with message "{original}". See '
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logEventViewer:group={log_group} in account {account} for more information."
        ),
        "OriginalMessage": original,
        "OriginalStatusCode": response.status,
    }
