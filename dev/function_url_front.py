"""Dev-only: a local stand-in for a Lambda Function URL with AWS_IAM auth, in front of the real handler.

What AWS does at a Function URL, as far as it can be done here: refuse a request without a valid SigV4
signature for service `lambda` (403), turn a signed request into the Function URL event (payload format
2.0, https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads), invoke the function
and map its {"statusCode", "headers", "body"} answer back to HTTP.

The signature is checked with botocore's own SigV4 code: the request is rebuilt from what arrived (method,
the signed Host, path, query, the headers the client listed in SignedHeaders, the body), signed again with
the caller's secret key at the caller's X-Amz-Date, and the two signatures compared. A changed body, header
or key fails. AWS also checks the caller's IAM permissions (lambda:InvokeFunctionUrl and
lambda:InvokeFunction) and the clock skew; this stand-in does not.

Which bodies arrive base64-encoded is this stand-in's rule (text types as text, everything else base64):
AWS's exact list was not found in its documentation. The handler accepts both encodings of every form.
"""

from __future__ import annotations

import base64
import datetime
import json
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType

from dev.lambda_events import FakeLambdaContext
from dev.lambda_runtime import invoke

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")
FORBIDDEN = {"Message": "Forbidden"}


class FunctionUrlFront:
    """Serve one function's URL on 127.0.0.1; `transport(url)` gives where a request for URL goes."""

    def __init__(self, secrets: dict[str, str], region: str, account_id: str = "123456789012"):
        self.secrets = dict(secrets)  # access key id -> secret access key of the callers it accepts
        self.region = region
        self.account_id = account_id
        self.handler: ModuleType | None = None
        self.function_name = "function"
        self.requests: list[dict] = []
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                front.serve(self)

            def log_message(self, *args):  # no line per request
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FunctionUrlFront:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def configure(self, handler: ModuleType, function_name: str) -> None:
        self.handler, self.function_name = handler, function_name

    def transport(self, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        host, port = self.server.server_address[:2]
        return urllib.parse.urlunsplit(("http", f"{host}:{port}", parts.path or "/", parts.query, ""))

    def serve(self, http: BaseHTTPRequestHandler) -> None:
        body = http.rfile.read(int(http.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in http.headers.items()}
        caller = self.verified_caller(http.command, http.path, headers, body)
        self.requests.append({"path": http.path, "signed": caller is not None})
        if caller is None or self.handler is None:
            return _reply(http, 403, {"Content-Type": "application/json"}, json.dumps(FORBIDDEN).encode())
        event = self.event(http.command, http.path, headers, body, caller)
        context = FakeLambdaContext(function_name=self.function_name)
        response, _, _ = invoke(self.handler, event, context)
        payload = response.get("body", "")
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
        _reply(http, int(response.get("statusCode", 200)), response.get("headers", {}), data)

    def verified_caller(self, method: str, path: str, headers: dict, body: bytes) -> str | None:
        """The caller's access key id when the SigV4 signature holds, else None."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        fields = _authorization(headers.get("authorization", ""))
        if fields is None:
            return None
        access_key, scope_region, service, signed, signature = fields
        if access_key not in self.secrets or (scope_region, service) != (self.region, "lambda"):
            return None
        url = f"https://{headers.get('host', '')}{path}"
        rebuilt = AWSRequest(
            method=method, url=url, data=body, headers={h: headers[h] for h in signed if h in headers}
        )
        rebuilt.context["timestamp"] = headers.get("x-amz-date", "")
        token = headers.get("x-amz-security-token")
        auth = SigV4Auth(Credentials(access_key, self.secrets[access_key], token), "lambda", self.region)
        expected = auth.signature(auth.string_to_sign(rebuilt, auth.canonical_request(rebuilt)), rebuilt)
        return access_key if expected == signature and set(signed) <= set(headers) else None

    def event(self, method: str, path: str, headers: dict, body: bytes, access_key: str) -> dict:
        parts = urllib.parse.urlsplit(path)
        content_type = headers.get("content-type", "")
        text = content_type.startswith(TEXT_TYPES)
        host = headers.get("host", "")
        now = datetime.datetime.now(datetime.UTC)
        return {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": parts.path or "/",
            "rawQueryString": parts.query,
            "headers": {k: v for k, v in headers.items() if k != "authorization"},
            "queryStringParameters": dict(urllib.parse.parse_qsl(parts.query)) or None,
            "requestContext": {
                "accountId": self.account_id,
                "apiId": host.split(".")[0],
                "authorizer": {"iam": {"accessKey": access_key, "accountId": self.account_id}},
                "domainName": host,
                "domainPrefix": host.split(".")[0],
                "http": {
                    "method": method,
                    "path": parts.path or "/",
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": "$default",
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },  # fmt: skip
            "body": body.decode("utf-8", "replace") if text else base64.b64encode(body).decode("ascii"),
            "isBase64Encoded": not text,
        }


def _authorization(value: str) -> tuple[str, str, str, list[str], str] | None:
    """AWS4-HMAC-SHA256 Credential=AK/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex."""
    if not value.startswith("AWS4-HMAC-SHA256 "):
        return None
    fields = dict(
        part.strip().split("=", 1) for part in value[len("AWS4-HMAC-SHA256 ") :].split(",") if "=" in part
    )
    try:
        access_key, _date, region, service, _ = fields["Credential"].split("/")
        return access_key, region, service, fields["SignedHeaders"].split(";"), fields["Signature"]
    except (KeyError, ValueError):
        return None


def _reply(http: BaseHTTPRequestHandler, status: int, headers: dict, data: bytes) -> None:
    http.send_response(status)
    for name, value in headers.items():
        http.send_header(name, value)
    http.send_header("Content-Length", str(len(data)))
    http.end_headers()
    http.wfile.write(data)
