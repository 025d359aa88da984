"""Stage 2: resolving curated facts against documents and the ontology.

Every fact of the project's corpus is checked generically (its quote is found in the document
it names, at its offsets); how negation, hedges and studies are read is checked on the sample
corpus, whose facts the tests own. Facts that must be refused are cases of tests/bad_inputs/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from carnk_ld.facts import FactSet
from carnk_ld.pipeline import load_corpus
from tests.conftest import write_sample_corpus

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
    assert outcome.responders == 7 and outcome.type_iri == CARNK + "CompleteResponse"
    absent = [f for f in sample.facts if f.predicate == CARNK + "observedAdverseEvent"]
    assert {f.object.removeprefix(CARNK) for f in absent} == {"CytokineReleaseSyndrome", "GraftVersusHostDisease"}
    assert all(f.polarity == "Negated" and not f.plain for f in absent)
    assert all(f.evidence.quote == "with no development of CRS or GvHD" for f in absent)
