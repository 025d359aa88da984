"""What a SPARQL user sees in the release: plain triples, statements and provenance."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

PREFIXES = """
PREFIX carnk: <https://w3id.org/carnk/>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


@pytest.fixture(scope="module")
def store(release: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(release / "carnk.nq"), format=ox.RdfFormat.N_QUADS)
    return store


def select(store: ox.Store, query: str) -> set[tuple[str, ...]]:
    solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
    return {tuple(term.value for term in row) for row in solutions}


def local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def test_sources_of_nk_cells_are_plain_triples(store: ox.Store) -> None:
    rows = select(store, "SELECT ?src WHERE { carnk:CARNKCell carnk:derivedFrom ?src }")
    assert {local(r[0]) for r in rows} == {
        "PeripheralBlood",
        "UmbilicalCordBlood",
        "InducedPluripotentStemCell",
        "NKCellLine",
        "HematopoieticStemCell",
    }


def test_negated_gvhd_is_not_a_plain_triple_but_a_negated_statement(store: ox.Store) -> None:
    plain = select(store, "SELECT ?t WHERE { ?t carnk:hasToxicityRisk carnk:GraftVersusHostDisease }")
    assert {local(r[0]) for r in plain} == {"CARTCellTherapy"}
    negated = select(
        store,
        """SELECT ?t ?cmp WHERE { ?st rdf:subject ?t ; rdf:predicate carnk:hasToxicityRisk ;
               rdf:object carnk:GraftVersusHostDisease ; carnk:polarity carnk:Negated ; carnk:comparedTo ?cmp }""",
    )
    assert {(local(t), local(c)) for t, c in negated} == {("AllogeneicNKCellTherapy", "CARTCellTherapy")}


def test_cart_toxicities_uncommon_with_nk_cell_therapy(store: ox.Store) -> None:
    rows = select(
        store,
        """SELECT ?tox WHERE {
             carnk:CARTCellTherapy carnk:hasToxicityRisk ?tox .
             ?st rdf:subject carnk:NKCellTherapy ; rdf:predicate carnk:hasToxicityRisk ; rdf:object ?tox ;
                 carnk:frequency carnk:Uncommon . }""",
    )
    assert {local(r[0]) for r in rows} == {"CytokineReleaseSyndrome", "ICANS"}


def test_clinical_result_numbers_are_integers(store: ox.Store) -> None:
    rows = list(
        store.query(
            PREFIXES
            + """SELECT ?patients ?responders WHERE { ?s a carnk:ClinicalStudy ; carnk:patientCount ?patients ;
                   carnk:hasOutcome ?o . ?o a carnk:CompleteResponse ; carnk:responderCount ?responders }""",
            use_default_graph_as_union=True,
        )
    )
    assert len(rows) == 1
    patients, responders = rows[0]
    assert (int(patients.value), int(responders.value)) == (11, 8)


def test_counts_are_typed_non_negative_integers_in_the_release(release: Path) -> None:
    """Checked on the file: pyoxigraph's Store (0.5.13) rewrites derived integer types to xsd:integer."""
    counts = [
        t.object
        for t in ox.parse(path=str(release / "carnk.nt"))
        if t.predicate.value in ("https://w3id.org/carnk/patientCount", "https://w3id.org/carnk/responderCount")
    ]
    assert sorted(c.value for c in counts) == ["11", "8"]
    assert {c.datatype.value for c in counts} == {"http://www.w3.org/2001/XMLSchema#nonNegativeInteger"}


def test_evidence_offsets_point_at_the_quote_in_the_document(store: ox.Store, release: Path) -> None:
    text = (Path(__file__).resolve().parent.parent / "documents" / "carnk-overview.txt").read_text(encoding="utf-8")
    rows = select(
        store,
        """SELECT ?st ?exact ?start ?end ?sha WHERE {
             ?st carnk:evidence ?ev . ?ev oa:hasSource ?doc ; oa:hasSelector ?q, ?p .
             ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end . ?doc carnk:sha256 ?sha }""",
    )
    assert len(rows) >= 50
    for _, exact, start, end, sha in rows:
        assert text[int(start) : int(end)] == exact
        assert len(sha) == 64


def test_excluded_segments_have_reasons(store: ox.Store) -> None:
    rows = select(store, "SELECT ?seg ?reason WHERE { ?seg carnk:exclusionReason ?reason }")
    assert {(local(s), local(r)) for s, r in rows} == {("12", "Summary"), ("17", "ListIntroduction")}
