"""Image URLs: the allow-list (https, allowed host and port, no credentials) and the capped download.

A redirect is followed only to another allowed https URL, at most MAX_REDIRECTS times; the body is refused as
soon as it passes MAX_IMAGE_BYTES. One deadline (URL_FETCH_DEADLINE_S) covers the whole fetch: connecting, the
TLS handshake, the status line and headers, every redirect and the body. A socket timeout alone would not do:
it bounds each read, so a server that trickles a byte every few seconds (headers included) would never hit
it. Every socket the fetch opens is registered with a :class:`Deadline`, whose timer shuts them down when the
time is up; whatever read was waiting then fails at once.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import threading
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
    """Raises 400 unless `url` is https on an allowed host:port, without credentials or control characters.

    urlsplit silently drops tabs and newlines (bpo-43882) while http.client refuses them, so a URL with a tab
    in its host would pass the allow-list and then fail inside the download: such URLs are malformed here.
    """
    if any(character.isspace() or not character.isprintable() for character in url):
        raise bad_request("InvalidUrl", "The image URL is malformed.")
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


class Deadline:
    """A point in time after which every socket registered with it is shut down."""

    def __init__(self, seconds: float):
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.001, self.expires - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        """Registers a duplicate of `sock` (it outlives TLS wrapping, which detaches the original)."""
        with self._lock:
            self._sockets.append(sock.dup())
            if self.expired:
                _shut(self._sockets[-1])

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _DeadlineConnection(http.client.HTTPSConnection):
    """HTTPSConnection whose TCP socket is registered with the fetch's deadline before the TLS handshake."""

    def __init__(self, *args, deadline: Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self):
        raw = socket.create_connection((self.host, self.port), self._deadline.remaining())
        self._deadline.watch(raw)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, settings: Settings, deadline: Deadline):
        super().__init__(context=settings.url_ssl_context)
        self._connection = functools.partial(_DeadlineConnection, deadline=deadline)

    def https_open(self, req):
        return self.do_open(self._connection, req, context=self._context)


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
    """Downloads an allowed https URL within one deadline and settings.max_image_bytes."""
    deadline = Deadline(settings.url_fetch_deadline_s)
    opener = urllib.request.build_opener(
        _DeadlineHTTPSHandler(settings, deadline), AllowListRedirectHandler(settings)
    )
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "image/*"})
    try:
        with opener.open(request, timeout=settings.url_fetch_deadline_s) as response:
            if _declared_length(response) > settings.max_image_bytes:
                raise image_too_large(settings.max_image_bytes)
            body = _read_capped(response, settings.max_image_bytes)
        if deadline.expired:  # a shut socket reads as the end of the body: never hand on a truncated image
            raise _too_slow()
        return body
    except ApiError:
        raise
    except urllib.error.HTTPError as error:
        raise ApiError(400, "UrlFetchFailed", f"The image URL returned HTTP {error.code}.") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as error:
        if deadline.expired:
            raise _too_slow() from None
        raise ApiError(
            400,
            "UrlFetchFailed",
            "The image URL could not be fetched.",
            detail=f"{type(error).__name__}: {error}",
        ) from None
    finally:
        deadline.close()


def _declared_length(response) -> int:
    """The Content-Length the server announced (0 if none); digits beyond 18 can only mean "too large"."""
    declared = response.headers.get("Content-Length") or ""
    if not (declared.isascii() and declared.isdigit()):
        return 0
    return int(declared) if len(declared) <= 18 else 10**18


def _too_slow() -> ApiError:
    return ApiError(400, "UrlFetchFailed", "The image URL took too long to download.")


def _read_capped(response, max_bytes: int) -> bytes:
    """Reads the body as it arrives, refusing it as soon as it passes max_bytes."""
    chunks, size = [], 0
    while chunk := response.read1(READ_CHUNK_BYTES):
        size += len(chunk)
        if size > max_bytes:
            raise image_too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)
