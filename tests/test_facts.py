"""Stage 2: resolving curated facts against documents and the ontology.

Every fact of the project's corpus is checked generically (its quote is found in the document
it names, at its offsets); how negation, hedges and studies are read is checked on the sample
corpus, whose facts the tests own. Facts that must be refused are cases of tests/bad_inputs/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from carnk_ld.documents import read_document
from carnk_ld.errors import InputError, InputErrors
from carnk_ld.facts import FactSet, load_facts
from carnk_ld.ontology import load_ontology
from tests.conftest import edit, line_of, write_sample_corpus
from tests.oracle import load_corpus

CARNK = "https://w3id.org/carnk/"


@pytest.fixture(scope="module")
def project_factsets(project_root: Path) -> list[FactSet]:
    factsets = load_corpus(project_root).factsets
    assert factsets, f"{project_root} has no facts"
    return factsets


@pytest.fixture(scope="module")
def sample(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> FactSet:
    root = write_sample_corpus(project_root, tmp_path_factory.mktemp("facts") / "sample")
    (factset,) = [f for f in load_corpus(root).factsets if f.document.path.name == "sample.txt"]
    return factset


def test_every_quote_is_located_at_its_offsets_in_the_document_its_file_names(
    project_root: Path, project_factsets: list[FactSet]
) -> None:
    for factset in project_factsets:
        curated = yaml.safe_load((project_root / "facts" / f"{factset.document.path.stem}.yaml").read_text("utf-8"))
        assert factset.document.path.name == curated["document"]
        text = (project_root / "documents" / curated["document"]).read_text(encoding="utf-8-sig")
        assert factset.document.text == text
        quotes = {f["id"]: f["quote"] for f in curated["facts"]}
        assert len(factset.facts) >= len(quotes)
        for fact in factset.facts:
            ev = fact.evidence
            if fact.fact_id in quotes:
                assert ev.quote == quotes[fact.fact_id]
            assert text.count(ev.quote) == 1, f"{fact.fact_id}: the quote must occur exactly once"
            assert text[ev.start : ev.end] == ev.quote
            assert ev.segment.start <= ev.start < ev.end <= ev.segment.end
            assert text[ev.start - len(ev.prefix) : ev.start] == ev.prefix
            assert text[ev.end : ev.end + len(ev.suffix)] == ev.suffix


def test_every_segment_is_accounted_for(project_factsets: list[FactSet], sample: FactSet) -> None:
    for factset in [*project_factsets, sample]:
        assert factset.unaccounted() == [], factset.document.path.name
    excluded = {e.segment.text: e.reason for e in sample.exclusions}
    assert excluded == {
        "Sample review: CAR NK cells in brief": "Heading",
        "In short, CAR-NK cells are a promising platform.": "Summary",
        "NK cells for CAR engineering come from several sources:": "ListIntroduction",
    }


def by_id(factset: FactSet, fact_id: str):
    return next(f for f in factset.facts if f.fact_id == fact_id)


def test_negation_and_hedges_are_kept_and_never_plain(sample: FactSet) -> None:
    gvhd = by_id(sample, "allogeneic-nk-no-gvhd")
    assert (gvhd.polarity, gvhd.plain) == ("Negated", False)
    assert gvhd.compared_to == CARNK + "CARTCellTherapy"
    assert by_id(sample, "nk-crs-uncommon").frequency == "Uncommon"
    assert not by_id(sample, "nk-crs-uncommon").plain
    assert by_id(sample, "carnk-minimal-gvhd").frequency == "MinimalOrNone"
    assert not by_id(sample, "carnk-minimal-gvhd").plain
    assert by_id(sample, "carnk-off-the-shelf-potential").modality == "Possible"
    assert not by_id(sample, "carnk-off-the-shelf-potential").plain
    usually = by_id(sample, "carnk-intravenous")
    assert (usually.frequency, usually.plain) == ("Usually", True)
    also = by_id(sample, "carnk-locoregional")
    assert (also.frequency, also.plain) == ("Sometimes", True)
    implied = by_id(sample, "cart-gvhd")
    assert (implied.modality, implied.plain) == ("Implied", True)
    assert not by_id(sample, "carnk-therapy-is-immunotherapy").plain  # is_a: evidence for an ontology axiom


def test_study_numbers_are_integers_and_absent_events_are_negated(sample: FactSet) -> None:
    (study,) = sample.studies
    assert study.patients == 12
    (outcome,) = study.outcomes
    assert (outcome.numerator, outcome.denominator) == (7, 12) and outcome.type_iri == CARNK + "CompleteResponse"
    assert [(e.event.removeprefix(CARNK), e.count) for e in study.adverse_events] == [
        ("CytokineReleaseSyndrome", 0),
        ("GraftVersusHostDisease", 0),
    ]
    absent = [f for f in sample.facts if f.predicate == CARNK + "observedAdverseEvent"]
    assert {f.object.removeprefix(CARNK) for f in absent} == {"CytokineReleaseSyndrome", "GraftVersusHostDisease"}
    assert all(f.polarity == "Negated" and not f.plain for f in absent)
    assert all(f.evidence.quote == "with no development of CRS or GvHD" for f in absent)


def load(root: Path) -> FactSet:
    """The sample document's resolved facts in a corpus tree."""
    ontology = load_ontology(root / "ontology" / "carnk.ttl")
    doc = read_document(root / "documents" / "sample.txt")
    return load_facts(root / "facts" / "sample.yaml", {doc.path.name: doc}, ontology)


def facts_file(root: Path) -> Path:
    return root / "facts" / "sample.yaml"


def expect_error(root: Path, fragment: str) -> InputError:
    with pytest.raises((InputError, InputErrors)) as info:
        load(root)
    errors = info.value.errors if isinstance(info.value, InputErrors) else [info.value]
    matching = [e for e in errors if fragment in e.message]
    assert matching, "\n".join(e.render() for e in errors)
    return matching[0]


# -- controlled values come from the ontology --------------------------------------------------

ONTOLOGY = ("ontology", "carnk.ttl")


def test_a_value_is_written_as_its_notation_in_the_ontology(sample_corpus: Path) -> None:
    ontology = sample_corpus.joinpath(*ONTOLOGY)
    edit(ontology, 'skos:notation "minimal-or-none"', 'skos:notation "minimal-or-no"')
    error = expect_error(
        sample_corpus,
        "frequency must be one of always, usually, often, sometimes, uncommon, minimal-or-no; got 'minimal-or-none'",
    )
    assert error.location.line == line_of(facts_file(sample_corpus), "frequency: minimal-or-none")
    edit(facts_file(sample_corpus), "frequency: minimal-or-none", "frequency: minimal-or-no", count=99)
    assert by_id(load(sample_corpus), "carnk-minimal-gvhd").frequency == "MinimalOrNone"


def test_a_new_value_in_the_ontology_is_accepted_and_listed_in_its_order(sample_corpus: Path) -> None:
    ontology = sample_corpus.joinpath(*ONTOLOGY)
    edit(
        ontology,
        "carnk:Heading a owl:NamedIndividual",
        'carnk:Rarely a owl:NamedIndividual , carnk:Frequency ; rdfs:label "rarely"@en ; skos:notation "rarely" ;\n'
        '    obo:IAO_0000115 "The claim holds in very few cases."@en .\n\ncarnk:Heading a owl:NamedIndividual',
    )
    edit(facts_file(sample_corpus), "frequency: uncommon", "frequency: rarely")
    fact = next(f for f in load(sample_corpus).facts if f.frequency == "Rarely")
    assert fact.plain  # not a low frequency unless the ontology says so
    edit(facts_file(sample_corpus), "frequency: rarely", "frequency: seldom")
    expect_error(
        sample_corpus, "must be one of always, usually, often, sometimes, uncommon, minimal-or-none, rarely; got"
    )


def test_the_low_frequencies_are_the_ontology_s(sample_corpus: Path) -> None:
    ontology = sample_corpus.joinpath(*ONTOLOGY)
    assert not by_id(load(sample_corpus), "nk-crs-uncommon").plain
    edit(ontology, "carnk:Uncommon a owl:NamedIndividual , carnk:Frequency , carnk:LowFrequency ;",
         "carnk:Uncommon a owl:NamedIndividual , carnk:Frequency ;")  # fmt: skip
    assert by_id(load(sample_corpus), "nk-crs-uncommon").plain
    edit(ontology, "carnk:Usually a owl:NamedIndividual , carnk:Frequency ;",
         "carnk:Usually a owl:NamedIndividual , carnk:Frequency , carnk:LowFrequency ;")  # fmt: skip
    assert not by_id(load(sample_corpus), "carnk-intravenous").plain


def test_exclusion_reasons_come_from_the_ontology(sample_corpus: Path) -> None:
    edit(sample_corpus.joinpath(*ONTOLOGY), 'skos:notation "summary"', 'skos:notation "recap"')
    expect_error(
        sample_corpus, "reason must be one of heading, list-introduction, recap, duplicate, not-a-factual-claim;"
    )
    edit(facts_file(sample_corpus), "reason: summary", "reason: recap")
    assert "Summary" in {e.reason for e in load(sample_corpus).exclusions}


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
    sample_corpus: Path, value: str, old: str, new: str, message: str
) -> None:
    ontology = sample_corpus.joinpath(*ONTOLOGY)
    edit(ontology, old, new)
    error = expect_error(sample_corpus, message)
    assert error.location.path == ontology
    assert error.location.line == line_of(ontology, f"carnk:{value} a owl:NamedIndividual")
