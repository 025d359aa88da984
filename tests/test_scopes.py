"""Every query that declares ``# scope: document`` gives, shard by shard, its whole-graph answer.

The declaration lets the build evaluate a QC check or a shape's SPARQL target or
constraint on each shard (the global graphs plus one batch of documents) and unite the
answers. This test proves it for every such query of the project on a generated corpus
with injected violations that make each of them answer, and shows that the one query
declared for the whole graph (the statement shape) would be wrong per shard.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from carnk_ld.constants import GRAPH_FACTS, GRAPH_ONTOLOGY
from carnk_ld.gates import QueryService, graph_store
from carnk_ld.parts import Cache
from carnk_ld.qc import load_checks
from carnk_ld.scopes import Scope, declared_graphs, declared_scope
from carnk_ld.shacl import ShapeParser, bag_safe, query_rows, shape_queries
from carnk_ld.validate import load_shapes
from carnk_ld.workers import Workers
from tests.conftest import PROJECT
from tests.test_pipeline import _parts_of, local_faults

N = ox.NamedNode
CARNK = "https://w3id.org/carnk/"
OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF_TYPE = N("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_BOOLEAN = N("http://www.w3.org/2001/XMLSchema#boolean")


def _queries() -> dict[str, tuple[str, bool, bool]]:
    """Every SPARQL query of the project's shapes and checks.

    name -> (text, whether the build runs it on quads (a union default graph), whether its
    meaning is over quads). Shapes mean what pySHACL finds in a graph of triples; the build
    runs them over quads when every shape query is bag-safe, as ``gates._fast`` does.
    """
    found = {}
    shapes = list(dict.fromkeys(shape_queries(ShapeParser(load_shapes(PROJECT / "shapes")).roots())))
    union = all(bag_safe(query) for query in shapes)
    for index, query in enumerate(shapes):
        found[f"shape-query-{index}"] = (query, union, False)
    for check in load_checks(PROJECT / "queries" / "checks"):
        found[check.rule] = (check.query, True, True)
    return found


QUERIES = _queries()
DOCUMENT_SCOPED = sorted(name for name, (query, _, _) in QUERIES.items() if declared_scope(query)[0] == "document")


POSITIVE = N("http://www.w3.org/2001/XMLSchema#positiveInteger")


def _faults(doc_ids: list[str]):
    """The cross-document faults of the pipeline tests, plus one for each QC rule."""
    base = local_faults(doc_ids)
    deprecated = N(CARNK + "CARNKCell")

    def inject(doc_id: str | None, graphs: dict[str, list[ox.Triple]]) -> None:
        base(doc_id, graphs)
        if doc_id is None:
            graphs[GRAPH_ONTOLOGY] = [
                t
                for t in graphs[GRAPH_ONTOLOGY]
                if not (t.subject.value == CARNK + "ontology" and t.predicate.value.endswith("/license"))
            ] + [
                ox.Triple(deprecated, N(OWL + "deprecated"), ox.Literal("true", datatype=XSD_BOOLEAN)),
                ox.Triple(N(CARNK + "NKCell"), N(RDFS + "label"), ox.Literal(" padded ", language="en")),
                ox.Triple(N(CARNK + "Twin"), RDF_TYPE, N(OWL + "Class")),
                ox.Triple(N(CARNK + "Twin"), N(RDFS + "label"), ox.Literal("NK cell", language="en")),
                ox.Triple(
                    N(CARNK + "Twin"),
                    N("http://www.geneontology.org/formats/oboInOwl#hasExactSynonym"),
                    ox.Literal("NK cell", language="en"),
                ),
                ox.Triple(N(CARNK + "looseProperty"), RDF_TYPE, N(OWL + "ObjectProperty")),
                ox.Triple(N(CARNK + "Twin"), N(RDFS + "comment"), ox.Literal("no language tag")),
                ox.Triple(
                    N(CARNK + "NKCell"),
                    N("http://purl.obolibrary.org/obo/IAO_0000115"),
                    ox.Literal("TODO: define NK cell", language="en"),
                ),
            ]
        elif doc_id == doc_ids[2]:
            facts = graphs[GRAPH_FACTS]
            facts.append(ox.Triple(N(f"{CARNK}kg/fact/{doc_id}/x"), N(CARNK + "undeclaredThing"), deprecated))
            # a study's finding about a class, and an adverse event with both a grade and a threshold
            study = next(t.subject for t in facts if t.object == N(CARNK + "ClinicalStudy"))
            about_a_class = next(
                t.subject
                for t in facts
                if t.predicate.value.endswith("#subject") and "/kg/" not in t.object.value
            )
            facts.append(ox.Triple(about_a_class, N(CARNK + "fromStudy"), study))
            observation = next(t.subject for t in facts if t.object == N(CARNK + "AdverseEventObservation"))
            for name, grade in (("grade", "1"), ("minimumGrade", "3")):
                facts.append(ox.Triple(observation, N(CARNK + name), ox.Literal(grade, datatype=POSITIVE)))

    return inject


@pytest.fixture(scope="module")
def injected(generated_corpus: Path):
    doc_ids = sorted(p.stem for p in (generated_corpus / "documents").glob("*.txt"))
    _, _, parts, glob, whole = _parts_of(generated_corpus, _faults(doc_ids))
    store = ox.Store()
    for name, triples in whole.items():
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, N(name)) for t in triples)
    return parts, glob, store


def _rows(store: ox.Store, query: str, quads: bool) -> list[str]:
    return sorted({repr(sorted(row.items())) for row in query_rows(store, query, union=quads)})


def _whole(store: ox.Store, query: str, quads: bool) -> list[str]:
    if quads:
        return _rows(store, query, True)
    triples = ox.Store()
    triples.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in store)
    return _rows(triples, query, False)


def _answer(service: QueryService, query: str, quads: bool, scope: Scope) -> list[str]:
    """The build's answer to one query, evaluated as if it declared ``scope``."""
    answers = service.answers(
        {query: scope},
        quads=quads,
        run=lambda store, q: [repr(sorted(row.items())) for row in query_rows(store, q, union=quads)],
        merge=lambda rows: sorted(set(rows)),
    )
    return answers[query]


def _per_shard(parts, glob, query: str, quads: bool) -> list[str]:
    return _answer(QueryService(glob, parts, Cache(None), Workers(1)), query, quads, "document")


def _is_statement_shape(query: str) -> bool:
    return "?otherPolarity" in query


@pytest.mark.parametrize("name", DOCUMENT_SCOPED)
def test_a_document_scoped_query_gives_its_whole_graph_answer_per_shard(name: str, injected) -> None:
    parts, glob, store = injected
    query, quads, meaning = QUERIES[name]
    expected = _whole(store, query, meaning)
    assert expected, f"{name}: the injected corpus should make it answer"
    assert _per_shard(parts, glob, query, quads) == expected


GRAPH_DECLARED = sorted(name for name, (query, _, _) in QUERIES.items() if declared_graphs(query)[0] is not None)


@pytest.mark.parametrize("name", GRAPH_DECLARED)
def test_a_query_that_declares_its_graphs_answers_on_them_as_on_everything(name: str, injected) -> None:
    parts, glob, store = injected
    query, quads, meaning = QUERIES[name]
    expected = _whole(store, query, meaning)
    assert expected, f"{name}: the injected corpus should make it answer"
    service = QueryService(glob, parts, Cache(None), Workers(1))
    assert _answer(service, query, quads, "graph") == expected
    graphs = declared_graphs(query)[0]
    everything = [glob.nq, *(part.nquads() for part in parts)]
    assert graphs is not None and len(graph_store(everything, quads=quads, graphs=graphs)) < len(store)


def test_the_statement_shape_needs_the_whole_graph(injected) -> None:
    parts, glob, store = injected
    ((query, quads),) = [(q, quads) for q, quads, _ in QUERIES.values() if _is_statement_shape(q)]
    assert declared_scope(query)[0] == "graph"
    whole = _whole(store, query, False)
    assert whole  # the denial in one document, its claim as a plain triple in another
    assert _per_shard(parts, glob, query, quads) != whole


# A query that counts or names graphs sees each copy of a triple held in several named graphs,
# so it must not run on a union default graph; the same words in comments, IRIs or strings
# are not keywords.
BAG_SAFETY = {
    "SELECT ?s WHERE { ?s ?p ?o }": True,
    "# the whole graph, COUNTed\nSELECT ?s WHERE { ?s ?p ?o }": True,
    'SELECT ?s WHERE { ?s <http://x/GRAPH#count> "GRAPH" }': True,
    "SELECT ?s WHERE { ?s ?p '''\n# COUNT ''' }": True,
    "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }": False,
    "SELECT (COUNT(?s) AS ?n) WHERE { ?s ?p ?o }": False,
    "SELECT ?s WHERE { ?s <http://x/#> ?o . GRAPH ?g { ?s ?p ?o } }": False,
    "SELECT ?s WHERE { ?s ?p ?o } # comment\rGROUP BY ?s": False,
    "SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 1 } }": False,
    # variables and prefixed names that spell a keyword are neither
    "SELECT $this ?count ?of WHERE { $this ex:numerator ?count ; ex:denominator ?of }": True,
    "SELECT ?graph ?min WHERE { ?graph ex:count ?min ; ex:max $sum }": True,
    "SELECT (COUNT(?count) AS ?n) WHERE { ?s ?p ?count }": False,
    "SELECT ?s WHERE { ?s ?p ?graph . GRAPH ?graph { ?s ?p ?o } }": False,
}


@pytest.mark.parametrize("query", sorted(BAG_SAFETY))
def test_keywords_in_comments_iris_and_strings_do_not_make_a_query_bag_sensitive(query: str) -> None:
    assert bag_safe(query) is BAG_SAFETY[query]
