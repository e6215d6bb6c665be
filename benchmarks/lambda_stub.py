"""A canned InvokeEndpoint answer at botocore's last step before the network (the ``before-send`` event).

Everything the Lambda does for a request still runs: validation, base64, parameter serialisation, endpoint
resolution, SigV4 signing (payload hash included), response parsing and our JSON handling. Only the HTTP
round trip to the endpoint is replaced. Standard library and botocore only, so the cold-start probe can load
it after the handler without importing anything the handler does not.
"""

from __future__ import annotations

import io
import json
import sys

from botocore.awsrequest import AWSResponse

EVENT = "before-send.sagemaker-runtime.InvokeEndpoint"
APP_MODULE = "dogbreed.predict_api.app"  # where the package's handler keeps its client
CANNED_PREDICTIONS = {
    "predictions": [
        {"label": label, "index": index, "probability": probability}
        for label, index, probability in (
            ("Labrador_retriever", 95, 0.71),
            ("Golden_retriever", 76, 0.12),
            ("Chesapeake_bay_retriever", 43, 0.06),
            ("Flat-coated_retriever", 71, 0.04),
            ("Curly-coated_retriever", 53, 0.02),
        )
    ]
}


class _RawBody(io.BytesIO):
    """What botocore reads a response from: ``read`` for streaming bodies, ``stream`` otherwise."""

    def stream(self, **_):
        yield self.getvalue()


class CannedEndpoint:
    """Registers on a sagemaker-runtime client; answers every InvokeEndpoint with CANNED_PREDICTIONS."""

    def __init__(self, client):
        self.calls = 0
        self.last_body: bytes | None = None
        self.last_headers: dict[str, str] = {}
        self._answer = json.dumps(CANNED_PREDICTIONS).encode()
        client.meta.events.register(EVENT, self._send)

    def _send(self, request, **_):
        self.calls += 1
        self.last_body = request.body
        self.last_headers = dict(request.headers)
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(self._answer)),
            "x-Amzn-Invoked-Production-Variant": "AllTraffic",
        }
        return AWSResponse(request.url, 200, headers, _RawBody(self._answer))


def client_of(handler_module):
    """The sagemaker-runtime client of a loaded handler: the app module's for the package's thin entry module,
    the module's own RUNTIME for a single-file handler."""
    owner = sys.modules.get(APP_MODULE, handler_module)
    return owner.RUNTIME
