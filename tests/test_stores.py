"""Loading into real SPARQL servers: Oxigraph server and Virtuoso give the embedded store's answers.

That the embedded store gives the approved answers is tests/test_cq.py's concern; here every
competency question must get the same answer from a server as from the embedded store.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_ld.cq import compare_question, find_questions
from carnk_ld.errors import InputError
from carnk_ld.store import EmbeddedStore, RemoteStore
from carnk_ld.upload import Target, UploadFailed, count_triples, upload_release
from tests.servers import Server, ensure_virtuoso, oxigraph_binary, oxigraph_server, virtuoso_server

pytestmark = pytest.mark.slow


def release_counts(release: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for quad in ox.parse(path=str(release / "carnk.nq")):
        counts[quad.graph_name.value] = counts.get(quad.graph_name.value, 0) + 1
    return counts


def target_for(server: Server) -> Target:
    return Target(
        server.gsp, server.query, server.update, server.user, server.password, server.auth, retries=2, backoff=0.05
    )


def load_cli(cli, release: Path, server: Server, *extra: str):
    args = ["load", "--endpoint", server.gsp, "--query-endpoint", server.query, "--release", str(release)]
    if server.user:
        args += ["--user", server.user, "--password", server.password or "", "--auth", server.auth]
    return cli(*args, *extra)


def server_counts(server: Server, graphs: list[str]) -> dict[str, int]:
    return {g: count_triples(target_for(server), g) for g in graphs}


def check_same_answers(server: Server, release: Path, root: Path) -> None:
    remote = RemoteStore(server.query, default_graph_union=server.union_param)
    embedded = EmbeddedStore.for_release(release)
    questions = find_questions(root)
    assert questions, f"{root}/queries has no competency questions"
    answers = [(compare_question(remote, q).actual, compare_question(embedded, q).actual) for q in questions]
    for question, (on_server, here) in zip(questions, answers, strict=True):
        assert on_server == here, question.name
    assert any(here.rows for _, here in answers), "every question answered nothing: nothing was compared"


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if oxigraph_binary() is None:
        pytest.fail("the oxigraph command is missing: it is a test dependency (pip install oxigraph)")
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


def test_oxigraph_load_verifies_counts_and_answers_every_question(
    cli, release: Path, project_root: Path, oxigraph: Server
) -> None:
    result = load_cli(cli, release, oxigraph)
    assert result.exit_code == 0, result.output
    assert "5 graphs" in result.output and "loaded and verified" in result.output
    expected = release_counts(release)
    assert server_counts(oxigraph, list(expected)) == expected
    check_same_answers(oxigraph, release, project_root)


def test_loading_twice_leaves_the_store_unchanged(cli, release: Path, oxigraph: Server) -> None:
    expected = release_counts(release)
    for _ in range(2):
        assert load_cli(cli, release, oxigraph).exit_code == 0
    assert server_counts(oxigraph, list(expected)) == expected


def test_swap_mode_moves_a_verified_staging_graph(cli, release: Path, oxigraph: Server) -> None:
    result = load_cli(cli, release, oxigraph, "--mode", "swap", "--update-endpoint", oxigraph.update)
    assert result.exit_code == 0, result.output
    expected = release_counts(release)
    assert server_counts(oxigraph, list(expected)) == expected
    staging = [g + "/carnk-ld-staging" for g in expected]
    assert set(server_counts(oxigraph, staging).values()) == {0}


def test_single_graph_option(release: Path, oxigraph: Server) -> None:
    report = upload_release(release, target_for(oxigraph), graph="https://example.org/carnk-all")
    total = sum(release_counts(release).values())
    assert report.graphs == [("https://example.org/carnk-all", total, report.graphs[0][2])]
    assert count_triples(target_for(oxigraph), "https://example.org/carnk-all") == total


def test_failed_load_reports_status_and_keeps_the_previous_graph(cli, release: Path, oxigraph: Server) -> None:
    assert load_cli(cli, release, oxigraph).exit_code == 0
    expected = release_counts(release)
    broken = Server("oxigraph", oxigraph.gsp.replace("/store", "/nowhere"), oxigraph.query, oxigraph.update)
    result = load_cli(cli, release, broken)
    assert result.exit_code == 2
    assert "HTTP 404" in result.output and "no data was changed on the server" in result.output
    assert server_counts(oxigraph, list(expected)) == expected


class _Flaky(BaseHTTPRequestHandler):
    """A GSP endpoint that fails with 503 a given number of times, then accepts; counts follow the body."""

    failures_left = 0
    cut_off_left = 0  # responses to cut off in the middle of a chunked body, after storing
    stored: dict[str, int] = {}  # noqa: RUF012 - test double state

    def log_message(self, *args: object) -> None:
        pass

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"busy")
            return
        graph = self.path.split("graph=", 1)[1]
        type(self).stored[graph] = body.count(b"\n")
        if type(self).cut_off_left > 0:
            type(self).cut_off_left -= 1
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"64\r\npartial")  # announces 100 bytes, sends 7, closes
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_response(204)
        self.end_headers()

    def do_POST(self) -> None:
        from urllib.parse import parse_qs, unquote

        length = int(self.headers["Content-Length"])
        query = parse_qs(self.rfile.read(length).decode())["query"][0]
        graph = query.split("GRAPH <", 1)[1].split(">", 1)[0]
        count = max((v for k, v in type(self).stored.items() if unquote(k) == graph), default=0)
        payload = (
            '{"head":{"vars":["n"]},"results":{"bindings":[{"n":{"type":"literal",'
            f'"datatype":"http://www.w3.org/2001/XMLSchema#integer","value":"{count}"}}}}]}}}}'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def flaky() -> Iterator[str]:
    _Flaky.stored, _Flaky.failures_left, _Flaky.cut_off_left = {}, 0, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_transient_failures_are_retried(release: Path, flaky: str) -> None:
    _Flaky.failures_left = 2
    target = Target(f"{flaky}/store", f"{flaky}/query", retries=3, backoff=0.01)
    report = upload_release(release, target, graph="https://example.org/g")
    assert report.attempts == 4  # two 503s, the PUT, then the count
    assert report.graphs[0][1] == sum(release_counts(release).values())


def test_progress_counts_each_byte_once_when_a_body_is_sent_again(release: Path, flaky: str) -> None:
    def sent(failures: int, cut_off: int) -> list[int]:
        _Flaky.failures_left, _Flaky.cut_off_left = failures, cut_off
        steps: list[int] = []
        target = Target(f"{flaky}/store", f"{flaky}/query", retries=3, backoff=0.01)
        upload_release(release, target, graph="https://example.org/g", progress=steps.append)
        return steps

    once = sent(0, 0)
    assert sum(once) > 0
    assert sum(sent(2, 1)) == sum(once)  # two 503s and a cut-off answer: the body went four times


def test_a_response_cut_off_mid_body_is_retried(release: Path, flaky: str) -> None:
    _Flaky.failures_left, _Flaky.cut_off_left = 0, 1
    target = Target(f"{flaky}/store", f"{flaky}/query", retries=2, backoff=0.01)
    report = upload_release(release, target, graph="https://example.org/g")
    assert report.attempts == 3 and _Flaky.cut_off_left == 0  # the cut-off PUT, its retry, the count
    assert report.graphs[0][1] == sum(release_counts(release).values())


def test_retries_are_bounded(release: Path, flaky: str) -> None:
    _Flaky.failures_left = 100
    target = Target(f"{flaky}/store", f"{flaky}/query", retries=2, backoff=0.01)
    with pytest.raises(UploadFailed, match="HTTP 503"):
        upload_release(release, target, graph="https://example.org/g")
    assert _Flaky.failures_left == 97


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    binary = ensure_virtuoso()
    if binary is None:
        pytest.skip("Virtuoso is not installed and cannot be installed here (needs root and apt-get)")
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso"), binary) as server:
        yield server


def test_virtuoso_digest_load_and_every_question(cli, release: Path, project_root: Path, virtuoso: Server) -> None:
    result = load_cli(cli, release, virtuoso)
    assert result.exit_code == 0, result.output
    expected = release_counts(release)
    assert server_counts(virtuoso, list(expected)) == expected
    check_same_answers(virtuoso, release, project_root)
    assert load_cli(cli, release, virtuoso).exit_code == 0
    assert server_counts(virtuoso, list(expected)) == expected


def test_virtuoso_refuses_wrong_password(cli, release: Path, virtuoso: Server) -> None:
    wrong = Server(virtuoso.name, virtuoso.gsp, virtuoso.query, virtuoso.update, "dba", "wrong", "digest")
    result = load_cli(cli, release, wrong)
    assert result.exit_code == 2 and "HTTP 401" in result.output


class _Answers(BaseHTTPRequestHandler):
    body: tuple[str, bytes] = ("text/html", b"")

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        kind, payload = type(self).body
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (("text/html", b"<html><body>Please log in</body></html>"), "not SPARQL JSON results (text/html)"),
        (("application/sparql-results+json", b'{"head":{},"boolean":true}'), "a boolean, not the rows"),
        (None, "query failed"),  # nothing listens
    ],
    ids=["html", "boolean", "unreachable"],
)
def test_a_remote_store_that_does_not_answer_rows_is_a_clear_error(
    body: tuple[str, bytes] | None, message: str
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    url = f"http://127.0.0.1:{server.server_address[1]}/sparql"
    if body is None:
        server.server_close()
    else:
        _Answers.body = body
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        with pytest.raises(InputError, match=re.escape(message)):
            RemoteStore(url, timeout=5).select("SELECT ?s WHERE { ?s ?p ?o }")
    finally:
        if body is not None:
            server.shutdown()
            server.server_close()
