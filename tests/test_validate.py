"""Stage 4: the shapes catch what they are written for, on real release data."""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox
import pytest

from carnk_ld.validate import ValidationResult, load_shapes
from carnk_ld.vocab import CARNK, OA, PROV, RDF, RDFS, XSD
from tests.conftest import PROJECT
from tests.oracle import KnowledgeGraph, build_graph, load_corpus, validate_graph

FACT = "https://w3id.org/carnk/kg/fact/carnk-overview/"
STUDY = "https://w3id.org/carnk/kg/study/carnk-overview/cd19-cord-blood-carnk"


@pytest.fixture(scope="module")
def graph() -> KnowledgeGraph:
    corpus = load_corpus(PROJECT)
    return build_graph(corpus.ontology, corpus.factsets)


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(PROJECT / "shapes")


Edit = Callable[[set[ox.Triple]], None]


def validate_with(graph: KnowledgeGraph, shapes, edit: Edit, *, ontology: bool = True) -> ValidationResult:
    triples = set(graph.facts) | set(graph.provenance)
    if ontology:
        triples |= set(graph.ontology)
    edit(triples)
    return validate_graph(sorted(triples, key=str), shapes, graph.sources)


def drop(predicate: ox.NamedNode, subject: str) -> Edit:
    def run(triples: set[ox.Triple]) -> None:
        victims = {t for t in triples if t.predicate == predicate and t.subject.value == subject}
        assert victims, f"nothing to drop for {subject}"
        triples -= victims

    return run


def add(*new: ox.Triple) -> Edit:
    def run(triples: set[ox.Triple]) -> None:
        triples.update(new)

    return run


def replace(predicate: ox.NamedNode, subject: str, value: ox.Literal | ox.NamedNode) -> Edit:
    def run(triples: set[ox.Triple]) -> None:
        drop(predicate, subject)(triples)
        triples.add(ox.Triple(ox.NamedNode(subject), predicate, value))

    return run


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def test_the_release_graph_conforms(graph, shapes) -> None:
    result = validate_with(graph, shapes, lambda t: None)
    assert result.conforms, result.text()


CASES = {
    "statement without polarity": (drop(CARNK.polarity, FACT + "cart-crs"), "exactly one polarity"),
    "statement with two subjects": (
        add(ox.Triple(n(FACT + "cart-crs"), RDF.subject, CARNK.TCell)),
        "exactly one rdf:subject",
    ),
    "statement with a frequency outside the list": (
        add(ox.Triple(n(FACT + "cart-crs"), CARNK.frequency, CARNK.Negated)),
        "at most one frequency",
    ),
    "statement without evidence": (drop(CARNK.evidence, FACT + "cart-crs"), "exactly one evidence"),
    "negated statement published as a plain triple": (
        add(ox.Triple(CARNK.AllogeneicNKCellTherapy, CARNK.hasToxicityRisk, CARNK.GraftVersusHostDisease)),
        "appears as a plain triple",
    ),
    "selector start after end": (
        replace(OA.start, FACT + "cart-crs/position", ox.Literal("9999", datatype=XSD.nonNegativeInteger)),
        "smaller than oa:end",
    ),
    "negative offset": (
        replace(OA.end, FACT + "cart-crs/position", ox.Literal("-1", datatype=XSD.integer)),
        "non-negative integer oa:end",
    ),
    "evidence without quote selector": (
        lambda t: t.difference_update({x for x in t if x.subject.value == FACT + "cart-crs/quote"}),
        "exactly one oa:TextQuoteSelector",
    ),
    "empty quote": (replace(OA.exact, FACT + "cart-crs/quote", ox.Literal("")), "non-empty oa:exact"),
    "document with a bad checksum": (
        replace(CARNK.sha256, "https://w3id.org/carnk/kg/doc/carnk-overview", ox.Literal("abc")),
        "SHA-256 checksum",
    ),
    "segment neither yielding nor excluded": (
        drop(CARNK.exclusionReason, "https://w3id.org/carnk/kg/doc/carnk-overview/segment/12"),
        "either yields a statement or is excluded",
    ),
    "responders above patients": (
        replace(CARNK.patientCount, STUDY, ox.Literal("5", datatype=XSD.nonNegativeInteger)),
        "more than the study's 5 patients",
    ),
    "patient count typed as a string": (
        replace(CARNK.patientCount, STUDY, ox.Literal("11")),
        "exactly one patient count",
    ),
    "class without definition": (
        drop(n("http://purl.obolibrary.org/obo/IAO_0000115"), "https://w3id.org/carnk/NKCell"),
        "textual definition",
    ),
    "property without label": (drop(RDFS.label, "https://w3id.org/carnk/hasToxicityRisk"), "rdfs:label"),
    "statement derived from nothing": (drop(PROV.wasDerivedFrom, FACT + "cart-crs"), "exactly one document segment"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_shape_catches_its_violation(graph, shapes, case: str) -> None:
    edit, fragment = CASES[case]
    result = validate_with(graph, shapes, edit)
    assert not result.conforms
    assert any(fragment in v.message for v in result.violations), result.text()


def test_outcome_subclass_instances_are_validated_through_the_ontology(graph, shapes) -> None:
    """The outcome is typed carnk:CompleteResponse; the shape targets carnk:ClinicalOutcome."""
    outcome = STUDY + "/outcome/complete-response"
    result = validate_with(graph, shapes, drop(CARNK.responderCount, outcome))
    assert not result.conforms
    (violation,) = [v for v in result.violations if v.focus == outcome]
    assert "responder count" in violation.message
    assert violation.source is not None and violation.source.line is not None
    # the trap this avoids: without the ontology's subClassOf triples nothing is targeted
    blind = validate_with(graph, shapes, drop(CARNK.responderCount, outcome), ontology=False)
    assert not any(v.focus == outcome for v in blind.violations)


def test_violations_name_the_facts_file_and_line(graph, shapes) -> None:
    result = validate_with(graph, shapes, drop(CARNK.polarity, FACT + "cart-crs"))
    (violation,) = result.violations
    assert str(violation.source).startswith("facts/carnk-overview.yaml:")
    facts = (PROJECT / "facts" / "carnk-overview.yaml").read_text(encoding="utf-8").splitlines()
    assert facts[violation.source.line - 1].strip() == "- id: cart-crs"
