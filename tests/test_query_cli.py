"""carnk-ld query: results, formats, parameters, refusals and the timeout."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT

CQ15 = str(PROJECT / "queries" / "cq-15-external-matches.rq")


def q(cli, release: Path, *args: str):
    return cli("query", "--release", str(release), *args)


def test_table_output_with_a_bound_parameter(cli, release: Path) -> None:
    result = q(cli, release, CQ15, "--bind", "class=carnk:NKCell")
    assert result.exit_code == 0, result.output
    assert "carnk:NKCell | skos:exactMatch | obo:CL_0000623" in result.output
    assert "(3 rows)" in result.output


def test_json_output_is_sparql_results_json(cli, release: Path) -> None:
    result = q(cli, release, CQ15, "--bind", "class=<https://w3id.org/carnk/TCell>", "--format", "json")
    data = json.loads(result.output)
    assert data["head"]["vars"] == ["class", "match", "term", "label"]
    terms = {b["term"]["value"] for b in data["results"]["bindings"]}
    assert "http://purl.obolibrary.org/obo/CL_0000084" in terms


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv(cli, release: Path, fmt: str) -> None:
    result = q(
        cli,
        release,
        "-e",
        "SELECT ?label WHERE { <https://w3id.org/carnk/NKCell> <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
        "--format",
        fmt,
    )
    assert result.exit_code == 0
    assert "NK cell" in result.output


def test_literal_bindings_are_terms_not_text(cli, release: Path) -> None:
    query = "SELECT ?c WHERE { ?c <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    result = q(cli, release, "-e", query, "--bind", 'label="NK cell"@en')
    assert result.exit_code == 0 and "carnk:NKCell" in result.output and "(1 row)" in result.output


@pytest.mark.parametrize(
    "value",
    ['"x" } ; DROP ALL ; #', "<http://e/x> } UNION { ?s ?p ?o", '"x"@en . ?s ?p ?o', "_:b0", "not a term"],
)
def test_sparql_injection_through_bind_is_refused(cli, release: Path, value: str) -> None:
    result = q(cli, release, "-e", "SELECT ?s WHERE { ?s ?p ?o }", "--bind", f"o={value}")
    assert result.exit_code == 2
    assert "--bind: error:" in result.output


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("LOAD <http://example.org/data.ttl>", "updates"),
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "updates"),
        ("DROP ALL", "updates"),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE is refused"),
        ("SELECT * WHERE { ?x ?y ?z OPTIONAL { SERVICE SILENT <http://e/s> { ?s ?p ?o } } }", "SERVICE is refused"),
        ("SELEC * WHERE { }", "SPARQL syntax error"),
    ],
)
def test_updates_service_and_syntax_errors_are_refused(cli, release: Path, query: str, fragment: str) -> None:
    result = q(cli, release, "-e", query)
    assert result.exit_code == 2
    assert fragment in result.output


def test_unknown_bound_variable_is_an_error(cli, release: Path) -> None:
    result = q(cli, release, CQ15, "--bind", "klass=carnk:NKCell")
    assert result.exit_code == 2 and "?klass does not occur" in result.output


def test_timeout_really_stops_the_query(cli, release: Path) -> None:
    started = time.monotonic()
    result = q(cli, release, "-e", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", "--timeout", "1")
    elapsed = time.monotonic() - started
    assert result.exit_code == 2
    assert "query stopped after the 1 s timeout" in result.output
    assert elapsed < 15, f"the query was not stopped ({elapsed:.1f} s)"


def test_ask_and_construct(cli, release: Path) -> None:
    ask = q(cli, release, "-e", "ASK { <https://w3id.org/carnk/NKCell> ?p ?o }")
    assert ask.output.strip() == "true"
    construct = q(
        cli, release, "-e", "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t . FILTER (?s = <https://w3id.org/carnk/NKCell>) }"
    )
    assert "<https://w3id.org/carnk/NKCell> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>" in construct.output


def test_store_is_built_once_and_reused(release: Path) -> None:
    from carnk_ld.store import store_path

    first = store_path(release)
    stamp = (first / "COMPLETE").stat().st_mtime_ns
    assert store_path(release) == first
    assert (first / "COMPLETE").stat().st_mtime_ns == stamp
