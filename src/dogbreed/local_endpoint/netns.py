"""Inside the serving stack's namespaces: what ``docker run IMAGE serve`` does; the relays to port 8080.

    python -P netns.py boot --config ETC/sagemaker-ts.properties [--socket PATH --isolated --bind-opt DIR]

:class:`dogbreed.local_endpoint.stack.ServingStack` runs this file with the serving venv's interpreter, as the
first process of fresh network, PID and mount namespaces (``unshare``). ``boot`` does what the PyTorch
inference image's entrypoint (``torchserve-entrypoint.py``) does before it calls the toolkit, plus what Docker
would have set up: it brings the loopback interface up (a new network namespace has only ``lo``, down),
bind-mounts the instance's ``opt/`` on ``/opt`` (so ``/opt/ml/model`` is the extracted model), relays a unix
socket to ``127.0.0.1:8080`` (the only way in: the namespace has no other interface), reaps zombies as PID 1,
points the toolkit's hard-coded ``/etc/sagemaker-ts.properties`` into the instance and calls the unmodified
``sagemaker_pytorch_serving_container.serving.main()``.

Only the standard library is imported at module level: this file runs by path under the serving venv
(``-P``: its folder is not put on the import path), where the ``dogbreed`` package does not exist.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

CONTAINER_PORT = 8080  # SageMaker's container port: /ping, /invocations (and TorchServe's management API)


class Relay:
    """Accepts on one socket and, per connection, connects to another and pumps bytes both ways."""

    def __init__(self, listener: socket.socket, connect: Callable[[], socket.socket]):
        self._listener = listener
        self._connect = connect
        self._thread = threading.Thread(target=self._serve, name="relay", daemon=True)
        self._thread.start()

    @classmethod
    def tcp_to_unix(cls, path: Path) -> Relay:
        """127.0.0.1:<free port> on the host -> the stack's unix socket."""
        return cls(socket.create_server(("127.0.0.1", 0), backlog=128), lambda: _connect_unix(str(path)))

    @classmethod
    def unix_to_tcp(cls, path: Path, port: int) -> Relay:
        """The unix socket -> 127.0.0.1:port inside the namespace."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen(128)
        return cls(listener, lambda: socket.create_connection(("127.0.0.1", port)))

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = self._connect()
            except OSError:
                client.close()  # the client sees a reset, as with a port nobody listens on
                continue
            pair = _Pair(client, upstream)
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=pair.pump, args=(source, target), daemon=True).start()


class _Pair:
    """Two connected sockets, closed once both directions are done."""

    def __init__(self, a: socket.socket, b: socket.socket):
        self._sockets = (a, b)
        self._open = 2
        self._lock = threading.Lock()

    def pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(1 << 16):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                target.shutdown(socket.SHUT_WR)
            with self._lock:
                self._open -= 1
                done = self._open == 0
            if done:
                for sock in self._sockets:
                    sock.close()


def _connect_unix(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def bring_up_loopback() -> None:
    """``ip link set lo up`` without iproute2 (SIOCGIFFLAGS / SIOCSIFFLAGS)."""
    import fcntl
    import struct

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14x", b"lo", flags | iff_up))


def _reap_children(signum, frame) -> None:  # noqa: ARG001 - a signal handler's signature
    """As the image's entrypoint does: reap exited children, since this process may be PID 1."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def boot(config: str, socket_path: str | None, isolated: bool, bind_opt: str | None) -> None:
    """The container's ``serve``: set up the namespace, then hand over to the toolkit for good."""
    if isolated:
        bring_up_loopback()
    if bind_opt:  # a private mount namespace (unshare --mount-proc): the host's /opt is untouched
        subprocess.run(["mount", "--bind", bind_opt, "/opt"], check=True)
    if socket_path:
        Relay.unix_to_tcp(Path(socket_path), CONTAINER_PORT)
    signal.signal(signal.SIGCHLD, _reap_children)
    from sagemaker_pytorch_serving_container import serving, torchserve

    torchserve.TS_CONFIG_FILE = config  # the toolkit writes /etc/sagemaker-ts.properties otherwise
    serving.main()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    boot_parser = commands.add_parser("boot", help="start the toolkit inside the instance")
    boot_parser.add_argument("--config", required=True, help="where the toolkit writes its TorchServe config")
    boot_parser.add_argument("--socket", help="unix socket to relay to 127.0.0.1:8080")
    boot_parser.add_argument("--isolated", action="store_true", help="bring up lo of a new network namespace")
    boot_parser.add_argument("--bind-opt", help="folder to bind-mount on /opt")
    args = parser.parse_args(argv)
    boot(args.config, args.socket, args.isolated, args.bind_opt)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
