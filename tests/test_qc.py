"""Ontology QC: every check fires on its own violation; the project has no ERROR or WARN finding.

That an ERROR finding fails the build, named at its line, is a case of tests/bad_inputs/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_ld import qc
from tests.oracle import KnowledgeGraph, build_graph, dataset_store, load_corpus, run_checks

C = "https://w3id.org/carnk/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
DEF = "http://purl.obolibrary.org/obo/IAO_0000115"
EXACT = "http://www.geneontology.org/formats/oboInOwl#hasExactSynonym"
SCHEMA = "http://schema.org/"


@pytest.fixture(scope="module")
def base(project_root: Path) -> tuple[KnowledgeGraph, object]:
    corpus = load_corpus(project_root)
    return build_graph(corpus.ontology, corpus.factsets, classes=corpus.classes), corpus.ontology


@pytest.fixture(scope="module")
def checks(project_root: Path) -> list[qc.Check]:
    return qc.load_checks(project_root / "queries" / "checks")


def t(s: str, p: str, o: str | ox.Literal) -> ox.Triple:
    obj = o if isinstance(o, ox.Literal) else ox.NamedNode(o)
    return ox.Triple(ox.NamedNode(s), ox.NamedNode(p), obj)


def en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


Edit = Callable[[KnowledgeGraph], KnowledgeGraph]


def without(s: str, p: str) -> Edit:
    def run(kg: KnowledgeGraph) -> KnowledgeGraph:
        kept = [x for x in kg.ontology if not (x.subject.value == s and x.predicate.value == p)]
        assert len(kept) < len(kg.ontology)
        return replace(kg, ontology=kept)

    return run


def plus(*triples: ox.Triple, graph: str = "ontology") -> Edit:
    def run(kg: KnowledgeGraph) -> KnowledgeGraph:
        return replace(kg, **{graph: [*getattr(kg, graph), *triples]})

    return run


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
TRUE = ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))
NEW_CLASS = (
    t(C + "Orphan", RDF_TYPE, OWL + "Class"),
    t(C + "Orphan", RDFS + "label", en("orphan")),
    t(C + "Orphan", DEF, en("A class for tests.")),
)

CASES: dict[str, tuple[Edit, str]] = {
    "missing-label": (without(C + "NKCell", RDFS + "label"), C + "NKCell"),
    "missing-definition": (without(C + "NKCell", DEF), C + "NKCell"),
    "multiple-labels": (plus(t(C + "NKCell", RDFS + "label", en("natural killer cell"))), C + "NKCell"),
    "duplicate-label": (plus(t(C + "TCell", RDFS + "label", en("NK Cell"))), C + "TCell"),
    "label-whitespace": (plus(t(C + "NKCell", EXACT, en(" NK cell"))), C + "NKCell"),
    "duplicate-label-synonym": (plus(t(C + "TCell", EXACT, en("NK cell"))), C + "NKCell"),
    "ontology-metadata": (without(C + "ontology", "http://purl.org/dc/terms/license"), C + "ontology"),
    "deprecated-reference": (plus(t(C + "NKCell", OWL + "deprecated", TRUE)), C + "CARNKCell"),
    "property-domain-range": (without(C + "targets", SCHEMA + "rangeIncludes"), C + "targets"),
    "undeclared-term": (plus(t(C + "CARNKCell", C + "derivedFrom", C + "Spleen"), graph="facts"), C + "Spleen"),
    "missing-superclass": (plus(*NEW_CLASS), C + "Orphan"),
    "missing-synonym": (plus(*NEW_CLASS), C + "Orphan"),
    "missing-language-tag": (plus(t(C + "NKCell", RDFS + "comment", ox.Literal("untagged"))), C + "NKCell"),
    "placeholder-definition": (plus(t(C + "NKCell", DEF, en("TODO: define NK cell: write it"))), C + "NKCell"),
}


def test_every_check_has_a_violating_case(checks: list[qc.Check]) -> None:
    assert {c.rule for c in checks} == set(CASES), "a check that no test makes fail is a defect"


def test_the_project_ontology_has_no_error_or_warning(base, checks) -> None:
    kg, ontology = base
    findings = run_checks(checks, dataset_store(kg), ontology)
    assert [f for f in findings if f.severity != "INFO"] == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_check_finds_its_violation(base, checks, rule: str) -> None:
    kg, ontology = base
    edit, entity = CASES[rule]
    findings = run_checks(checks, dataset_store(edit(kg)), ontology)
    hits = [f for f in findings if f.rule == rule]
    assert any(f.entity == entity for f in hits), [f.render() for f in hits]
    clean = run_checks(checks, dataset_store(kg), ontology)
    assert not any(f.rule == rule and f.entity == entity for f in clean)


def swap(s: str, old: str, new: str) -> Edit:
    """The ontology with ``s``'s values of ``old`` given with ``new`` instead."""

    def run(kg: KnowledgeGraph) -> KnowledgeGraph:
        moved = [x for x in kg.ontology if x.subject.value == s and x.predicate.value == old]
        assert moved
        kept = [x for x in kg.ontology if x not in moved]
        return replace(kg, ontology=[*kept, *(ox.Triple(x.subject, ox.NamedNode(new), x.object) for x in moved)])

    return run


@pytest.mark.parametrize(
    ("edit", "entity", "missing"),
    [
        (swap(C + "targets", SCHEMA + "rangeIncludes", RDFS + "range"), C + "targets", SCHEMA + "rangeIncludes"),
        (swap(C + "targets", SCHEMA + "domainIncludes", RDFS + "domain"), C + "targets", SCHEMA + "domainIncludes"),
        (swap(C + "phase", RDFS + "range", SCHEMA + "rangeIncludes"), C + "phase", RDFS + "range"),
        (without(C + "sha256", RDFS + "domain"), C + "sha256", RDFS + "domain"),
    ],
    ids=["annotation-rdfs-range", "annotation-rdfs-domain", "object-range-includes", "datatype-no-domain"],
)
def test_domain_and_range_are_read_from_the_pair_of_the_property_kind(base, checks, edit, entity, missing) -> None:
    """Annotation properties need schema.org's pair (rdfs:domain and rdfs:range do not count); the others RDFS's."""
    kg, ontology = base
    hits = [f for f in run_checks(checks, dataset_store(edit(kg)), ontology) if f.rule == "property-domain-range"]
    assert [(f.entity, f.property) for f in hits] == [(entity, missing)], [f.render() for f in hits]


@pytest.mark.parametrize(
    "value",
    [ox.Literal("A person"), ox.Literal("A person", language="en"), ox.Literal("NK cell", language="en-GB")],
    ids=["plain", "en", "en-GB"],
)
def test_language_policy_accepts_only_en(base, checks, value: ox.Literal) -> None:
    kg, ontology = base
    edit = plus(t(C + "NKCell", "http://purl.org/dc/terms/description", value))
    hits = [f for f in run_checks(checks, dataset_store(edit(kg)), ontology) if f.rule == "missing-language-tag"]
    assert bool(hits) == (value.language != "en"), [f.render() for f in hits]


@pytest.mark.parametrize("prop", ["creator", "contributor"])
def test_creator_or_contributor_as_text_is_a_metadata_error(base, checks, prop: str) -> None:
    kg, ontology = base
    edit = plus(t(C + "ontology", "http://purl.org/dc/terms/" + prop, ox.Literal("Jane Doe")))
    hits = [f for f in run_checks(checks, dataset_store(edit(kg)), ontology) if f.rule == "ontology-metadata"]
    assert [f.entity for f in hits] == [C + "ontology"], [f.render() for f in hits]


def test_check_without_severity_is_refused(tmp_path: Path) -> None:
    from carnk_ld.errors import InputError

    (tmp_path / "x-violation.rq").write_text("SELECT ?entity ?property ?value WHERE {}\n", encoding="utf-8")
    with pytest.raises(InputError, match="no valid '# severity:' header"):
        qc.load_checks(tmp_path)


def test_qc_report_is_published(release: Path, project_root: Path) -> None:
    checks = len(list((project_root / "queries" / "checks").glob("*-violation.rq")))
    text = (release / "qc-report.txt").read_text(encoding="utf-8")
    assert text.startswith(f"Ontology QC: {checks} checks; 0 ERROR, 0 WARN,")
    rows = (release / "qc-report.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "severity\trule\tentity\tlabel\tproperty\tvalue"
    assert all(row.startswith("INFO\t") for row in rows[1:])


def test_deprecated_term_inside_an_owl_axiom_is_reported_on_the_named_class(base, checks) -> None:
    kg, ontology = base
    restriction = ox.BlankNode("r")
    edit = plus(
        t(C + "NKCell", OWL + "deprecated", TRUE),
        ox.Triple(ox.NamedNode(C + "NKCellTherapy"), ox.NamedNode(RDFS + "subClassOf"), restriction),
        ox.Triple(restriction, ox.NamedNode(OWL + "someValuesFrom"), ox.NamedNode(C + "NKCell")),
    )
    findings = run_checks(checks, dataset_store(edit(kg)), ontology)
    hits = {(f.entity, f.property) for f in findings if f.rule == "deprecated-reference"}
    assert (C + "NKCellTherapy", RDFS + "subClassOf") in hits
    assert not any(f.entity.startswith(("_:", "c14n")) or not f.entity.startswith("http") for f in findings)


def _class(name: str) -> tuple[ox.Triple, ...]:
    return (t(C + name, RDF_TYPE, OWL + "Class"), t(C + name, RDFS + "label", en(f"{name} for tests")))


def test_deprecated_term_is_blamed_on_whoever_names_it_and_found_through_lists(base, checks) -> None:
    kg, ontology = base
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    middle_restriction, listed, cell, nil = ox.BlankNode("m"), ox.BlankNode("e"), ox.BlankNode("l1"), ox.BlankNode("l2")
    inner = ox.BlankNode("i")
    edit = plus(
        *_class("Old"),
        *_class("Middle"),
        *_class("User"),
        *_class("Listed"),
        t(C + "Old", OWL + "deprecated", TRUE),
        t(C + "Middle", RDFS + "subClassOf", C + "Old"),
        # User's axiom names Middle, which is below the deprecated class: Middle is to blame
        ox.Triple(ox.NamedNode(C + "User"), ox.NamedNode(RDFS + "subClassOf"), middle_restriction),
        ox.Triple(middle_restriction, ox.NamedNode(OWL + "someValuesFrom"), ox.NamedNode(C + "Middle")),
        # Listed's axiom names the deprecated class inside a list inside a class expression
        ox.Triple(ox.NamedNode(C + "Listed"), ox.NamedNode(OWL + "equivalentClass"), listed),
        ox.Triple(listed, ox.NamedNode(OWL + "intersectionOf"), cell),
        ox.Triple(cell, ox.NamedNode(rdf + "first"), ox.NamedNode(C + "Middle")),
        ox.Triple(cell, ox.NamedNode(rdf + "rest"), nil),
        ox.Triple(nil, ox.NamedNode(rdf + "first"), inner),
        ox.Triple(nil, ox.NamedNode(rdf + "rest"), ox.NamedNode(rdf + "nil")),
        ox.Triple(inner, ox.NamedNode(OWL + "someValuesFrom"), ox.NamedNode(C + "Old")),
    )
    findings = run_checks(checks, dataset_store(edit(kg)), ontology)
    blamed = {(f.entity, f.property, f.value) for f in findings if f.rule == "deprecated-reference"}
    assert blamed == {
        (C + "Middle", RDFS + "subClassOf", C + "Old"),
        (C + "Listed", OWL + "equivalentClass", C + "Old"),
    }


def test_duplicate_label_needs_two_terms_and_ignores_case(base, checks) -> None:
    kg, ontology = base
    one_term_twice = plus(*_class("Alone"), t(C + "Alone", RDFS + "label", en("ALONE FOR TESTS")))
    findings = run_checks(checks, dataset_store(one_term_twice(kg)), ontology)
    assert not [f for f in findings if f.rule == "duplicate-label"]
    # the same label stated in two graphs is still one term's
    twice_in_graphs = plus(t(C + "Alone", RDFS + "label", en("Alone for tests")), graph="facts")
    findings = run_checks(checks, dataset_store(twice_in_graphs(plus(*_class("Alone"))(kg))), ontology)
    assert not [f for f in findings if f.rule == "duplicate-label"]
    two_terms = plus(*_class("Alone"), *_class("Twin"), t(C + "Twin", RDFS + "label", en("alone FOR tests")))
    findings = run_checks(checks, dataset_store(two_terms(kg)), ontology)
    assert {(f.entity, f.value) for f in findings if f.rule == "duplicate-label"} == {
        (C + "Alone", "Alone for tests"),
        (C + "Twin", "alone FOR tests"),
    }


def test_multiple_labels_counts_labels_per_language(base, checks) -> None:
    kg, ontology = base
    languages = plus(*_class("Polyglot"), t(C + "Polyglot", RDFS + "label", ox.Literal("Polyglotte", language="fr")))
    assert not [f for f in run_checks(checks, dataset_store(languages(kg)), ontology) if f.rule == "multiple-labels"]
    twice_in_graphs = plus(t(C + "Polyglot", RDFS + "label", en("Polyglot for tests")), graph="facts")
    findings = run_checks(checks, dataset_store(twice_in_graphs(languages(kg))), ontology)
    assert not [f for f in findings if f.rule == "multiple-labels"]
    same_language = plus(t(C + "Polyglot", RDFS + "label", en("polyglot")))
    findings = run_checks(checks, dataset_store(same_language(languages(kg))), ontology)
    assert {f.value for f in findings if f.rule == "multiple-labels"} == {"Polyglot for tests", "polyglot"}


def test_check_that_does_not_parse_or_is_not_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    from carnk_ld.errors import InputError

    header = "# severity: WARN\nSELECT ?entity ?property ?value WHERE {\n"
    (tmp_path / "x-violation.rq").write_text(header + "  ?entity ?property\n}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        qc.load_checks(tmp_path, display_dir=Path("queries/checks"))
    assert caught.value.render().startswith("queries/checks/x-violation.rq:4:1: error: SPARQL syntax error")
    (tmp_path / "x-violation.rq").write_bytes(header.encode() + b"  # caf\xe9\n}\n")
    with pytest.raises(InputError) as caught:
        qc.load_checks(tmp_path, display_dir=Path("queries/checks"))
    assert caught.value.render().startswith("queries/checks/x-violation.rq:3:")
