"""LocalEndpoint: the real serving stack for a model.tar.gz, behind the InvokeEndpoint front, on 127.0.0.1."""

from __future__ import annotations

import threading
from pathlib import Path

from dogbreed.local_endpoint.server import CONTAINER_TIMEOUT_S, EndpointServer
from dogbreed.local_endpoint.stack import ModelEnvironment, ServingStack

DEFAULT_ACCOUNT_ID = "123456789012"


class LocalEndpoint:
    """One SageMaker endpoint with one production variant, served locally.

    ``LocalEndpoint(archive, endpoint_name=...)`` starts (and stops) its own :class:`ServingStack`, network
    isolated; ``LocalEndpoint(stack=running_stack, ...)`` puts a front over a stack someone else owns (a test
    session's, so each test gets its own front settings without a new stack). Use as a context manager, or
    ``start()`` / ``stop()``. ``url`` is what ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` should point at;
    ``stack.url`` is the container's port 8080 (``/ping``, ``/invocations``).
    """

    def __init__(
        self,
        model_archive: str | Path | None = None,
        *,
        endpoint_name: str,
        stack: ServingStack | None = None,
        environment: ModelEnvironment | None = None,
        isolate_network: bool = True,
        serving_python: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        max_concurrency: int = 8,
        variant_name: str = "AllTraffic",
        region: str = "us-east-1",
        account_id: str = DEFAULT_ACCOUNT_ID,
        container_timeout_s: float = CONTAINER_TIMEOUT_S,
        verbose: bool = False,
    ):
        if (model_archive is None) == (stack is None):
            raise ValueError("give exactly one of model_archive (model.tar.gz) or a running stack")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self._owns_stack = stack is None
        self.stack = stack or ServingStack(
            model_archive, python=serving_python, environment=environment, isolate_network=isolate_network
        )
        self._address = (host, port)
        self._settings = {
            "endpoint_name": endpoint_name,
            "max_concurrency": max_concurrency,
            "variant_name": variant_name,
            "region": region,
            "account_id": account_id,
            "container_timeout_s": container_timeout_s,
            "verbose": verbose,
        }
        self._server: EndpointServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the endpoint is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def in_flight(self) -> int:
        """InvokeEndpoint calls being answered right now."""
        return self._server.in_flight if self._server else 0

    def start(self) -> LocalEndpoint:
        """Starts the serving stack (unless given one; ready when every model worker is) and the front."""
        try:
            if self._owns_stack:
                self.stack.start()
            self._server = EndpointServer(self._address, self.stack.url, self._settings)
        except BaseException:
            self.stop()
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="local-endpoint",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops accepting, cuts open connections, stops the stack it owns; idempotent."""
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None
        if self._owns_stack:
            self.stack.stop()

    def __enter__(self) -> LocalEndpoint:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
