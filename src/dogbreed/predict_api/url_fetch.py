"""Image URLs: the allow-list (https, allowed host and port, no credentials) and the capped download.

A redirect is followed only to another allowed https URL, at most MAX_REDIRECTS times; the body is refused as
soon as it passes MAX_IMAGE_BYTES or the deadline (URL_FETCH_DEADLINE_S), whichever comes first.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request

from dogbreed.predict_api.errors import ApiError, bad_request, image_too_large
from dogbreed.predict_api.observability import tracer
from dogbreed.predict_api.settings import Settings

MAX_REDIRECTS = 3
READ_CHUNK_BYTES = 64 * 1024
USER_AGENT = "dogbreed-predict/1.0"


def check_url_allowed(url: str, settings: Settings) -> None:
    """Raises 400 UrlNotAllowed unless `url` is https on an allowed host:port, without credentials."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise bad_request("InvalidUrl", "The image URL is malformed.") from None
    if parts.scheme != "https":
        raise bad_request("UrlNotAllowed", "Only https image URLs are accepted.")
    if parts.username or parts.password or not parts.hostname:
        raise bad_request("UrlNotAllowed", "The image URL host is not allowed.")
    if f"{parts.hostname.lower()}:{port}" not in settings.allowed_url_hosts:
        raise bad_request("UrlNotAllowed", "The image URL host is not allowed.")


class AllowListRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to another allowed https URL, and only a few times."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, settings: Settings):
        super().__init__()
        self._settings = settings

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_url_allowed(urllib.parse.urljoin(req.full_url, newurl), self._settings)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@tracer.capture_method(capture_response=False)  # the response is the image: never into the trace
def fetch_image(url: str, settings: Settings) -> bytes:
    """Downloads an allowed https URL within the deadline and settings.max_image_bytes."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=settings.url_ssl_context),
        AllowListRedirectHandler(settings),
    )
    deadline = time.monotonic() + settings.url_fetch_deadline_s
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "image/*"})
    try:
        with opener.open(request, timeout=settings.url_fetch_deadline_s) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > settings.max_image_bytes:
                raise image_too_large(settings.max_image_bytes)
            return _read_capped(response, deadline, settings.max_image_bytes)
    except ApiError:
        raise
    except urllib.error.HTTPError as error:
        raise ApiError(400, "UrlFetchFailed", f"The image URL returned HTTP {error.code}.") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ApiError(
            400,
            "UrlFetchFailed",
            "The image URL could not be fetched.",
            detail=f"{type(error).__name__}: {error}",
        ) from None


def _read_capped(response, deadline: float, max_bytes: int) -> bytes:
    """Reads the body, refusing it as soon as it passes max_bytes or the deadline."""
    chunks, size = [], 0
    while chunk := response.read1(
        READ_CHUNK_BYTES
    ):  # what has arrived, so the deadline is checked as it trickles
        size += len(chunk)
        if size > max_bytes:
            raise image_too_large(max_bytes)
        if time.monotonic() > deadline:
            raise ApiError(400, "UrlFetchFailed", "The image URL took too long to download.")
        chunks.append(chunk)
    return b"".join(chunks)
