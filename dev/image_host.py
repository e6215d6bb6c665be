"""A local https image host signed by a throwaway CA, so URL requests run end to end offline (tests, demo).

The CA certificate is written to a PEM file that the Lambda trusts through ``URL_FETCH_CA_BUNDLE``; the
server's certificate names 127.0.0.1 and localhost. Files are served from memory: ``host.add(path, bytes)``;
``host.redirect(path, location)`` answers 302; ``delay_per_kib`` makes a slow server (the body trickles),
``header_delay_s`` one whose status line and headers trickle out a byte at a time.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, *, ca: bool, sans=None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def make_test_pki(directory: Path) -> tuple[Path, Path, Path]:
    """Writes ca.pem, server.pem and server.key (EC P-256) into directory; returns their paths."""
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate(
        _name("local test CA"), _name("local test CA"), ca_key.public_key(), ca_key, ca=True
    )
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server_cert = _certificate(
        _name("localhost"), ca_cert.subject, server_key.public_key(), ca_key, ca=False, sans=sans
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


class _ImageRequestHandler(BaseHTTPRequestHandler):
    server: _ImageServer

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in self.server.redirects:
            self.send_response(302)
            self.send_header("Location", self.server.redirects[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path in self.server.header_delays:
            self._trickle_head(self.server.files[path], self.server.header_delays[path])
        elif path in self.server.files:
            body = self.server.files[path]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._write(body, self.server.delays.get(path, 0.0))
        else:
            self.send_error(404)

    def _trickle_head(self, body: bytes, delay_s: float) -> None:
        """Status line and headers one byte every delay_s (each read gets data well within any socket
        timeout), then the body at once."""
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Padding: {'a' * 40}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        self.close_connection = True
        try:
            for index in range(len(head)):
                self.wfile.write(head[index : index + 1])
                self.wfile.flush()
                time.sleep(delay_s)
            self.wfile.write(body)
        except (ConnectionError, ssl.SSLError, OSError):
            pass  # the client gave up waiting, as it should

    def _write(self, body: bytes, delay_per_kib: float) -> None:
        if not delay_per_kib:
            self.wfile.write(body)
            return
        try:
            for start in range(0, len(body), 1024):  # a slow server: trickles the body out
                self.wfile.write(body[start : start + 1024])
                self.wfile.flush()
                time.sleep(delay_per_kib)
        except (ConnectionError, ssl.SSLError):
            self.close_connection = True  # the client gave up waiting, as it should


class _ImageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address):
        super().__init__(address, _ImageRequestHandler)
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.delays: dict[str, float] = {}
        self.header_delays: dict[str, float] = {}


class LocalImageHost:
    """https://127.0.0.1:PORT serving in-memory files; ``ca_bundle`` is the PEM to trust it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._directory = tempfile.TemporaryDirectory(prefix="image-host-")
        self.ca_bundle, cert, key = make_test_pki(Path(self._directory.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server = _ImageServer((host, port))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="image-host", daemon=True
        )

    @property
    def netloc(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def url(self, path: str) -> str:
        return f"https://{self.netloc}{path}"

    def add(self, path: str, body: bytes, delay_per_kib: float = 0.0, header_delay_s: float = 0.0) -> str:
        self._server.files[path] = body
        self._server.delays[path] = delay_per_kib
        if header_delay_s:
            self._server.header_delays[path] = header_delay_s
        return self.url(path)

    def redirect(self, path: str, location: str) -> str:
        self._server.redirects[path] = location
        return self.url(path)

    def __enter__(self) -> LocalImageHost:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._directory.cleanup()
