"""Stage 2: resolving curated facts against documents and the ontology."""

from __future__ import annotations

from pathlib import Path

import pytest

from carnk_ld.documents import read_document
from carnk_ld.errors import InputError, InputErrors
from carnk_ld.facts import load_facts
from carnk_ld.ontology import load_ontology
from tests.conftest import edit, line_of

CARNK = "https://w3id.org/carnk/"


def load(root: Path):
    ontology = load_ontology(root / "ontology" / "carnk.ttl")
    doc = read_document(root / "documents" / "carnk-overview.txt")
    return load_facts(root / "facts" / "carnk-overview.yaml", {doc.path.name: doc}, ontology)


def facts_file(root: Path) -> Path:
    return root / "facts" / "carnk-overview.yaml"


def test_every_quote_is_located_at_its_offsets(corpus: Path) -> None:
    factset = load(corpus)
    text = factset.document.text
    assert len(factset.facts) >= 50
    for fact in factset.facts:
        ev = fact.evidence
        assert text[ev.start : ev.end] == ev.quote
        assert ev.segment.start <= ev.start < ev.end <= ev.segment.end
        assert text[ev.start - len(ev.prefix) : ev.start] == ev.prefix
        assert text[ev.end : ev.end + len(ev.suffix)] == ev.suffix


def by_id(factset, fact_id: str):
    return next(f for f in factset.facts if f.fact_id == fact_id)


def test_negation_and_hedges_are_kept_and_never_plain(corpus: Path) -> None:
    factset = load(corpus)
    gvhd = by_id(factset, "allogeneic-nk-no-gvhd")
    assert (gvhd.polarity, gvhd.plain) == ("Negated", False)
    assert gvhd.compared_to == CARNK + "CARTCellTherapy"
    assert by_id(factset, "nk-crs-uncommon").frequency == "Uncommon"
    assert not by_id(factset, "nk-crs-uncommon").plain
    assert by_id(factset, "carnk-minimal-gvhd").frequency == "MinimalOrNone"
    assert not by_id(factset, "carnk-minimal-gvhd").plain
    assert by_id(factset, "carnk-off-the-shelf-potential").modality == "Possible"
    assert not by_id(factset, "carnk-off-the-shelf-potential").plain
    usually = by_id(factset, "carnk-intravenous")
    assert (usually.frequency, usually.plain) == ("Usually", True)
    also = by_id(factset, "carnk-locoregional")
    assert (also.frequency, also.plain) == ("Sometimes", True)
    implied = by_id(factset, "cart-gvhd")
    assert (implied.modality, implied.plain) == ("Implied", True)


def test_study_numbers_are_integers_and_absent_events_are_negated(corpus: Path) -> None:
    factset = load(corpus)
    (study,) = factset.studies
    assert study.patients == 11
    (outcome,) = study.outcomes
    assert outcome.responders == 8 and outcome.type_iri == CARNK + "CompleteResponse"
    absent = [f for f in factset.facts if f.predicate == CARNK + "observedAdverseEvent"]
    assert {f.object.removeprefix(CARNK) for f in absent} == {
        "CytokineReleaseSyndrome",
        "Neurotoxicity",
        "GraftVersusHostDisease",
    }
    assert all(f.polarity == "Negated" and not f.plain for f in absent)


def test_every_segment_is_accounted_for(corpus: Path) -> None:
    factset = load(corpus)
    assert factset.unaccounted() == []
    assert {e.segment.index for e in factset.exclusions} == {12, 17}


def expect_error(root: Path, fragment: str) -> InputError:
    with pytest.raises((InputError, InputErrors)) as info:
        load(root)
    errors = info.value.errors if isinstance(info.value, InputErrors) else [info.value]
    matching = [e for e in errors if fragment in e.message]
    assert matching, "\n".join(e.render() for e in errors)
    return matching[0]


def test_quote_not_found_names_file_line_and_near_match(corpus: Path) -> None:
    path = facts_file(corpus)
    edit(path, '"Umbilical cord blood"', '"umbilical  cord blood"')
    error = expect_error(corpus, "quote not found verbatim")
    assert error.location.path == path
    assert error.location.line == line_of(path, "umbilical  cord blood")
    assert "segment 19" in (error.hint or "")


def test_ambiguous_quote_is_refused(corpus: Path) -> None:
    edit(facts_file(corpus), '"transmembrane domain"', '"domain"')
    error = expect_error(corpus, "quote occurs")
    assert "extend the quote" in (error.hint or "")


def test_quote_across_segments_is_refused(corpus: Path) -> None:
    edit(facts_file(corpus), '"NK cell lines"', '"NK cell lines\\nHematopoietic"')
    expect_error(corpus, "spans more than one segment")


def test_unknown_term_suggests_the_closest(corpus: Path) -> None:
    path = facts_file(corpus)
    edit(path, "object: UmbilicalCordBlood\n", "object: UmbilicalCordBlod\n")
    error = expect_error(corpus, "'UmbilicalCordBlod' is not declared")
    assert error.hint == "did you mean 'UmbilicalCordBlood'?"
    assert error.location.line == line_of(path, "UmbilicalCordBlod")


def test_predicate_domain_and_range_are_enforced(corpus: Path) -> None:
    path = facts_file(corpus)
    edit(
        path,
        "    predicate: administeredVia\n    object: IntravenousAdministration",
        "    predicate: administeredVia\n    object: CytokineReleaseSyndrome  # wrong range",
    )
    error = expect_error(corpus, "is not a kind of RouteOfAdministration")
    assert error.location.line == line_of(path, "# wrong range")


def test_is_a_fact_needs_the_ontology_axiom(corpus: Path) -> None:
    edit(
        facts_file(corpus),
        "    subject: NKCellTherapy\n    predicate: is_a\n    object: Immunotherapy",
        "    subject: NKCellTherapy\n    predicate: is_a\n    object: SolidTumor",
    )
    expect_error(corpus, "the ontology does not say NKCellTherapy is a subclass of SolidTumor")


def test_responders_cannot_exceed_patients(corpus: Path) -> None:
    edit(facts_file(corpus), "responders: 8", "responders: 12")
    expect_error(corpus, "responders (12) exceed the study's patients (11)")


def test_yaml_11_boolean_is_not_a_polarity(corpus: Path) -> None:
    edit(facts_file(corpus), "polarity: negated", "polarity: no")
    expect_error(corpus, "polarity must be one of affirmed, negated; got 'no'")


def test_duplicate_fact_ids_are_refused(corpus: Path) -> None:
    edit(facts_file(corpus), "id: carnk-from-hsc", "id: carnk-from-ipsc")
    expect_error(corpus, "duplicate id 'carnk-from-ipsc' (first used on line")


def test_unaccounted_segment_is_reported_at_the_document_line(corpus: Path) -> None:
    path = facts_file(corpus)
    text = path.read_text(encoding="utf-8")
    start = text.index('  - quote: "CAR-NK cells function through dual')
    end = text.index('  - quote: "NK cells for CAR engineering')
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    error = expect_error(corpus, "segment 12 yields no fact and is not excluded")
    assert error.location.path.name == "carnk-overview.txt"
    assert error.location.line == 12


def test_changed_document_is_detected_by_checksum(corpus: Path) -> None:
    doc = corpus / "documents" / "carnk-overview.txt"
    doc.write_bytes(doc.read_bytes() + b"A new sentence.\n")
    error = expect_error(corpus, "has changed since these facts were curated")
    assert error.location.line == line_of(facts_file(corpus), "sha256:")


# -- controlled values come from the ontology --------------------------------------------------

ONTOLOGY = ("ontology", "carnk.ttl")


def test_a_value_is_written_as_its_notation_in_the_ontology(corpus: Path) -> None:
    ontology = corpus.joinpath(*ONTOLOGY)
    edit(ontology, 'skos:notation "minimal-or-none"', 'skos:notation "minimal-or-no"')
    error = expect_error(
        corpus,
        "frequency must be one of always, usually, often, sometimes, uncommon, minimal-or-no; got 'minimal-or-none'",
    )
    assert error.location.line == line_of(facts_file(corpus), "frequency: minimal-or-none")
    edit(facts_file(corpus), "frequency: minimal-or-none", "frequency: minimal-or-no", count=99)
    assert by_id(load(corpus), "carnk-minimal-gvhd").frequency == "MinimalOrNone"


def test_a_new_value_in_the_ontology_is_accepted_and_listed_in_its_order(corpus: Path) -> None:
    ontology = corpus.joinpath(*ONTOLOGY)
    edit(
        ontology,
        "carnk:Heading a owl:NamedIndividual",
        'carnk:Rarely a owl:NamedIndividual , carnk:Frequency ; rdfs:label "rarely"@en ; skos:notation "rarely" ;\n'
        '    obo:IAO_0000115 "The claim holds in very few cases."@en .\n\ncarnk:Heading a owl:NamedIndividual',
    )
    edit(facts_file(corpus), "frequency: uncommon", "frequency: rarely")
    fact = next(f for f in load(corpus).facts if f.frequency == "Rarely")
    assert fact.plain  # not a low frequency unless the ontology says so
    edit(facts_file(corpus), "frequency: rarely", "frequency: seldom")
    expect_error(corpus, "must be one of always, usually, often, sometimes, uncommon, minimal-or-none, rarely; got")


def test_the_low_frequencies_are_the_ontology_s(corpus: Path) -> None:
    ontology = corpus.joinpath(*ONTOLOGY)
    assert not by_id(load(corpus), "nk-crs-uncommon").plain
    edit(ontology, "carnk:Uncommon a owl:NamedIndividual , carnk:Frequency , carnk:LowFrequency ;",
         "carnk:Uncommon a owl:NamedIndividual , carnk:Frequency ;")  # fmt: skip
    assert by_id(load(corpus), "nk-crs-uncommon").plain
    edit(ontology, "carnk:Usually a owl:NamedIndividual , carnk:Frequency ;",
         "carnk:Usually a owl:NamedIndividual , carnk:Frequency , carnk:LowFrequency ;")  # fmt: skip
    assert not by_id(load(corpus), "carnk-intravenous").plain


def test_exclusion_reasons_come_from_the_ontology(corpus: Path) -> None:
    edit(corpus.joinpath(*ONTOLOGY), 'skos:notation "summary"', 'skos:notation "recap"')
    expect_error(corpus, "reason must be one of heading, list-introduction, recap, duplicate, not-a-factual-claim;")
    edit(facts_file(corpus), "reason: summary", "reason: recap")
    assert "Summary" in {e.reason for e in load(corpus).exclusions}


@pytest.mark.parametrize(
    ("value", "old", "new", "message"),
    [
        (
            "Negated",
            '    skos:notation "negated" ;\n',
            "",
            "carnk:Negated, a value of carnk:Polarity, needs exactly one",
        ),
        ("Negated", 'skos:notation "negated"', 'skos:notation "negated" , "denied"', "(found 'negated', 'denied')"),
        ("Negated", 'skos:notation "negated"', 'skos:notation "Negated"', "joined by '-' (found 'Negated')"),
        ("Implied", 'skos:notation "implied"', 'skos:notation "asserted"', "carnk:Implied and carnk:Asserted share"),
    ],
)
def test_a_value_without_one_clear_notation_is_an_error_at_its_ontology_line(
    corpus: Path, value: str, old: str, new: str, message: str
) -> None:
    ontology = corpus.joinpath(*ONTOLOGY)
    edit(ontology, old, new)
    error = expect_error(corpus, message)
    assert error.location.path == ontology
    assert error.location.line == line_of(ontology, f"carnk:{value} a owl:NamedIndividual")
