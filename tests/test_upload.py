"""``carnk-ld load`` against hostile and broken endpoints: a clear error, exit 2, and what the server now holds.

One small SPARQL server in a thread (a pyoxigraph store behind GSP, query and update routes)
plays every behaviour of the table below, and tests.servers' dripping server answers a byte at
a time; all servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from carnk_ld.deadline import Deadline, DeadlineAdapter
from carnk_ld.upload import Target, UploadFailed, _origin, upload_release, url_problem
from tests.servers import dripping_server

GRAPH = "https://example.org/graph/carnk"
PRECIOUS = ox.NamedNode("https://example.org/graph/precious")
NOTHING_CHANGED = "no data was changed on the server"


@dataclass
class Behaviour:
    """What one route answers from its ``after``-th request on (the earlier ones are served normally)."""

    route: str  # store, query or update
    action: str  # see SparqlServer.misbehave
    after: int = 0


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class SparqlServer(ThreadingHTTPServer):
    """A GSP, query and update endpoint over an in-memory pyoxigraph store, with scripted misbehaviour."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.store = ox.Store()
        self.store.add(ox.Quad(PRECIOUS, PRECIOUS, ox.Literal("keep me"), PRECIOUS))
        self.behaviours: list[Behaviour] = []
        self.log: list[Request] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def graphs(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for quad in self.store:
            assert isinstance(quad.graph_name, ox.NamedNode)
            counts[quad.graph_name.value] = counts.get(quad.graph_name.value, 0) + 1
        return counts


class _Handler(BaseHTTPRequestHandler):
    server: SparqlServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_PUT(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def serve(self) -> None:
        url = urlsplit(self.path)
        route = url.path.strip("/")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            earlier = sum(1 for r in self.server.log if urlsplit(r.path).path.strip("/") == route)
            self.server.log.append(Request(self.command, self.path, dict(self.headers), body))
        for behaviour in self.server.behaviours:
            if behaviour.route == route and earlier >= behaviour.after:
                self.misbehave(behaviour.action, route, url.query, body)
                return
        self.answer(*self.normally(route, url.query, body))

    def normally(self, route: str, query: str, body: bytes) -> tuple[int, str, bytes]:
        store = self.server.store
        if route in ("store", "moved"):  # /moved: where redirects on the same server point
            graph = ox.NamedNode(parse_qs(query)["graph"][0])
            if self.command == "PUT":
                store.remove_graph(graph)
            store.load(body, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
            return 204, "text/plain", b""
        form = parse_qs(body.decode())
        if route == "update":
            store.update(form["update"][0])
            return 204, "text/plain", b""
        results = store.query(form["query"][0])
        assert isinstance(results, ox.QuerySolutions)
        return 200, "application/sparql-results+json", results.serialize(format=ox.QueryResultsFormat.JSON)

    def misbehave(self, action: str, route: str, query: str, body: bytes) -> None:
        kind, _, argument = action.partition(":")
        if kind == "html":
            self.answer(200, "text/html", b"<html><body>Please log in</body></html>")
        elif kind == "json":  # a SPARQL JSON answer that is not one count
            self.answer(200, "application/sparql-results+json", argument.encode())
        elif kind == "status":
            self.answer(int(argument), "text/plain", b"refused by the test server")
        elif kind == "redirect":
            status, _, location = argument.partition(":")
            self.send_response(int(status))
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif kind == "silent":
            self.server.stop.wait(30)
            self.close_connection = True
        elif kind == "trickle":  # a byte at a time, each well within the timeout, never the whole answer
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            while not self.server.stop.wait(0.1):
                self.wfile.write(b" ")
                self.wfile.flush()
            self.close_connection = True
        elif kind == "drop":  # applied, then the answer is lost
            self.normally(route, query, body)
            self.close_connection = True
        elif kind == "count":
            self.answer(200, "application/sparql-results+json", count_answer(argument))
        else:
            raise AssertionError(action)

    def answer(self, status: int, content_type: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def count_answer(value: str) -> bytes:
    binding = {"n": {"type": "literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer", "value": value}}
    return json.dumps({"head": {"vars": ["n"]}, "results": {"bindings": [binding]}}).encode()


def serve() -> Iterator[SparqlServer]:
    server = SparqlServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def server() -> Iterator[SparqlServer]:
    yield from serve()


@pytest.fixture
def elsewhere() -> Iterator[SparqlServer]:
    """A second server, on another port: load must never send it anything."""
    yield from serve()


def release_triples(release: Path) -> int:
    return sum(1 for _ in (release / "carnk.nq").open(encoding="utf-8"))


def load(cli, release: Path, endpoint: str, *extra: str):
    base = endpoint.rsplit("/", 1)[0]
    args = ["load", "--endpoint", endpoint, "--query-endpoint", f"{base}/query", "--release", str(release)]
    return cli(*args, "--retries", "1", *extra)


# (name, behaviours, extra CLI options, fragments of the message, the state the message reports)
SERVER_CASES = [
    ("store-404", [Behaviour("store", "status:404")], [], ["HTTP 404"], NOTHING_CHANGED),
    ("store-400", [Behaviour("store", "status:400")], [], ["HTTP 400"], NOTHING_CHANGED),
    ("store-busy", [Behaviour("store", "status:503")], [], ["HTTP 503"], NOTHING_CHANGED),
    ("store-500", [Behaviour("store", "status:500")], [], ["HTTP 500"], f"partial upload of graph <{GRAPH}>"),
    ("answer-lost", [Behaviour("store", "drop")], [], ["connection was lost"], f"partial upload of graph <{GRAPH}>"),
    (
        "redirect-changes-method",
        [Behaviour("store", "redirect:303:/moved")],
        [],
        ["redirects to", "HTTP 303"],
        NOTHING_CHANGED,
    ),
    (
        "redirect-malformed",
        [Behaviour("store", "redirect:307:http://[::1/moved")],
        [],
        ["redirects to 'http://[::1/moved'"],
        NOTHING_CHANGED,
    ),
    ("query-html", [Behaviour("query", "html")], [], ["expected SPARQL JSON results, got text/html"], "not verified"),
    ("query-500", [Behaviour("query", "status:500")], [], ["HTTP 500"], "not verified"),
    (
        "query-boolean",
        [Behaviour("query", 'json:{"head":{},"boolean":true}')],
        [],
        ["got the boolean True"],
        "not verified",
    ),
    (
        "query-unbound",
        [Behaviour("query", 'json:{"head":{"vars":["n"]},"results":{"bindings":[{}]}}')],
        [],
        ["got no value"],
        "not verified",
    ),
    (
        "query-no-rows",
        [Behaviour("query", 'json:{"head":{"vars":["n"]},"results":{"bindings":[]}}')],
        [],
        ["got no value (0 rows)"],
        "not verified",
    ),
    ("query-not-a-number", [Behaviour("query", "count:-1")], [], ["expected one count"], "not verified"),
    ("query-wrong-count", [Behaviour("query", "count:3")], [], ["has 3 triples on the server"], "partial upload"),
    (
        "swap-update-refused",
        [Behaviour("update", "status:403", after=1)],
        ["--mode", "swap"],
        ["HTTP 403"],
        f"partial upload of graph <{GRAPH}/carnk-ld-staging> (a staging graph; <{GRAPH}> is unchanged)",
    ),
]


@pytest.mark.parametrize(
    ("behaviours", "extra", "fragments", "state"),
    [case[1:] for case in SERVER_CASES],
    ids=[case[0] for case in SERVER_CASES],
)
def test_a_failing_server_gives_a_clean_error_saying_what_changed(
    cli, sample_release: Path, server: SparqlServer, behaviours, extra, fragments, state
) -> None:
    server.behaviours = behaviours
    if "--mode" in extra:
        extra = [*extra, "--update-endpoint", f"{server.url}/update"]
    result = load(cli, sample_release, f"{server.url}/store", "--graph", GRAPH, *extra)
    assert result.exit_code == 2, result.output
    for fragment in [*fragments, state]:
        assert fragment in result.output
    assert "Traceback" not in result.output
    if state == NOTHING_CHANGED:
        assert set(server.graphs()) == {PRECIOUS.value}


# (name, options replacing the defaults, part of the message); {url}, {host}: the test server; {closed}: a closed port
INPUT_CASES = [
    ("no-scheme", ["--endpoint", "{host}/store"], "is not an http:// or https:// URL"),
    ("host-as-scheme", ["--endpoint", "localhost:7878/store"], "is not an http:// or https:// URL"),
    ("ftp", ["--endpoint", "ftp://127.0.0.1/store"], "is not an http:// or https:// URL"),
    ("port-too-large", ["--endpoint", "http://127.0.0.1:99999/store"], "Port out of range"),
    ("port-not-a-number", ["--endpoint", "http://127.0.0.1:x/store"], "is not a valid URL"),
    ("port-zero", ["--endpoint", "http://127.0.0.1:0/store"], "has port 0"),
    ("space", ["--endpoint", "http://127.0.0.1/my store"], "is not a valid URL"),
    ("ipv6-unclosed", ["--endpoint", "http://[::1/store"], "is not a valid URL: Invalid IPv6 URL"),
    ("ipv6-unclosed-query", ["--query-endpoint", "http://[::1/query"], "--query-endpoint: error"),
    ("ipv6-unclosed-update", ["--mode", "swap", "--update-endpoint", "http://[::1/up"], "--update-endpoint: error"),
    ("host-label-too-long", ["--endpoint", f"http://{'a' * 64}.org/store"], "one of more than 63 characters"),
    ("host-empty-label", ["--endpoint", "http://a..org/store"], "has an empty label"),
    ("host-wildcard", ["--endpoint", "http://*.example.org/store"], "invalid label"),
    ("credentials-in-url", ["--endpoint", "http://dba:secret@{host}/store"], "holds credentials"),
    ("unguessable-query", ["--endpoint", "{url}/gsp", "--query-endpoint", ""], "cannot guess"),
    ("bad-query-endpoint", ["--query-endpoint", "{host}/query"], "--query-endpoint: error"),
    ("bad-update-endpoint", ["--mode", "swap", "--update-endpoint", "up"], "--update-endpoint: error"),
    ("swap-without-update", ["--mode", "swap"], "needs the server's SPARQL Update endpoint"),
    (
        "unreachable",
        ["--endpoint", "http://127.0.0.1:{closed}/store", "--retries", "0"],
        "cannot connect (Connection refused)",
    ),
    ("graph-injection", ["--graph", "http://x> } ; DROP ALL ; INSERT DATA { <http://y"], "is not an absolute IRI"),
    ("graph-relative", ["--graph", "carnk"], "is not an absolute IRI"),
    ("graph-space", ["--graph", "https://example.org/my graph"], "is not an absolute IRI"),
    ("graph-brace", ["--graph", "https://example.org/{g}"], "is not an absolute IRI"),
    ("timeout-nan", ["--timeout", "nan"], "--timeout: error"),
    ("timeout-inf", ["--timeout", "inf"], "--timeout: error"),
    ("timeout-zero", ["--timeout", "0"], "--timeout: error"),
    ("retries-negative", ["--retries", "-1"], "--retries: error"),
    ("password-without-user", ["--password", "secret"], "a password needs a user name"),
    ("user-not-latin-1", ["--user", "€uro", "--password", "p"], "--user: error: holds characters basic authentication"),
    ("user-colon", ["--user", "a:b"], "--user: error: holds a colon"),
    ("password-newline", ["--user", "u", "--password", "p\nq"], "--password: error: holds a control character"),
    ("digest-user-quote", ["--user", 'a"b', "--auth", "digest"], "--user: error: holds a quote"),
]


@pytest.mark.parametrize(("options", "fragment"), [case[1:] for case in INPUT_CASES], ids=[c[0] for c in INPUT_CASES])
def test_bad_options_are_refused_before_anything_is_sent(
    cli, sample_release: Path, server: SparqlServer, options: list[str], fragment: str
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    host = server.url.removeprefix("http://")
    places = {"{url}": server.url, "{host}": host, "{closed}": str(port)}
    for place, value in places.items():
        options = [option.replace(place, value) for option in options]
    args = {"--endpoint": f"{server.url}/store", "--query-endpoint": f"{server.url}/query", "--graph": GRAPH}
    for option, value in zip(options[::2], options[1::2], strict=True):
        args[option] = value
    flat = [part for option, value in args.items() if value for part in (option, value)]
    result = cli("load", "--release", str(sample_release), *flat)
    assert result.exit_code == 2, result.output
    assert fragment in result.output and NOTHING_CHANGED in result.output
    assert "Traceback" not in result.output
    assert server.log == []
    assert set(server.graphs()) == {PRECIOUS.value}


def test_the_graph_goes_into_queries_as_an_iri_written_by_the_serialiser(
    cli, sample_release: Path, server: SparqlServer
) -> None:
    """A graph IRI with characters that SPARQL and URLs escape differently arrives intact; nothing else is touched."""
    graph = "https://example.org/graph/ünï?q=a&b=%20#frag"
    update = f"{server.url}/update"
    result = load(
        cli, sample_release, f"{server.url}/store", "--graph", graph, "--mode", "swap", "--update-endpoint", update
    )
    assert result.exit_code == 0, result.output
    assert server.graphs() == {PRECIOUS.value: 1, graph: release_triples(sample_release)}


@pytest.mark.parametrize("status", [307, 308])
def test_a_redirect_on_the_same_server_sends_the_whole_body_again(
    cli, sample_release: Path, server: SparqlServer, status: int
) -> None:
    server.behaviours = [Behaviour("store", f"redirect:{status}:/moved?graph={GRAPH}")]
    result = load(cli, sample_release, f"{server.url}/store", "--graph", GRAPH, "--user", "u", "--password", "p")
    assert result.exit_code == 0, result.output
    puts = [r for r in server.log if r.method == "PUT"]
    assert [urlsplit(r.path).path for r in puts] == ["/store", "/moved"]
    assert len(puts[1].body) == int(puts[1].headers["Content-Length"]) == len(puts[0].body) > 0
    assert puts[1].body == puts[0].body
    assert server.graphs()[GRAPH] == release_triples(sample_release)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_server_is_refused_and_gets_no_data_or_credentials(
    cli, sample_release: Path, server: SparqlServer, elsewhere: SparqlServer, status: int
) -> None:
    server.behaviours = [Behaviour("store", f"redirect:{status}:{elsewhere.url}/store?graph={GRAPH}")]
    result = load(cli, sample_release, f"{server.url}/store", "--graph", GRAPH, "--user", "dba", "--password", "secret")
    assert result.exit_code == 2, result.output
    assert f"redirects to '{elsewhere.url}/store" in result.output and NOTHING_CHANGED in result.output
    assert elsewhere.log == []
    assert "secret" not in result.output


def test_earlier_graphs_are_reported_as_replaced_when_a_later_one_fails(
    cli, sample_release: Path, server: SparqlServer
) -> None:
    server.behaviours = [Behaviour("store", "status:400", after=2)]
    result = load(cli, sample_release, f"{server.url}/store")
    assert result.exit_code == 2, result.output
    replaced = sorted(set(server.graphs()) - {PRECIOUS.value})
    assert len(replaced) == 2
    assert "graphs replaced and verified: " + ", ".join(f"<{g}>" for g in replaced) in result.output
    assert "no other data was changed on the server" in result.output


def test_a_server_that_never_answers_fails_within_the_timeout(cli, sample_release: Path) -> None:
    """A listener that accepts connections and never reads or answers: --timeout bounds the wait, retries included."""
    held: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        done = threading.Event()

        def accept() -> None:
            while not done.is_set():
                try:
                    held.append(listener.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        started = time.monotonic()
        try:
            result = load(cli, sample_release, f"{url}/store", "--graph", GRAPH, "--timeout", "2", "--retries", "3")
        finally:
            elapsed = time.monotonic() - started
            done.set()
            thread.join()
            for connection in held:
                connection.close()
    assert result.exit_code == 2, result.output
    assert elapsed < 2 * 2 + 2, elapsed
    assert "no answer within 2 s" in result.output
    assert f"the server may hold a partial upload of graph <{GRAPH}>" in result.output


def test_a_silent_query_endpoint_fails_within_the_timeout(cli, sample_release: Path, server: SparqlServer) -> None:
    server.behaviours = [Behaviour("query", "silent")]
    started = time.monotonic()
    result = load(cli, sample_release, f"{server.url}/store", "--graph", GRAPH, "--timeout", "1", "--retries", "5")
    assert result.exit_code == 2, result.output
    assert time.monotonic() - started < 1 * 2 + 3
    assert "no answer within 1 s" in result.output and "was replaced on the server but not verified" in result.output


def test_an_answer_sent_a_byte_at_a_time_fails_within_the_timeout(
    cli, sample_release: Path, server: SparqlServer
) -> None:
    server.behaviours = [Behaviour("query", "trickle")]
    started = time.monotonic()
    result = load(cli, sample_release, f"{server.url}/store", "--graph", GRAPH, "--timeout", "1", "--retries", "5")
    assert result.exit_code == 2, result.output
    assert time.monotonic() - started < 1 * 2 + 3
    assert "no answer within 1 s" in result.output and "was replaced on the server but not verified" in result.output


def test_transient_failures_are_retried_within_the_deadline(sample_release: Path, server: SparqlServer) -> None:
    server.behaviours = [Behaviour("store", "status:503")]
    target = Target(f"{server.url}/store", f"{server.url}/query", retries=50, timeout=1, backoff=0.05)
    with pytest.raises(UploadFailed, match="HTTP 503") as failure:
        upload_release(sample_release, target, graph=GRAPH)
    puts = [r for r in server.log if r.method == "PUT"]
    assert 3 <= len(puts) < 51  # retried, but the deadline ended the retries before the count did
    assert failure.value.state == NOTHING_CHANGED


def test_credentials_go_only_to_the_graph_store_host(cli, sample_release: Path, server: SparqlServer) -> None:
    query = f"http://localhost:{server.server_address[1]}/query"  # same server, but another host name
    credentials = ["--user", "dba", "--password", "secret"]
    endpoints = ["--endpoint", f"{server.url}/store", "--query-endpoint", query]
    result = cli("load", "--release", str(sample_release), *endpoints, "--graph", GRAPH, *credentials)
    assert result.exit_code == 0, result.output
    by_route = {urlsplit(r.path).path: r.headers for r in server.log}
    assert "Authorization" in by_route["/store"]
    assert "Authorization" not in by_route["/query"]


# (URL, part of the problem, or None for a URL load may send to)
URL_CASES = [
    ("http://127.0.0.1:7878/store", None),
    ("https://example.org./sparql", None),
    ("http://[::1]:7878/store", None),
    ("http://ü.example/store", None),  # requests sends it IDNA-encoded
    ("http://xn--/store", None),  # a valid name that resolves nowhere: "cannot connect" when sending
    ("http://[::1/store", "Invalid IPv6 URL"),
    ("http://[::1]]/store", "is not a valid URL"),
    ("http://[]/store", "is not a valid URL"),
    ("http://[v1.x]/store", "is not a valid URL"),
    ("http://[::1]x/store", "is not a valid URL"),
    ("http://[fe80::1%25eth0]/store", "is not a valid URL"),
    ("http://[::1]:99999/store", "Port out of range"),
    ("http://h:port/store", "is not a valid URL"),
    ("http://a b/store", "is not a valid URL"),
    ("http://a\udcff/store", "is not a valid URL"),  # an undecodable byte of the command line
    ("http://\u200b/store", "is not a valid IDNA label"),
    ("http://a\u3002b/store", "is not a valid IDNA label"),
    ("http://.example.org/store", "invalid label"),
    (f"http://{'a' * 64}/store", "one of more than 63 characters"),
    ("http://a..b/store", "has an empty label"),
    ("http://:7878/store", "names no host"),
    ("http://@/store", "names no host"),
    ("http://u:p@example.org/store", "holds credentials"),
    ("http:/example.org/store", "is not an http:// or https:// URL"),
    ("", "is not an http:// or https:// URL"),
]


@pytest.mark.parametrize(("url", "fragment"), URL_CASES)
def test_url_problem_names_what_is_wrong_with_a_url(url: str, fragment: str | None) -> None:
    problem = url_problem(url)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None and fragment in problem


_HOST_PARTS = [*"a1.-_:[]%@ v\x00", "xn--", "::1", "ü", "\u3002", "\uff0e", "\u200b", "a" * 64, "127.0.0.1", "\udcff"]
_URLS = st.builds(
    lambda scheme, host, port, path: scheme + host + port + path,
    st.sampled_from(["http://", "https://", "HTTP://", "http:/", "ftp://", ""]),
    st.lists(st.sampled_from(_HOST_PARTS), max_size=8).map("".join),
    st.one_of(st.just(""), st.integers(-1, 99999).map(lambda n: f":{n}"), st.text(max_size=3).map(":".__add__)),
    st.text(max_size=8).map("/".__add__),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), _URLS))
def test_url_problem_never_raises_and_what_it_accepts_can_be_sent(value: str) -> None:
    if url_problem(value) is None:
        _origin(value)
        prepared = requests.models.PreparedRequest()
        prepared.prepare_url(value, None)
        (urlsplit(prepared.url).hostname or "").encode("idna")


#: Far beyond what a bounded load needs: a load still running by then has hung, and the test fails.
GUARD = 60


def load_process(release: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``carnk-ld load`` in its own interpreter, so that a load that never ends can be stopped."""
    args = ["load", "--endpoint", f"{url}/store", "--query-endpoint", f"{url}/query", "--release", str(release)]
    try:
        return subprocess.run(
            [sys.executable, "-m", "carnk_ld", *args, *extra], capture_output=True, text=True, timeout=GUARD
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"load was still running after {GUARD} s")


STAGED = f"partial upload of graph <{GRAPH}/carnk-ld-staging> (a staging graph; <{GRAPH}> is unchanged)"
# (name, what drips, requests answered before it, mode, the state the message reports)
DRIP_CASES = [
    ("put-headers", "headers", 0, "put", f"partial upload of graph <{GRAPH}>"),
    ("put-body", "body", 0, "put", f"partial upload of graph <{GRAPH}>"),
    ("put-gzip", "gzip", 0, "put", f"partial upload of graph <{GRAPH}>"),
    ("put-chunked", "chunked", 0, "put", f"partial upload of graph <{GRAPH}>"),
    ("count-headers", "headers", 1, "put", "was replaced on the server but not verified"),
    ("count-chunked", "chunked", 1, "put", "was replaced on the server but not verified"),
    ("swap-drop-headers", "headers", 0, "swap", STAGED),
    ("swap-post-gzip", "gzip", 1, "swap", STAGED),
    ("swap-count-body", "body", 2, "swap", STAGED),
]


# Each case is a load that waits out its 1 s timeout: two of them stay in the fast suite.
FAST_DRIPS = {"put-headers", "swap-post-gzip"}


@pytest.mark.parametrize(
    ("drip", "after", "mode", "state"),
    [
        pytest.param(*case[1:], id=case[0], marks=[] if case[0] in FAST_DRIPS else [pytest.mark.slow])
        for case in DRIP_CASES
    ],
)
def test_an_answer_that_drips_ends_the_load_at_the_timeout(
    sample_release: Path, drip: str, after: int, mode: str, state: str
) -> None:
    """Each byte comes within --timeout, the answer never does: every request of a load ends at --timeout."""
    with dripping_server(drip, after=after) as server:
        extra = ["--graph", GRAPH, "--timeout", "1", "--retries", "3", "--mode", mode]
        result = load_process(sample_release, server.url, *extra, "--update-endpoint", f"{server.url}/update")
    assert result.returncode == 2, result.stderr
    assert "no answer within 1 s" in result.stderr and state in result.stderr
    assert "Traceback" not in result.stderr
    assert len(server.requests) == after + 1  # the attempt took the whole --timeout: no retry started after it


def test_an_upload_the_server_reads_slowly_ends_at_the_deadline() -> None:
    """Sending a body is bounded too: each block is sent within the socket timeout, the whole body never is."""
    failures: list[BaseException] = []
    endless = (bytes(1 << 14) for _ in range(1 << 16))  # 1 GB, sent chunked: far more than the guard lets through
    with dripping_server("upload") as server, requests.Session() as session:
        session.mount("http://", DeadlineAdapter())
        deadline = Deadline(1)

        def send() -> None:
            with deadline:
                try:
                    session.put(f"{server.url}/store", data=endless, timeout=(1, 1))
                except requests.RequestException as exc:
                    failures.append(exc)

        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        thread.join(timeout=GUARD)
        assert not thread.is_alive(), f"the upload was still being sent after {GUARD} s"
    assert deadline.expired and len(failures) == 1
