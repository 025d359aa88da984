"""What a SPARQL user sees in the release: plain triples, statements and provenance."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_ld.constants import PREFIXES as RELEASE_PREFIXES
from carnk_ld.ontology import load_ontology
from carnk_ld.vocab import compact_iri
from tests.conftest import PROJECT

HEADER = "".join(f"PREFIX {name}: <{namespace}>\n" for name, namespace in RELEASE_PREFIXES.items())


@pytest.fixture(scope="module")
def store(release: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(release / "carnk.nq"), format=ox.RdfFormat.N_QUADS)
    return store


def select(store: ox.Store, query: str) -> set[tuple[str, ...]]:
    solutions = store.query(HEADER + query, use_default_graph_as_union=True)
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
            HEADER
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


#: The competency questions tuned for Oxigraph's evaluation, as one would write them plainly.
PLAIN_FORMS = {
    "cq-05-car-domains": """
SELECT ?domain ?frequency ?derivedFrom ?derivedFrequency WHERE {
  ?statement rdf:subject carnk:ChimericAntigenReceptor ; rdf:predicate carnk:hasPart ; rdf:object ?domain ;
             carnk:polarity carnk:Affirmed .
  OPTIONAL { ?statement carnk:frequency ?frequency }
  OPTIONAL {
    ?origin rdf:subject ?domain ; rdf:predicate carnk:derivedFrom ; rdf:object ?derivedFrom .
    OPTIONAL { ?origin carnk:frequency ?derivedFrequency }
  }
}""",
    "cq-11-advantages-over-cart": """
SELECT ?subject ?predicate ?object ?qualifier WHERE {
  {
    ?s rdf:subject carnk:CARNKCellTherapy ; rdf:predicate ?predicate ; rdf:object ?object ;
       carnk:comparedTo ?qualifier .
    BIND (carnk:CARNKCellTherapy AS ?subject)
  } UNION {
    ?s rdf:subject carnk:CARNKCellTherapy ; rdf:predicate carnk:hasToxicityRisk ; rdf:object ?object ;
       carnk:frequency carnk:MinimalOrNone .
    BIND (carnk:CARNKCellTherapy AS ?subject) BIND (carnk:hasToxicityRisk AS ?predicate)
    BIND (carnk:MinimalOrNone AS ?qualifier)
  } UNION {
    ?s rdf:subject carnk:AllogeneicNKCellTherapy ; rdf:predicate ?predicate ; rdf:object ?object ;
       carnk:polarity ?qualifier .
    FILTER (?predicate IN (carnk:hasManufacturingModel, carnk:requires))
    BIND (carnk:AllogeneicNKCellTherapy AS ?subject)
  }
}""",
    "cq-17-hedged-claims": """
SELECT DISTINCT ?subject ?predicate ?object ?hedge WHERE {
  ?statement rdf:subject ?subject ; rdf:predicate ?predicate ; rdf:object ?object .
  { ?statement carnk:modality ?hedge FILTER (?hedge = carnk:Possible) }
  UNION { ?statement carnk:frequency ?hedge FILTER (?hedge IN (carnk:Uncommon, carnk:MinimalOrNone)) }
}""",
}


@pytest.fixture(scope="module")
def generated_store(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    from benchmarks.generate import generate
    from tests.oracle import build_graph, load_corpus

    root = tmp_path_factory.mktemp("tuned") / "corpus"
    generate(20000, root, seed=8)
    corpus = load_corpus(root)
    kg = build_graph(corpus.ontology, corpus.factsets, corpus.mappings)
    store = ox.Store()
    for name, triples in kg.graphs().items():
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name)) for t in triples)
    # What a large corpus has and a small one may not: a CAR domain stated twice and with two origins,
    # and a study's absent adverse event stated twice (so a plan that loses duplicates would show).
    n, facts = ox.NamedNode, ox.NamedNode("https://w3id.org/carnk/kg/graph/facts")
    carnk, rdf = "https://w3id.org/carnk/", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    study = next(iter(store.quads_for_pattern(None, n(rdf + "type"), n(carnk + "ClinicalStudy")))).subject
    # The study CQ 10 asks about: a CD19-directed CAR-NK therapy from cord blood (the others are not).
    for predicate, value in (("studiedIntervention", "CD19CARNKCellTherapy"), ("cellSource", "UmbilicalCordBlood")):
        for quad in list(store.quads_for_pattern(study, n(carnk + predicate), None)):
            store.remove(quad)
            store.add(ox.Quad(study, quad.predicate, n(carnk + value), quad.graph_name))

    def statement(iri: str, s: ox.NamedNode, p: str, o: str, polarity: str) -> None:
        node = n(f"{carnk}kg/fact/extra/{iri}")
        for predicate, value in (("subject", s), ("predicate", n(carnk + p)), ("object", n(carnk + o))):
            store.add(ox.Quad(node, n(rdf + predicate), value, facts))
        store.add(ox.Quad(node, n(carnk + "polarity"), n(carnk + polarity), facts))

    car = n(carnk + "ChimericAntigenReceptor")
    for i in range(2):
        statement(f"part-{i}", car, "hasPart", "SingleChainVariableFragment", "Affirmed")
        statement(f"origin-{i}", n(carnk + "SingleChainVariableFragment"), "derivedFrom", f"Origin{i}", "Affirmed")
        statement(f"absent-{i}", study, "observedAdverseEvent", "CytokineReleaseSyndrome", "Negated")
    return store


@pytest.mark.parametrize("name", sorted(PLAIN_FORMS))
def test_tuned_questions_answer_like_their_plain_form(name: str, generated_store: ox.Store, release: Path) -> None:
    tuned = (PROJECT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    for store in (generated_store, ox.Store()):
        if len(store) == 0:
            store.load(path=str(release / "carnk.nq"), format=ox.RdfFormat.N_QUADS)

        def rows(query: str, store: ox.Store = store) -> list[tuple[str, ...]]:
            found = store.query(query, use_default_graph_as_union=True)
            return sorted(tuple(str(term) for term in row) for row in found)  # a multiset: duplicates count

        expected = rows(HEADER + PLAIN_FORMS[name])
        assert expected, "the question has answers to compare"
        assert rows(tuned) == expected


@pytest.mark.parametrize("name", ["cq-16-negated-claims", "cq-17-hedged-claims"])
def test_claim_questions_list_a_claim_once_however_many_documents_state_it(
    name: str, generated_store: ox.Store
) -> None:
    from tests.conftest import PROJECT

    query = (PROJECT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    rows = [tuple(str(t) for t in row) for row in generated_store.query(query, use_default_graph_as_union=True)]
    variables = " ".join(f"?{v}" for v in ("subject", "predicate", "object"))
    per_statement = [
        tuple(str(t) for t in row)
        for row in generated_store.query(
            query.replace(f"SELECT DISTINCT {variables}", f"SELECT ?statement {variables}"),
            use_default_graph_as_union=True,
        )
    ]
    assert len(per_statement) > len(rows), "the corpus states some claim in several documents"
    assert len(rows) == len(set(rows))
    assert set(rows) == {row[1:] for row in per_statement}


def test_cq10_answers_for_cd19_cord_blood_studies_only(generated_store: ox.Store) -> None:
    from tests.conftest import PROJECT

    query = (PROJECT / "queries" / "cq-10-cd19-cord-blood-result.rq").read_text(encoding="utf-8")
    found = list(generated_store.query(query, use_default_graph_as_union=True))
    assert found
    carnk = "https://w3id.org/carnk/"
    assert {(row["intervention"].value, row["cellSource"].value) for row in found} == {
        (carnk + "CD19CARNKCellTherapy", carnk + "UmbilicalCordBlood")
    }
    others = "SELECT ?s WHERE { ?s carnk:studiedIntervention ?i FILTER (?i != carnk:CD19CARNKCellTherapy) }"
    assert select(generated_store, others), "the corpus has studies of other therapies, which the answer leaves out"


def test_the_hedges_of_cq_17_are_possible_and_the_ontology_s_low_frequencies() -> None:
    text = (PROJECT / "queries" / "cq-17-hedged-claims.rq").read_text(encoding="utf-8")
    pairs = re.findall(r"\((carnk:\w+) (carnk:\w+)\)", text)
    low = load_ontology(PROJECT / "ontology" / "carnk.ttl").members("https://w3id.org/carnk/LowFrequency")
    assert pairs == [("carnk:modality", "carnk:Possible"), *(("carnk:frequency", compact_iri(i)) for i in low)]
