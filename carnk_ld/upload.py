"""Upload the release into a SPARQL 1.1 Graph Store Protocol server and verify it.

Each named graph of the release replaces its graph on the server. Two paths:

* ``put`` (default): one HTTP PUT per graph. A GSP PUT replaces the graph in one
  transaction, so a failed load leaves the previous graph in place. Slow for very large
  graphs on some servers (see ``benchmarks/LOAD-RESULTS.md``).
* ``swap``: POST into a staging graph, verify its size, then ``MOVE`` it onto the target
  with one SPARQL Update (one transaction). Atomic at bulk-load speed where the server
  supports SPARQL Update.

After loading, every graph's triple count is checked through the SPARQL query endpoint;
a mismatch is an error. Bodies are streamed from disk, never read whole into memory.
Transient failures (connection errors, HTTP 429/502/503/504) are retried a bounded number
of times with exponential backoff.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from carnk_ld.errors import CarnkError, InputError
from carnk_ld.store import RemoteStore, verify_release

if TYPE_CHECKING:
    from requests.auth import AuthBase

TRANSIENT = frozenset({429, 502, 503, 504})
N_TRIPLES = "application/n-triples"


class UploadFailed(CarnkError):
    """The server refused or lost the data (exit 2)."""

    exit_code = 2


@dataclass
class Target:
    """Where and how to load."""

    endpoint: str  # GSP endpoint, e.g. http://127.0.0.1:7878/store
    query_endpoint: str
    update_endpoint: str | None = None
    user: str | None = None
    password: str | None = None
    auth: str = "basic"  # or "digest" (Virtuoso /sparql-graph-crud-auth)
    retries: int = 3
    timeout: float = 600.0
    backoff: float = 0.5

    def session_auth(self) -> AuthBase | None:
        """The requests auth object for the configured scheme."""
        if self.user is None:
            return None
        from requests.auth import HTTPBasicAuth, HTTPDigestAuth

        cls = HTTPDigestAuth if self.auth == "digest" else HTTPBasicAuth
        return cls(self.user, self.password or "")


def default_query_endpoint(endpoint: str) -> str | None:
    """Guess the SPARQL query endpoint of well-known servers from their GSP endpoint.

    >>> default_query_endpoint("http://127.0.0.1:7878/store")
    'http://127.0.0.1:7878/query'
    >>> default_query_endpoint("http://localhost:8890/sparql-graph-crud-auth")
    'http://localhost:8890/sparql'
    """
    for suffix, replacement in (
        ("/store", "/query"),
        ("/data", "/query"),
        ("/sparql-graph-crud-auth", "/sparql"),
        ("/sparql-graph-crud", "/sparql"),
    ):
        if endpoint.rstrip("/").endswith(suffix):
            return endpoint.rstrip("/")[: -len(suffix)] + replacement
    return None


@dataclass
class GraphFile:
    """One graph of the release, split out as N-Triples on disk."""

    graph: str
    path: Path
    triples: int


@dataclass
class LoadReport:
    """What was loaded where, and how long it took."""

    graphs: list[tuple[str, int, float]] = field(default_factory=list)  # graph, triples, seconds
    attempts: int = 0
    mode: str = "put"


def split_release(release: Path, directory: Path, *, into: str | None = None) -> list[GraphFile]:
    """Stream ``carnk.nq`` into one N-Triples file per named graph (or all into ``into``)."""
    verify_release(release)
    files: dict[str, tuple[IO[str], Path]] = {}
    counts: dict[str, int] = {}
    with open(release / "carnk.nq", encoding="utf-8") as source:
        for number, line in enumerate(source, start=1):
            body = line.rstrip("\n")
            if not body.endswith(" ."):
                raise InputError(release / "carnk.nq", f"line {number} is not an N-Quads statement")
            statement, graph_term = body[:-2].rsplit(" ", 1)
            if not (graph_term.startswith("<") and graph_term.endswith(">")):
                raise InputError(release / "carnk.nq", f"line {number} has no named graph")
            graph = into or graph_term[1:-1]
            if graph not in files:
                path = directory / f"{hashlib.sha256(graph.encode()).hexdigest()[:16]}.nt"
                files[graph] = (open(path, "w", encoding="utf-8"), path)
                counts[graph] = 0
            files[graph][0].write(statement + " .\n")
            counts[graph] += 1
    for handle, _ in files.values():
        handle.close()
    return [GraphFile(g, path, counts[g]) for g, (_, path) in sorted(files.items())]


class _Upload:
    """A file body with a known length that reports progress as it is read."""

    def __init__(self, path: Path, progress: Callable[[int], None] | None):
        self.handle = open(path, "rb")
        self.size = os.path.getsize(path)
        self.progress = progress

    def __len__(self) -> int:
        return self.size

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size if size and size > 0 else 1 << 20)
        if self.progress and chunk:
            self.progress(len(chunk))
        return chunk

    def tell(self) -> int:
        """Position, so requests can rewind the body when it re-sends it (HTTP digest auth)."""
        return self.handle.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        """Rewind (requests re-sends the body after a 401 digest challenge)."""
        return self.handle.seek(offset, whence)

    def close(self) -> None:
        self.handle.close()


def _request(
    target: Target,
    method: str,
    url: str,
    report: LoadReport,
    *,
    body_path: Path | None = None,
    progress: Callable[[int], None] | None = None,
    **kwargs: Any,
) -> object:
    """One HTTP request with bounded retries of transient failures; errors name status and message."""
    import requests

    form = kwargs.pop("data", None)
    last = ""
    for attempt in range(target.retries + 1):
        report.attempts += 1
        body = _Upload(body_path, progress) if body_path else None
        try:
            response = requests.request(
                method, url, data=body if body is not None else form, auth=target.session_auth(),
                timeout=target.timeout, **kwargs,
            )  # fmt: skip
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            # A response cut off mid-body is a dropped connection too: the server may or may not
            # have applied the request, and PUT, POST to staging and the count are safe to repeat.
            last = f"{type(exc).__name__}: {exc}"
            response = None
        finally:
            if body:
                body.close()
        if response is not None and response.status_code < 300:
            return response
        if response is not None:
            last = f"HTTP {response.status_code} {response.reason}: {response.text.strip()[:500]}"
            if response.status_code not in TRANSIENT:
                break
        if attempt < target.retries:
            time.sleep(target.backoff * 2**attempt)
    raise UploadFailed(f"{method} {url} failed: {last}\nthe previous content of the graph is unchanged")


def count_triples(target: Target, graph: str) -> int:
    """Triples in ``graph`` according to the server's SPARQL endpoint."""
    from pyoxigraph import NamedNode

    store = RemoteStore(target.query_endpoint, timeout=target.timeout)
    table = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {NamedNode(graph)} {{ ?s ?p ?o }} }}")
    if not table.rows:
        return 0
    count = table.rows[0][0]
    assert count is not None  # COUNT(*) is always bound
    return int(count.value)


def upload_release(
    release: Path,
    target: Target,
    *,
    graph: str | None = None,
    mode: str = "put",
    progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Replace the release's graphs on the server and verify each one by count."""
    if mode == "swap" and not target.update_endpoint:
        raise InputError("--update-endpoint", "the swap mode needs the server's SPARQL Update endpoint")
    report = LoadReport(mode=mode)
    with tempfile.TemporaryDirectory(prefix="carnk-load-") as tmp:
        for part in split_release(release, Path(tmp), into=graph):
            started = time.perf_counter()
            if mode == "put":
                _request(
                    target, "PUT", target.endpoint, report, params={"graph": part.graph},
                    headers={"Content-Type": N_TRIPLES}, body_path=part.path, progress=progress,
                )  # fmt: skip
            else:
                _swap(target, part, report, progress)
            loaded = count_triples(target, part.graph)
            if loaded != part.triples:
                raise UploadFailed(
                    f"graph <{part.graph}> has {loaded} triples on the server, the release has {part.triples}"
                )
            report.graphs.append((part.graph, part.triples, time.perf_counter() - started))
    return report


def _swap(target: Target, part: GraphFile, report: LoadReport, progress: Callable[[int], None] | None) -> None:
    staging = f"{part.graph}/carnk-ld-staging"
    update = target.update_endpoint
    assert update is not None
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    _request(target, "POST", update, report, data={"update": f"DROP SILENT GRAPH <{staging}>"}, headers=form)
    _request(
        target, "POST", target.endpoint, report, params={"graph": staging},
        headers={"Content-Type": N_TRIPLES}, body_path=part.path, progress=progress,
    )  # fmt: skip
    staged = count_triples(target, staging)
    if staged != part.triples:
        _request(target, "POST", update, report, data={"update": f"DROP SILENT GRAPH <{staging}>"}, headers=form)
        raise UploadFailed(f"staging graph <{staging}> got {staged} triples, expected {part.triples}; target unchanged")
    _request(
        target, "POST", update, report, data={"update": f"MOVE SILENT <{staging}> TO <{part.graph}>"}, headers=form
    )
