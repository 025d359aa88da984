"""A release that describes itself correctly (issue 18): the knowledge graph is a dataset, not the
ontology; JSON-LD keeps the named graphs; DCAT and VoID describe every file and graph.

All on the sample corpus (tests/fixtures/corpus), never on the project's own corpus.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import owlready2
import pyld.jsonld
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, RDF, VOID, XSD

ONTOLOGY = rdflib.URIRef("https://w3id.org/carnk/ontology")
DATASET = rdflib.URIRef("https://w3id.org/carnk/kg/dataset")
GRAPHS = ("facts", "mappings", "metadata", "ontology", "provenance")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")  # DCAT 3 (rdflib's DCAT has no dcat:version)
IANA = "https://www.iana.org/assignments/media-types/"

#: Issue 18's table of media types, plus the release's other kinds of file (written here, not read from the code).
MEDIA_TYPES = {
    ".ttl": "text/turtle",
    ".jsonld": "application/ld+json",
    ".nt": "application/n-triples",
    ".nq": "application/n-quads",
    ".owl": "application/rdf+xml",
    ".rdf": "application/rdf+xml",
    ".tsv": "text/tab-separated-values",
    ".txt": "text/plain",
    ".json": "application/json",
    "": "text/plain",  # SHA256SUMS
}

#: A file cannot state its own size or digest, and SHA256SUMS holds void.ttl's digest.
UNMEASURED = {"void.ttl", "SHA256SUMS"}


def graph_of(path: Path, fmt: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(path, format=fmt)
    return graph


def dataset_of(nquads: str) -> dict[str, rdflib.Graph]:
    """Named graphs of N-Quads text, by the graph's IRI."""
    dataset = rdflib.Dataset()
    dataset.parse(data=nquads, format="nquads")
    graphs: dict[str, rdflib.Graph] = {}
    for s, p, o, g in dataset.quads((None, None, None, None)):
        graphs.setdefault(str(g), rdflib.Graph()).add((s, p, o))
    return graphs


def owl_ontology_iri(path: Path, fmt: str) -> str:
    """The ontology IRI an OWL tool (owlready2) gives a file loaded under a base of our choosing."""
    world = owlready2.World()
    with path.open("rb") as handle:
        ontology = world.get_ontology("urn:x-carnk-test:loaded#").load(fileobj=handle, format=fmt)
    return ontology.base_iri


# -- 1. the knowledge graph is a dataset, not the ontology ------------------------------


@pytest.mark.parametrize(("name", "fmt"), [("carnk.nt", "nt"), ("carnk.ttl", "turtle")])
def test_the_one_graph_dumps_do_not_claim_to_be_the_ontology(sample_release: Path, name: str, fmt: str) -> None:
    dump = graph_of(sample_release / name, fmt)
    assert not list(dump.subjects(RDF.type, OWL.Ontology)), f"{name} declares an owl:Ontology"
    assert not list(dump.triples((None, OWL.versionIRI, None))), f"{name} has a versionIRI"
    assert not list(dump.triples((ONTOLOGY, None, None))), f"{name} describes the ontology's IRI"
    # it is the dataset kg:dataset, which conforms to the ontology
    assert (DATASET, RDF.type, DCAT.Dataset) in dump and (DATASET, RDF.type, VOID.Dataset) in dump
    assert (DATASET, DCTERMS.conformsTo, ONTOLOGY) in dump
    # what is left out is the ontology's header and nothing else: every other quad of carnk.nq is in it
    union = rdflib.Graph()
    for graph in dataset_of((sample_release / "carnk.nq").read_text(encoding="utf-8")).values():
        for triple in graph:
            if triple[0] != ONTOLOGY:
                union.add(triple)
    assert isomorphic(union, dump), f"{name} is not carnk.nq's triples less the ontology header"


def test_an_owl_tool_reads_the_ontology_only_from_the_ontology_files(sample_release: Path) -> None:
    assert owl_ontology_iri(sample_release / "carnk.nt", "ntriples") == "urn:x-carnk-test:loaded#"
    assert owl_ontology_iri(sample_release / "ontology.owl", "rdfxml") == str(ONTOLOGY) + "#"
    for name, fmt in (("ontology.owl", "xml"), ("ontology-inferred.ttl", "turtle")):
        ontology = graph_of(sample_release / name, fmt)
        assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology, name
        assert ontology.value(ONTOLOGY, OWL.versionIRI) is not None, name
    graphs = dataset_of((sample_release / "carnk.nq").read_text(encoding="utf-8"))
    ontology_graph = graphs["https://w3id.org/carnk/kg/graph/ontology"]
    assert isomorphic(ontology_graph, graph_of(sample_release / "ontology.owl", "xml"))
    assert not any(
        (ONTOLOGY, None, None) in graph for name, graph in graphs.items() if not name.endswith("/graph/ontology")
    ), "only the ontology graph describes the ontology"


# -- 2. JSON-LD keeps the named graphs -----------------------------------------------------


def no_fetch(url: str, options: dict | None = None) -> dict:
    raise AssertionError(f"JSON-LD processing tried to fetch {url}")


def test_jsonld_is_the_named_graphs_of_the_nquads_for_a_json_ld_1_0_processor(sample_release: Path) -> None:
    document = json.loads((sample_release / "carnk.jsonld").read_text(encoding="utf-8"))
    assert [node["@id"] for node in document["@graph"]] == [f"kg:graph/{name}" for name in GRAPHS]
    assert all(set(node) == {"@id", "@graph"} for node in document["@graph"]), "graph objects only"
    options = {"format": "application/n-quads", "processingMode": "json-ld-1.0", "documentLoader": no_fetch}
    from_jsonld = dataset_of(pyld.jsonld.to_rdf(document, options))
    expected = dataset_of((sample_release / "carnk.nq").read_text(encoding="utf-8"))
    assert set(from_jsonld) == set(expected) == {f"https://w3id.org/carnk/kg/graph/{name}" for name in GRAPHS}
    for name, graph in expected.items():
        assert len(from_jsonld[name]) == len(graph) and isomorphic(from_jsonld[name], graph), name


def test_the_published_context_needs_no_json_ld_1_1(sample_release: Path) -> None:
    context = json.loads((sample_release / "context.jsonld").read_text(encoding="utf-8"))
    assert "@version" not in context["@context"]
    document = json.loads((sample_release / "carnk.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == context["@context"]
    statements = next(g for g in document["@graph"] if g["@id"] == "kg:graph/facts")["@graph"]
    statement = next(n for n in statements if n.get("@type") == "carnk:Statement")
    # a 1.0 processor expands the context's compact IRIs
    expanded = pyld.jsonld.expand(
        {"@context": context["@context"], **statement}, {"processingMode": "json-ld-1.0", "documentLoader": no_fetch}
    )
    assert "http://www.w3.org/1999/02/22-rdf-syntax-ns#subject" in expanded[0]


# -- 3. DCAT and VoID --------------------------------------------------------------------


def media_type_of(name: str) -> str:
    return MEDIA_TYPES[Path(name).suffix]


def test_every_release_file_is_one_distribution_with_its_size_and_digest(sample_release: Path) -> None:
    void = graph_of(sample_release / "void.ttl", "turtle")
    version = str(void.value(DATASET, DCAT.version))
    files = sorted(p.name for p in sample_release.iterdir() if p.is_file())
    distributions = set(void.objects(DATASET, DCAT.distribution))
    assert len(distributions) == len(files)
    by_file = {}
    for distribution in distributions:
        assert (distribution, RDF.type, DCAT.Distribution) in void
        urls = list(void.objects(distribution, DCAT.downloadURL))
        assert len(urls) == 1, distribution
        assert str(urls[0]).startswith(f"https://w3id.org/carnk/releases/{version}/")
        by_file[str(urls[0]).rsplit("/", 1)[1]] = distribution
    assert sorted(by_file) == files
    for name, distribution in by_file.items():
        data = (sample_release / name).read_bytes()
        assert list(void.objects(distribution, DCAT.mediaType)) == [rdflib.URIRef(IANA + media_type_of(name))], name
        sizes = list(void.objects(distribution, DCAT.byteSize))
        checksums = list(void.objects(distribution, SPDX.checksum))
        if name in UNMEASURED:
            assert sizes == [] and checksums == [], name
            continue
        assert sizes == [rdflib.Literal(len(data), datatype=XSD.nonNegativeInteger)], name
        assert len(checksums) == 1, name
        assert void.value(checksums[0], SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        value = void.value(checksums[0], SPDX.checksumValue)
        assert value.datatype == XSD.hexBinary and str(value) == hashlib.sha256(data).hexdigest(), name
    dumps = {str(url).rsplit("/", 1)[1] for url in void.objects(DATASET, VOID.dataDump)}
    assert dumps == {"carnk.nq", "carnk.jsonld", "carnk.nt", "carnk.ttl"}


def test_the_dataset_counts_every_graph_and_its_total(sample_release: Path) -> None:
    graphs = dataset_of((sample_release / "carnk.nq").read_text(encoding="utf-8"))
    metadata = graphs["https://w3id.org/carnk/kg/graph/metadata"]
    union = rdflib.Graph()
    for graph in graphs.values():
        union += graph
    assert int(metadata.value(DATASET, VOID.triples)) == len(union)
    subsets = {str(s) for s in metadata.objects(DATASET, VOID.subset) if "/graph/" in str(s)}
    assert subsets == set(graphs), "every named graph, the metadata graph included"
    for name, graph in graphs.items():
        assert int(metadata.value(rdflib.URIRef(name), VOID.triples)) == len(graph), name
    # the dumps' metadata graph carries no size or digest (a file cannot hold its own); void.ttl does
    assert not list(metadata.triples((None, DCAT.byteSize, None)))
    assert not list(metadata.triples((None, SPDX.checksum, None)))
    void = graph_of(sample_release / "void.ttl", "turtle")
    assert set(metadata) <= set(void)


def test_dates_licence_and_publisher_come_from_the_ontology_header(sample_release: Path) -> None:
    ontology = graph_of(sample_release / "ontology.owl", "xml")
    void = graph_of(sample_release / "void.ttl", "turtle")
    assert void.value(DATASET, DCTERMS.issued) == ontology.value(ONTOLOGY, DCTERMS.created)
    assert void.value(DATASET, DCTERMS.modified) == ontology.value(ONTOLOGY, DCTERMS.issued)
    assert void.value(DATASET, DCTERMS.modified).datatype == XSD.date
    licence = ontology.value(ONTOLOGY, DCTERMS.license)
    assert licence is not None and void.value(DATASET, DCTERMS.license) == licence
    publisher = void.value(DATASET, DCTERMS.publisher)
    assert publisher == ontology.value(ONTOLOGY, DCTERMS.creator)
    assert (publisher, RDF.type, rdflib.URIRef("http://www.w3.org/ns/prov#Organization")) in ontology
    assert str(void.value(DATASET, DCAT.version)) == str(ontology.value(ONTOLOGY, OWL.versionInfo))
    for distribution in void.objects(DATASET, DCAT.distribution):
        assert void.value(distribution, DCTERMS.license) == licence
        assert void.value(distribution, DCTERMS.issued) == ontology.value(ONTOLOGY, DCTERMS.issued)
