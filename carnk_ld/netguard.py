"""Keep builds and queries off the network, whatever a library tries to fetch.

A Python audit hook sees every socket connection, DNS lookup and ``urllib`` request. While
:func:`network_blocked` is active it refuses them with :class:`NetworkBlocked`, which names
the address or URL. Libraries that fetch on their own (a JSON-LD ``@context``, an
``owl:imports``, a DTD) therefore fail loudly instead of reaching out. Audit hooks cannot
be removed, so the hook is installed once and switched on and off.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator

from carnk_ld.errors import CarnkError

_state: dict = {"active": 0, "installed": False, "last": "", "allowed": set()}
_LOCAL_FAMILIES = {getattr(socket, "AF_UNIX", -1)}


class NetworkBlocked(CarnkError):
    """A library tried to reach the network during an offline command (exit 2)."""

    exit_code = 2


def _describe(event: str, args: tuple) -> str | None:
    if event == "urllib.Request":
        return str(args[0])
    if event == "socket.getaddrinfo":
        if any(str(args[0]) == host for host, _ in _state["allowed"]):
            return None  # looking up an allowed host's addresses (clients do it with dummy ports)
        return f"{args[0]}:{args[1]}"
    if event == "socket.connect":
        sock, address = args[0], args[1]
        if getattr(sock, "family", None) in _LOCAL_FAMILIES:
            return None
        if isinstance(address, tuple) and len(address) >= 2 and _allowed_connect(sock, address):
            return None
        return str(address)
    return None


def _hook(event: str, args: tuple) -> None:
    if not _state["active"] or event not in ("urllib.Request", "socket.getaddrinfo", "socket.connect"):
        return
    target = _describe(event, args)
    if target is None:
        return
    _state["last"] = target
    raise NetworkBlocked(
        f"network access blocked: something tried to reach {target}\n"
        "  hint: builds and queries never use the network; a remote JSON-LD @context, an owl:imports "
        "or a DTD in an input would cause this: make the input self-contained"
    )


@contextlib.contextmanager
def network_blocked() -> Iterator[None]:
    """Refuse every network access inside the block (nested blocks allowed)."""
    if not _state["installed"]:
        sys.addaudithook(_hook)
        _state["installed"] = True
    _state["active"] += 1
    _state["last"] = ""
    try:
        yield
    finally:
        _state["active"] -= 1


def _allowed_connect(sock: socket.socket, address: tuple) -> bool:
    host, port = str(address[0]), str(address[1])
    if (host, port) in _state["allowed"]:
        return True
    # Connecting a datagram socket sends nothing: clients do it to learn which local
    # address routes to a host (Dask does, for its scheduler).
    return getattr(sock, "type", None) == socket.SOCK_DGRAM and any(host == h for h, _ in _state["allowed"])


@contextlib.contextmanager
def allowed(host: str, port: int) -> Iterator[None]:
    """Inside a blocked section, let connections reach this one host and port (an address the user gave)."""
    entries = {(host, str(port))}
    _state["allowed"] |= entries
    try:
        for *_, address in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP):
            entries.add((str(address[0]), str(address[1])))
    except OSError:
        pass  # unresolvable: the connection attempt reports it
    _state["allowed"] |= entries
    try:
        yield
    finally:
        _state["allowed"] -= entries


def last_blocked() -> str:
    """The last address or URL refused, to report even when a library wrapped the error."""
    return _state["last"]
