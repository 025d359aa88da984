"""A store applying the RDFS rules to the release makes no class an instance of another class.

Concept-level facts are triples between classes (``carnk:CARTCellTherapy carnk:hasToxicityRisk
carnk:CytokineReleaseSyndrome``). Had their annotation property an ``rdfs:domain`` or
``rdfs:range``, the rules rdfs2 and rdfs3 would derive ``carnk:CARTCellTherapy rdf:type
carnk:TherapeuticIntervention``; ``schema:domainIncludes`` and ``schema:rangeIncludes`` entail
nothing. The rules are applied by owlrl, an RDFS reasoner independent of the build, to the
sample corpus's release; the last test shows that the same check finds the problem in a graph
that states the domain and range the RDFS way.
"""

from __future__ import annotations

from pathlib import Path

import owlrl
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

CARNK = "https://w3id.org/carnk/"
ONTOLOGY_GRAPH = rdflib.URIRef("https://w3id.org/carnk/kg/graph/ontology")
FACTS_GRAPH = rdflib.URIRef("https://w3id.org/carnk/kg/graph/facts")
SCHEMA = rdflib.Namespace("http://schema.org/")


@pytest.fixture(scope="module")
def dataset(sample_release: Path) -> rdflib.Dataset:
    data = rdflib.Dataset()
    data.parse(sample_release / "carnk.nq", format="nquads")
    return data


def declared_classes(dataset: rdflib.Dataset) -> set[rdflib.URIRef]:
    """The classes the ontology graph declares with IRIs."""
    graph = dataset.graph(ONTOLOGY_GRAPH)
    return {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, rdflib.URIRef)}


def union(dataset: rdflib.Dataset) -> rdflib.Graph:
    """Every triple of every graph of the release, in one graph (what a store's default union graph shows)."""
    merged = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        merged.add((s, p, o))
    return merged


def classes_made_instances(graph: rdflib.Graph, classes: set[rdflib.URIRef]) -> set[tuple[str, str]]:
    """``(class, class)`` pairs ``rdf:type`` links after the RDFS closure of ``graph``, and not before."""
    before = {(s, o) for s, o in graph.subject_objects(RDF.type) if s in classes and o in classes}
    owlrl.DeductiveClosure(owlrl.RDFS_Semantics).expand(graph)
    after = {(s, o) for s, o in graph.subject_objects(RDF.type) if s in classes and o in classes}
    return {(str(s), str(o)) for s, o in after - before}


def class_level_facts(dataset: rdflib.Dataset, classes: set[rdflib.URIRef]) -> list[tuple]:
    """The facts graph's triples whose subject and object are both declared classes."""
    graph = dataset.graph(FACTS_GRAPH)
    return sorted((s, p, o) for s, p, o in graph if s in classes and o in classes and str(p).startswith(CARNK))


def test_the_release_has_class_level_facts(dataset: rdflib.Dataset) -> None:
    """The other tests would prove nothing without a fact between two classes."""
    classes = declared_classes(dataset)
    facts = class_level_facts(dataset, classes)
    assert (
        rdflib.URIRef(CARNK + "CARTCellTherapy"),
        rdflib.URIRef(CARNK + "hasToxicityRisk"),
        rdflib.URIRef(CARNK + "CytokineReleaseSyndrome"),
    ) in facts


def test_rdfs_reasoning_makes_no_class_an_instance(dataset: rdflib.Dataset) -> None:
    classes = declared_classes(dataset)
    assert classes_made_instances(union(dataset), classes) == set()


def test_the_check_finds_classes_made_instances_by_rdfs_domain_and_range(dataset: rdflib.Dataset) -> None:
    """The release's graph with each annotation property's expected classes stated as rdfs:domain and rdfs:range."""
    classes = declared_classes(dataset)
    graph = union(dataset)
    ontology = dataset.graph(ONTOLOGY_GRAPH)
    for prop, cls in ontology.subject_objects(SCHEMA.domainIncludes):
        graph.add((prop, RDFS.domain, cls))
    for prop, cls in ontology.subject_objects(SCHEMA.rangeIncludes):
        graph.add((prop, RDFS.range, cls))
    found = classes_made_instances(graph, classes)
    expected = set()
    for s, p, o in class_level_facts(dataset, classes):
        for cls in ontology.objects(p, SCHEMA.domainIncludes):
            if cls in classes and cls != s:
                expected.add((str(s), str(cls)))
        for cls in ontology.objects(p, SCHEMA.rangeIncludes):
            if cls in classes and cls != o:
                expected.add((str(o), str(cls)))
    assert (CARNK + "CARTCellTherapy", CARNK + "TherapeuticIntervention") in expected
    assert expected <= found
