"""The incremental build gives exactly what the whole-graph build gives, and never a stale answer.

The whole-graph path (``CARNK_LD_INCREMENTAL=0``) is the reference: every release file of
the parts path is compared with it byte for byte, cold and with a warm cache after each
kind of edit a curator makes (a document, a fact, a new or removed document, the
ontology, a shape, a QC check). The gates are also compared on data with injected faults,
including a violation that only shows when two documents are seen together.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from benchmarks.generate import generate
from carnk_ld import qc, scope
from carnk_ld.constants import GRAPH_FACTS, GRAPH_MAPPINGS, GRAPH_METADATA, GRAPH_ONTOLOGY, GRAPH_PROVENANCE
from carnk_ld.errors import ValidationFailed
from carnk_ld.graph import build_graph, document_graph, metadata_graph
from carnk_ld.incremental import Fallback, Global, QueryService, Sources, validate_parts
from carnk_ld.parts import Cache, Summary, part_from_graphs, scope_of
from carnk_ld.pipeline import cache_dir, load_corpus, run_build
from carnk_ld.qc import load_checks
from carnk_ld.shacl import query_rows
from carnk_ld.validate import fast_validate, load_shapes
from tests.conftest import PROJECT, claim_of, edit, tree_bytes

N = ox.NamedNode
CARNK = "https://w3id.org/carnk/"
RDF_TYPE = N("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("incremental") / "corpus"
    generate(9000, root, seed=3)
    return root


def _build(root: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *, incremental: bool):
    monkeypatch.setenv("CARNK_LD_INCREMENTAL", "1" if incremental else "0")
    return run_build(root, out)


def _compare(root: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch, step: str):
    """Build incrementally into tmp/inc (warm cache) and from scratch on the whole graph; same bytes."""
    summary = _build(root, tmp / "inc", monkeypatch, incremental=True)
    whole = tmp / f"whole-{step}"
    _build(root, whole, monkeypatch, incremental=False)
    inc, ref = tree_bytes(tmp / "inc"), tree_bytes(whole)
    assert inc.keys() == ref.keys()
    for name in ref:
        assert inc[name] == ref[name], f"after {step}: {name} differs from the whole-graph build"
    assert summary.cache and not summary.cache.startswith("not used"), summary.cache
    return summary


def _reused(summary) -> tuple[int, int]:
    words = summary.cache.split()
    return int(words[0]), int(words[2])


def test_project_corpus_cold_and_warm_equal_the_whole_graph_build(tmp_path: Path, monkeypatch) -> None:
    first = _compare(PROJECT, tmp_path, monkeypatch, "cold")
    assert _reused(first) == (0, 1)
    again = _compare(PROJECT, tmp_path, monkeypatch, "warm")
    assert _reused(again) == (1, 1)
    assert tree_bytes(tmp_path / "inc") == tree_bytes(PROJECT / "build")  # and the committed release


def test_every_kind_of_edit_rebuilds_exactly(generated: Path, tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(generated, root)
    docs = sorted((root / "documents").glob("*.txt"))
    assert len(docs) >= 4
    total = len(docs)
    assert _reused(_compare(root, tmp_path, monkeypatch, "cold")) == (0, total)
    assert _reused(_compare(root, tmp_path, monkeypatch, "unchanged")) == (total, total)

    # a document gains an excluded sentence (provenance only)
    doc = docs[1]
    sentence = "An editorial note without a claim."
    text = doc.read_text(encoding="utf-8") + sentence + "\n"
    facts = root / "facts" / f"{doc.stem}.yaml"
    old_sha = hashlib.sha256(doc.read_bytes()).hexdigest()
    doc.write_text(text, encoding="utf-8")
    edit(facts, old_sha, hashlib.sha256(text.encode("utf-8")).hexdigest())
    facts.write_text(
        facts.read_text(encoding="utf-8") + f'  - quote: "{sentence}"\n    reason: not-a-factual-claim\n',
        encoding="utf-8",
    )
    assert _reused(_compare(root, tmp_path, monkeypatch, "document")) == (total - 1, total)

    # a fact changes polarity: statements, a plain triple and the negated-claim check change
    other = root / "facts" / f"{docs[2].stem}.yaml"
    edit(other, "polarity: negated", "polarity: affirmed")
    assert _reused(_compare(root, tmp_path, monkeypatch, "fact")) == (total - 1, total)

    # a new document (a copy under another name) and a removed one
    new = root / "documents" / "added-document.txt"
    shutil.copy(docs[3], new)
    added = root / "facts" / "added-document.yaml"
    added.write_text(
        (root / "facts" / f"{docs[3].stem}.yaml")
        .read_text(encoding="utf-8")
        .replace(f"document: {docs[3].name}", f"document: {new.name}"),
        encoding="utf-8",
    )
    docs[0].unlink()
    (root / "facts" / f"{docs[0].stem}.yaml").unlink()
    assert _reused(_compare(root, tmp_path, monkeypatch, "added-removed")) == (total - 1, total)

    # a shape changes: parts are reused, validation is redone
    shape = root / "shapes" / "provenance.shapes.ttl"
    edit(
        shape,
        "sh:datatype xsd:string ; sh:minLength 1 ;",
        "sh:datatype xsd:string ; sh:minLength 1 ; sh:maxLength 100000 ;",
    )
    assert _reused(_compare(root, tmp_path, monkeypatch, "shape")) == (total, total)

    # a QC check changes severity: its answers are recomputed, the report follows
    check = root / "queries" / "checks" / "missing-synonym-violation.rq"
    edit(check, "# severity: INFO", "# severity: WARN")
    _compare(root, tmp_path, monkeypatch, "check")
    assert "WARN missing-synonym" in (tmp_path / "inc" / "qc-report.txt").read_text(encoding="utf-8")

    # the ontology changes: every part depends on it, none is reused
    ontology = root / "ontology" / "carnk.ttl"
    edit(ontology, 'rdfs:label "NK cell"@en', 'rdfs:label "NK cell"@en ;\n    rdfs:comment "edited"@en')
    assert _reused(_compare(root, tmp_path, monkeypatch, "ontology")) == (0, total)


def test_a_failing_gate_reports_the_same_on_both_paths(generated: Path, tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(generated, root)
    _build(root, tmp_path / "inc", monkeypatch, incremental=True)
    before = tree_bytes(tmp_path / "inc")
    edit(
        root / "shapes" / "provenance.shapes.ttl",
        "sh:datatype xsd:string ; sh:minLength 1 ;",
        "sh:datatype xsd:string ; sh:minLength 1 ; sh:maxLength 40 ;",
    )
    reports = []
    for incremental in (True, False):
        with pytest.raises(ValidationFailed) as failure:
            _build(root, tmp_path / "inc", monkeypatch, incremental=incremental)
        reports.append(failure.value.report_text)
    assert reports[0] == reports[1]
    assert "segments/" not in reports[0] and "documents/" in reports[0]  # located at the document's line
    assert tree_bytes(tmp_path / "inc") == before  # the previous release stays


def _built_copy(generated: Path, tmp_path: Path, monkeypatch) -> tuple[Path, Path, dict[str, bytes]]:
    """A copy of the generated corpus built once on the parts path: its root, release and the release's bytes."""
    root = tmp_path / "corpus"
    shutil.copytree(generated, root)
    out = tmp_path / "inc"
    _build(root, out, monkeypatch, incremental=True)
    return root, out, tree_bytes(out)


def test_cache_damage_and_code_changes_never_serve_stale_parts(generated: Path, tmp_path: Path, monkeypatch) -> None:
    root, out, reference = _built_copy(generated, tmp_path, monkeypatch)
    cache = cache_dir(out)
    parts = sorted(cache.glob("part-*"))
    damaged = parts[0].read_bytes()
    parts[0].write_bytes(damaged[:-10] + b"0123456789")  # same length, different content
    parts[1].write_bytes(b"")
    summary = _build(root, out, monkeypatch, incremental=True)
    assert _reused(summary)[0] == len(parts) - 2
    assert tree_bytes(out) == reference
    monkeypatch.setattr("carnk_ld.cache.code_fingerprint", lambda: "another version of the code")
    summary = _build(root, out, monkeypatch, incremental=True)
    assert _reused(summary)[0] == 0  # a new code version shares nothing with the old cache
    assert tree_bytes(out) == reference
    names = {p.name for p in cache.iterdir()}
    assert len([n for n in names if n.startswith("part-")]) == len(parts)  # the old entries were pruned


def test_shapes_that_read_shared_nodes_fall_back_to_the_whole_graph(
    generated: Path, tmp_path: Path, monkeypatch
) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(generated, root)
    (root / "shapes" / "extra.shapes.ttl").write_text(
        """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
<https://w3id.org/carnk/shapes/ReadsPlainTriples> a sh:NodeShape ;
    sh:targetClass owl:Class ;
    sh:property [ sh:path <https://w3id.org/carnk/hasToxicityRisk> ; sh:maxCount 1000 ;
                  sh:message "reads what documents say about a class" ] .
""",
        encoding="utf-8",
    )
    summary = _build(root, tmp_path / "inc", monkeypatch, incremental=True)
    assert summary.cache.startswith("not used:") and "shared node" in summary.cache
    _build(root, tmp_path / "whole", monkeypatch, incremental=False)
    assert tree_bytes(tmp_path / "inc") == tree_bytes(tmp_path / "whole")


# -- the gates on parts, with injected faults ---------------------------------------------


def _parts_of(root: Path, inject=None):
    """Parts built from each document's triples (optionally edited), G, and the whole-graph equivalent."""
    corpus = load_corpus(root)
    kg = build_graph(corpus.ontology, corpus.factsets, corpus.mappings)
    parts, graphs_by_doc = [], {}
    for factset in sorted(corpus.factsets, key=lambda f: f.document.doc_id):
        graph = document_graph(factset)
        graphs = {GRAPH_FACTS: list(graph.facts), GRAPH_PROVENANCE: list(graph.provenance)}
        if inject:
            inject(factset.document.doc_id, graphs)
        graphs = {name: list(dict.fromkeys(triples)) for name, triples in graphs.items()}
        doc_id = factset.document.doc_id
        summary = Summary({}, 0, 0, 0, 0, frozenset())
        parts.append(
            part_from_graphs(
                doc_id, doc_id, graphs, graph.sources, graph.coverage, factset.document.path, factset.path, summary
            )
        )
        graphs_by_doc[doc_id] = graphs
    global_graphs = {GRAPH_ONTOLOGY: kg.ontology, GRAPH_MAPPINGS: kg.mappings, GRAPH_METADATA: kg.metadata}
    if inject:
        inject(None, global_graphs)
    glob = Global.of(global_graphs)
    whole = dict(global_graphs)
    for name in (GRAPH_FACTS, GRAPH_PROVENANCE):
        whole[name] = list(dict.fromkeys(t for graphs in graphs_by_doc.values() for t in graphs[name]))
    return corpus, kg, parts, graphs_by_doc, glob, whole


def _by_type(graphs: dict[str, list[ox.Triple]], cls: str) -> list[ox.NamedNode]:
    return [
        t.subject for ts in graphs.values() for t in ts if t.predicate == RDF_TYPE and t.object.value == CARNK + cls
    ]


def _local_faults(doc_ids: list[str]):
    """Faults inside documents (each its own), in G, and one that needs two documents to show."""
    first, second = doc_ids[0], doc_ids[1]
    negated_claim: list[ox.Triple] = []

    def inject(doc_id: str | None, graphs: dict[str, list[ox.Triple]]) -> None:
        facts, prov = graphs.get(GRAPH_FACTS), graphs.get(GRAPH_PROVENANCE)
        if doc_id is None:  # G: an undefined ontology term, a broken mapping record
            graphs[GRAPH_ONTOLOGY] = [
                *graphs[GRAPH_ONTOLOGY],
                ox.Triple(N(CARNK + "Undefined"), RDF_TYPE, N("http://www.w3.org/2002/07/owl#Class")),
            ]
            record = next(
                t.object for t in graphs[GRAPH_MAPPINGS] if t.predicate.value == "https://w3id.org/sssom/mappings"
            )
            graphs[GRAPH_MAPPINGS] = [
                *graphs[GRAPH_MAPPINGS],
                ox.Triple(record, N("http://www.w3.org/2002/07/owl#annotatedProperty"), N(CARNK + "notSkos")),
            ]
            return
        if doc_id == first:
            document = _by_type(graphs, "Document")[0]
            prov[:] = [t for t in prov if t.predicate.value != CARNK + "sha256"]
            prov.append(ox.Triple(document, N("http://purl.org/dc/terms/title"), ox.Literal("second title")))
            negated_claim.append(claim_of(facts, CARNK + "polarity", CARNK + "Negated"))
            negated_claim.append(claim_of(facts, CARNK + "modality", CARNK + "Possible"))
            facts.append(ox.Triple(_by_type(graphs, "Statement")[3], N(CARNK + "polarity"), N(CARNK + "Uncertain")))
            outcome = _by_type(graphs, "CompleteResponse")[0]
            facts[:] = [
                t for t in facts if not (t.subject == outcome and t.predicate.value == CARNK + "responderCount")
            ]
            facts.append(
                ox.Triple(
                    outcome,
                    N(CARNK + "responderCount"),
                    ox.Literal("900", datatype=N("http://www.w3.org/2001/XMLSchema#nonNegativeInteger")),
                )
            )
        if doc_id == second:  # another document states the first one's denied claim as a plain fact
            facts.extend(negated_claim)
            sentence = _by_type(graphs, "Sentence")[2]
            prov[:] = [t for t in prov if not (t.subject == sentence and t.predicate.value == CARNK + "segmentText")]
            prov.append(ox.Triple(sentence, N(CARNK + "segmentText"), ox.Literal("")))
            prov[:] = [t for t in prov if t.predicate.value != CARNK + "exclusionReason"]

    return inject


def test_shards_give_the_whole_graph_results_with_faults_across_documents(generated: Path) -> None:
    doc_ids = sorted(p.stem for p in (generated / "documents").glob("*.txt"))
    corpus, kg, parts, graphs_by_doc, glob, whole = _parts_of(generated, _local_faults(doc_ids))
    shapes = load_shapes(generated / "shapes")
    fresh = dict(graphs_by_doc)
    service = QueryService(glob, parts, Cache(None), "test")
    from carnk_ld.graph import ontology_sources

    sources = Sources(parts, ontology_sources(corpus.ontology, corpus.mappings))
    result = validate_parts(shapes, "s", glob, parts, fresh, service, sources, Cache(None), "test")
    union = list(dict.fromkeys(t for ts in whole.values() for t in ts))
    all_sources = dict(kg.sources)
    expected = fast_validate(union, shapes, all_sources)
    assert result == expected, "\n".join(
        sorted({v.render() for v in result.violations} ^ {v.render() for v in expected.violations})
    )
    fired = {v.shape.rsplit("/", 1)[-1] for v in result.violations}
    assert {
        "DocumentShape",
        "SegmentShape",
        "StatementShape",
        "ClinicalStudyShape",
        "OntologyTermShape",
        "MappingRecordShape",
    } <= fired
    cross = [v for v in result.violations if "appears as a plain triple" in v.message]
    # The denial and the merely possible claim in one document, the claims as plain facts in another.
    assert len({v.focus for v in cross}) >= 2 and {scope_of(v.focus) for v in cross} == {doc_ids[0]}


def test_a_part_that_mentions_another_documents_node_is_refused(generated: Path) -> None:
    doc_ids = sorted(p.stem for p in (generated / "documents").glob("*.txt"))

    def inject(doc_id, graphs):
        if doc_id == doc_ids[1]:
            graphs[GRAPH_FACTS].append(
                ox.Triple(N(f"{CARNK}kg/doc/{doc_ids[1]}"), N(CARNK + "x"), N(f"{CARNK}kg/doc/{doc_ids[0]}"))
            )

    _, _, parts, graphs_by_doc, glob, _ = _parts_of(generated, inject)
    assert parts[1].local
    shapes = load_shapes(generated / "shapes")
    service = QueryService(glob, parts, Cache(None), "test")
    with pytest.raises(Fallback):
        validate_parts(shapes, "s", glob, parts, graphs_by_doc, service, Sources(parts, {}), Cache(None), "test")


def test_qc_on_parts_equals_qc_on_the_whole_dataset(generated: Path, tmp_path: Path) -> None:
    doc_ids = sorted(p.stem for p in (generated / "documents").glob("*.txt"))
    deprecated = N(CARNK + "CARNKCell")

    def inject(doc_id, graphs):
        if doc_id is None:
            graphs[GRAPH_ONTOLOGY] = [
                *graphs[GRAPH_ONTOLOGY],
                ox.Triple(
                    deprecated,
                    N("http://www.w3.org/2002/07/owl#deprecated"),
                    ox.Literal("true", datatype=N("http://www.w3.org/2001/XMLSchema#boolean")),
                ),
                ox.Triple(
                    N(CARNK + "NKCell"),
                    N("http://www.w3.org/2000/01/rdf-schema#label"),
                    ox.Literal(" padded ", language="en"),
                ),
            ]
        elif doc_id == doc_ids[2]:
            graphs[GRAPH_FACTS].append(
                ox.Triple(N(f"{CARNK}kg/fact/{doc_id}/x"), N(CARNK + "undeclaredThing"), deprecated)
            )

    _, _, parts, _, glob, whole = _parts_of(generated, inject)
    checks = load_checks(generated / "queries" / "checks")
    service = QueryService(glob, parts, Cache(tmp_path / "cache"), "test")
    rows = service.qc_rows(checks)
    store = ox.Store()
    for name, triples in whole.items():
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, N(name)) for t in triples)
    expected = {check.rule: sorted(set(qc.check_rows(check, store))) for check in checks}
    assert {rule: sorted(set(found)) for rule, found in rows.items()} == expected
    assert expected["deprecated-reference"] and expected["undeclared-term"] and expected["label-whitespace"]
    assert not service.notes  # every check was answered by footprint or per part
    again = QueryService(glob, parts, Cache(tmp_path / "cache"), "test")
    assert {rule: sorted(set(found)) for rule, found in again.qc_rows(checks).items()} == expected  # from the cache


# -- the analysis behind it -----------------------------------------------------------


def _queries() -> dict[str, str]:
    from carnk_ld.shacl import _queries as shape_queries
    from carnk_ld.shacl import _Shapes

    found = {f"shape {i}": q for i, q in enumerate(shape_queries(_Shapes(load_shapes(PROJECT / "shapes")).roots()))}
    found.update({p.stem: p.read_text(encoding="utf-8") for p in sorted((PROJECT / "queries" / "checks").glob("*.rq"))})
    found.update({p.stem: p.read_text(encoding="utf-8") for p in sorted((PROJECT / "queries").glob("cq-*.rq"))})
    return found


@pytest.mark.parametrize("name", list(_queries()))
def test_a_footprint_slice_answers_like_the_whole_dataset(name: str, generated: Path) -> None:
    query = _queries()[name]
    _, _, parts, _, glob, whole = _parts_of(generated)
    store = ox.Store()
    for graph, triples in whole.items():
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, N(graph)) for t in triples)
    expected = sorted(map(repr, query_rows(store, query, union=True)))
    service = QueryService(glob, parts, Cache(None), "test")
    keys = service._keys(query)
    if keys is None:
        assert scope.why_unbounded(query)
        return
    sliced = service._slice_store(keys, quads=True)
    assert len(sliced) < len(store)
    assert sorted(map(repr, query_rows(sliced, query, union=True))) == expected


def test_the_analysis_is_conservative() -> None:
    prefix = "PREFIX c: <https://w3id.org/carnk/>\n"
    assert scope.footprint(prefix + "SELECT * WHERE { ?s ?p ?o }") is None
    assert scope.footprint(prefix + "SELECT * WHERE { ?s !c:a ?o }") is None
    assert scope.footprint(prefix + "SELECT * FROM <urn:g> WHERE { ?s c:a ?o }") is None
    assert scope.footprint(prefix + "SELECT * WHERE { { SELECT ?s WHERE { ?s c:a ?o } } }") is None
    bound = scope.footprint(prefix + "SELECT * WHERE { ?x c:p ?p . ?s ?p ?o }")
    assert bound is not None and bound.binders == {CARNK + "p"}
    typed = scope.footprint(prefix + "SELECT * WHERE { VALUES ?k { c:A c:B } ?s a ?k }")
    assert typed is not None and typed.entries == {(str(RDF_TYPE.value), frozenset({CARNK + "A", CARNK + "B"}))}
    data = scope.Data(frozenset({GRAPH_FACTS}), frozenset({CARNK + "a", CARNK + "b"}), frozenset())
    assert scope.per_part(prefix + "SELECT * WHERE { ?s c:a ?o }", data)
    assert not scope.per_part(prefix + "SELECT * WHERE { ?s c:a ?o . ?o c:b ?z }", data)  # two quads per solution
    assert not scope.per_part(prefix + "SELECT * WHERE { ?s c:a ?o FILTER NOT EXISTS { ?o c:b ?z } }", data)
    assert scope.per_part(prefix + "SELECT * WHERE { ?s c:a ?o FILTER NOT EXISTS { ?o c:other ?z } }", data)
    assert not scope.per_part(prefix + "SELECT (COUNT(*) AS ?n) WHERE { ?s c:a ?o }", data)


def test_metadata_counts_follow_the_parts(generated: Path) -> None:
    corpus, kg, parts, _, _, _ = _parts_of(generated)
    counts = {name: len(triples) for name, triples in kg.graphs().items()}
    shared = {name: set().union(*(p.shared[name] for p in parts)) for name in (GRAPH_FACTS, GRAPH_PROVENANCE)}
    for name in (GRAPH_FACTS, GRAPH_PROVENANCE):
        assert counts[name] == sum(p.own_counts[name] for p in parts) + len(shared[name])
    counts[GRAPH_METADATA] = 0
    assert metadata_graph(corpus.ontology, counts, corpus.mappings) == kg.metadata


def test_asking_for_pyshacl_runs_the_whole_graph_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CARNK_LD_SHACL", "pyshacl")
    summary = _build(PROJECT, tmp_path / "out", monkeypatch, incremental=True)
    assert summary.engine == "pySHACL"
    assert summary.cache.startswith("not used: CARNK_LD_SHACL=pyshacl")
    assert tree_bytes(tmp_path / "out") == tree_bytes(PROJECT / "build")


def test_parts_computed_in_worker_processes_give_the_same_release(generated: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("carnk_ld.parts.PARALLEL_FROM", 1)  # every cold build computes parts in workers
    root = tmp_path / "corpus"
    shutil.copytree(generated, root)
    summary = _compare(root, tmp_path, monkeypatch, "parallel")
    assert _reused(summary)[0] == 0


def test_an_input_error_in_a_worker_is_reported_as_the_whole_graph_path_reports_it(
    generated: Path, tmp_path: Path, monkeypatch
) -> None:
    from carnk_ld.errors import CarnkError

    monkeypatch.setattr("carnk_ld.parts.PARALLEL_FROM", 1)
    root = tmp_path / "corpus"
    shutil.copytree(generated, root)
    facts = sorted((root / "facts").glob("*.yaml"))[1]
    edit(facts, "polarity: negated", "polarity: no")
    messages = []
    for incremental in (True, False):
        with pytest.raises(CarnkError) as failure:
            _build(root, tmp_path / f"out-{incremental}", monkeypatch, incremental=incremental)
        messages.append(str(failure.value))
    assert messages[0] == messages[1]
    assert (
        f"facts/{facts.name}:" in messages[0] and "polarity must be one of affirmed, negated; got 'no'" in messages[0]
    )


def test_a_cache_others_can_write_to_is_never_read(generated: Path, tmp_path: Path, monkeypatch) -> None:
    """Cached values are unpickled: a cache directory open to other users is ignored, not trusted."""
    root, out, reference = _built_copy(generated, tmp_path, monkeypatch)
    cache = cache_dir(out)
    assert cache.stat().st_mode & 0o777 == 0o700
    cache.chmod(0o777)
    summary = _build(root, out, monkeypatch, incremental=True)
    assert "writable by other users" in summary.cache and _reused(summary)[0] == 0
    assert tree_bytes(out) == reference
    cache.chmod(0o700)
    assert _reused(_build(root, out, monkeypatch, incremental=True))[0] > 0
