"""The ontology: metadata, and terms fit for curators (labels, definitions, unambiguous synonyms).

Checked with rdflib, an independent reader, on whatever the project's ontology and facts hold:
every term the facts use is a labelled, defined class, and no spelling names two classes.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import yaml
from rdflib.namespace import OWL, RDF, RDFS

from carnk_ld.ontology import blank_nesting

CARNK = rdflib.Namespace("https://w3id.org/carnk/")
IAO_DEFINITION = rdflib.URIRef("http://purl.obolibrary.org/obo/IAO_0000115")
EXACT = rdflib.URIRef("http://www.geneontology.org/formats/oboInOwl#hasExactSynonym")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
SCHEMA = rdflib.Namespace("http://schema.org/")
#: Keys of a facts file whose values are ontology classes.
TERM_KEYS = (
    "subject",
    "object",
    "compared_to",
    "intervention",
    "cell_source",
    "population",
    "type",
    "product",
    "combined_with",
    "route",
)


@pytest.fixture(scope="module")
def onto(project_root: Path) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(project_root / "ontology" / "carnk.ttl", format="turtle")
    return graph


def classes(graph: rdflib.Graph) -> set[rdflib.URIRef]:
    return {s for s in graph.subjects(RDF.type, OWL.Class) if isinstance(s, rdflib.URIRef) and s.startswith(CARNK)}


def test_ontology_metadata(onto: rdflib.Graph) -> None:
    ont = rdflib.URIRef("https://w3id.org/carnk/ontology")
    assert (ont, RDF.type, OWL.Ontology) in onto
    version = str(onto.value(ont, OWL.versionInfo))
    assert str(onto.value(ont, OWL.versionIRI)) == f"https://w3id.org/carnk/releases/{version}/ontology.owl"
    assert onto.value(ont, DCT.license) == rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")
    for prop in (DCT.title, DCT.description, DCT.creator):
        assert onto.value(ont, prop) is not None, prop


def test_every_class_has_one_english_label_and_a_definition(onto: rdflib.Graph) -> None:
    found = classes(onto)
    assert found
    for cls in found:
        labels = list(onto.objects(cls, RDFS.label))
        assert len(labels) == 1 and labels[0].language == "en", cls
        assert onto.value(cls, IAO_DEFINITION) is not None, cls


def test_terms_the_facts_use_are_classes_and_their_predicates_properties(
    onto: rdflib.Graph, project_root: Path
) -> None:
    known = classes(onto) | set(onto.subjects(RDF.type, OWL.NamedIndividual))
    properties = {s for s in onto.subjects(RDF.type, OWL.AnnotationProperty) if s.startswith(CARNK)}
    used: set[str] = set()
    predicates: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in TERM_KEYS and isinstance(value, str):
                    used.add(value.removeprefix("carnk:"))
                if key == "events":
                    used.update(v.removeprefix("carnk:") for v in value)
                if key == "predicate" and value != "is_a":
                    predicates.add(value.removeprefix("carnk:"))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted((project_root / "facts").glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert used and predicates
    assert {CARNK[t] for t in used} <= known, sorted({CARNK[t] for t in used} - known)
    assert {CARNK[p] for p in predicates} <= properties, sorted({CARNK[p] for p in predicates} - properties)


def test_synonyms_are_trimmed_and_no_spelling_names_two_classes(onto: rdflib.Graph) -> None:
    names: dict[str, set[rdflib.URIRef]] = defaultdict(set)
    for cls in classes(onto):
        label = str(onto.value(cls, RDFS.label))
        names[label.casefold()].add(cls)
        for synonym in onto.objects(cls, EXACT):
            assert str(synonym) and str(synonym) == str(synonym).strip(), (cls, synonym)
            assert str(synonym) != label, f"{cls}: synonym {synonym!r} repeats the label"
            names[str(synonym).casefold()].add(cls)
    assert any(onto.objects(None, EXACT)), "the ontology has synonyms"
    shared = {name: sorted(found) for name, found in names.items() if len(found) > 1}
    assert shared == {}, "a label or synonym that names two classes is ambiguous for curators"


def test_properties_have_domain_and_range(onto: rdflib.Graph) -> None:
    """Object and datatype properties by RDFS; annotation properties, which relate classes, by schema.org."""
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in onto.subjects(RDF.type, kind):
            if str(prop).startswith(str(CARNK)):
                assert onto.value(prop, RDFS.domain) is not None, prop
                assert onto.value(prop, RDFS.range) is not None, prop
    for prop in onto.subjects(RDF.type, OWL.AnnotationProperty):
        if str(prop).startswith(str(CARNK)):
            assert onto.value(prop, SCHEMA.domainIncludes) is not None, prop
            assert onto.value(prop, SCHEMA.rangeIncludes) is not None, prop
            assert onto.value(prop, RDFS.domain) is None, prop
            assert onto.value(prop, RDFS.range) is None, prop


def test_labels_are_unique(onto: rdflib.Graph) -> None:
    seen: dict[str, rdflib.term.Node] = {}
    for s, o in onto.subject_objects(RDFS.label):
        if str(s).startswith(str(CARNK)):
            assert str(o) not in seen, f"{s} and {seen[str(o)]} share the label {o!r}"
            seen[str(o)] = s


@pytest.mark.parametrize(
    ("turtle", "depth"),
    [
        ("<a:s> <a:p> " + "[ <a:p> " * 32 + "1" + " ]" * 32 + " .", 32),
        ("<a:s> <a:p> " + "(" * 33 + ")" * 33 + " .", 32),  # the innermost () is rdf:nil, no blank node
        ("<a:s> <a:p> (" + " <a:x>" * 5000 + " ) .", 1),  # a long list is one level: rdf:rest stays on it
        ("_:a <a:p> _:b . _:b <a:p> _:a .", 2),  # a cycle adds nothing more
    ],
)
def test_blank_node_nesting(turtle: str, depth: int) -> None:
    """The depth the ontology reader bounds (:data:`carnk_ld.ontology.MAX_NESTING`), computed without recursion."""
    triples = [q.triple for q in ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE)]
    assert blank_nesting(triples, stop=10**6) == depth
