"""What a SPARQL user sees in the release: plain triples, statements and provenance.

On the project's release, expectations come from its curated files; on the sample corpus's, from
what tests/fixtures/corpus says; on a generated corpus, tuned competency questions must answer
like their plain forms.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from carnk_ld.constants import GRAPH_FACTS
from carnk_ld.constants import PREFIXES as RELEASE_PREFIXES
from carnk_ld.ontology import load_ontology
from carnk_ld.vocab import compact_iri
from tests.conftest import PROJECT

CARNK = "https://w3id.org/carnk/"
XSD = "http://www.w3.org/2001/XMLSchema#"

HEADER = "".join(f"PREFIX {name}: <{namespace}>\n" for name, namespace in RELEASE_PREFIXES.items())


def load_store(release: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(release / "carnk.nq"), format=ox.RdfFormat.N_QUADS)
    return store


@pytest.fixture(scope="module")
def store(release: Path) -> ox.Store:
    """The project's release: tests on it derive what they expect from the project's inputs."""
    return load_store(release)


@pytest.fixture(scope="module")
def sample_store(sample_release: Path) -> ox.Store:
    """The sample corpus's release: tests on it know what tests/fixtures/corpus says."""
    return load_store(sample_release)


def select(store: ox.Store, query: str) -> set[tuple[str, ...]]:
    solutions = store.query(HEADER + query, use_default_graph_as_union=True)
    return {tuple(term.value for term in row) for row in solutions}


def local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def curated_facts(root: Path) -> list[dict]:
    """Every curated file of a corpus as YAML reads it (an independent reader)."""
    files = sorted((root / "facts").glob("*.yaml"))
    assert files, f"{root}/facts has no facts files"
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in files]


def firm(fact: dict) -> bool:
    """The README's rule for a plain triple: affirmed, not merely possible, not uncommon or minimal; not is_a."""
    return (
        fact.get("predicate") != "is_a"
        and fact.get("polarity", "affirmed") == "affirmed"
        and fact.get("modality", "asserted") != "possible"
        and fact.get("frequency") not in ("uncommon", "minimal-or-none")
    )


def test_plain_triples_are_exactly_the_firmly_affirmed_claims(store: ox.Store, project_root: Path) -> None:
    claims = {True: set(), False: set()}
    for curated in curated_facts(project_root):
        for fact in curated["facts"]:
            if "subject" not in fact:  # a study's finding about the study itself: not a claim about a term
                continue
            claim = tuple(CARNK + fact[k].removeprefix("carnk:") for k in ("subject", "predicate", "object"))
            if fact["predicate"] != "is_a":
                claims[firm(fact)].add(claim)
    assert claims[True], "the corpus affirms something firmly"
    facts_graph = ox.NamedNode(GRAPH_FACTS)
    plain = {
        (q.subject.value, q.predicate.value, q.object.value)
        for q in store.quads_for_pattern(None, None, None, facts_graph)
        if q.subject.value.startswith(CARNK) and not q.subject.value.startswith(CARNK + "kg/")
    }
    assert claims[True] <= plain
    assert not (claims[False] - claims[True]) & plain, "a negated or hedged claim was published as a plain triple"


def test_sources_of_nk_cells_are_plain_triples(sample_store: ox.Store) -> None:
    rows = select(sample_store, "SELECT ?src WHERE { carnk:CARNKCell carnk:derivedFrom ?src }")
    assert {local(r[0]) for r in rows} == {"UmbilicalCordBlood", "NKCellLine", "HematopoieticStemCell"}


def test_negated_gvhd_is_not_a_plain_triple_but_a_negated_statement(sample_store: ox.Store) -> None:
    plain = select(sample_store, "SELECT ?t WHERE { ?t carnk:hasToxicityRisk carnk:GraftVersusHostDisease }")
    assert {local(r[0]) for r in plain} == {"CARTCellTherapy"}
    negated = select(
        sample_store,
        """SELECT ?t ?cmp WHERE { ?st rdf:subject ?t ; rdf:predicate carnk:hasToxicityRisk ;
               rdf:object carnk:GraftVersusHostDisease ; carnk:polarity carnk:Negated ; carnk:comparedTo ?cmp }""",
    )
    assert {(local(t), local(c)) for t, c in negated} == {("AllogeneicNKCellTherapy", "CARTCellTherapy")}


def test_a_hedged_claim_is_plain_when_another_document_affirms_it(sample_store: ox.Store) -> None:
    """sample.txt: CAR NK cell therapy "could become" off the shelf; trial.txt: it "was manufactured" so."""
    plain = "ASK { carnk:CARNKCellTherapy carnk:hasManufacturingModel carnk:OffTheShelfManufacturing }"
    assert sample_store.query(HEADER + plain, use_default_graph_as_union=True)
    modalities = select(
        sample_store,
        """SELECT ?doc ?modality WHERE { ?st rdf:subject carnk:CARNKCellTherapy ;
             rdf:predicate carnk:hasManufacturingModel ; rdf:object carnk:OffTheShelfManufacturing ;
             carnk:modality ?modality ; prov:wasDerivedFrom/carnk:segmentOf ?doc }""",
    )
    assert {(local(d), local(m)) for d, m in modalities} == {("sample", "Possible"), ("trial", "Asserted")}


def test_cart_toxicities_uncommon_with_nk_cell_therapy(sample_store: ox.Store) -> None:
    rows = select(
        sample_store,
        """SELECT ?tox WHERE {
             carnk:CARTCellTherapy carnk:hasToxicityRisk ?tox .
             ?st rdf:subject carnk:NKCellTherapy ; rdf:predicate carnk:hasToxicityRisk ; rdf:object ?tox ;
                 carnk:frequency carnk:Uncommon . }""",
    )
    assert {local(r[0]) for r in rows} == {"CytokineReleaseSyndrome"}


def test_clinical_result_numbers_are_integers(sample_store: ox.Store) -> None:
    rows = list(
        sample_store.query(
            HEADER
            + """SELECT ?patients ?responders WHERE { ?s a carnk:ClinicalStudy ; carnk:patientCount ?patients ;
                   carnk:hasOutcome ?o . ?o a carnk:CompleteResponse ; carnk:numerator ?responders }""",
            use_default_graph_as_union=True,
        )
    )
    assert len(rows) == 1
    patients, responders = rows[0]
    assert (int(patients.value), int(responders.value)) == (12, 7)


def test_counts_are_typed_non_negative_integers_in_the_release(release: Path, project_root: Path) -> None:
    """Checked on the file: pyoxigraph's Store (0.5.13) rewrites derived integer types to xsd:integer."""
    counts = [
        t.object
        for t in ox.parse(path=str(release / "carnk.nt"))
        if t.predicate.value in (CARNK + "patientCount", CARNK + "numerator", CARNK + "denominator")
    ]
    curated = [
        number
        for facts in curated_facts(project_root)
        for study in facts.get("studies") or []
        for number in (
            *([study["patients"]] if "patients" in study else []),
            *(o[key] for o in study.get("outcomes", []) for key in ("count", "of") if key in o),
        )
    ]
    assert sorted(int(c.value) for c in counts) == sorted(curated)
    assert {c.datatype.value for c in counts} <= {XSD + "nonNegativeInteger"}


def test_evidence_offsets_point_at_the_quote_in_its_document(store: ox.Store, project_root: Path) -> None:
    rows = select(
        store,
        """SELECT ?st ?doc ?exact ?start ?end ?sha WHERE {
             ?st carnk:evidence ?ev . ?ev oa:hasSource ?doc ; oa:hasSelector ?q, ?p .
             ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end . ?doc carnk:sha256 ?sha }""",
    )
    statements = select(store, "SELECT ?st WHERE { ?st a carnk:Statement }")
    assert len({r[0] for r in rows}) == len(statements) > 0, "every statement has its evidence"
    for _, doc, exact, start, end, sha in rows:
        assert doc.startswith(CARNK + "kg/doc/")
        path = project_root / "documents" / f"{local(doc)}.txt"
        text = path.read_text(encoding="utf-8-sig")
        assert text[int(start) : int(end)] == exact
        assert sha == hashlib.sha256(path.read_bytes()).hexdigest()


def test_excluded_segments_have_reasons(sample_store: ox.Store) -> None:
    rows = select(sample_store, "SELECT ?seg ?reason WHERE { ?seg carnk:exclusionReason ?reason }")
    segment = CARNK + "kg/doc/sample/segment/"
    assert {(s.removeprefix(segment), local(r)) for s, r in rows} == {
        ("1", "Heading"),
        ("12", "Summary"),
        ("13", "ListIntroduction"),
    }


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
def generated_store(generated_graph) -> ox.Store:
    store = ox.Store()
    for name, triples in generated_graph.graphs().items():
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name)) for t in triples)
    # What a large corpus has and a small one may not: a CAR domain stated twice and with two origins,
    # a study's absent adverse event and a hedged claim each stated twice (so a plan that loses
    # duplicates would show), and a comparison with CAR T cell therapy.
    n, facts = ox.NamedNode, ox.NamedNode(GRAPH_FACTS)
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    study = next(iter(store.quads_for_pattern(None, n(rdf + "type"), n(CARNK + "ClinicalStudy")))).subject
    # The study CQ 10 asks about: a CD19-directed CAR-NK therapy from cord blood (the others are not).
    for predicate, value in (("studiedIntervention", "CD19CARNKCellTherapy"), ("cellSource", "UmbilicalCordBlood")):
        for quad in list(store.quads_for_pattern(study, n(CARNK + predicate), None)):
            store.remove(quad)
            store.add(ox.Quad(study, quad.predicate, n(CARNK + value), quad.graph_name))

    def statement(iri: str, s: ox.NamedNode, p: str, o: str, polarity: str, **extra: str) -> None:
        node = n(f"{CARNK}kg/fact/extra/{iri}")
        for predicate, value in (("subject", s), ("predicate", n(CARNK + p)), ("object", n(CARNK + o))):
            store.add(ox.Quad(node, n(rdf + predicate), value, facts))
        store.add(ox.Quad(node, n(CARNK + "polarity"), n(CARNK + polarity), facts))
        for predicate, value in extra.items():
            store.add(ox.Quad(node, n(CARNK + predicate), n(CARNK + value), facts))

    car, therapy = n(CARNK + "ChimericAntigenReceptor"), n(CARNK + "CARNKCellTherapy")
    for i in range(2):
        statement(f"part-{i}", car, "hasPart", "SingleChainVariableFragment", "Affirmed")
        statement(f"origin-{i}", n(CARNK + "SingleChainVariableFragment"), "derivedFrom", f"Origin{i}", "Affirmed")
        statement(f"absent-{i}", study, "observedAdverseEvent", "CytokineReleaseSyndrome", "Negated")
        statement(f"hedged-{i}", therapy, "hasChallenge", "PersistenceInVivo", "Affirmed", modality="Possible")
    statement("compared", therapy, "hasAdvantage", "ImprovedSafetyProfile", "Affirmed", comparedTo="CARTCellTherapy")
    return store


@pytest.mark.parametrize("name", sorted(PLAIN_FORMS))
def test_tuned_questions_answer_like_their_plain_form(
    name: str, generated_store: ox.Store, sample_store: ox.Store, project_root: Path
) -> None:
    tuned = (project_root / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    for store in (generated_store, sample_store):

        def rows(query: str, store: ox.Store = store) -> list[tuple[str, ...]]:
            found = store.query(query, use_default_graph_as_union=True)
            return sorted(tuple(str(term) for term in row) for row in found)  # a multiset: duplicates count

        expected = rows(HEADER + PLAIN_FORMS[name])
        assert expected, "the question has answers to compare"
        assert rows(tuned) == expected


@pytest.mark.parametrize("name", ["cq-16-negated-claims", "cq-17-hedged-claims"])
def test_claim_questions_list_a_claim_once_however_many_documents_state_it(
    name: str, generated_store: ox.Store, project_root: Path
) -> None:
    query = (project_root / "queries" / f"{name}.rq").read_text(encoding="utf-8")
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


def test_cq10_answers_for_cd19_cord_blood_studies_only(generated_store: ox.Store, project_root: Path) -> None:
    query = (project_root / "queries" / "cq-10-cd19-cord-blood-result.rq").read_text(encoding="utf-8")
    found = list(generated_store.query(query, use_default_graph_as_union=True))
    assert found
    assert {(row["intervention"].value, row["cellSource"].value) for row in found} == {
        (CARNK + "CD19CARNKCellTherapy", CARNK + "UmbilicalCordBlood")
    }
    others = "SELECT ?s WHERE { ?s carnk:studiedIntervention ?i FILTER (?i != carnk:CD19CARNKCellTherapy) }"
    assert select(generated_store, others), "the corpus has studies of other therapies, which the answer leaves out"


def test_the_hedges_of_cq_17_are_possible_and_the_ontology_s_low_frequencies() -> None:
    text = (PROJECT / "queries" / "cq-17-hedged-claims.rq").read_text(encoding="utf-8")
    pairs = re.findall(r"\((carnk:\w+) (carnk:\w+)\)", text)
    low = load_ontology(PROJECT / "ontology" / "carnk.ttl").members("https://w3id.org/carnk/LowFrequency")
    assert pairs == [("carnk:modality", "carnk:Possible"), *(("carnk:frequency", compact_iri(i)) for i in low)]
