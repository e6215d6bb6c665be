"""LocalEndpoint: extract model.tar.gz, load it as the container would, serve it on 127.0.0.1 in a thread."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from dogbreed.local_endpoint.container import ModelContainer, extract_model
from dogbreed.local_endpoint.server import EndpointServer

DEFAULT_ACCOUNT_ID = "123456789012"


class LocalEndpoint:
    """One SageMaker endpoint with one production variant, served locally.

    Use as a context manager, or ``start()`` / ``stop()``. ``url`` is what
    ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`` should point at.
    """

    def __init__(
        self,
        model_archive: str | Path | None = None,
        *,
        endpoint_name: str,
        model_dir: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        max_concurrency: int = 8,
        variant_name: str = "AllTraffic",
        region: str = "us-east-1",
        account_id: str = DEFAULT_ACCOUNT_ID,
        verbose: bool = False,
    ):
        if model_archive is None and model_dir is None:
            raise ValueError("give model_archive (model.tar.gz) or an extracted model_dir")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self._archive = model_archive
        self._model_dir = Path(model_dir) if model_dir else None
        self._owns_model_dir = False
        self._address = (host, port)
        self._settings = {
            "endpoint_name": endpoint_name,
            "max_concurrency": max_concurrency,
            "variant_name": variant_name,
            "region": region,
            "account_id": account_id,
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
        """Extracts (into a temporary model dir unless one was given), runs model_fn, then starts serving."""
        if self._model_dir is None:
            self._model_dir = Path(tempfile.mkdtemp(prefix="local-endpoint-model-"))
            self._owns_model_dir = True
        try:
            if self._archive is not None:
                extract_model(self._archive, self._model_dir)
            container = ModelContainer(str(self._model_dir))
            container.load()
            self._server = EndpointServer(self._address, container, self._settings)
        except BaseException:
            self.stop()  # removes the temporary model dir
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
        """Stops accepting, cuts open connections, waits for the serving thread; idempotent."""
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server.container.unload()
            self._server = None
        if self._owns_model_dir and self._model_dir is not None:
            shutil.rmtree(self._model_dir, ignore_errors=True)
            self._model_dir = None
            self._owns_model_dir = False

    def __enter__(self) -> LocalEndpoint:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
