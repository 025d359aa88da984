"""Servers for tests on loopback, always stopped: real SPARQL servers with temporary databases, and a dripping one."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    gsp: str
    query: str
    update: str
    user: str | None = None
    password: str | None = None
    auth: str = "basic"
    union_param: str | None = None


def _wait(url: str, process: subprocess.Popen, log: Path, seconds: float = 60.0, **kwargs: object) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}")
        try:
            if requests.get(url, timeout=2, **kwargs).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within {seconds} s: {log.read_text(errors='replace')[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def oxigraph_binary() -> str | None:
    candidate = Path(sys.executable).parent / "oxigraph"
    return str(candidate) if candidate.exists() else shutil.which("oxigraph")


@contextmanager
def oxigraph_server(tmp: Path) -> Iterator[Server]:
    """``oxigraph serve`` on 127.0.0.1 with a temporary store."""
    binary = oxigraph_binary()
    if binary is None:
        raise RuntimeError("the oxigraph command (PyPI package 'oxigraph') is not installed")
    port = free_port()
    log = tmp / "oxigraph.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [binary, "serve", "--location", str(tmp / "store"), "--bind", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/query?query=ASK%7B%7D", process, log)
        yield Server("oxigraph", f"{base}/store", f"{base}/query", f"{base}/update", union_param="union-default-graph")
    finally:
        _stop(process)


VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")


def ensure_virtuoso() -> str | None:
    """The virtuoso-t binary, installing Debian's virtuoso-opensource-7 when missing and we are root."""
    binary = shutil.which("virtuoso-t")
    if binary:
        return binary
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "virtuoso-opensource-7"],
        check=False,
        env=env,
        capture_output=True,
        timeout=900,
    )
    # the package may start its own service on all interfaces; tests never use it, stop it
    subprocess.run(["service", "virtuoso-opensource-7", "stop"], check=False, capture_output=True, timeout=60)
    return shutil.which("virtuoso-t")


def virtuoso_ini(tmp: Path, sql_port: int, http_port: int) -> str:
    """The packaged configuration with a temporary database, loopback-only ports and no 10 000-row cap."""
    text = VIRTUOSO_INI.read_text(encoding="utf-8")
    text = text.replace("/var/lib/virtuoso-opensource-7/db", str(tmp))
    text = re.sub(r"(?m)^ServerPort\s*=\s*1111\b.*$", f"ServerPort = 127.0.0.1:{sql_port}", text)
    text = re.sub(r"(?m)^ServerPort\s*=\s*8890\b.*$", f"ServerPort = 127.0.0.1:{http_port}", text)
    text = re.sub(r"(?m)^ResultSetMaxRows\s*=.*$", "ResultSetMaxRows = 10000000", text)
    text = re.sub(r"(?m)^DirsAllowed\s*=\s*(.*)$", rf"DirsAllowed = \1, {tmp}", text)
    return text


@contextmanager
def virtuoso_server(tmp: Path, binary: str) -> Iterator[Server]:
    """Virtuoso 7 bound to 127.0.0.1 with a fresh database (dba/dba)."""
    sql_port, http_port = free_port(), free_port()
    ini = tmp / "virtuoso.ini"
    ini.write_text(virtuoso_ini(tmp, sql_port, http_port), encoding="utf-8")
    log = tmp / "virtuoso.out"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [binary, "+foreground", "+configfile", str(ini)], cwd=tmp, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{http_port}"
    try:
        _wait(f"{base}/sparql?query=ASK%7B%7D", process, log, seconds=120)
        yield Server(
            "virtuoso", f"{base}/sparql-graph-crud-auth", f"{base}/sparql", f"{base}/sparql-auth",
            user="dba", password="dba", auth="digest",
        )  # fmt: skip
    finally:
        _stop(process)


_JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
#: What a dripping server sends at once, and the byte it then repeats.
DRIPS = {
    "headers": (b"HTTP/1.1 200 OK\r\nX-Drip: ", b"x"),
    "body": (_JSON_HEAD + b"Content-Length: 1000000\r\n\r\n", b" "),  # JSON whitespace
    "gzip": (
        _JSON_HEAD + b"Content-Encoding: gzip\r\nContent-Length: 1000000\r\n\r\n"
        # gzip magic, deflate, FCOMMENT flag, mtime, extra flags, OS; then a zero-terminated comment that never ends
        + b"\x1f\x8b\x08\x10" + bytes(5) + b"\xff",
        b"x",
    ),
    "chunked": (_JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n", b"0"),
}


class DrippingServer(ThreadingHTTPServer):
    """An HTTP server that answers its first ``after`` requests with 204 No Content, then drips its answer.

    Every ``interval`` seconds one more byte of a never-ending part of the answer is sent:

    * ``headers``: a status line, then a header line;
    * ``body``: a JSON body of the 1 MB that the headers announce;
    * ``gzip``: a gzip body whose header holds a comment, so nothing decompresses from it;
    * ``chunked``: the size line of a chunk;
    * ``upload``: no answer; the request is read 64 KB at a time, until the client closes it.

    Each byte arrives well within a client's timeout for one receive, so only a deadline on the
    whole request ends it.
    """

    daemon_threads = True

    def __init__(self, drip: str, after: int, interval: float) -> None:
        if drip not in (*DRIPS, "upload"):
            raise ValueError(drip)
        super().__init__(("127.0.0.1", 0), _DrippingHandler)
        self.drip = drip
        self.after = after
        self.interval = interval
        self.requests: list[str] = []  # "METHOD path" of each request, in order
        self.stop = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _DrippingHandler(BaseHTTPRequestHandler):
    server: DrippingServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.serve()

    def do_PUT(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def serve(self) -> None:
        with self.server.lock:
            number = len(self.server.requests)
            self.server.requests.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)  # a chunked body is read only by ``upload``
        if number < self.server.after:
            self.rfile.read(length)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.close_connection = True
        if self.server.drip == "upload":
            while not self.server.stop.wait(self.server.interval) and self.rfile.read1(1 << 16):
                pass
            return
        self.rfile.read(length)
        start, byte = DRIPS[self.server.drip]
        try:
            self.wfile.write(start)
            self.wfile.flush()
            while not self.server.stop.wait(self.server.interval):
                self.wfile.write(byte)
                self.wfile.flush()
        except OSError:  # the client gave up and closed the connection
            pass


@contextmanager
def dripping_server(drip: str, *, after: int = 0, interval: float = 0.1) -> Iterator[DrippingServer]:
    """A :class:`DrippingServer` on 127.0.0.1, stopped (and its drips ended) on exit."""
    server = DrippingServer(drip, after, interval)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
