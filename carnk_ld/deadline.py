"""HTTP requests (requests, urllib3) bounded by one deadline for the whole exchange.

A socket timeout bounds each connect, send and receive on its own, so a server that sends its
status line, headers or body a byte at a time keeps a request going for ever, and so does a
gzip or chunked body from which urllib3 or http.client keeps reading without returning. Here
each connection a :class:`DeadlineAdapter` opens joins the :class:`Deadline` in force in the
calling thread (a context variable); when that deadline passes, a timer thread shuts the
connection's socket down, which ends whatever read or write is blocked on it at once, in any
phase of the request, plain or TLS. Connecting waits at most the time left.
"""

from __future__ import annotations

import contextvars
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("carnk_ld_deadline", default=None)


class Deadline:
    """While entered, the requests this thread sends through a :class:`DeadlineAdapter` end within ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False  # the timer fired and shut the connections down
        self._end = 0.0
        self._done = False
        self._lock = threading.Lock()
        self._connections: list[HTTPConnection] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._token: contextvars.Token[Deadline | None] | None = None

    def __enter__(self) -> Deadline:
        self._end = time.monotonic() + self.seconds
        self._token = _CURRENT.set(self)
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:  # after this, the timer shuts nothing down: the connections may be reused
            self._done = True
        self._timer.cancel()
        if self._token is not None:
            _CURRENT.reset(self._token)

    def remaining(self) -> float:
        return max(self._end - time.monotonic(), 0.0)

    def passed(self) -> bool:
        return self.expired or self.remaining() == 0.0

    def watch(self, connection: HTTPConnection) -> None:
        """Shut ``connection`` down when the deadline passes (at once if it has)."""
        with self._lock:
            if self.expired:
                _shut(connection)
            elif connection not in self._connections:
                self._connections.append(connection)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for connection in self._connections:
                _shut(connection)


def _shut(connection: HTTPConnection) -> None:
    sock = connection.sock
    if sock is None:
        return
    try:
        # socket.socket's shutdown, not SSLSocket's, which would also drop the TLS state under the reading thread
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # not connected, or closed meanwhile: nothing is blocked on it


def _clamp(connection: HTTPConnection) -> Deadline | None:
    deadline = _CURRENT.get()
    if deadline is not None:
        # a zero timeout would make the socket non-blocking: a connect then fails at once, as it should
        connection.timeout = min(connection.timeout or deadline.seconds, max(deadline.remaining(), 1e-3))
    return deadline


class _HTTPConnection(HTTPConnection):
    def connect(self) -> None:
        deadline = _clamp(self)
        super().connect()
        if deadline is not None:
            deadline.watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline = _CURRENT.get()
        if deadline is not None:  # a connection kept alive from an earlier request joins this one's deadline
            deadline.watch(self)
        super().request(*args, **kwargs)


class _HTTPSConnection(_HTTPConnection, HTTPSConnection):
    """TLS with the same deadline: the methods above run first, then HTTPS's own connect."""


class _HTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A requests transport whose connections keep to the :class:`Deadline` in force; mount it for http and https."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}
