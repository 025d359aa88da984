"""The release: every serialisation says the same thing, deterministically."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyld.jsonld
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import to_isomorphic

from carnk_ld.constants import GRAPH_FACTS, GRAPH_MAPPINGS, GRAPH_METADATA, GRAPH_ONTOLOGY, GRAPH_PROVENANCE
from tests.conftest import assert_isomorphic, run_process, tree_bytes

EXPECTED_FILES = {
    "SHA256SUMS",
    "carnk.jsonld",
    "carnk.nq",
    "carnk.nt",
    "carnk.sssom.tsv",
    "carnk.sssom.ttl",
    "carnk.ttl",
    "context.jsonld",
    "class-hierarchy.tsv",
    "coverage.tsv",
    "ontology-inferred.ttl",
    "ontology.owl",
    "mapping-coverage.tsv",
    "qc-report.tsv",
    "qc-report.txt",
    "void.ttl",
    "validation-report.txt",
}


def parse(path: Path, fmt: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(path, format=fmt)
    return graph


def no_fetch(url: str, options: dict | None = None) -> dict:
    raise AssertionError(f"JSON-LD processing tried to fetch {url}")


def test_release_has_every_file(release: Path) -> None:
    assert {p.name for p in release.iterdir()} == EXPECTED_FILES


def test_checksums_match_the_files(release: Path) -> None:
    lines = (release / "SHA256SUMS").read_text().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert set(listed) == EXPECTED_FILES - {"SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest


def test_all_serialisations_are_isomorphic(release: Path) -> None:
    nt = parse(release / "carnk.nt", "nt")
    assert len(nt) == len((release / "carnk.nt").read_text(encoding="utf-8").splitlines()) > 0
    assert_isomorphic(nt, parse(release / "carnk.ttl", "turtle"), "carnk.ttl")
    dataset = rdflib.Dataset()
    dataset.parse(release / "carnk.nq", format="nquads")
    union = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    assert_isomorphic(nt, union, "carnk.nq")
    # JSON-LD read back by pyld, an independent processor, with fetching forbidden
    document = json.loads((release / "carnk.jsonld").read_text(encoding="utf-8"))
    nquads = pyld.jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": no_fetch})
    from_jsonld = rdflib.Graph()
    from_jsonld.parse(data=nquads, format="nt")
    assert_isomorphic(nt, from_jsonld, "carnk.jsonld read by pyld")
    # and by rdflib's own JSON-LD parser
    assert_isomorphic(nt, parse(release / "carnk.jsonld", "json-ld"), "carnk.jsonld read by rdflib")


def test_jsonld_uses_the_published_context(release: Path) -> None:
    document = json.loads((release / "carnk.jsonld").read_text(encoding="utf-8"))
    context = json.loads((release / "context.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == context["@context"]
    assert context["@context"]["@version"] == 1.1
    # compacted: properties use prefixes, not full IRIs
    statement = next(n for n in document["@graph"] if n.get("@type") == "carnk:Statement")
    assert "rdf:subject" in statement and "carnk:polarity" in statement
    # a document that references the context file expands the same with a local loader
    referenced = {"@context": "https://w3id.org/carnk/context.jsonld", "@graph": document["@graph"]}

    def local_loader(url: str, options: dict | None = None) -> dict:
        assert url == "https://w3id.org/carnk/context.jsonld"
        return {"contextUrl": None, "documentUrl": url, "document": context}

    expanded = pyld.jsonld.expand(referenced, {"documentLoader": local_loader})
    assert expanded == pyld.jsonld.expand(document, {"documentLoader": no_fetch})


def test_ontology_rdfxml_is_the_ontology_graph(release: Path, project_root: Path) -> None:
    dataset = rdflib.Dataset()
    dataset.parse(release / "carnk.nq", format="nquads")
    ontology = rdflib.Graph()
    for s, p, o in dataset.graph(rdflib.URIRef(GRAPH_ONTOLOGY)):
        ontology.add((s, p, o))
    assert_isomorphic(ontology, parse(release / "ontology.owl", "xml"), "ontology.owl")
    source = parse(project_root / "ontology" / "carnk.ttl", "turtle")
    assert_isomorphic(source, ontology, "the ontology graph of carnk.nq")


def test_nquads_have_one_graph_per_component_and_no_blank_nodes_outside_owl(release: Path) -> None:
    quads = list(ox.parse(path=str(release / "carnk.nq")))
    graphs = {q.graph_name.value for q in quads}
    assert graphs == {GRAPH_ONTOLOGY, GRAPH_FACTS, GRAPH_PROVENANCE, GRAPH_MAPPINGS, GRAPH_METADATA}
    for quad in quads:
        if quad.graph_name.value != GRAPH_ONTOLOGY:
            assert not isinstance(quad.subject, ox.BlankNode), quad
            assert not isinstance(quad.object, ox.BlankNode), quad


def test_ntriples_are_sorted_and_unique(release: Path) -> None:
    lines = (release / "carnk.nt").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(set(lines))


@pytest.mark.slow
def test_rebuild_in_separate_processes_is_byte_identical(tmp_path: Path, project_root: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for out in (first, second):
        result = run_process("build", "--root", str(project_root), "--out", str(out))
        assert result.returncode == 0, result.stderr
    assert tree_bytes(first) == tree_bytes(second)


@pytest.mark.slow
def test_release_does_not_depend_on_where_the_corpus_lives(corpus: Path, release: Path) -> None:
    out = corpus / "elsewhere"
    result = run_process("build", "--root", ".", "--out", "elsewhere", cwd=corpus)
    assert result.returncode == 0, result.stderr
    assert tree_bytes(out) == tree_bytes(release)


def test_committed_release_is_what_the_inputs_build(release: Path, project_root: Path) -> None:
    committed = project_root / "build"
    assert tree_bytes(committed) == tree_bytes(release), "build/ is stale: run `make build` and commit it"


def test_blank_node_labels_are_canonical(release: Path) -> None:
    text = (release / "carnk.nt").read_text(encoding="utf-8")
    labels = {token for line in text.splitlines() for token in line.split() if token.startswith("_:")}
    assert labels and all(label.startswith("_:c14n") for label in labels)
    canonical = to_isomorphic(parse(release / "carnk.nt", "nt"))
    assert len(canonical) == len(text.splitlines())


def test_a_failed_isomorphism_names_the_differing_triples() -> None:
    one, two = rdflib.Graph(), rdflib.Graph()
    one.parse(data="<urn:a> <urn:p> <urn:b> .\n<urn:a> <urn:p> <urn:c> .\n", format="nt")
    two.parse(data="<urn:a> <urn:p> <urn:b> .\n<urn:a> <urn:p> <urn:d> .\n", format="nt")
    with pytest.raises(AssertionError) as failure:
        assert_isomorphic(one, two, "copy")
    text = str(failure.value)
    assert "<urn:a> <urn:p> <urn:c> ." in text and "<urn:a> <urn:p> <urn:d> ." in text
    assert "<urn:b>" not in text
