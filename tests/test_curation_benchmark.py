"""``benchmarks/curation.py`` counts what a curator would: uses found, cues agreeing, suggestions right."""

from __future__ import annotations

import hashlib
from pathlib import Path

from benchmarks.curation import measure
from carnk_ld.annotate import Lexicon
from carnk_ld.documents import read_document
from carnk_ld.facts import load_facts
from carnk_ld.mappings import load_mappings
from carnk_ld.ontology import load_ontology

TEXT = "CAR-NK cell therapy does not cause graft-versus-host disease.\n"
FACT = """  - id: {id}
    quote: "CAR-NK cell therapy does not cause graft-versus-host disease"
    subject: CARNKCellTherapy
    predicate: hasToxicityRisk
    object: {object}
    polarity: {polarity}
"""


def counts_for(root: Path, facts: list[tuple[str, str, str]]):
    (root / "documents" / "one.txt").write_text(TEXT, encoding="utf-8")
    body = "".join(FACT.format(id=i, object=o, polarity=p) for i, o, p in facts)
    sha = hashlib.sha256(TEXT.encode()).hexdigest()
    (root / "facts" / "one.yaml").write_text(
        f"document: one.txt\nsha256: {sha}\n"
        "metadata:\n  source: test suite\n  licence: https://creativecommons.org/licenses/by/4.0/\n"
        f"facts:\n{body}",
        encoding="utf-8",
    )
    ontology = load_ontology(root / "ontology" / "carnk.ttl")
    lexicon = Lexicon.of(ontology, load_mappings(root / "mappings" / "carnk.sssom.tsv", ontology))
    document = read_document(root / "documents" / "one.txt", display_path=Path("documents/one.txt"))
    factset = load_facts(root / "facts" / "one.yaml", {"one.txt": document}, ontology)
    return measure(factset, lexicon, ontology)


def test_a_fact_the_text_states_is_found_cued_and_suggested(sample_corpus: Path) -> None:
    counts = counts_for(sample_corpus, [("no-gvhd", "GraftVersusHostDisease", "negated")])
    assert (counts.used, counts.found_uses) == (2, 2)
    assert (counts.cue_facts, counts.cue_agree, counts.negation_agree) == (1, 1, 1)
    assert (counts.curated, counts.right) == (1, 1) and counts.suggested >= 1


def test_a_term_the_text_does_not_name_and_a_wrong_polarity_count_against(sample_corpus: Path) -> None:
    counts = counts_for(
        sample_corpus,
        [("gvhd", "GraftVersusHostDisease", "affirmed"), ("no-crs", "CytokineReleaseSyndrome", "negated")],
    )
    assert (counts.used, counts.found_uses) == (3, 2)
    assert counts.misses == ["one segment 1: CytokineReleaseSyndrome"]
    # the affirmed fact disagrees with the cue "not" on its object; the other is judged on its subject
    # (its object is not named), which "not" does not scope over, so it reads as affirmed: both disagree
    assert counts.cue_facts == 2 and counts.negation_agree == 0
    assert counts.right == 0  # the suggestion (negated GVHD) matches neither curated tuple
