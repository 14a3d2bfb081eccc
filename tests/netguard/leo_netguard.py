"""Network guard for the LEO/NPD teaching kit's book build and tests.

The kit must run fully offline: every notebook works on the committed
synthetic data, and nothing may phone home (that is also the rule inside the
ONS Secure Research Service). This module enforces that while notebooks run.

How it is switched on
---------------------
``tests/netguard/`` contains a ``sitecustomize.py`` that imports this module
and calls :func:`install`. Python imports ``sitecustomize`` automatically at
start-up when its folder is on ``PYTHONPATH``. ``make test`` and ``make book``
put ``tests/netguard`` on ``PYTHONPATH``, so the guard is active in pytest, in
``jupyter-book`` and, because child processes inherit the environment, in
every Jupyter kernel they start.

What it blocks
--------------
Once installed, these raise :class:`NetworkAccessBlocked` for any destination
that is not on this machine's loopback interface:

* ``socket.socket.connect`` / ``connect_ex`` / ``sendto``
* ``socket.create_connection``
* ``socket.getaddrinfo`` for host names other than ``localhost`` (a DNS
  lookup is itself network traffic)

Loopback (127.0.0.0/8, ::1, ``localhost``) and local sockets (AF_UNIX) stay
allowed: Jupyter kernels talk to the process that started them over
127.0.0.1. ZeroMQ (used by Jupyter) connects in C and is not affected.

Limits: only Python's ``socket`` module is guarded. Libraries that open
connections from C/C++ code (ZeroMQ, duckdb's extension auto-install, libcurl)
bypass it; on this kit's offline machines such attempts fail anyway.

Every blocked attempt is also printed to stderr and, if the environment
variable ``LEO_NETGUARD_LOG`` names a file, appended to that file.

The guard checks the destination *before* calling the real socket function,
so a blocked call never sends a packet. ``NetworkAccessBlocked`` derives from
``RuntimeError`` rather than ``OSError`` on purpose: many libraries catch
``OSError`` to fall back quietly when offline, which would hide the problem.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

__all__ = ["NetworkAccessBlocked", "install", "is_installed", "is_allowed_host"]

#: Marker attribute set on every wrapper so tests can check what is installed.
MARKER = "_leo_netguard"

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}

# The real functions, captured once at import. Tests may replace these with
# stubs so that even a broken guard could never reach the real network.
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto
_real_getaddrinfo = socket.getaddrinfo
_real_create_connection = socket.create_connection


class NetworkAccessBlocked(RuntimeError):
    """Raised when code run under the guard tries to reach a non-local host."""


def _blocked(what: str, target: object) -> NetworkAccessBlocked:
    msg = (
        f"leo_netguard: blocked {what} to {target!r}. The LEO/NPD teaching kit "
        "must run offline (notebooks, tests and the book build may only use "
        "the committed synthetic data). Remove the network access."
    )
    print(msg, file=sys.stderr, flush=True)
    log = os.environ.get("LEO_NETGUARD_LOG")
    if log:
        try:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"{os.getpid()}\t{what}\t{target!r}\n")
        except OSError:
            pass
    return NetworkAccessBlocked(msg)


def is_allowed_host(host: object) -> bool:
    """True if ``host`` (name, IP literal or None) is on this machine's loopback."""
    if host is None:
        return True  # getaddrinfo(None, port): the wildcard/passive address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    h = host.strip().lower()
    if h in ("",):
        return True  # bind-style wildcard, never a remote destination
    h = h.split("%", 1)[0]  # drop an IPv6 zone id
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    if h in _LOCAL_NAMES or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False  # any other host name would need DNS


def _allowed_address(sock: socket.socket, address: object) -> bool:
    family = getattr(sock, "family", None)
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True  # AF_UNIX, AF_NETLINK, ...: local by construction
    if isinstance(address, tuple) and address:
        return is_allowed_host(address[0])
    return False


def _guarded_connect(self, address):
    if not _allowed_address(self, address):
        raise _blocked("socket.connect", address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _allowed_address(self, address):
        raise _blocked("socket.connect_ex", address)
    return _real_connect_ex(self, address)


def _guarded_sendto(self, data, *args):
    address = args[-1] if args else None
    if not _allowed_address(self, address):
        raise _blocked("socket.sendto", address)
    return _real_sendto(self, data, *args)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not is_allowed_host(host):
        raise _blocked("socket.getaddrinfo", host)
    return _real_getaddrinfo(host, *args, **kwargs)


def _guarded_create_connection(address, *args, **kwargs):
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_allowed_host(host):
        raise _blocked("socket.create_connection", address)
    return _real_create_connection(address, *args, **kwargs)


for _fn in (
    _guarded_connect,
    _guarded_connect_ex,
    _guarded_sendto,
    _guarded_getaddrinfo,
    _guarded_create_connection,
):
    setattr(_fn, MARKER, True)


def install() -> None:
    """Install the guard in this process (idempotent)."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.socket.sendto = _guarded_sendto
    socket.getaddrinfo = _guarded_getaddrinfo
    socket.create_connection = _guarded_create_connection


def is_installed() -> bool:
    """True if every guarded entry point in :mod:`socket` is this module's wrapper."""
    return all(
        getattr(fn, MARKER, False)
        for fn in (
            socket.socket.connect,
            socket.socket.connect_ex,
            socket.socket.sendto,
            socket.getaddrinfo,
            socket.create_connection,
        )
    )
