"""SageMaker Runtime's InvokeEndpoint call in front of a serving stack: the wire protocol boto3 speaks.

Route: ``POST /endpoints/{EndpointName}/invocations`` (rest-json). The body and the headers SageMaker passes
on (``FORWARDED_HEADERS``) go to the container's ``POST /invocations`` (the serving stack's port 8080); the
answer comes back as AWS sends it, in the shapes botocore's ``sagemaker-runtime`` service model parses:

  success                 200, the container's body and Content-Type, ``x-Amzn-Invoked-Production-Variant``
  container 4xx/5xx       424 ``ModelError`` with OriginalStatusCode, OriginalMessage (the container's body),
                          LogStreamArn
  container over 60 s     424 ``ModelError``, "Received server error (0) ... Your invocation timed out while
                          waiting for a response from container primary ..."
  container unreachable   503 ``ServiceUnavailable`` (our choice: AWS's answer to a dead container is not
                          documented; this is the modelled error that means "not available now")
  unknown endpoint        400 ``ValidationError`` "Endpoint NAME of account ACCOUNT not found."
  body over 6 MB          400 ``ValidationError``
  over concurrency        400 ``ThrottlingException`` with ``{"message": null}`` (botocore retries it as
                          throttling)
  unsigned request        403 ``MissingAuthenticationTokenException``
Error codes travel in the ``x-amzn-ErrorType`` header, which botocore's rest-json parser reads first.
Sources: the error members and status codes are botocore's ``sagemaker-runtime`` 2017-05-13 model (ModelError
424 with OriginalStatusCode/OriginalMessage/LogStreamArn, ValidationError 400, ServiceUnavailable 503, Body
max 6291456); the container has 60 s to answer (AWS doc your-algorithms-inference-code.md); the messages as
reported from real endpoints: not found (aws/amazon-sagemaker-examples#293), timeout
(RamVegiraju/SageMaker-Deployment#3), throttling "400 ... ThrottlingException" with a null message
(opensearch-project/ml-commons#2429).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import threading
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INVOKE_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's request limit (botocore model: Body max 6291456)
CONTAINER_TIMEOUT_S = 60  # "containers must respond to requests within 60 seconds"
# Headers SageMaker passes from the InvokeEndpoint call to the container (never the caller's credentials).
FORWARDED_HEADERS = (
    "content-type",
    "accept",
    "x-amzn-sagemaker-custom-attributes",
    "x-amzn-sagemaker-inference-id",
)
TIMEOUT_MESSAGE = (
    "Your invocation timed out while waiting for a response from container primary. Review the latency "
    "metrics for each container in Amazon CloudWatch, resolve the issue, and try again."
)


@dataclass(frozen=True)
class ContainerAnswer:
    status: int
    content_type: str | None
    body: bytes


class EndpointServer(ThreadingHTTPServer):
    """A threaded server that can also cut its open keep-alive connections, so a stop is a real stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, container_url: str, settings: dict):
        super().__init__(address, EndpointRequestHandler)
        self.container = container_url.removeprefix("http://").rsplit(":", 1)
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

    def call_container(self, body: bytes, headers: dict[str, str]) -> ContainerAnswer:
        """POST /invocations on the serving stack; a new connection each time (its errors close them)."""
        host, port = self.container
        timeout = self.settings.get("container_timeout_s", CONTAINER_TIMEOUT_S)
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        try:
            connection.request("POST", "/invocations", body=body, headers=headers)
            answer = connection.getresponse()
            return ContainerAnswer(answer.status, answer.getheader("Content-Type"), answer.read())
        finally:
            connection.close()


class EndpointRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects
    server_version = "local-endpoint/1"
    timeout = 60  # idle keep-alive connections are closed after this many seconds
    server: EndpointServer

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        if self.server.settings.get("verbose"):
            super().log_message(format, *args)

    def do_GET(self):
        self._send_not_found()

    def do_POST(self):
        try:
            body = self._read_body()
        except ValueError:
            self._send(400, "application/json", b'{"message": "Invalid Content-Length"}')
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
                self._forward(body)
            finally:
                self.server.count_in_flight(-1)
                self.server.invocation_slots.release()

    def _forward(self, body: bytes) -> None:
        settings = self.server.settings
        headers = {name: value for name, value in self.headers.items() if name.lower() in FORWARDED_HEADERS}
        try:
            answer = self.server.call_container(body, headers)
        except TimeoutError:
            self._send_error(424, "ModelError", _model_error(0, TIMEOUT_MESSAGE, settings, original=False))
            return
        except (OSError, http.client.HTTPException):
            self._send_error(503, "ServiceUnavailable", {"Message": "The container is not available."})
            return
        if answer.status < 400:
            variant = {"x-Amzn-Invoked-Production-Variant": settings["variant_name"]}
            self._send(200, answer.content_type or "application/json", answer.body, variant)
        else:
            message = answer.body.decode("utf-8", errors="replace")
            self._send_error(424, "ModelError", _model_error(answer.status, message, settings))

    # --- plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError(length)
        return self.rfile.read(length) if length else b""

    def _send_not_found(self) -> None:
        self._send(404, "application/json", json.dumps({"message": f"No route for {self.path}"}).encode())

    def _send_error(self, status: int, code: str, body: dict) -> None:
        self._send(status, "application/json", json.dumps(body).encode(), {"x-amzn-ErrorType": code})

    def _send(self, status: int, content_type: str, body: bytes, extra: dict | None = None) -> None:
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _model_error(status: int, message: str, settings: dict, original: bool = True) -> dict:
    """What AWS sends when the container answers 4xx/5xx or not at all (botocore: ModelError's members)."""
    region, account, name = settings["region"], settings["account_id"], settings["endpoint_name"]
    kind = "client" if 400 <= status < 500 else "server"
    log_group = f"/aws/sagemaker/Endpoints/{name}"
    error = {
        "ErrorCode": "CLIENT_ERROR_FROM_MODEL" if kind == "client" else "INTERNAL_FAILURE_FROM_MODEL",
        "LogStreamArn": f"arn:aws:logs:{region}:{account}:log-group:{log_group}",
        "Message": (
            f'Received {kind} error ({status}) from primary with message "{message}". See '
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logEventViewer:group={log_group} in account {account} for more information."
        ),
    }
    if original:
        error |= {"OriginalMessage": message, "OriginalStatusCode": status}
    return error
