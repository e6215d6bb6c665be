"""No network for any Python process that has this folder on PYTHONPATH (a test fixture, never deployed).

Python imports `sitecustomize` at start-up, so every interpreter of a test's process tree (train.py, torchrun
and the workers it spawns, the aws CLI stand-in) gets these patches before any of its own code runs:
- `socket.connect`/`connect_ex`/`sendto` to an address that is not loopback fail with ENETUNREACH;
- `getaddrinfo` of a name other than localhost or this machine's own name fails (no DNS lookups leave);
- each refusal is appended to $NO_NETWORK_LOG, so a test can prove that nothing even tried, and each
  process that loaded the guard to $NO_NETWORK_LOADED_LOG, so it can prove the guard was there.
Unix sockets and loopback stay open: torchrun's rendezvous and gloo's process group run on 127.0.0.1.
"""

import errno
import ipaddress
import os
import socket
import sys

_LOG = os.environ.get("NO_NETWORK_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", socket.gethostname()}
_connect, _connect_ex, _sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto
_getaddrinfo = socket.getaddrinfo


def _refuse(what: str) -> OSError:
    if _LOG:
        with open(_LOG, "a") as log:
            log.write(f"{os.getpid()} {what}\n")
    return OSError(errno.ENETUNREACH, f"network disabled by the test: {what}")


def _is_local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host.lower() in _LOCAL_NAMES


def _check(sock, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        raise _refuse(f"connect {address!r}")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def sendto(self, data, *args):
    _check(self, args[-1])
    return _sendto(self, data, *args)


def getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        raise socket.gaierror(socket.EAI_NONAME, str(_refuse(f"resolve {host!r}")))
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.socket.sendto = sendto
socket.getaddrinfo = getaddrinfo
if os.environ.get("NO_NETWORK_LOADED_LOG"):
    with open(os.environ["NO_NETWORK_LOADED_LOG"], "a") as loaded:
        loaded.write(f"{os.getpid()} {' '.join(sys.argv[:2])}\n")
