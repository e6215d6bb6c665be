"""The function's configuration, read once per container from the environment Terraform sets.

    ENDPOINT_NAME                 SageMaker endpoint to invoke (required)
    TOP_K                         predictions when a request names none (1..MAX_TOP_K, default DEFAULT_TOP_K)
    MAX_IMAGE_BYTES               largest accepted image (1..MAX_IMAGE_BYTES_CEILING)
    ENDPOINT_MAX_REQUEST_BYTES    largest InvokeEndpoint body (6 MiB instances, 4 MB serverless endpoints)
    ALLOWED_URL_HOSTS             "host[:port], ..." image URLs may come from; empty turns URL input off
    URL_FETCH_CA_BUNDLE           PEM file trusted for URL downloads (default: the system CAs)
    URL_FETCH_DEADLINE_S          time allowed for one URL download
    ENDPOINT_CONNECT_TIMEOUT_S    InvokeEndpoint connect timeout, per attempt
    ENDPOINT_READ_TIMEOUT_S       InvokeEndpoint read timeout, per attempt
    ENDPOINT_MAX_ATTEMPTS         InvokeEndpoint attempts including the first (retried only where it helps)

The last four are the terms of Terraform's function timeout (terraform/modules/predict_lambda), so the budget
it computes is the one this code keeps. A bad value is a 500 Misconfiguration on every request, with the
variable named in the log.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from dogbreed import contract
from dogbreed.predict_api.errors import ApiError, misconfiguration

# The payload ceiling. A synchronous Lambda invocation is limited to 6 MB for the whole event ("The maximum
# payload size is 6 MB for synchronous invocations", botocore lambda Invoke; 6,291,456 bytes in Lambda's own
# error texts), and a Function URL hands a binary body over base64-encoded (4 bytes per 3). So an image fits
# when base64(image) + the event's envelope (headers, requestContext, a SigV4 session token: about 3 KB
# measured, budgeted at 32 KiB) fit the limit:
#     MAX_IMAGE_BYTES_CEILING = (6,291,456 - 32,768) // 4 * 3 = 4,694,016 bytes (4.48 MiB)
# A JSON body ({"image": "<base64>"}) carries the same base64 plus a few bytes of JSON, inside that budget.
# terraform/modules/predict_lambda validates max_image_bytes against the same number.
LAMBDA_SYNC_EVENT_MAX_BYTES = 6 * 1024 * 1024
EVENT_ENVELOPE_BUDGET_BYTES = 32 * 1024
MAX_IMAGE_BYTES_CEILING = (LAMBDA_SYNC_EVENT_MAX_BYTES - EVENT_ENVELOPE_BUDGET_BYTES) // 4 * 3
DEFAULT_MAX_IMAGE_BYTES = 4 * 1024 * 1024  # terraform/modules/predict_lambda's default
# botocore's service model for EndpointName: max 63 characters, this pattern.
ENDPOINT_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")


@dataclass(frozen=True)
class EndpointClientSettings:
    """How the sagemaker-runtime client waits and retries (defaults: Terraform's endpoint_client defaults)."""

    connect_timeout_s: float = 2.0
    read_timeout_s: float = 20.0
    max_attempts: int = 2


@dataclass(frozen=True)
class Settings:
    endpoint_name: str
    default_top_k: int
    max_image_bytes: int
    endpoint_max_request_bytes: int
    allowed_url_hosts: frozenset[str]
    url_ssl_context: ssl.SSLContext | None  # only built when URL input is on: loading CAs costs cold start
    url_fetch_deadline_s: float
    client: EndpointClientSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Reads the function's configuration; raises ApiError(500) naming the first bad variable."""
        allowed_url_hosts = parse_allowed_hosts(env.get("ALLOWED_URL_HOSTS", ""))
        return cls(
            endpoint_name=_endpoint_name(env),
            default_top_k=_number(env, "TOP_K", int, contract.DEFAULT_TOP_K, 1, contract.MAX_TOP_K),
            max_image_bytes=_number(
                env, "MAX_IMAGE_BYTES", int, DEFAULT_MAX_IMAGE_BYTES, 1, MAX_IMAGE_BYTES_CEILING
            ),
            endpoint_max_request_bytes=_number(
                env,
                "ENDPOINT_MAX_REQUEST_BYTES",
                int,
                contract.INVOKE_ENDPOINT_MAX_BYTES,
                1024,
                contract.INVOKE_ENDPOINT_MAX_BYTES,
            ),
            allowed_url_hosts=allowed_url_hosts,
            url_ssl_context=_url_ssl_context(env) if allowed_url_hosts else None,
            url_fetch_deadline_s=_number(env, "URL_FETCH_DEADLINE_S", float, 5.0, 0.1, 60),
            client=EndpointClientSettings(
                connect_timeout_s=_number(env, "ENDPOINT_CONNECT_TIMEOUT_S", float, 2.0, 0.1, 60),
                read_timeout_s=_number(env, "ENDPOINT_READ_TIMEOUT_S", float, 20.0, 0.1, 900),
                max_attempts=_number(env, "ENDPOINT_MAX_ATTEMPTS", int, 2, 1, 5),
            ),
        )


def load_settings(env: Mapping[str, str]) -> Settings | ApiError:
    """The settings, or the error every request will answer while they are wrong."""
    try:
        return Settings.from_env(env)
    except ApiError as error:
        return error
    except (OSError, ssl.SSLError) as error:  # unreadable URL_FETCH_CA_BUNDLE
        return misconfiguration(f"URL_FETCH_CA_BUNDLE: {error}")


def parse_allowed_hosts(raw: str) -> frozenset[str]:
    """'a.example.com, b.example.com:8443' -> {'a.example.com:443', 'b.example.com:8443'} (lower case)."""
    hosts = set()
    for entry in filter(None, (part.strip().lower() for part in raw.split(","))):
        hosts.add(entry if re.search(r":\d+$", entry) else f"{entry}:443")
    return frozenset(hosts)


def _endpoint_name(env: Mapping[str, str]) -> str:
    name = env.get("ENDPOINT_NAME", "").strip()
    if len(name) > 63 or not ENDPOINT_NAME_PATTERN.match(name):
        raise misconfiguration(f"ENDPOINT_NAME is missing or invalid: {name!r}")
    return name


def _url_ssl_context(env: Mapping[str, str]) -> ssl.SSLContext:
    """System CAs, or URL_FETCH_CA_BUNDLE (a PEM file: a private CA in production, a test CA in tests)."""
    return ssl.create_default_context(cafile=env.get("URL_FETCH_CA_BUNDLE") or None)


def _number(env: Mapping[str, str], name: str, kind: type, default, low, high):
    """`kind(env[name])` within low..high; the default when unset or blank."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise misconfiguration(
            f"{name} must be {'an integer' if kind is int else 'a number'} in {low}..{high}, got {raw!r}"
        )
    return value
