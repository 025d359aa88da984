"""The ontology covers the document's concepts with labels, definitions and synonyms."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from tests.conftest import PROJECT

CARNK = rdflib.Namespace("https://w3id.org/carnk/")
IAO_DEFINITION = rdflib.URIRef("http://purl.obolibrary.org/obo/IAO_0000115")
EXACT = rdflib.URIRef("http://www.geneontology.org/formats/oboInOwl#hasExactSynonym")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(PROJECT / "ontology" / "carnk.ttl", format="turtle")
    return graph


def labels(graph: rdflib.Graph) -> dict[str, rdflib.URIRef]:
    return {
        str(o).lower(): s
        for s, o in graph.subject_objects(RDFS.label)
        if str(s).startswith(str(CARNK)) and (s, RDF.type, OWL.Class) in graph
    }


def test_ontology_metadata(onto: rdflib.Graph) -> None:
    ont = rdflib.URIRef("https://w3id.org/carnk/ontology")
    assert (ont, RDF.type, OWL.Ontology) in onto
    version = str(onto.value(ont, OWL.versionInfo))
    assert str(onto.value(ont, OWL.versionIRI)) == f"https://w3id.org/carnk/ontology/{version}"
    assert onto.value(ont, DCT.license) == rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")
    for prop in (DCT.title, DCT.description, DCT.creator):
        assert onto.value(ont, prop) is not None, prop


REQUIRED = [
    "immunotherapy", "cell therapy", "CAR NK cell therapy", "CAR T cell therapy", "NK cell", "T cell",
    "innate immune system", "peripheral blood", "umbilical cord blood", "induced pluripotent stem cell",
    "NK cell line", "hematopoietic stem cell", "chimeric antigen receptor",
    "extracellular antigen-recognition domain", "antibody-derived antigen-recognition domain",
    "transmembrane domain", "intracellular signaling domain", "cytokine release syndrome",
    "immune effector cell-associated neurotoxicity syndrome", "neurotoxicity", "graft-versus-host disease",
    "autologous manufacturing", "allogeneic manufacturing", "off-the-shelf manufacturing", "HLA matching",
    "intravenous administration", "locoregional administration", "innate NK receptor recognition",
    "MHC-independent CAR recognition", "persistence in vivo", "solid tumor infiltration",
    "immunosuppressive tumor microenvironment", "cytokine support", "interleukin-15",
    "combination with checkpoint inhibitors or other immunotherapies", "gene editing", "CD19", "cancer",
    "relapsed or refractory CD19-positive lymphoid malignancy", "solid tumor", "clinical study",
    "clinical outcome", "complete response",
]  # fmt: skip


@pytest.mark.parametrize("label", REQUIRED)
def test_document_concepts_are_classes(onto: rdflib.Graph, label: str) -> None:
    assert label.lower() in labels(onto), f"no carnk: class labelled {label!r}"


SYNONYMS = ["CAR-NK", "CAR NK", "CART", "CAR-T", "CRS", "ICANS", "GvHD", "iPSC", "MHC", "HLA", "IL-15",
            "cytokinine release syndrome", "off the shelf"]  # fmt: skip


@pytest.mark.parametrize("synonym", SYNONYMS)
def test_document_spellings_are_exact_synonyms(onto: rdflib.Graph, synonym: str) -> None:
    assert any(str(o) == synonym for o in onto.objects(None, EXACT)), synonym


def test_synonyms_appear_in_the_documents_or_are_standard(onto: rdflib.Graph) -> None:
    """Guards against a synonym typo: every synonym listed above occurs in the document."""
    text = (PROJECT / "documents" / "carnk-overview.txt").read_text(encoding="utf-8")
    for synonym in SYNONYMS:
        assert synonym in text, synonym


def test_properties_have_domain_and_range(onto: rdflib.Graph) -> None:
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty):
        for prop in onto.subjects(RDF.type, kind):
            if str(prop).startswith(str(CARNK)):
                assert onto.value(prop, RDFS.domain) is not None, prop
                assert onto.value(prop, RDFS.range) is not None, prop


def test_labels_are_unique(onto: rdflib.Graph) -> None:
    seen: dict[str, rdflib.term.Node] = {}
    for s, o in onto.subject_objects(RDFS.label):
        if str(s).startswith(str(CARNK)):
            assert str(o) not in seen, f"{s} and {seen[str(o)]} share the label {o!r}"
            seen[str(o)] = s
