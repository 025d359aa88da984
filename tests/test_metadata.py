"""The released ontology carries OBO metadata, in ontology.owl and in the ontology graph of carnk.nq.

Each test reads the built files, as a user or an OBO reviewer would: dates, a version IRI that
names the versioned release file, creators as IRIs, the preferred prefix and the language policy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, XSD

from carnk_ld.ontology import release_iri
from tests.conftest import edit

ONTOLOGY = rdflib.URIRef("https://w3id.org/carnk/ontology")
VANN = rdflib.Namespace("http://purl.org/vocab/vann/")
OBO_DEF = rdflib.URIRef("http://purl.obolibrary.org/obo/IAO_0000115")
OBOINOWL = "http://www.geneontology.org/formats/oboInOwl#"
TEXT = {
    RDFS.label,
    RDFS.comment,
    OBO_DEF,
    DCTERMS.title,
    DCTERMS.description,
    *(rdflib.URIRef(OBOINOWL + f"has{kind}Synonym") for kind in ("Exact", "Related", "Broad", "Narrow")),
}


def _owl(release: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(release / "ontology.owl", format="xml")


def _nq_ontology(release: Path) -> rdflib.Graph:
    dataset = rdflib.Dataset()
    dataset.parse(release / "carnk.nq", format="nquads")
    graph = rdflib.Graph()
    for triple in dataset.graph(rdflib.URIRef("https://w3id.org/carnk/kg/graph/ontology")):
        graph.add(triple)
    return graph


@pytest.fixture(scope="module", params=["ontology.owl", "carnk.nq"])
def built(request: pytest.FixtureRequest, release: Path) -> rdflib.Graph:
    graph = _owl(release) if request.param == "ontology.owl" else _nq_ontology(release)
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in graph
    return graph


def test_version_iri_names_the_versioned_release_file(built: rdflib.Graph) -> None:
    version = str(built.value(ONTOLOGY, OWL.versionInfo))
    iri = str(built.value(ONTOLOGY, OWL.versionIRI))
    assert iri == f"https://w3id.org/carnk/releases/{version}/ontology.owl"
    assert iri == release_iri(version)


def test_release_publishes_the_file_the_version_iri_names(release: Path, built: rdflib.Graph) -> None:
    name = str(built.value(ONTOLOGY, OWL.versionIRI)).rsplit("/", 1)[1]
    assert (release / name).is_file()


def test_dates_are_xsd_dates_and_created_is_not_after_issued(built: rdflib.Graph) -> None:
    created = built.value(ONTOLOGY, DCTERMS.created)
    issued = built.value(ONTOLOGY, DCTERMS.issued)
    for value in (created, issued):
        assert isinstance(value, rdflib.Literal) and value.datatype == XSD.date, value
        assert value.ill_typed is False
    assert created.toPython() <= issued.toPython()


def test_prior_version_when_present_is_an_earlier_release_file(built: rdflib.Graph) -> None:
    # 0.1.0 is the first release; from the next one on the header names the one before.
    version = str(built.value(ONTOLOGY, OWL.versionInfo))
    priors = list(built.objects(ONTOLOGY, OWL.priorVersion))
    if version == "0.1.0":
        assert priors == []
    else:
        assert len(priors) == 1 and str(priors[0]).startswith("https://w3id.org/carnk/releases/")
        assert str(priors[0]) != release_iri(version)


def test_creators_and_contributors_are_typed_labelled_iris(built: rdflib.Graph) -> None:
    agents = list(built.objects(ONTOLOGY, DCTERMS.creator)) + list(built.objects(ONTOLOGY, DCTERMS.contributor))
    assert agents
    for agent in agents:
        assert isinstance(agent, rdflib.URIRef), agent
        assert str(agent).startswith(("https://orcid.org/", "https://w3id.org/carnk/")), agent
        assert built.value(agent, RDFS.label) is not None, agent
        assert rdflib.URIRef("http://www.w3.org/ns/prov#Organization") in set(built.objects(agent, RDF.type)) or str(
            agent
        ).startswith("https://orcid.org/")


def test_preferred_prefix_and_namespace(built: rdflib.Graph) -> None:
    assert str(built.value(ONTOLOGY, VANN.preferredNamespacePrefix)) == "carnk"
    assert str(built.value(ONTOLOGY, VANN.preferredNamespaceUri)) == "https://w3id.org/carnk/"


def test_every_human_readable_literal_is_english(built: rdflib.Graph) -> None:
    untagged = sorted(
        f"{s} {p} {o!r}" for s, p, o in built if p in TEXT and isinstance(o, rdflib.Literal) and o.language != "en"
    )
    assert untagged == []


def test_a_prior_release_is_published_as_prior_version(sample_corpus: Path, cli, tmp_path: Path) -> None:
    prior = "https://w3id.org/carnk/releases/0.0.9/ontology.owl"
    edit(
        sample_corpus / "ontology" / "carnk.ttl",
        '    owl:versionInfo "0.1.0" ;',
        f'    owl:versionInfo "0.1.0" ;\n    owl:priorVersion <{prior}> ;',
    )
    out = tmp_path / "release"
    result = cli("build", "--root", str(sample_corpus), "--out", str(out))
    assert result.exit_code == 0, result.output
    for graph in (_owl(out), _nq_ontology(out)):
        assert list(graph.objects(ONTOLOGY, OWL.priorVersion)) == [rdflib.URIRef(prior)]
