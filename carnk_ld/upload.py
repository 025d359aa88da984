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

Only the endpoints given are contacted: proxies and ``.netrc`` from the environment are
ignored, redirects are followed only for 307/308 to the same scheme, host and port (with
the body sent again from its start), and credentials go only to the host and port of the
Graph Store endpoint. Every IRI that enters a query or an update is checked as an absolute
IRI and written by pyoxigraph's serialiser, never pasted as text.

Time is bounded by ``timeout``: each attempt at a request (connecting, sending the body,
and receiving the answer's headers and body, redirects and digest challenges included) must
end within ``timeout`` seconds, however slowly the server sends (see :mod:`carnk_ld.deadline`).
Transient failures (connection errors, HTTP 429/502/503/504) are retried with exponential
backoff, but a retry starts only within ``timeout`` seconds of the request's first attempt,
so each request, retries included, ends within about twice ``timeout``. A load sends at most
two requests per graph (``put``) or five (``swap``). Every failure says what it left on the server.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn
from urllib.parse import urljoin, urlsplit

import pyoxigraph as ox

from carnk_ld.errors import CarnkError, InputError
from carnk_ld.store import release_checksum, verify_release

if TYPE_CHECKING:
    import requests
    from requests.auth import AuthBase

    from carnk_ld.deadline import Deadline

TRANSIENT = frozenset({429, 502, 503, 504})
#: Statuses that say the server did not act on the request.
NOT_APPLIED = frozenset({429, 503})
N_TRIPLES = "application/n-triples"
SPARQL_JSON = "application/sparql-results+json"
DEFAULT_TIMEOUT = 60.0
MAX_REDIRECTS = 5
#: Longest answer read: a count or an error page is short, and a hostile server must not fill memory.
MAX_ANSWER = 1 << 20
NOTHING_CHANGED = "no data was changed on the server"
STAGING_SUFFIX = "/carnk-ld-staging"


class UploadFailed(CarnkError):
    """The load was refused, failed or could not be verified (exit 2); says what the server now holds."""

    exit_code = 2

    def __init__(self, where: str, message: str, state: str = NOTHING_CHANGED, hint: str | None = None):
        self.where = where
        self.message = message
        self.state = state
        text = f"{where}: error: {message}\n  {state}"
        if hint:
            text += f"\n  hint: {hint}"
        super().__init__(text)


@dataclass
class Target:
    """Where and how to load."""

    endpoint: str  # GSP endpoint, e.g. http://127.0.0.1:7878/store
    query_endpoint: str | None  # None: guessed from ``endpoint`` (see default_query_endpoint)
    update_endpoint: str | None = None
    user: str | None = None
    password: str | None = None
    auth: str = "basic"  # or "digest" (Virtuoso /sparql-graph-crud-auth)
    retries: int = 3
    timeout: float = DEFAULT_TIMEOUT  # seconds for one attempt at a request; see the module docstring
    backoff: float = 0.5

    def session_auth(self) -> AuthBase | None:
        """The requests auth object for the configured scheme."""
        if self.user is None:
            return None
        from requests.auth import HTTPBasicAuth, HTTPDigestAuth

        cls = HTTPDigestAuth if self.auth == "digest" else HTTPBasicAuth
        return cls(self.user, self.password or "")


def graph_iri(value: str, option: str) -> ox.NamedNode:
    """``value`` as an absolute IRI, or an error naming ``option`` (nothing has been sent yet)."""
    try:
        return ox.NamedNode(value)
    except ValueError as exc:
        raise UploadFailed(
            option,
            f"{value!r} is not an absolute IRI: {exc}",
            hint="give a full IRI, e.g. https://example.org/graph/carnk",
        ) from None


def url_problem(value: str) -> str | None:
    """Why ``value`` is not an http(s) URL load may send to, or None if it is one.

    What requests and urllib3 would refuse only once sending (a host requests cannot parse or
    IDNA-encode, a host label urllib3 cannot resolve) is refused here, before anything is sent.
    """
    from requests.exceptions import RequestException
    from requests.models import PreparedRequest

    try:
        parts = urlsplit(value)  # raises on an unclosed or malformed [IPv6] host
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return "is not an http:// or https:// URL"
        ox.NamedNode(value)  # IRI syntax: no spaces, no <>"{}|^` and no control characters
        port = parts.port
    except ValueError as exc:
        return f"is not a valid URL: {exc}"
    if not parts.hostname:
        return "names no host"
    if port == 0:
        return "has port 0"
    if parts.username is not None or parts.password is not None:
        return "holds credentials (give --user and --password instead, so they are never shown or logged)"
    prepared = PreparedRequest()
    try:
        prepared.prepare_url(value, None)
    except (RequestException, ValueError) as exc:
        return f"is not a valid URL: {_printable(str(exc))}"
    host = urlsplit(str(prepared.url)).hostname or ""
    try:
        host.encode("idna")  # what urllib3 checks before it connects
    except UnicodeError:
        return f"is not a valid URL: the host name {host!r} has an empty label or one of more than 63 characters"
    return None


def _endpoint(value: str, option: str) -> str:
    problem = url_problem(value)
    if problem:
        raise UploadFailed(
            option, f"{value!r} {problem}", hint="write the URL in full, e.g. http://127.0.0.1:7878/store"
        )
    return value


def check_target(target: Target, mode: str) -> tuple[str, str | None]:
    """Refuse a target that cannot work before anything is sent; return the query and update endpoints."""
    if mode not in ("put", "swap"):
        raise UploadFailed("--mode", f"unknown mode {mode!r}", hint="use put or swap")
    if not (math.isfinite(target.timeout) and target.timeout > 0):
        raise UploadFailed("--timeout", f"{target.timeout!r} is not a positive number of seconds")
    if target.retries < 0:
        raise UploadFailed("--retries", f"{target.retries} is negative")
    if target.auth not in ("basic", "digest"):
        raise UploadFailed("--auth", f"unknown authentication scheme {target.auth!r}", hint="use basic or digest")
    if target.password is not None and target.user is None:
        raise UploadFailed("--password", "a password needs a user name", hint="give --user as well")
    for option, value in (("--user", target.user), ("--password", target.password)):
        problem = _credential_problem(value or "", target.auth, user=option == "--user")
        if problem:
            raise UploadFailed(option, problem)
    _endpoint(target.endpoint, "--endpoint")
    query = target.query_endpoint or default_query_endpoint(target.endpoint)
    if query is None:
        raise UploadFailed("--query-endpoint", "cannot guess the SPARQL query endpoint", hint="give --query-endpoint")
    _endpoint(query, "--query-endpoint")
    update = target.update_endpoint
    if update is not None:
        _endpoint(update, "--update-endpoint")
    elif mode == "swap":
        raise UploadFailed("--update-endpoint", "the swap mode needs the server's SPARQL Update endpoint")
    return query, update


def _credential_problem(value: str, auth: str, *, user: bool) -> str | None:
    """Why requests cannot send ``value`` as a user name or password in an ``auth`` header, or None."""
    if not value.isprintable():
        return "holds a control character"
    if auth == "basic":
        if user and ":" in value:
            return "holds a colon, which basic authentication reads as the end of the user name"
        try:
            value.encode("latin-1")  # what requests' basic authentication encodes it as
        except UnicodeEncodeError:
            return "holds characters basic authentication cannot send (only Latin-1)"
    elif user and ('"' in value or "\\" in value):
        return "holds a quote or a backslash, which digest authentication cannot send"
    return None


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
    release_checksum(release)  # a clear error when ``release`` is not a release at all
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
                try:
                    ox.NamedNode(graph)  # it goes into queries: it must be an IRI the serialiser accepts
                except ValueError as exc:
                    raise InputError(
                        release / "carnk.nq", f"line {number}: graph {graph_term} is not an IRI: {exc}"
                    ) from None
                path = directory / f"{hashlib.sha256(graph.encode()).hexdigest()[:16]}.nt"
                files[graph] = (open(path, "w", encoding="utf-8"), path)
                counts[graph] = 0
            files[graph][0].write(statement + " .\n")
            counts[graph] += 1
    for handle, _ in files.values():
        handle.close()
    return [GraphFile(g, path, counts[g]) for g, (_, path) in sorted(files.items())]


class _Upload:
    """A file body with a known length that reports progress as it is read.

    A body sent again (a retry, a redirect, a digest challenge) reports only the bytes beyond
    the furthest point any sending of that file reached (``reached``, shared between them), so
    progress never passes the release's size.
    """

    def __init__(self, path: Path, progress: Callable[[int], None] | None, reached: dict[Path, int]):
        self.handle = open(path, "rb")
        self.size = os.path.getsize(path)
        self.progress = progress
        self.path = path
        self.reached = reached

    def __len__(self) -> int:
        return self.size

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size if size and size > 0 else 1 << 20)
        position, furthest = self.handle.tell(), self.reached.get(self.path, 0)
        if position > furthest:
            self.reached[self.path] = position
            if self.progress:
                self.progress(position - furthest)
        return chunk

    def tell(self) -> int:
        """Position, so requests can rewind the body when it re-sends it (HTTP digest auth)."""
        return self.handle.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        """Rewind (requests re-sends the body after a 401 digest challenge)."""
        return self.handle.seek(offset, whence)

    def close(self) -> None:
        self.handle.close()


@dataclass
class _Outcome:
    """One attempt's result: an HTTP answer (``status``) or a lost connection (``status`` None)."""

    status: int | None
    message: str
    body: bytes = b""
    content_type: str = ""
    transient: bool = False
    maybe_applied: bool = False  # the server may have acted on the request


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme)


def _printable(text: str) -> str:
    """``text`` on one line without control characters: a server's message must not drive the terminal."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it, through requests' and urllib3's wrappers."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]


def _timed_out(timeout: float) -> _Outcome:
    return _Outcome(None, f"no answer within {timeout:g} s", transient=True, maybe_applied=True)


def _lost(exc: Exception, timeout: float) -> _Outcome:
    """What a request that got no complete answer tells the user, and whether it may have been applied."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, HTTPError, ReadTimeoutError

    causes = list(_causes(exc))
    os_errors = [
        c for c in causes if isinstance(c, OSError) and not isinstance(c, requests.RequestException | HTTPError)
    ]
    detail = (os_errors[0].strerror or str(os_errors[0])) if os_errors else str(exc)
    if any(isinstance(c, ConnectTimeoutError) for c in causes):  # includes refused and unresolvable
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return _Outcome(None, f"no connection within {timeout:g} s", transient=True)
        return _Outcome(None, f"cannot connect ({detail})", transient=True)
    if isinstance(exc, requests.Timeout | ReadTimeoutError) or any(isinstance(c, TimeoutError) for c in os_errors):
        return _timed_out(timeout)
    return _Outcome(None, f"the connection was lost ({detail})", transient=True, maybe_applied=True)


class _Loader:
    """One load's HTTP session, and what the load has changed on the server so far."""

    def __init__(self, target: Target, report: LoadReport, progress: Callable[[int], None] | None, mode: str):
        import requests

        from carnk_ld.deadline import DeadlineAdapter

        self.target = target
        self.query_endpoint, self.update_endpoint = check_target(target, mode)
        self.report = report
        self.progress = progress
        self.sent: dict[Path, int] = {}  # how far each file body has been read, over every sending of it
        self.session = requests.Session()
        self.session.trust_env = False  # only the endpoints given: no proxy or .netrc from the environment
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, DeadlineAdapter())
        self.origin = _origin(target.endpoint)
        self.replaced: list[ox.NamedNode] = []  # graphs replaced and verified
        self.pending: str | None = None  # what the server holds beyond ``replaced``, if anything

    def close(self) -> None:
        self.session.close()

    def state(self, uncertain: str | None = None) -> str:
        """What the server holds now, in the words a failure reports."""
        lines = [line for line in (uncertain, self.pending) if line]
        if self.replaced:
            lines.append("graphs replaced and verified: " + ", ".join(str(g) for g in self.replaced))
            if not uncertain and not self.pending:
                lines.append("no other data was changed on the server")
        return "\n  ".join(lines) or NOTHING_CHANGED

    def fail(self, where: str, message: str, uncertain: str | None = None) -> NoReturn:
        raise UploadFailed(where, message, self.state(uncertain))

    def request(
        self,
        method: str,
        url: str,
        *,
        changes: str | None,
        params: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        body_path: Path | None = None,
        headers: dict[str, str] | None = None,
    ) -> _Outcome:
        """A 2xx answer, after bounded retries of transient failures; otherwise a failure naming what changed.

        ``changes`` says what the server may hold if this request fails after the server
        may have acted on it (None for a request that changes nothing).
        """
        started = time.monotonic()
        maybe_applied = False
        for attempt in range(self.target.retries + 1):
            self.report.attempts += 1
            outcome = self._attempt(method, url, params, form, body_path, headers or {})
            if outcome.status is not None and outcome.status < 300:
                return outcome
            maybe_applied = maybe_applied or outcome.maybe_applied
            delay = self.target.backoff * 2**attempt
            if not outcome.transient or attempt == self.target.retries:
                break
            if time.monotonic() + delay > started + self.target.timeout:
                break
            time.sleep(delay)
        self.fail(url, f"{method} failed: {outcome.message}", changes if maybe_applied else None)

    def _attempt(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        form: dict[str, str] | None,
        body_path: Path | None,
        headers: dict[str, str],
    ) -> _Outcome:
        """One attempt, within ``timeout`` seconds: see :meth:`_exchange`."""
        from carnk_ld.deadline import Deadline

        with Deadline(self.target.timeout) as deadline:
            outcome = self._exchange(method, url, params, form, body_path, headers, deadline)
            if deadline.expired:  # the sockets were shut down: whatever arrived may be cut short
                return _timed_out(self.target.timeout)
            return outcome

    def _exchange(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        form: dict[str, str] | None,
        body_path: Path | None,
        headers: dict[str, str],
        deadline: Deadline,
    ) -> _Outcome:
        """Send the request, following 307/308 redirects on the same origin with the whole body sent again."""
        import requests
        import urllib3

        answers: list[requests.Response] = []  # the final answer (after any digest challenge), kept by a hook
        for _ in range(MAX_REDIRECTS + 1):
            body = _Upload(body_path, self.progress, self.sent) if body_path else None
            answers.clear()
            try:
                try:
                    response = self.session.request(
                        method, url, params=params, data=body if body is not None else form, headers=headers,
                        auth=self.target.session_auth() if _origin(url) == self.origin else None,
                        timeout=(self.target.timeout, self.target.timeout), allow_redirects=False, stream=True,
                        hooks={"response": lambda answer, **_: answers.append(answer)},
                    )  # fmt: skip
                except ValueError:
                    # requests parses a redirect's Location even when it does not follow it: a malformed one raises
                    if not (answers and answers[-1].is_redirect):
                        raise
                    response = answers[-1]
                try:
                    content = self._read(response)
                finally:
                    response.close()
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                return _timed_out(self.target.timeout) if deadline.passed() else _lost(exc, self.target.timeout)
            finally:
                if body:
                    body.close()
            status = response.status_code
            if 300 <= status < 400:
                written = response.headers.get("Location", "")
                try:
                    location = urljoin(response.url, written)
                except ValueError:  # urljoin parses it, and a malformed address raises
                    location = written
                if status not in (307, 308) or url_problem(location) or _origin(location) != _origin(url):
                    return _Outcome(
                        status,
                        f"the server redirects to {location!r} (HTTP {status}); load follows only 307 and 308 "
                        "redirects to the same scheme, host and port, and sends data nowhere else; "
                        "give the URL it should use",
                    )
                url, params = location, None  # the Location holds the whole URL, query included
                continue
            reason = _printable(f"HTTP {status} {response.reason}: {content.decode('utf-8', 'replace')}")[:500]
            return _Outcome(
                status, reason, content, response.headers.get("Content-Type", ""),
                transient=status in TRANSIENT, maybe_applied=status >= 500 and status not in NOT_APPLIED,
            )  # fmt: skip
        return _Outcome(None, f"more than {MAX_REDIRECTS} redirects")

    @staticmethod
    def _read(response: requests.Response) -> bytes:
        """The answer's first MAX_ANSWER bytes (the attempt's deadline bounds the time)."""
        chunks: list[bytes] = []
        size = 0
        while size < MAX_ANSWER:
            chunk = response.raw.read1(1 << 16, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)[:MAX_ANSWER]

    def count(self, graph: ox.NamedNode) -> int:
        """Triples in ``graph`` according to the server's SPARQL query endpoint."""
        url = self.query_endpoint
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"  # the IRI as pyoxigraph writes it
        answer = self.request("POST", url, changes=None, form={"query": query}, headers={"Accept": SPARQL_JSON})
        try:
            solutions = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
            rows = [] if isinstance(solutions, ox.QueryBoolean) else [tuple(row) for row in solutions]
        except (SyntaxError, ValueError) as exc:
            kind = _printable(answer.content_type) or "no content type"
            self.fail(url, f"expected SPARQL JSON results, got {kind} ({_printable(str(exc))}): {answer.body[:200]!r}")
        if isinstance(solutions, ox.QueryBoolean):
            self.fail(url, f"expected a count of graph {graph}, got the boolean {bool(solutions)}")
        value = rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else None
        if not isinstance(value, ox.Literal) or not value.value.isascii() or not value.value.isdigit():
            found = "no value" if value is None else _printable(str(value))[:100]
            self.fail(url, f"expected one count of graph {graph}, got {found} ({len(rows)} rows)")
        return int(value.value[:30])  # a store holds far fewer than 10**30 triples

    def put(self, part: GraphFile, graph: ox.NamedNode) -> None:
        """Replace ``graph`` with one GSP PUT."""
        self.request(
            "PUT", self.target.endpoint, changes=f"the server may hold a partial upload of graph {graph}",
            params={"graph": graph.value}, headers={"Content-Type": N_TRIPLES}, body_path=part.path,
        )  # fmt: skip
        self.pending = f"graph {graph} was replaced on the server but not verified"

    def swap(self, part: GraphFile, graph: ox.NamedNode) -> None:
        """POST into a staging graph, check its count, then MOVE it onto ``graph`` in one update."""
        update = self.update_endpoint
        assert update is not None  # check_target requires it for swap
        staging = graph_iri(graph.value + STAGING_SUFFIX, "--graph")
        staged = f"the server may hold a partial upload of graph {staging} (a staging graph; {graph} is unchanged)"
        drop = {"update": f"DROP SILENT GRAPH {staging}"}
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        self.request("POST", update, changes=staged, form=drop, headers=form)
        self.request(
            "POST", self.target.endpoint, changes=staged, params={"graph": staging.value},
            headers={"Content-Type": N_TRIPLES}, body_path=part.path,
        )  # fmt: skip
        self.pending = staged
        count = self.count(staging)
        if count != part.triples:
            self.request("POST", update, changes=staged, form=drop, headers=form)
            self.pending = None
            self.fail(
                update, f"staging graph {staging} got {count} triples, the release has {part.triples}; it was dropped"
            )
        self.request(
            "POST", update, form={"update": f"MOVE SILENT {staging} TO {graph}"}, headers=form,
            changes=f"graph {graph} may or may not have been replaced by the staging graph {staging}",
        )  # fmt: skip
        self.pending = f"graph {graph} was replaced on the server but not verified"

    def verify(self, part: GraphFile, graph: ox.NamedNode) -> None:
        """Check the server's count of ``graph`` against the release."""
        loaded = self.count(graph)
        if loaded != part.triples:
            self.pending = f"the server may hold a partial upload of graph {graph}"
            self.fail(
                self.query_endpoint, f"graph {graph} has {loaded} triples on the server, the release has {part.triples}"
            )
        self.pending = None
        self.replaced.append(graph)


def count_triples(target: Target, graph: str) -> int:
    """Triples in ``graph`` according to the server's SPARQL endpoint."""
    loader = _Loader(target, LoadReport(), None, "put")
    try:
        return loader.count(graph_iri(graph, "graph"))
    finally:
        loader.close()


def upload_release(
    release: Path,
    target: Target,
    *,
    graph: str | None = None,
    mode: str = "put",
    progress: Callable[[int], None] | None = None,
) -> LoadReport:
    """Replace the release's graphs on the server and verify each one by count.

    Everything is checked before the first request; a failure raises :class:`UploadFailed`
    saying what the server holds now.
    """
    into = graph_iri(graph, "--graph").value if graph is not None else None
    report = LoadReport(mode=mode)
    loader = _Loader(target, report, progress, mode)
    try:
        with tempfile.TemporaryDirectory(prefix="carnk-load-") as tmp:
            for part in split_release(release, Path(tmp), into=into):
                started = time.perf_counter()
                name = ox.NamedNode(part.graph)
                if mode == "put":
                    loader.put(part, name)
                else:
                    loader.swap(part, name)
                loader.verify(part, name)
                report.graphs.append((part.graph, part.triples, time.perf_counter() - started))
    finally:
        loader.close()
    return report
