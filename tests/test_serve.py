"""carnk-ld serve: content negotiation over a small release with a site, the IRIs it owns, and /sparql.

The release is tests/webfixture.py's: its files' bytes and triples are written there, so every
expectation here comes from the fixture and the contract (issue 18, contracts 1 and 2).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pyoxigraph as ox
import pytest
from webfixture import (
    ACCEPTS,
    ARM,
    BROWSER,
    DESCRIBED,
    LINKSET,
    ONTOLOGY_OWL,
    SEGMENT,
    TYPES,
    VERSION,
    body,
    quads,
    segment_triples,
    serving,
    write_release,
)

RDF_FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdf": ox.RdfFormat.RDF_XML,
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    release = write_release(tmp_path_factory.mktemp("release"))
    with serving(release, "--timeout", "2", "--max-rows", "5") as url:
        yield url


@pytest.fixture(scope="module")
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as http:
        yield http


def triples_of(data: bytes, fmt: ox.RdfFormat) -> set[ox.Triple]:
    return {quad.triple for quad in ox.parse(data, format=fmt)}


def get(client: httpx.Client, path: str, accept: str | None = None, **kwargs: object) -> httpx.Response:
    headers = {"Accept": accept} if accept is not None else {}
    return client.get(path, headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", sorted(DESCRIBED))
@pytest.mark.parametrize(("accept", "ext"), ACCEPTS)
def test_a_described_resource_answers_303_to_the_file_of_the_asked_format(
    client: httpx.Client, base: str, kind: str, accept: str | None, ext: str
) -> None:
    path = DESCRIBED[kind]
    answer = get(client, f"/carnk/{path}", accept)
    assert answer.status_code == 303, answer.text
    assert urljoin(f"{base}/carnk/{path}", answer.headers["Location"]) == f"{base}/carnk/{path}.{ext}"
    assert "accept" in answer.headers["Vary"].lower()
    followed = get(client, answer.headers["Location"], accept)
    assert followed.status_code == 200
    assert followed.headers["Content-Type"] == TYPES[ext]
    assert followed.content == body(path, ext)


@pytest.mark.parametrize("ext", sorted(TYPES))
def test_a_url_with_an_extension_answers_200_whatever_the_accept_header(client: httpx.Client, ext: str) -> None:
    answer = get(client, f"/carnk/{DESCRIBED['term']}.{ext}", "application/rdf+xml;q=0.1")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == TYPES[ext]
    assert answer.content == body(DESCRIBED["term"], ext)


def test_the_home_page_and_other_site_files_are_served(client: httpx.Client) -> None:
    home = get(client, "/carnk/")
    assert home.status_code == 200 and home.headers["Content-Type"] == TYPES["html"]
    assert b"<title>home</title>" in home.content
    assert get(client, "/carnk/index.html").content == home.content
    search = get(client, "/carnk/search.json")
    assert search.status_code == 200 and search.headers["Content-Type"] == "application/json"
    assert search.json() == []
    assert get(client, "/").headers["Location"].endswith("/carnk/")


@pytest.mark.parametrize(("path", "owner", "fragment"), [(SEGMENT, "kg/doc/d1", "segment-3"),
                                                        (ARM, "kg/study/d1/t1", "arm-high-dose")])  # fmt: skip
@pytest.mark.parametrize("accept", [None, "text/html", BROWSER, "*/*"])
def test_an_owned_iri_in_html_is_its_owners_page_at_its_fragment(
    client: httpx.Client, base: str, path: str, owner: str, fragment: str, accept: str | None
) -> None:
    answer = get(client, f"/carnk/{path}", accept)
    assert answer.status_code == 303
    assert urljoin(base, answer.headers["Location"]) == f"{base}/carnk/{owner}.html#{fragment}"


@pytest.mark.parametrize(("accept", "ext"), [(a, e) for a, e in ACCEPTS if e != "html"])
def test_an_owned_iri_in_rdf_is_its_own_description_from_the_store(
    client: httpx.Client, base: str, accept: str, ext: str
) -> None:
    answer = get(client, f"/carnk/{SEGMENT}", accept)
    assert answer.status_code == 303
    assert urljoin(base, answer.headers["Location"]) == f"{base}/carnk/{SEGMENT}.{ext}"
    followed = get(client, answer.headers["Location"])
    assert followed.status_code == 200
    assert followed.headers["Content-Type"] == TYPES[ext]
    assert triples_of(followed.content, RDF_FORMATS[ext]) == segment_triples()


def test_an_iri_the_store_holds_with_neither_page_nor_owner_is_404(client: httpx.Client) -> None:
    assert any(quad.subject.value.endswith(LINKSET) for quad in quads())
    for accept in (None, "text/turtle"):
        assert get(client, f"/carnk/{LINKSET}", accept).status_code == 404
    for ext in TYPES:
        assert get(client, f"/carnk/{LINKSET}.{ext}").status_code == 404


def test_a_download_url_of_the_release_s_version_answers_its_file(client: httpx.Client) -> None:
    answer = get(client, f"/carnk/releases/{VERSION}/ontology.owl", "text/html")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/rdf+xml"
    assert answer.content == ONTOLOGY_OWL
    assert get(client, f"/carnk/releases/{VERSION}/SHA256SUMS").headers["Content-Type"] == "text/plain"
    for path in ("releases/0.0.1/ontology.owl", f"releases/{VERSION}/nothing.owl",
                 f"releases/{VERSION}/site/index.html", f"releases/{VERSION}", "releases/"):  # fmt: skip
        assert get(client, f"/carnk/{path}").status_code == 404, path


@pytest.mark.parametrize(
    "path",
    [
        "NoSuchTerm",
        "NoSuchTerm.ttl",
        "kg/doc/d1/segment/99",
        "kg/doc/d1/segment/99.html",
        "kg/doc/d2",
        "kg/doc/",
        "ontology.csv",
        "%2e%2e/SHA256SUMS",
        "..%2fRELEASE.json",
        "kg/doc/d1.ttl/x",
        "a%20b",
        "%3Cx%3E",
        "caf%C3%A9",
    ],
)
def test_an_unknown_iri_is_404_with_a_short_html_page(client: httpx.Client, path: str) -> None:
    answer = get(client, f"/carnk/{path}", "text/turtle")
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == TYPES["html"]
    assert "Not found" in answer.text and len(answer.content) < 2000


def test_only_get_and_head_reach_resources(client: httpx.Client) -> None:
    assert client.head(f"/carnk/{DESCRIBED['term']}.ttl").headers["Content-Type"] == "text/turtle"
    refused = client.post(f"/carnk/{DESCRIBED['term']}", content=b"x")
    assert refused.status_code == 405 and "GET" in refused.headers["Allow"]


# --- /sparql -------------------------------------------------------------------------------------

LABELS = "SELECT ?label WHERE { <https://w3id.org/carnk/NKCell> rdfs:label ?label }"


def test_select_by_get_in_each_results_format(client: httpx.Client) -> None:
    answer = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/sparql-results+json"
    assert [b["label"]["value"] for b in answer.json()["results"]["bindings"]] == ["NK cell"]
    xml = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "application/sparql-results+xml"})
    assert xml.headers["Content-Type"] == "application/sparql-results+xml"
    rows = ox.parse_query_results(xml.content, format=ox.QueryResultsFormat.XML)
    assert [row["label"] for row in rows] == [ox.Literal("NK cell", language="en")]  # type: ignore[index,union-attr]
    text = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/csv"})
    assert text.headers["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(text.text))) == [["label"], ["NK cell"]]
    tsv = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/tab-separated-values"})
    assert tsv.text.splitlines() == ["?label", '"NK cell"@en']
    assert client.get("/sparql", params={"query": LABELS}).headers["Content-Type"] == "application/sparql-results+json"


def test_ask_by_post_form_and_construct_by_post_body(client: httpx.Client) -> None:
    ask = client.post("/sparql", data={"query": "ASK { ?s a owl:Ontology }"})
    assert ask.status_code == 200 and ask.json()["boolean"] is True
    construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o FILTER(?s = <https://w3id.org/carnk/{SEGMENT}>) }}"
    formats = {"text/turtle": "ttl", "application/n-triples": "nt", "application/ld+json": "jsonld",
               "application/rdf+xml": "rdf"}  # fmt: skip
    for accept, ext in formats.items():
        headers = {"Content-Type": "application/sparql-query", "Accept": accept}
        answer = client.post("/sparql", content=construct.encode(), headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == accept
        assert triples_of(answer.content, RDF_FORMATS[ext]) == segment_triples()


@pytest.mark.parametrize(
    ("request_args", "message"),
    [
        ({"method": "GET", "params": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}, "read-only"),
        ({"method": "POST", "data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}, "read-only"),
        ({"method": "POST", "content": b"DROP ALL", "headers": {"Content-Type": "application/sparql-update"}},
         "read-only"),
        ({"method": "GET", "params": {"query": "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}},
         "SERVICE"),
        ({"method": "GET", "params": {"query": "SELECT * WHERE { ?s ?p"}}, "syntax"),
        ({"method": "GET", "params": {"query": "PREFIX ex: <http://example.org/>"}}, "no SELECT"),
        ({"method": "GET"}, "exactly one query"),
        ({"method": "GET", "params": {"query": LABELS, "default-graph-uri": "urn:g"}}, "default-graph-uri"),
    ],
)  # fmt: skip
def test_what_is_not_a_query_is_refused_with_400_and_a_reason(
    client: httpx.Client, request_args: dict, message: str
) -> None:
    answer = client.request(url="/sparql", **request_args)
    assert answer.status_code == 400
    assert message in answer.text


def test_a_post_in_another_format_is_415(client: httpx.Client) -> None:
    answer = client.post("/sparql", content=b"{}", headers={"Content-Type": "application/json"})
    assert answer.status_code == 415


def test_an_answer_over_the_row_limit_is_refused_not_cut(client: httpx.Client) -> None:
    every = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"  # the fixture has more than the server's 5 rows
    assert len(quads()) > 5
    refused = client.get("/sparql", params={"query": every})
    assert refused.status_code == 400 and "more than 5 rows" in refused.text
    five = client.get("/sparql", params={"query": every + " LIMIT 5"})
    assert five.status_code == 200 and len(five.json()["results"]["bindings"]) == 5
    graph = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
    assert graph.status_code == 400 and "more than 5 rows" in graph.text


def test_a_query_over_the_timeout_is_stopped(client: httpx.Client) -> None:
    slow = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(7)) + " }"
    answer = client.get("/sparql", params={"query": slow})
    assert answer.status_code == 503
    assert "timeout" in answer.text
    assert client.get("/sparql", params={"query": "ASK {}"}).json()["boolean"] is True  # still serving


# --- the command line ----------------------------------------------------------------------------


def test_serve_refuses_a_folder_that_is_not_a_release(cli, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    result = cli("serve", "--out", str(tmp_path), "--port", "0")
    assert result.exit_code == 2
    assert f"{tmp_path}: error: not a carnk-ld release" in result.output
    assert "Traceback" not in result.output
    missing = cli("serve", "--out", str(tmp_path / "missing"), "--port", "0")
    assert missing.exit_code == 2 and "not a folder" in missing.output


def test_serve_refuses_a_release_without_a_site(cli, tmp_path: Path) -> None:
    release = write_release(tmp_path, site=False)
    result = cli("serve", "--out", str(release), "--port", "0")
    assert result.exit_code == 2
    assert "has no web site" in result.output


def test_serve_refuses_a_release_changed_since_it_was_built(cli, tmp_path: Path) -> None:
    release = write_release(tmp_path)
    (release / "site" / "NKCell.ttl").write_bytes(b"edited\n")
    result = cli("serve", "--out", str(release), "--port", "0")
    assert result.exit_code == 2
    assert "NKCell.ttl: error: does not match SHA256SUMS" in result.output


def test_serve_says_where_it_listens_on_loopback(base: str) -> None:
    assert base.startswith("http://127.0.0.1:")
    assert json.loads(httpx.get(f"{base}/sparql", params={"query": "ASK {}"}, timeout=30).text)["boolean"] is True


def test_serve_refuses_a_file_in_the_site_the_release_does_not_list(cli, tmp_path: Path) -> None:
    release = write_release(tmp_path)
    (release / "site" / "kg" / "notes.html").write_text("mine\n")
    result = cli("serve", "--out", str(release), "--port", "0")
    assert result.exit_code == 2
    assert "site/kg/notes.html: error: not part of the release" in result.output
