"""carnk-ld query: results, formats, parameters, refusals and the timeout.

The classes, labels and mappings the tests ask about are read from the project's inputs
(sssom-pydantic for the mapping set, rdflib for the ontology), not assumed. ``--bind`` values
that are not a single RDF term are cases of tests/bad_inputs/.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import sssom_pydantic

C = "https://w3id.org/carnk/"
CQ15 = "cq-15-external-matches.rq"


@dataclass(frozen=True)
class Mapped:
    """A class of the project with its label and its mapping rows (predicate, object IRI, object label)."""

    local: str
    label: str
    rows: list[tuple[str, str, str]]


@pytest.fixture(scope="module")
def mapped(project_root: Path) -> Mapped:
    mappings, converter, _ = sssom_pydantic.read(project_root / "mappings" / "carnk.sssom.tsv")
    rows: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for m in mappings:
        if m.object.prefix != "sssom":
            target = converter.expand(f"{m.object.prefix}:{m.object.identifier}")
            rows[m.subject.identifier].append((m.predicate.identifier, target, m.object.name))
    local = max(sorted(rows), key=lambda name: len(rows[name]))  # the most linked class: several rows
    graph = rdflib.Graph()
    graph.parse(project_root / "ontology" / "carnk.ttl", format="turtle")
    label = str(graph.value(rdflib.URIRef(C + local), rdflib.RDFS.label))
    return Mapped(local, label, rows[local])


def q(cli, release: Path, *args: str):
    return cli("query", "--release", str(release), *args)


def test_table_output_with_a_bound_parameter(cli, release: Path, project_root: Path, mapped: Mapped) -> None:
    result = q(cli, release, str(project_root / "queries" / CQ15), "--bind", f"class=carnk:{mapped.local}")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [cell.strip() for cell in lines[0].split("|")] == ["class", "match", "term", "label"]
    body = [[cell.strip() for cell in line.split("|")] for line in lines[2:-1]]
    assert sorted((row[0], row[1], row[3]) for row in body) == sorted(
        (f"carnk:{mapped.local}", f"skos:{predicate}", label) for predicate, _, label in mapped.rows
    )
    assert lines[-1] == f"({len(mapped.rows)} rows)"


def test_json_output_is_sparql_results_json(cli, release: Path, project_root: Path, mapped: Mapped) -> None:
    query = str(project_root / "queries" / CQ15)
    result = q(cli, release, query, "--bind", f"class=<{C}{mapped.local}>", "--format", "json")
    data = json.loads(result.output)
    assert data["head"]["vars"] == ["class", "match", "term", "label"]
    terms = {b["term"]["value"] for b in data["results"]["bindings"]}
    assert terms == {target for _, target, _ in mapped.rows}


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv(cli, release: Path, mapped: Mapped, fmt: str) -> None:
    result = q(
        cli,
        release,
        "-e",
        f"SELECT ?label WHERE {{ <{C}{mapped.local}> <http://www.w3.org/2000/01/rdf-schema#label> ?label }}",
        "--format",
        fmt,
    )
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == ("label" if fmt == "csv" else "?label")
    assert mapped.label in result.output.splitlines()[1]


def test_literal_bindings_are_terms_not_text(cli, release: Path, mapped: Mapped) -> None:
    query = "SELECT ?c WHERE { ?c <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    result = q(cli, release, "-e", query, "--bind", f'label="{mapped.label}"@en')
    assert result.exit_code == 0 and f"carnk:{mapped.local}" in result.output and "(1 row)" in result.output
    untagged = q(cli, release, "-e", query, "--bind", f'label="{mapped.label}"')
    assert untagged.exit_code == 0 and "(0 rows)" in untagged.output


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


def test_unknown_bound_variable_is_an_error(cli, release: Path, project_root: Path) -> None:
    result = q(cli, release, str(project_root / "queries" / CQ15), "--bind", "klass=carnk:NKCell")
    assert result.exit_code == 2 and "?klass does not occur" in result.output


def test_timeout_really_stops_the_query(cli, release: Path) -> None:
    started = time.monotonic()
    result = q(cli, release, "-e", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", "--timeout", "1")
    elapsed = time.monotonic() - started
    assert result.exit_code == 2
    assert "query stopped after the 1 s timeout" in result.output
    assert elapsed < 15, f"the query was not stopped ({elapsed:.1f} s)"


def test_ask_and_construct(cli, release: Path, mapped: Mapped) -> None:
    iri = f"<{C}{mapped.local}>"
    ask = q(cli, release, "-e", f"ASK {{ {iri} ?p ?o }}")
    assert ask.output.strip() == "true"
    assert q(cli, release, "-e", "ASK { <https://example.org/nothing> ?p ?o }").output.strip() == "false"
    construct = q(cli, release, "-e", f"CONSTRUCT {{ ?s a ?t }} WHERE {{ ?s a ?t . FILTER (?s = {iri}) }}")
    assert (
        construct.output
        == f"{iri} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Class> .\n"
    )


def test_a_query_may_use_the_release_prefixes_without_declaring_them(cli, sample_release: Path) -> None:
    query = "SELECT ?t WHERE { ?t carnk:hasToxicityRisk carnk:GraftVersusHostDisease }"
    result = q(cli, sample_release, "-e", query, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["t", "https://w3id.org/carnk/CARTCellTherapy"]
    # A query's own PREFIX line wins over the release's.
    own = q(cli, sample_release, "-e", "PREFIX carnk: <https://example.org/>\n" + query, "--format", "csv")
    assert own.exit_code == 0 and own.output.split() == ["t"]


def test_store_is_built_once_and_reused(release: Path) -> None:
    from carnk_ld.store import store_path

    first = store_path(release)
    stamp = (first / "COMPLETE").stat().st_mtime_ns
    assert store_path(release) == first
    assert (first / "COMPLETE").stat().st_mtime_ns == stamp


def test_a_query_file_that_is_not_utf8_is_named_at_its_line(cli, sample_release: Path, tmp_path: Path) -> None:
    query = tmp_path / "latin1.rq"
    query.write_bytes(b'SELECT ?s WHERE {\n  ?s ?p "caf\xe9" }\n')
    result = q(cli, sample_release, str(query))
    assert result.exit_code == 2
    assert f"{query}:2:" in result.output and "not UTF-8" in result.output and "Traceback" not in result.output


def test_the_timeout_bounds_checking_a_huge_query(cli, sample_release: Path) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } VALUES ?o { " + "<http://e/o> " * 90000 + "}"  # over 1 MiB: slow to parse
    started = time.monotonic()
    result = q(cli, sample_release, "-e", query, "--timeout", "2")
    assert result.exit_code == 2 and "query stopped after the 2 s timeout" in result.output
    assert time.monotonic() - started < 20


def test_a_query_file_that_is_not_a_regular_file_is_refused_without_waiting(
    cli, sample_release: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "query.rq"
    os.mkfifo(fifo)  # no writer: reading it would wait for ever, whatever --timeout says
    started = time.monotonic()
    result = q(cli, sample_release, str(fifo), "--timeout", "2")
    assert result.exit_code == 2 and f"{fifo}: error: the query is not a regular file" in result.output
    assert time.monotonic() - started < 20


def test_a_checksum_list_that_is_not_a_regular_file_is_refused_without_waiting(
    cli, sample_release: Path, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    shutil.copytree(sample_release, release)
    (release / "SHA256SUMS").unlink()
    os.mkfifo(release / "SHA256SUMS")  # no writer: reading it would wait for ever
    started = time.monotonic()
    result = q(cli, release, "-e", "ASK {}", "--timeout", "2")
    assert result.exit_code == 2, result.output
    assert f"{release / 'SHA256SUMS'}: error: not a regular file" in result.output
    assert time.monotonic() - started < 20


def test_a_byte_order_mark_before_the_query_is_not_part_of_it(cli, sample_release: Path, tmp_path: Path) -> None:
    query = tmp_path / "bom.rq"
    query.write_bytes("\ufeffASK { ?s ?p ?o }\n".encode())
    result = q(cli, sample_release, str(query))
    assert result.exit_code == 0 and result.output.strip() == "true", result.output


def test_bindings_keep_the_release_prefixes_and_the_querys_own(cli, sample_release: Path) -> None:
    query = "SELECT ?k WHERE { carnk:NKCell a ?k }"
    result = q(cli, sample_release, "-e", query, "--bind", "k=owl:Class")
    assert result.exit_code == 0 and result.output.split()[-3:] == ["owl:Class", "(1", "row)"], result.output
    # Another prefix for the release's namespace: rdflib's prefix table would forget carnk:.
    aliased = "PREFIX nk: <https://w3id.org/carnk/>\nSELECT ?k WHERE { carnk:NKCell a ?k . nk:NKCell a ?k }"
    result = q(cli, sample_release, "-e", aliased, "--bind", "k=owl:Class")
    assert result.exit_code == 0 and "owl:Class" in result.output, result.output


def test_a_symlinked_release_keeps_its_store_next_to_the_folder_it_names(
    cli, sample_release: Path, tmp_path: Path
) -> None:
    target = tmp_path / "data" / "release"
    shutil.copytree(sample_release, target)
    links = tmp_path / "links"
    links.mkdir()
    (links / "current").symlink_to(target)
    result = q(cli, links / "current", "-e", "ASK { ?s ?p ?o }")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in links.iterdir()) == ["current"]
    assert (tmp_path / "data" / ".release.store").is_dir()


def test_the_project_prefixes_are_predeclared(cli, sample_release: Path) -> None:
    result = q(cli, sample_release, "-e", "SELECT ?s WHERE { ?s a carnk:Statement } LIMIT 1", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.split()[1].startswith("https://w3id.org/carnk/kg/fact/")


def test_no_query_prints_the_usage(cli, sample_release: Path) -> None:
    result = q(cli, sample_release)
    assert result.exit_code == 2
    assert "Usage:" in result.output and "-e 'SELECT" in result.output
    assert "not both" not in result.output


@pytest.mark.parametrize(
    ("query", "where", "fragment"),
    [
        ("SELECT ?s WHERE { ?s a carnk:Statement ", "-e:1:40:", "expected one of"),
        ("SELECT ?s\nWHERE { ?s a foo:Bar }", "-e:2:14:", "the prefix foo: is not declared"),
        ("SELEC ?s WHERE { }", "-e:1:", "SPARQL syntax error"),
    ],
)
def test_a_parse_error_is_one_line_with_its_position(
    cli, sample_release: Path, query: str, where: str, fragment: str
) -> None:
    result = q(cli, sample_release, "-e", query)
    assert result.exit_code == 2
    error = [line for line in result.output.splitlines() if not line.startswith("  hint:")]
    assert len(error) == 1, result.output
    assert error[0].startswith(where) and fragment in error[0], result.output
    assert "\\u{" not in result.output and "(at char" not in result.output


CONSTRUCT = "CONSTRUCT { ?s a carnk:Statement ; carnk:polarity ?p } WHERE { ?s a carnk:Statement ; carnk:polarity ?p }"


@pytest.mark.parametrize(
    ("fmt", "rdf_format", "first"),
    [
        ("turtle", ox.RdfFormat.TURTLE, "@prefix"),
        ("ntriples", ox.RdfFormat.N_TRIPLES, "<https://w3id.org/carnk/kg/fact/"),
        ("jsonld", ox.RdfFormat.JSON_LD, "{"),
        ("json", ox.RdfFormat.JSON_LD, "{"),
        ("table", ox.RdfFormat.N_TRIPLES, "<https://w3id.org/carnk/kg/fact/"),
    ],
)
@pytest.mark.parametrize("form", ["construct", "describe"])
def test_construct_and_describe_honour_the_format_deterministically(
    cli, sample_release: Path, fmt: str, rdf_format: ox.RdfFormat, first: str, form: str
) -> None:
    if form == "construct":
        query, expected = CONSTRUCT, q(cli, sample_release, "-e", CONSTRUCT, "--format", "ntriples").output
    else:
        query = "DESCRIBE ?s WHERE { ?s a carnk:Statement ; carnk:polarity carnk:Negated }"
        expected = q(cli, sample_release, "-e", query, "--format", "ntriples").output
    result = q(cli, sample_release, "-e", query, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(first), result.output[:200]
    got = {str(t) for t in ox.parse(result.output.encode(), format=rdf_format)}
    assert got == {str(t) for t in ox.parse(expected.encode(), format=ox.RdfFormat.N_TRIPLES)}
    assert len(got) >= 2
    assert q(cli, sample_release, "-e", query, "--format", fmt).output == result.output


@pytest.mark.parametrize(
    ("query", "fmt", "fragment"),
    [
        (CONSTRUCT, "csv", "csv is for the rows of a SELECT query; the query is a CONSTRUCT query"),
        ("DESCRIBE carnk:NKCell", "tsv", "the query is a DESCRIBE query"),
        ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", "turtle", "turtle is for the graph of a CONSTRUCT or DESCRIBE"),
        ("ASK { ?s ?p ?o }", "jsonld", "the query is an ASK query"),
    ],
)
def test_a_format_the_answer_cannot_take_is_a_clear_error(
    cli, sample_release: Path, query: str, fmt: str, fragment: str
) -> None:
    result = q(cli, sample_release, "-e", query, "--format", fmt)
    assert result.exit_code == 2
    assert result.output.startswith("--format: error: ") and fragment in result.output, result.output


def test_the_python_stores_predeclare_the_same_prefixes(sample_release: Path) -> None:
    from carnk_ld.constants import PREFIXES
    from carnk_ld.store import EmbeddedStore, with_prefixes

    query = "SELECT ?s WHERE { ?s a carnk:Statement ; carnk:polarity carnk:Negated }"
    table = EmbeddedStore.for_release(sample_release).select(query)
    assert table.rows
    sent = with_prefixes(query)  # what RemoteStore sends: a text any SPARQL endpoint reads
    assert {f"PREFIX {name}: <{iri}>" for name, iri in PREFIXES.items()} <= set(sent.splitlines())
    memory = ox.Store()
    memory.bulk_load(path=str(sample_release / "carnk.nq"), format=ox.RdfFormat.N_QUADS)
    assert len(list(memory.query(sent, use_default_graph_as_union=True))) == len(table.rows)
    own = with_prefixes("PREFIX carnk: <https://example.org/>\n" + query)
    assert "PREFIX carnk: <https://w3id.org/carnk/>" not in own
